#!/usr/bin/env bash
# Mode 2 (BP, BR and BOP configured) of the seed table, with 1,000 lines against real
# Kamailio registrars R, BR, proxies P, BP and outbound proxies OP, BOP:
#  - all requests go to the primaries first: R holds every line with the primary AOR,
#    through OP (the Path OP added);
#  - any connection failure (R, then P, then OP, each partitioned in turn) -> the backup
#    AOR at BR, through BOP;
#  - when the primary works again -> back to R with the primary AOR through OP, and the
#    lines leave BR.
# Subscriptions follow the rows too: at P through OP, moved to BP through BOP (the backup
# AOR) on any failure, back to P when the primaries work; the proxies' tables show them.
. "$(dirname "$0")/lab.sh.inc"
lines=1000
P=198.18.0.3
BP=198.18.0.4
OP=198.18.0.5
BOP=198.18.0.6

"$lab" up --roles R,BR,P,BP,OP,BOP >/dev/null || { echo "FAIL: lab did not come up"; exit 1; }
"$SIPEDGE" run "${eal[@]}" -- --mode 2 --lines $lines --expires 30 --timer-f 3000 \
	--registrar 198.18.0.1 --backup-registrar 198.18.0.2 --proxy $P --backup-proxy $BP \
	--outbound-proxy $OP --backup-outbound-proxy $BOP \
	--probe-interval 1-2 --probe-timeout 1500 --monitor-interval 2 --storm-window 2 \
	--rate 2000 --summary-json "$tmp/summary.json" >"$tmp/out" 2>&1 &
sipedge_pid=$!

check "primaries first: R holds every line, primary AOR, through OP (holds \$(held R))" \
	wait_until 20 holds R $lines $P $OP
check "primaries first: every line subscribes at P (P holds \$(subs_held P))" \
	wait_until 10 subs_hold P $lines $P

for server in R P OP; do
	"$lab" partition $server >/dev/null
	check "$server fails: BR holds every line, backup AOR, through BOP (holds \$(held BR))" \
		wait_until 45 holds BR $lines $BP $BOP
	check "$server fails: every subscription moved to BP (BP holds \$(subs_held BP))" \
		wait_until 10 subs_hold BP $lines $BP
	"$lab" restore $server >/dev/null
	check "$server back: R holds every line, primary AOR, through OP (holds \$(held R))" \
		wait_until 30 holds R $lines $P $OP
	check "$server back: lines left BR (holds \$(held BR))" wait_until 5 holds_none BR
	check "$server back: every subscription at P again, none at BP (P holds \$(subs_held P))" \
		wait_until 10 subs_hold P $lines $P
	check "$server back: BP holds none (holds \$(subs_held BP))" wait_until 5 subs_none BP
done

kill -TERM "$sipedge_pid"
wait "$sipedge_pid"
rc=$?
sipedge_pid=
check "sipedge exits 0 on SIGTERM (got $rc): $(tail -3 "$tmp/out")" test $rc -eq 0
check "no binding left at R after the run (holds \$(held R))" wait_until 5 holds_none R
check "no binding left at BR after the run (holds \$(held BR))" holds_none BR
s() { jq -c -r "$1" "$tmp/summary.json"; }
check "summary: three failovers and three failbacks, every line settled (got $(s '[.episodes[] | [.kind, .server, .time_s.settled]]'))" \
	test "$(s '[.episodes[] | select(.time_s.settled == '$lines')] | length')" -eq 6
check "summary: BOP carried requests" test "$(s .requests_by_server.BOP)" -gt 0
finish
