#!/usr/bin/env bash
# Storm control, seen at a real backup registrar: 2,000 lines fail over from R to BR twice,
# once with storm control (a 500 lines/s cap) and once without it (every line at once).
# With it, BR never gets more than the cap allows in a second (each move is a REGISTER
# and its answer to the 401: about 1,000 requests/s); without it the same fleet
# stampedes: BR's peak is several times higher. Both runs land every line at BR.
. "$(dirname "$0")/lab.sh.inc"
lines=2000
P=198.18.0.3

run() { # run NAME OPTIONS...: start sipedge, wait for R, partition R, wait for BR, stop
	local name=$1
	shift
	"$lab" up --roles R,BR,P,BP >/dev/null || { echo "FAIL: lab did not come up"; exit 1; }
	"$SIPEDGE" run "${eal[@]}" -- --lines $lines --expires 30 --timer-f 3000 --rate 4000 \
		--registrar 198.18.0.1 --backup-registrar 198.18.0.2 --proxy $P \
		--backup-proxy 198.18.0.4 --probe-interval 30-60 --monitor-interval 2 \
		--summary-json "$tmp/$name.json" "$@" >"$tmp/$name.out" 2>&1 &
	sipedge_pid=$!
	check "$name: R holds every line first (holds \$(held R))" wait_until 30 holds R $lines $P
	"$lab" partition R >/dev/null
	check "$name: BR holds every line after R failed (holds \$(held BR))" \
		wait_until 60 holds BR $lines $P
	kill -TERM "$sipedge_pid"
	wait "$sipedge_pid"
	sipedge_pid=
	"$lab" down >/dev/null
}
run storm --storm-window 2 --storm-rate 500
run stampede --no-storm-control
peak() { jq -r .peak_requests_per_s_by_server.BR "$tmp/$1.json"; }
on=$(peak storm)
off=$(peak stampede)
echo "BR's peak REGISTER/s: $on with storm control (500 lines/s), $off without"
check "with storm control BR's peak stays near the cap: 2 requests per line, 500 lines/s, refreshes and retransmissions on top (got $on)" \
	test "$on" -le 1400
check "without it the fleet stampedes: BR's peak is at least twice as high (got $off vs $on)" \
	test "$off" -ge $((2 * on))
finish
