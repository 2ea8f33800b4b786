#!/usr/bin/env bash
# Mode 1 over TCP (every role ;transport=tcp): 1,000 lines, each with a connection of its
# own through the kernel (control/stream.h), against real Kamailio registrars R and BR:
#  - every line registers at R over TCP, its Contact the connection's own address;
#  - R crashed (killed): the kernel resets its connections, every line's flow fails at
#    once and the lines register at BR; R restarted: they come back;
#  - R partitioned (nftables drop): the connections go silent, the CRLF pings go
#    unanswered (RFC 5626 §4.4.1), the lines move to BR; R restored: they come back;
#  - SIGTERM un-registers every line, and the summary counts the connections.
#
# With arguments tls [N] (ctest's failover.tls): the same over TLS, the servers'
# certificate checked, and a server whose certificate another CA signed refused.
. "$(dirname "$0")/lab.sh.inc"
tp=${1:-tcp}
lines=${2:-1000}
R=198.18.0.1

"$lab" up --roles R,BR >/dev/null || { echo "FAIL: lab did not come up"; exit 1; }

# holds_tcp NAME N DOMAIN: NAME's table is exactly lines 0..N-1 with AOR domain DOMAIN,
# each contact a TCP address of the kernel's path (198.19.254.1, any port)
holds_tcp() {
	lab_bindings "$1" >"$tmp/b.$1"
	[ "$(awk '{print $1}' "$tmp/b.$1" | md5sum)" = "$(for ((i = 0; i < $2; i++)); do
		printf '1%05d@%s\n' "$i" "$3"
	done | sort | md5sum)" ] &&
		! awk '{print $2}' "$tmp/b.$1" | grep -qv "^sip:1[0-9]*@198\\.19\\.254\\.1:[0-9]*;transport=$tp\$"
}

# over TLS the servers' certificate is checked against the lab's own (it names their
# addresses)
ca=() rate=2000
# and a TLS handshake per line costs the lab's one TCP worker far more than a datagram
[ "$tp" = tls ] && ca=(--tls-ca "$SIPEDGE_LAB_DIR/tls/server.pem") rate=500
"$SIPEDGE" run -- --lines $lines "${ca[@]}" --registrar "$R;transport=$tp" \
	--backup-registrar "198.18.0.2;transport=$tp" --expires 30 --timer-f 3000 \
	--keepalive crlf --keepalive-interval 5 --keepalive-timeout 2000 \
	--probe-interval 1-2 --probe-timeout 1500 --monitor-interval 2 --storm-window 2 \
	--rate $rate --summary-json "$tmp/summary.json" >"$tmp/out" 2>&1 &
sipedge_pid=$!

check "R holds every line over $tp from the kernel's address (holds \$(held R))" \
	wait_until 20 holds_tcp R $lines $R
check "BR holds nothing (holds \$(held BR))" holds_none BR
# RFC 5923: the lines' Via ;alias lets R send its own requests to a line's Contact over
# the line's connection (nothing listens at that port): R sends OPTIONS to 20 of them
for c in $("$lab" contacts R | head -20); do
	"$lab" jsonrpc R tm.t_uac_start OPTIONS "$c" . . \
		'From: <sip:r@198.18.0.1>;tag=r1\r\nTo: <'"$c"'>\r\n' >/dev/null
done

"$lab" crash R >/dev/null
# the resets fail every flow at once: no refresh or ping has to time out first
check "R crashed: BR holds every line over $tp (holds \$(held BR))" \
	wait_until 15 holds_tcp BR $lines $R
"$lab" restore R >/dev/null
check "R restarted: R holds every line again (holds \$(held R))" \
	wait_until 25 holds_tcp R $lines $R
check "R restarted: lines left BR (holds \$(held BR))" wait_until 5 holds_none BR

"$lab" partition R >/dev/null
check "R partitioned: the pings go unanswered, BR holds every line (holds \$(held BR))" \
	wait_until 30 holds_tcp BR $lines $R
"$lab" restore R >/dev/null
# R kept its bindings through the partition (they have not expired): the lines are back
# once they have left BR, and R holds each of them once
check "R restored: the lines leave BR (holds \$(held BR))" wait_until 40 holds_none BR
check "R restored: R holds every line again (holds \$(held R))" \
	wait_until 10 holds_tcp R $lines $R

kill -TERM "$sipedge_pid"
wait "$sipedge_pid"
rc=$?
sipedge_pid=
check "sipedge exits 0 on SIGTERM (got $rc): $(tail -3 "$tmp/out")" test $rc -eq 0
check "no binding left at R after the run (holds \$(held R))" wait_until 5 holds_none R
check "no binding left at BR after the run (holds \$(held BR))" holds_none BR
s() { jq -c -r "$1" "$tmp/summary.json"; }
# a line whose refresh was out at the crash counts a failed request, not a lost flow
check "summary: $tp connections, nearly one per line lost to the crash (got $(s .connections))" \
	test "$(s .connections.transport)" = $tp -a "$(s .connections.lost)" -ge $((lines * 9 / 10)) -a \
	"$(s .connections.opened)" -ge $((3 * lines))
check "summary: R's OPTIONS reached the lines over their connections and were answered (got $(s .requests_answered))" \
	test "$(s .requests_answered.OPTIONS)" -ge 20
check "summary: keep-alive pings answered (got $(s .keepalive_answered))" \
	test "$(s '.keepalive_answered // 0')" -gt 0
check "summary: two failovers of R, every line settled (got $(s .episodes))" \
	test "$(s '[.episodes[] | select(.kind == "failover" and .server == "R" and .time_s.settled == '$lines')] | length')" -eq 2
if [ "$tp" = tls ]; then
	# a certificate from another CA: every handshake fails, and nothing registers
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
		-subj "/CN=other" -keyout "$tmp/other.key" -out "$tmp/other.pem" >/dev/null 2>&1
	"$SIPEDGE" run -- --lines 20 --tls-ca "$tmp/other.pem" --registrar "$R;transport=tls" \
		--duration 4 --quiet --summary-json "$tmp/bad.json" >"$tmp/bad.out" 2>&1
	check "a server whose certificate the CA did not sign: TLS failures, nothing registered (got $(jq -c .connections "$tmp/bad.json"))" \
		test "$(jq .connections.tls_failures "$tmp/bad.json")" -gt 0 -a \
		"$(jq .registered_peak "$tmp/bad.json")" -eq 0
fi
finish
