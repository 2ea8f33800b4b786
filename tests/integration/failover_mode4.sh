#!/usr/bin/env bash
# Mode 4 (SIP outbound, RFC 5626) with 1,000 lines against a real Kamailio registrar R
# (outbound_mode 1) behind two real Kamailio edge proxies OP and BOP (outbound + path +
# stun modules), and a proxy P for the subscriptions:
#  - every line keeps two flows registered at once, reg-id 1 through OP and reg-id 2
#    through BOP, with one +sip.instance (R's own table shows both, with their Paths);
#    STUN keep-alives run on both flows; subscriptions go through OP;
#  - OP fails: its flows fail (missed keep-alives), the reg-id 2 flows carry on alone,
#    subscriptions move through BOP; the dead flows' bindings expire at R;
#  - OP returns: each line re-establishes its reg-id 1 flow in the background after the
#    RFC 5626 §4.5 back-off (here 2 s / 4 s bases, 20 s cap), subscriptions return to OP.
#
# With arguments tcp or tls [LINES] (ctest's mode4_tcp and mode4_tls), every role says
# ;transport=tcp or tls: each flow is a connection of its own through the kernel
# (control/stream.h), kept alive by CRLF pings whose pongs Kamailio sends.
. "$(dirname "$0")/lab.sh.inc"
lines=${2:-1000}
tp=${1:-udp}
P=198.18.0.3
OP=198.18.0.5
BOP=198.18.0.6
R=198.18.0.1
ka=stun sfx= rate=2000
# a TLS handshake per flow costs the lab's servers far more than a datagram
[ "$tp" = tls ] && rate=500
if [ "$tp" != udp ]; then
	ka=crlf sfx=";transport=$tp"
	# a connection's Contact is the kernel's address and port: the flows are checked by
	# AOR, reg-id, instance and edge proxy, and every contact by its transport
	holds_flows() {
		local n=$2 dom=$3 ids=$4 i id
		"$lab" flows "$1" >"$tmp/flows"
		[ "$(awk '{print $1, $3, $4, $5}' "$tmp/flows" | sort | md5sum)" = "$(
			for ((i = 0; i < n; i++)); do
				for id in $ids; do
					printf '1%05d@%s reg-id=%d <urn:uuid:5e1bed9e-0000-4000-8000-%012x> 198.18.0.%d\n' \
						"$i" "$dom" "$id" "$i" $((4 + id))
				done
			done | sort | md5sum)" ] &&
			! awk '{print $2}' "$tmp/flows" | grep -qv "^sip:1[0-9]*@198\.19\.254\.1:[0-9]*;transport=$tp\$"
	}
fi

"$lab" up --roles R,P,OP,BOP >/dev/null || { echo "FAIL: lab did not come up"; exit 1; }
"$SIPEDGE" run "${eal[@]}" -- --lines $lines --mode 4 --expires 30 --timer-f 3000 \
	--registrar "$R$sfx" --proxy "$P$sfx" --outbound-proxy "$OP$sfx" \
	--backup-outbound-proxy "$BOP$sfx" \
	--keepalive $ka --keepalive-interval 5 --keepalive-timeout 2000 \
	--flow-recovery 2,4,20 --probe-interval 1-2 --probe-timeout 1500 --monitor-interval 2 \
	--storm-window 2 --rate $rate --sub-expires 20 \
	--summary-json "$tmp/summary.json" >"$tmp/out" 2>&1 &
sipedge_pid=$!

check "R holds both flows of every line: reg-id 1 via OP, 2 via BOP, one instance (holds \$(flows_held R))" \
	wait_until 20 holds_flows R $lines $P "1 2"
check "every line subscribes at P through OP (P holds \$(subs_held P))" \
	wait_until 10 subs_via P $lines $OP

"$lab" partition OP >/dev/null
check "OP fails: subscriptions move through BOP (P holds \$(subs_held P))" \
	wait_until 30 subs_via P $lines $BOP
check "OP fails: the reg-id 2 flows alone stay at R once the dead ones expire (holds \$(flows_held R))" \
	wait_until 45 holds_flows R $lines $P "2"

"$lab" restore OP >/dev/null
check "OP back: every line's reg-id 1 flow is re-established beside reg-id 2 (holds \$(flows_held R))" \
	wait_until 45 holds_flows R $lines $P "1 2"
check "OP back: subscriptions return through OP (P holds \$(subs_held P))" \
	wait_until 30 subs_via P $lines $OP

kill -TERM "$sipedge_pid"
wait "$sipedge_pid"
rc=$?
sipedge_pid=
check "sipedge exits 0 on SIGTERM (got $rc)" test $rc -eq 0
check "both flows of every line un-registered (holds \$(flows_held R))" wait_until 5 holds_none R
s() { jq -r "$1" "$tmp/summary.json"; }
check "summary: STUN keep-alives answered on both flows (got $(s '[.outbound_flows[].keepalive_answered]'))" \
	test "$(s '[.outbound_flows[] | select(.keepalive_answered > 0)] | length')" -eq 2
# every line's flow 1 failed: mostly by its missed keep-alive, some by a REGISTER refresh
# that fell due in the outage first. That share is about a fifth: a keep-alive goes out
# 4-5 s apart and is missed 2 s later, a refresh comes every 15-27 s (50-90 % of 30 s) and
# fails after timer F's 3 s, so a refresh sent from 3 s before the cut to about a second
# before the next keep-alive tells first (CI saw 82 % by keep-alive over TLS). Flow 2 never
# failed.
echo "flow 1: $(s '.outbound_flows[0].flow_failures') missed keep-alives, $(s '.outbound_flows[0].failures') failed REGISTERs (the outage's recovery attempts among them)"
check "summary: flow 1 failed on every line, flow 2 on none (flow failures $(s '[.outbound_flows[].flow_failures]' | tr -d ' \n'), failures $(s '[.outbound_flows[].failures]' | tr -d ' \n'))" \
	test "$(s '.outbound_flows[0].flow_failures + .outbound_flows[0].failures')" -ge $lines -a \
	"$(s '.outbound_flows[0].flow_failures')" -ge $((lines * 2 / 3)) -a \
	"$(s '.outbound_flows[1].flow_failures')" -eq 0
finish
