#!/usr/bin/env bash
# Mode 1 (outbound off; BP and BR configured), the proxy rows of the seed table, with
# 1,000 lines against real Kamailio registrars R and BR and proxies P and BP:
#  - bullet 3: P fails (frozen: SIGSTOP) -> every line registers with the backup AOR
#    (user@BP's domain) at the active registrar R, leaving its primary-AOR binding;
#  - bullet 2 with the backup AOR active: R fails too -> BR, with the backup AOR;
#  - bullet 4: R returns -> R, with the AOR active then (still the backup one);
#  - bullet 5: P returns -> the primary AOR at the active registrar, R.
# Subscriptions (the other half of bullets 3 and 5) are not emulated yet.
. "$(dirname "$0")/lab.sh.inc"
lines=1000
P=198.18.0.3
BP=198.18.0.4

"$lab" up --roles R,BR,P,BP >/dev/null || { echo "FAIL: lab did not come up"; exit 1; }
"$SIPEDGE" run "${eal[@]}" -- --lines $lines --expires 30 --timer-f 3000 \
	--registrar 198.18.0.1 --backup-registrar 198.18.0.2 --proxy $P --backup-proxy $BP \
	--probe-interval 1-2 --probe-timeout 1500 --monitor-interval 2 --storm-window 2 \
	--rate 2000 --summary-json "$tmp/summary.json" >"$tmp/out" 2>&1 &
sipedge_pid=$!

check "bullet 1: R holds every line with the primary AOR (holds $(held R))" \
	wait_until 20 holds R $lines $P

"$lab" freeze P >/dev/null
check "bullet 3: R holds every line with the backup AOR and no primary one (holds $(held R))" \
	wait_until 30 holds R $lines $BP

"$lab" partition R >/dev/null
check "bullet 2, backup AOR active: BR holds every line with the backup AOR (holds $(held BR))" \
	wait_until 45 holds BR $lines $BP

"$lab" restore R >/dev/null
check "bullet 4: R holds every line with the AOR still active, the backup one (holds $(held R))" \
	wait_until 25 holds R $lines $BP
check "bullet 4: lines left BR (holds $(held BR))" wait_until 5 holds_none BR

"$lab" restore P >/dev/null
check "bullet 5: R holds every line with the primary AOR again (holds $(held R))" \
	wait_until 25 holds R $lines $P

kill -TERM "$sipedge_pid"
wait "$sipedge_pid"
rc=$?
sipedge_pid=
check "sipedge exits 0 on SIGTERM (got $rc): $(tail -3 "$tmp/out")" test $rc -eq 0
check "no binding left at R after the run (holds $(held R))" wait_until 5 holds_none R
check "no binding left at BR after the run (holds $(held BR))" holds_none BR
s() { jq -c -r "$1" "$tmp/summary.json"; }
check "summary: P went down once and came back (got $(s .servers.P))" \
	test "$(s '.servers.P.downs')" -eq 1 -a "$(s '.servers.P.up')" = true
check "summary: episodes P down, R down, R back, P back, each with every line settled (got $(s '[.episodes[] | [.kind, .server, .time_s.settled]]'))" \
	test "$(s '[.episodes[] | [.kind, .server, .time_s.settled]]')" = \
	"[[\"failover\",\"P\",$lines],[\"failover\",\"R\",$lines],[\"failback\",\"R\",$lines],[\"failback\",\"P\",$lines]]"
finish
