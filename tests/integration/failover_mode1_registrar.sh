#!/usr/bin/env bash
# Mode 1 (outbound off; BP and BR configured), the registrar rows of the seed table, with
# 1,000 lines against real Kamailio registrars R and BR and proxies P and BP:
#  - bullet 1: every line registers at R with the primary AOR (user@P's domain);
#  - bullet 2: R fails (partitioned) -> every line registers at BR with the active AOR;
#  - bullet 4: R returns -> every line registers at R again, and leaves BR;
#  - the same with R crashed (killed) and restarted with an empty location table.
# Each step asserts Kamailio's own location tables, binding by binding. The servers come
# from an Aastra phone configuration file (sipedge run --phone-config).
. "$(dirname "$0")/lab.sh.inc"
lines=1000
P=198.18.0.3

"$lab" up --roles R,BR,P,BP >/dev/null || { echo "FAIL: lab did not come up"; exit 1; }
# the servers, the registration period and the line's credentials come from a real
# Aastra phone configuration, read as the line template
cat >"$tmp/aastra.cfg" <<CFG
sip proxy ip: $P
sip proxy port: 5060
sip backup proxy ip: 198.18.0.4
sip backup proxy port: 5060
sip registrar ip: 198.18.0.1
sip registrar port: 5060
sip backup registrar ip: 198.18.0.2
sip backup registrar port: 5060
sip outbound support: 0
sip registration period: 30
sip line1 user name: 100000
sip line1 auth name: 100000
sip line1 password: secret
CFG
"$SIPEDGE" run "${eal[@]}" -- --phone-config "$tmp/aastra.cfg" --lines $lines --timer-f 3000 \
	--probe-interval 1-2 --probe-timeout 1500 --monitor-interval 2 --storm-window 2 \
	--rate 2000 --summary-json "$tmp/summary.json" >"$tmp/out" 2>&1 &
sipedge_pid=$!

check "bullet 1: R holds every line with the primary AOR (holds \$(held R))" \
	wait_until 20 holds R $lines $P
check "bullet 1: BR holds nothing (holds \$(held BR))" holds_none BR

for fault in partition crash; do
	"$lab" $fault R >/dev/null
	# timer F is 3 s: the first refreshes time out after the fault, then storm control
	# moves every line within its 2 s window (refreshes come every 15-27 s)
	check "bullet 2 ($fault): BR holds every line with the active (primary) AOR (holds \$(held BR))" \
		wait_until 45 holds BR $lines $P
	"$lab" restore R >/dev/null
	check "bullet 4 ($fault): R holds every line with the active AOR again (holds \$(held R))" \
		wait_until 25 holds R $lines $P
	check "bullet 4 ($fault): lines left BR (holds \$(held BR))" wait_until 5 holds_none BR
done

kill -TERM "$sipedge_pid"
wait "$sipedge_pid"
rc=$?
sipedge_pid=
check "sipedge exits 0 on SIGTERM (got $rc): $(tail -3 "$tmp/out")" test $rc -eq 0
check "no binding left at R after the run (holds \$(held R))" wait_until 5 holds_none R
check "no binding left at BR after the run (holds \$(held BR))" holds_none BR
s() { jq -c -r "$1" "$tmp/summary.json"; }
check "summary: two failovers of R, every line settled (got $(s .episodes))" \
	test "$(s '[.episodes[] | select(.kind == "failover" and .server == "R" and .time_s.settled == '$lines')] | length')" -eq 2
check "summary: two failbacks to R, every line settled" \
	test "$(s '[.episodes[] | select(.kind == "failback" and .server == "R" and .time_s.settled == '$lines')] | length')" -eq 2
check "summary: failover_s and failback_s have p50..p100" \
	test "$(s '[.failover_s, .failback_s | .p50, .p90, .p99, .p100 | numbers] | length')" -eq 8
check "summary: BR took requests" test "$(s .requests_by_server.BR)" -gt 0
check "summary: lines = $lines" test "$(s .lines)" -eq $lines
# a CI gate after the failback: every line registered when the stop began, none after it
check "summary: registered_at_stop = $lines, registered_end = 0 (got $(s '[.registered_at_stop, .registered_end]'))" \
	test "$(s .registered_at_stop)" -eq $lines -a "$(s .registered_end)" -eq 0
finish
