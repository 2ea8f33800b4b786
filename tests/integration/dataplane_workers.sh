#!/usr/bin/env bash
# Two worker lcores (--workers 2) on one port: lines sharded by id, af_packet with a queue
# pair per worker, frames that reach the worker not owning their line handed over to the
# one that does. 2,000 lines register at a real Kamailio R (mode 1, with subscriptions at
# P); R is partitioned, every line of both shards moves to BR; R returns, every line moves
# back; the run ends with every line un-registered. Kamailio's own tables are the judge;
# the summary's per-worker counters show both workers did their shard's work.
. "$(dirname "$0")/lab.sh.inc"
lines=2000
P=198.18.0.3
eal=(--lcores 0@0,1@1,2@1 --no-huge -m 512 --no-pci
	"--vdev=net_af_packet0,iface=$SIPEDGE_LAB_DEV,qpairs=2" --no-telemetry
	--log-level=lib.eal:error)

"$lab" up --roles R,BR,P,BP >/dev/null || { echo "FAIL: lab did not come up"; exit 1; }
"$SIPEDGE" run "${eal[@]}" -- --workers 2 --lines $lines --registrar 198.18.0.1 \
	--backup-registrar 198.18.0.2 --proxy $P --backup-proxy 198.18.0.4 --expires 30 \
	--timer-f 3000 --probe-interval 1-2 --probe-timeout 1500 --monitor-interval 2 \
	--storm-window 2 --rate 4000 --summary-json "$tmp/summary.json" >"$tmp/run.out" 2>&1 &
sipedge_pid=$!

check "R holds every line of both workers (holds \$(held R))" wait_until 25 holds R $lines $P
check "P holds every line's subscription (holds \$(subs_held P))" \
	wait_until 10 subs_hold P $lines $P
"$lab" partition R >/dev/null
check "R partitioned: BR holds every line of both workers (holds \$(held BR))" \
	wait_until 45 holds BR $lines $P
"$lab" restore R >/dev/null
check "R back: R holds every line again (holds \$(held R))" wait_until 25 holds R $lines $P
check "R back: lines left BR (holds \$(held BR))" wait_until 5 holds_none BR

kill -INT "$sipedge_pid"
wait "$sipedge_pid"
rc=$?
sipedge_pid=
check "sipedge exits 0 on SIGINT (got $rc): $(tail -3 "$tmp/run.out")" test $rc -eq 0
check "no binding left at R (holds \$(held R))" wait_until 5 holds_none R
check "no subscription left at P (holds \$(subs_held P))" subs_none P
s() { jq -c -r "$1" "$tmp/summary.json"; }
check "summary: two workers, 1,000 lines each (got $(s '[.workers[] | [.worker, .first_line, .lines]]'))" \
	test "$(s '[.workers[] | "\(.first_line)+\(.lines)"] | join(" ")')" = "0+1000 1000+1000"
check "summary: each worker sent REGISTERs (got $(s '[.workers[].tx_requests.REGISTER]'))" \
	test "$(s '[.workers[] | select(.tx_requests.REGISTER >= 2000)] | length')" -eq 2
check "summary: each worker sent SUBSCRIBEs (got $(s '[.workers[].tx_requests.SUBSCRIBE]'))" \
	test "$(s '[.workers[] | select(.tx_requests.SUBSCRIBE >= 1000)] | length')" -eq 2
check "summary: the per-worker REGISTERs add up to the total" \
	test "$(s '[.workers[].tx_requests.REGISTER] | add')" -eq "$(s .register_sent)"
# af_packet's fan-out hashes flows over both queues, so some answers reach the worker
# that does not own their line and are handed over; none may be lost on the way
check "summary: frames handed between workers (got $(s '[.workers[].dispatched]'))" \
	test "$(s '[.workers[].dispatched] | add')" -gt 0
check "summary: no frame dropped at a hand-over" \
	test "$(s '.drops.dispatch_full')" -eq 0
check "summary: no SIP for an unknown line" test "$(s '.drops.sip_unknown_line')" -eq 0
check "summary: nothing registered at the end" test "$(s .registered_end)" -eq 0
finish
