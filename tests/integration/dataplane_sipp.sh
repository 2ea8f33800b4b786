#!/usr/bin/env bash
# SIPp in the lab as the registrar side: it challenges with 401 and checks every line's
# credentials with its own digest code (verifyauth), on register and on un-register;
# variants answer 423 (Min-Expires) and 503 (Retry-After) first. SIPp's exit status says
# whether every call of the scenario went as written.
. "$(dirname "$0")/lab.sh.inc"
command -v sipp >/dev/null || { echo "SKIP: sipp is not installed"; exit 77; }
lines=100
sipp_ip=198.18.0.9
scen="$SIPEDGE_SOURCE_DIR/tests/integration/sipp"

"$lab" up >/dev/null || { echo "FAIL: lab did not come up"; exit 1; }
"$lab" exec ip addr add "$sipp_ip/15" dev "${SIPEDGE_LAB_DEV}p"

run_variant() { # name expires duration [sipedge options...]
	local name=$1 expires=$2 duration=$3
	shift 3
	"$lab" exec sipp -sf "$scen/registrar_$name.xml" -i $sipp_ip -p 5060 -m $lines \
		-nostdin -timeout 60s -timeout_error -buff_size 4194304 \
		-trace_err -error_file "$tmp/sipp-$name.err" >"$tmp/sipp-$name.out" 2>&1 &
	local sipp_pid=$!
	sleep 0.5
	"$SIPEDGE" run "${eal[@]}" -- --lines $lines --registrar $sipp_ip --expires "$expires" \
		--duration "$duration" --summary-json "$tmp/$name.json" --quiet "$@" >"$tmp/$name.out" 2>&1
	check "$name: sipedge run exits 0" test $? -eq 0
	wait $sipp_pid
	sipp_rc=$?
}

run_ok() {
	run_variant "$@"
	local rc=$sipp_rc name=$1
	check "$name: SIPp ran every call as scripted (exit $rc): $(grep -h -m3 -i -E 'fail|unexpected|abort' "$tmp/sipp-$name.out" "$tmp/sipp-$name.err" 2>/dev/null | head -3)" \
		test $rc -eq 0
}

run_ok auth 60 3
s() { jq -r "$1" "$tmp/auth.json"; }
check "auth: $lines registered, $lines un-registered" \
	test "$(s .registrations_ok)" -eq $lines -a "$(s .unregistrations_ok)" -eq $lines
check "auth: two 401s per line, each answered with credentials" \
	test "$(s .rx_401)" -eq $((2 * lines)) -a "$(s .register_with_credentials)" -eq $((2 * lines))

run_ok 423 60 3
s() { jq -r "$1" "$tmp/423.json"; }
check "423: every line got 423 and then registered" \
	test "$(s .rx_423)" -eq $lines -a "$(s .registrations_ok)" -eq $lines
check "423: no failure counted" test "$(s '[.failures[]] | add')" -eq 0

run_ok 503 60 5
s() { jq -r "$1" "$tmp/503.json"; }
check "503: every line got 503, waited, and then registered" \
	test "$(s .rx_503)" -eq $lines -a "$(s .registrations_ok)" -eq $lines
check "503: each counted as a 5xx failure before the retry" test "$(s .failures['"5xx"'])" -eq $lines
# The check has teeth: with a wrong password SIPp's verifyauth refuses every line (403).
run_variant auth 60 3 --password wrong
check "wrong password: SIPp counts failed calls (exit $sipp_rc)" test "$sipp_rc" -ne 0
s() { jq -r "$1" "$tmp/auth.json"; }
check "wrong password: no line registered, every one refused" \
	test "$(s .registrations_ok)" -eq 0 -a "$(s .failures['"4xx"'])" -eq $lines
finish
