#!/usr/bin/env bash
# Calls the lines place, against SIPp as the proxy and callee: it challenges every INVITE
# with 401 and checks the answer with its own digest code (verifyauth), then answers 200
# with a Contact
# and a Record-Route: each call is ACKed, held, and ended with a BYE whose Request-URI is
# the Contact and whose Route is the Record-Route (SIPp refuses the message otherwise).
# The lines register at a real Kamailio R. A wrong password shows the check has teeth.
. "$(dirname "$0")/lab.sh.inc"
command -v sipp >/dev/null || { echo "SKIP: sipp is not installed"; exit 77; }
lines=100
sipp_ip=198.18.0.9
scen="$SIPEDGE_SOURCE_DIR/tests/integration/sipp"

"$lab" up >/dev/null || { echo "FAIL: lab did not come up"; exit 1; }
"$lab" exec ip addr add "$sipp_ip/15" dev "${SIPEDGE_LAB_DEV}p"

run() { # name scenario [sipedge options...]
	local name=$1 sf=$2
	shift 2
	"$lab" exec timeout 60 sipp -sf "$sf" -i $sipp_ip -p 5060 -nostdin \
		-buff_size 4194304 -trace_err -error_file "$tmp/sipp-$name.err" \
		-trace_stat -stf "$tmp/sipp-$name.csv" -fd 1 >"$tmp/sipp-$name.out" 2>&1 &
	sipp_pid=$!
	sleep 0.5
	"$SIPEDGE" run "${eal[@]}" -- --lines $lines --registrar 198.18.0.1 --proxy $sipp_ip \
		--subscribe off --monitor-interval 0 --calls 20 --call-to "sip:callee@$sipp_ip" \
		--call-hold 0.5 --duration 6 --summary-json "$tmp/$name.json" --quiet "$@" \
		>"$tmp/$name.out" 2>&1
	check "$name: sipedge run exits 0" test $? -eq 0
	sleep 1
	pkill -f "sipp -sf $sf" # through the namespace's exec: not a child of ours
	wait "$sipp_pid" 2>/dev/null
}
# the last of SIPp's own counters: column NAME of its statistics file
sipp_stat() {
	awk -F';' -v col="$2" 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == col) c = i}
		END {print $c + 0}' "$tmp/sipp-$1.csv"
}

run auth "$scen/callee_auth.xml"
s() { jq -r "$1" "$tmp/auth.json"; }
check "auth: calls were placed ($(s .calls.attempted))" test "$(s .calls.attempted)" -ge 50
check "auth: every call answered after one 401 (answered $(s .calls.answered) of $(s .calls.attempted); $(s .calls.failures | tr -d ' \n'))" \
	test "$(s .calls.answered)" -eq "$(s .calls.attempted)" -a "$(s '[.calls.failures[]] | add')" -eq 0
check "auth: every call ended by our BYE, answered 200 (completed $(s .calls.completed))" \
	test "$(s .calls.completed)" -eq "$(s .calls.answered)"
check "auth: SIPp counts the same calls successful ($(sipp_stat auth 'SuccessfulCall(C)'))" \
	test "$(sipp_stat auth 'SuccessfulCall(C)')" -eq "$(s .calls.completed)"
check "auth: SIPp found nothing wrong: $(grep -v -i -E 'junk|^$' "$tmp/sipp-auth.err" 2>/dev/null | head -3)" \
	test "$(sipp_stat auth 'FailedCall(C)')" -eq 0
check "auth: the lines registered and un-registered ($(s .registrations_ok), $(s .unregistrations_ok))" \
	test "$(s .registrations_ok)" -eq $lines -a "$(s .unregistrations_ok)" -eq $lines

# The check has teeth: SIPp expecting another password refuses every call (403), while
# the lines, whose registrar knows their password, register as before.
sed 's/password="secret"/password="not-the-lines"/' "$scen/callee_auth.xml" >"$tmp/other.xml"
run wrong "$tmp/other.xml"
s() { jq -r "$1" "$tmp/wrong.json"; }
check "wrong password: the lines registered ($(s .registrations_ok))" \
	test "$(s .registrations_ok)" -eq $lines
check "wrong password: every call refused 403 after its credentials ($(s .calls.failures | tr -d ' \n'), answered $(s .calls.answered))" \
	test "$(s .calls.answered)" -eq 0 -a "$(s '.calls.failures["4xx"]')" -eq "$(s .calls.attempted)" -a "$(s .calls.attempted)" -ge 50

# A callee that only rings: when the run ends every ringing call is cancelled (CANCEL,
# 200, 487, ACK of the 487), as SIPp's scenario checks message by message.
run ring "$scen/callee_ring.xml" --call-hold 30
s() { jq -r "$1" "$tmp/ring.json"; }
check "ring: calls were placed and rang ($(s .calls.attempted))" test "$(s .calls.attempted)" -ge 50
check "ring: each was cancelled at the end ($(s .calls.cancelled) of $(s .calls.attempted)), none left" \
	test "$(s .calls.cancelled)" -eq "$(s .calls.attempted)" -a "$(s .calls.active_end)" -eq 0
check "ring: SIPp saw each call cancelled as scripted ($(sipp_stat ring 'SuccessfulCall(C)') of $(s .calls.attempted), failed $(sipp_stat ring 'FailedCall(C)'))" \
	test "$(sipp_stat ring 'SuccessfulCall(C)')" -eq "$(s .calls.attempted)" -a "$(sipp_stat ring 'FailedCall(C)')" -eq 0
finish
