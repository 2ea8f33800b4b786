#!/usr/bin/env bash
# 1,000 lines register through sipedge's DPDK port (net_af_packet on a veth) at a real
# Kamailio with digest auth, refresh at least twice on a 10 s expiry, and un-register
# when the run ends: Kamailio's own location table holds exactly the 1,000 expected
# contacts during the run and none after it.
. "$(dirname "$0")/lab.sh.inc"
lines=1000

"$lab" up >/dev/null || { echo "FAIL: lab did not come up"; exit 1; }
"$SIPEDGE" run "${eal[@]}" -- --lines $lines --expires 10 --refresh 50-80 --duration 24 \
	--summary-json "$tmp/summary.json" --quiet >"$tmp/out" 2>&1 &
sipedge_pid=$!
sleep 12
lab_contacts >"$tmp/during"
expected_contacts $lines >"$tmp/expected"
check "Kamailio holds exactly the $lines expected contacts during the run (has $(wc -l <"$tmp/during"))" \
	cmp -s "$tmp/during" "$tmp/expected"
wait "$sipedge_pid"
rc=$?
sipedge_pid=
check "sipedge run exits 0 (got $rc): $(tail -3 "$tmp/out")" test $rc -eq 0
check "summary JSON written" jq -e . "$tmp/summary.json" >/dev/null
s() { jq -r "$1" "$tmp/summary.json"; }
# every line: one registration, then at least two refreshes (24 s at <= 8 s each)
check "at least 3 registrations per line (got $(s .registrations_ok))" \
	test "$(s .registrations_ok)" -ge $((3 * lines))
check "every REGISTER answered a 401 with credentials" \
	test "$(s .register_with_credentials)" -eq "$(s .rx_401)"
check "all $lines un-registered (got $(s .unregistrations_ok))" test "$(s .unregistrations_ok)" -eq $lines
check "nothing registered at the end" test "$(s .registered_end)" -eq 0
check "no failures" test "$(s '[.failures[]] | add')" -eq 0
check "no SIP dropped" test "$(s '.drops.sip_unparsable + .drops.sip_unknown_line')" -eq 0
check "the worker's own counters add up to the totals (REGISTER $(s '.workers[0].tx_requests.REGISTER') of $(s .register_sent), 2xx $(s '.workers[0].rx_responses["2xx"]'))" \
	test "$(s '[.workers[].tx_requests.REGISTER] | add')" -eq "$(s .register_sent)" -a \
	"$(s '[.workers[].rx_responses["2xx"]] | add')" -ge "$(s .registrations_ok)"
lab_contacts >"$tmp/after"
check "Kamailio holds no contact after the run (has $(wc -l <"$tmp/after"))" test ! -s "$tmp/after"
finish
