#!/usr/bin/env bash
# Mode 1 (outbound off; BP and BR configured), the proxy rows of the seed table, with
# 1,000 lines against real Kamailio registrars R and BR and proxies P and BP:
#  - bullet 3: P fails (frozen: SIGSTOP) -> every line registers with the backup AOR
#    (user@BP's domain) at the active registrar R, leaving its primary-AOR binding;
#  - bullet 2 with the backup AOR active: R fails too -> BR, with the backup AOR;
#  - bullet 4: R returns -> R, with the AOR active then (still the backup one);
#  - bullet 5: P returns -> the primary AOR at the active registrar, R.
# Subscriptions (message-summary, each line to its own AOR) follow bullets 1, 3 and 5:
# at P first, moved to BP (backup AOR) when P fails, back to P when it returns; the
# proxies' own tables (Kamailio htable) show where each line's subscription is. With a
# 20 s subscription expiry the refreshes (in the dialog, with the notifier's tag) happen
# during the test.
. "$(dirname "$0")/lab.sh.inc"
lines=1000
P=198.18.0.3
BP=198.18.0.4

"$lab" up --roles R,BR,P,BP >/dev/null || { echo "FAIL: lab did not come up"; exit 1; }
"$SIPEDGE" run "${eal[@]}" -- --lines $lines --expires 30 --timer-f 3000 \
	--registrar 198.18.0.1 --backup-registrar 198.18.0.2 --proxy $P --backup-proxy $BP \
	--probe-interval 1-2 --probe-timeout 1500 --monitor-interval 2 --storm-window 2 \
	--rate 2000 --sub-expires 20 --summary-json "$tmp/summary.json" >"$tmp/out" 2>&1 &
sipedge_pid=$!

check "bullet 1: R holds every line with the primary AOR (holds \$(held R))" \
	wait_until 20 holds R $lines $P
check "bullet 1: every line subscribes at P, to its primary AOR (P holds \$(subs_held P))" \
	wait_until 10 subs_hold P $lines $P
check "bullet 1: BP holds no subscription" subs_none BP

"$lab" freeze P >/dev/null
check "bullet 3: R holds every line with the backup AOR and no primary one (holds \$(held R))" \
	wait_until 30 holds R $lines $BP
check "bullet 3: every subscription moved to BP, to the backup AOR (BP holds \$(subs_held BP))" \
	wait_until 10 subs_hold BP $lines $BP

"$lab" partition R >/dev/null
check "bullet 2, backup AOR active: BR holds every line with the backup AOR (holds \$(held BR))" \
	wait_until 45 holds BR $lines $BP

"$lab" restore R >/dev/null
check "bullet 4: R holds every line with the AOR still active, the backup one (holds \$(held R))" \
	wait_until 25 holds R $lines $BP
check "bullet 4: lines left BR (holds \$(held BR))" wait_until 5 holds_none BR

"$lab" restore P >/dev/null
check "bullet 5: R holds every line with the primary AOR again (holds \$(held R))" \
	wait_until 25 holds R $lines $P
check "bullet 5: every subscription moved back to P (P holds \$(subs_held P))" \
	wait_until 10 subs_hold P $lines $P
check "bullet 5: and left BP (un-SUBSCRIBE; BP holds \$(subs_held BP))" wait_until 5 subs_none BP

kill -TERM "$sipedge_pid"
wait "$sipedge_pid"
rc=$?
sipedge_pid=
check "sipedge exits 0 on SIGTERM (got $rc): $(tail -3 "$tmp/out")" test $rc -eq 0
check "no binding left at R after the run (holds \$(held R))" wait_until 5 holds_none R
check "no binding left at BR after the run (holds \$(held BR))" holds_none BR
check "no subscription left at P after the run (holds \$(subs_held P))" subs_none P
s() { jq -c -r "$1" "$tmp/summary.json"; }
check "summary: subscriptions refreshed in their dialogs without a failure (got $(s .subscriptions.failures))" \
	test "$(s '[.subscriptions.failures[]] | add')" -eq 0 -a "$(s .subscriptions.accepted)" -gt $((3 * lines))
check "summary: every line subscribed, moved to BP and back (got $(s .subscriptions.episodes))" \
	test "$(s '[.subscriptions.episodes[] | select(.time_s.settled == '$lines')] | length')" -eq 2
check "summary: P went down once and came back (got $(s .servers.P))" \
	test "$(s '.servers.P.downs')" -eq 1 -a "$(s '.servers.P.up')" = true
check "summary: episodes P down, R down, R back, P back, each with every line settled (got $(s '[.episodes[] | [.kind, .server, .time_s.settled]]'))" \
	test "$(s '[.episodes[] | [.kind, .server, .time_s.settled]]')" = \
	"[[\"failover\",\"P\",$lines],[\"failover\",\"R\",$lines],[\"failback\",\"R\",$lines],[\"failback\",\"P\",$lines]]"
finish
