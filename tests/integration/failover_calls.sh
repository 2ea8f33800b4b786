#!/usr/bin/env bash
# Calls follow the active proxy (seed table, mode 1, bullet 1: "All invite, register and
# subscribe requests attempt to use the primary proxy/registrar first"; bullets 3 and 5:
# P fails -> BP, P returns -> P). 1,000 lines registered at a real Kamailio R place 40
# calls/s through the proxies P and BP to SIPp as the callee (deploy/lab callee), each
# answered, held 1 s and ended with BYE along the dialog's route set. Which proxy carried
# the calls is read from each Kamailio's own counter of answered INVITEs it relayed.
#
# With argument tcp or tls (ctest's failover.calls_tcp, calls_tls): every role over that
# transport, so the lines register, subscribe and call through the kernel, each call on a
# connection of its own to the proxy (which relays it to the callee over UDP).
. "$(dirname "$0")/lab.sh.inc"
command -v sipp >/dev/null || { echo "SKIP: sipp is not installed"; exit 77; }
tp=${1:-udp}
lines=1000
P=198.18.0.3

"$lab" up --roles R,BR,P,BP >/dev/null || { echo "FAIL: lab did not come up"; exit 1; }
"$lab" callee >/dev/null || { echo "FAIL: the callee did not start"; exit 1; }
how=("${eal[@]}" --) t= rate=2000
[ "$tp" != udp ] && how=(--) t=";transport=$tp"
# a TLS handshake per connection costs the lab's one TCP worker far more than a datagram
[ "$tp" = tls ] && how=(-- --tls-ca "$SIPEDGE_LAB_DIR/tls/server.pem") rate=500
"$SIPEDGE" run "${how[@]}" --lines $lines --registrar "198.18.0.1$t" \
	--backup-registrar "198.18.0.2$t" --proxy "$P$t" --backup-proxy "198.18.0.4$t" \
	--expires 60 --timer-f 3000 --probe-interval 1-2 --probe-timeout 1500 \
	--monitor-interval 2 --storm-window 2 --rate $rate --calls 40 \
	--call-to sip:callee@198.18.0.7 --call-hold 1 \
	--summary-json "$tmp/summary.json" >"$tmp/run.out" 2>&1 &
sipedge_pid=$!
calls() { "$lab" calls "$1"; }
# calls_grow NAME N: proxy NAME relays N more answered calls than when first asked
grows_from() { [ "$(calls "$1")" -ge $(($2 + $3)) ]; }
stays_at() { [ "$(calls "$1")" -eq "$2" ]; }

check "bullet 1: calls go through P (P relayed $(calls P) answered calls)" \
	wait_until 20 grows_from P 0 200
check "bullet 1: BP carries none" stays_at BP 0

"$lab" partition P >/dev/null
bp0=$(calls BP)
check "bullet 3: P partitioned, calls go through BP (BP relayed \$(calls BP))" \
	wait_until 30 grows_from BP "$bp0" 200
p_out=$(calls P)
sleep 2
check "bullet 3: P, cut off, relays nothing more" stays_at P "$p_out"

"$lab" restore P >/dev/null
p0=$(calls P)
check "bullet 5: P back, calls go through P again (P relayed \$(calls P), from $p0)" \
	wait_until 30 grows_from P "$p0" 200
bp_back=$(calls BP)
sleep 3
check "bullet 5: BP takes no new calls (from $bp_back to \$(calls BP))" \
	test "$(calls BP)" -le $((bp_back + 5))

kill -TERM "$sipedge_pid"
wait "$sipedge_pid"
rc=$?
sipedge_pid=
check "sipedge exits 0 on SIGTERM (got $rc): $(tail -3 "$tmp/run.out")" test $rc -eq 0
s() { jq -c -r "$1" "$tmp/summary.json"; }
relayed=$(($(calls P) + $(calls BP)))
check "summary: answered calls ($(s .calls.answered)) are those P and BP relayed ($relayed)" \
	test "$(s .calls.answered)" -le "$relayed" -a "$(s .calls.answered)" -ge $((relayed * 98 / 100))
check "summary: first INVITEs through P and BP ($(s .calls.by_server))" \
	test "$(s .calls.by_server.P)" -gt 0 -a "$(s .calls.by_server.BP)" -gt 0
check "summary: calls ended with BYE, answered 2xx ($(s .calls.completed) of $(s .calls.answered))" \
	test "$(s .calls.completed)" -ge $(($(s .calls.answered) * 95 / 100))
check "summary: INVITEs lost in P's outage timed out and counted ($(s .calls.failures))" \
	test "$(s .calls.failures.timeout)" -gt 0
check "summary: P failed over and back ($(s '[.episodes[] | "\(.kind) \(.server)"]'))" \
	test "$(s '[.episodes[] | select(.server == "P")] | length')" -ge 2
check "summary: no call left up at the end" test "$(s .calls.active_end)" -eq 0
if [ "$tp" != udp ]; then
	# each call dialled a connection of its own, beside the lines' registrations
	check "summary: over $tp, a connection per call ($(s .connections), $(s .calls.attempted) calls)" \
		test "$(s .connections.transport)" = "$tp" -a \
		"$(s .connections.opened)" -ge $((lines + $(s .calls.attempted) * 95 / 100))
fi
finish
