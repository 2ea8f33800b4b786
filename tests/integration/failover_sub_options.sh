#!/usr/bin/env bash
# The subscription options against a real proxy P (and registrar R), 200 lines each run:
#  - --subscribe off: lines register at R and subscribe nowhere;
#  - --event presence: each line subscribes to its own AOR at P with that event package,
#    as the proxy's own table shows.
. "$(dirname "$0")/lab.sh.inc"
lines=200
P=198.18.0.3

run() { # run NAME OPTIONS...: sipedge until the checks are done
	"$SIPEDGE" run "${eal[@]}" -- --lines $lines --expires 30 --registrar 198.18.0.1 \
		--proxy $P --rate 2000 --sub-expires 30 --summary-json "$tmp/$1.json" "${@:2}" \
		>"$tmp/$1.out" 2>&1 &
	sipedge_pid=$!
}
stop() {
	kill -TERM "$sipedge_pid"
	wait "$sipedge_pid"
	sipedge_pid=
}
events_are() { # events_are EVENT: P holds lines 0..N-1, each subscribed with EVENT
	[ "$("$lab" subscriptions P | awk -v e="$1" '$2 == e' | wc -l)" -eq $lines ] &&
		[ "$("$lab" subscriptions P | wc -l)" -eq $lines ]
}

"$lab" up --roles R,P >/dev/null || { echo "FAIL: lab did not come up"; exit 1; }
run off --subscribe off
check "subscribe off: R holds every line (holds \$(held R))" wait_until 20 holds R $lines $P
sleep 2
check "subscribe off: P holds no subscription (holds \$(subs_held P))" subs_none P
stop
check "subscribe off: the summary has no subscriptions part" \
	test "$(jq 'has("subscriptions")' "$tmp/off.json")" = false

run presence --event presence
check "event presence: every line subscribes at P with it (P holds \$(subs_held P))" \
	wait_until 20 events_are presence
stop
check "and un-subscribes when stopped (P holds \$(subs_held P))" wait_until 5 subs_none P
finish
