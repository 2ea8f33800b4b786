#!/usr/bin/env bash
# While 200 lines stay registered at Kamailio, the far side sends what a phone must
# answer and what it must survive: requests get a phone's answers (OPTIONS/NOTIFY/BYE
# 200, INVITE 486, MESSAGE 405, unknown 501, no line 404, ACK nothing), pings are
# answered, and malformed, truncated, oversized, non-SIP and stale packets are dropped
# and counted while the process keeps serving. With --invite answer a call is taken.
. "$(dirname "$0")/lab.sh.inc"
command -v python3 >/dev/null || { echo "SKIP: python3 is not installed"; exit 77; }
lines=200
peer="$SIPEDGE_SOURCE_DIR/tests/integration/peer.py"

"$lab" up >/dev/null || { echo "FAIL: lab did not come up"; exit 1; }
"$SIPEDGE" run "${eal[@]}" -- --lines $lines --expires 60 --duration 12 \
	--summary-json "$tmp/summary.json" --quiet >"$tmp/out" 2>&1 &
sipedge_pid=$!
for _ in $(seq 100); do
	[ "$(lab_contacts | wc -l)" -eq $lines ] && break
	sleep 0.1
done
check "all $lines registered before the probes" test "$(lab_contacts | wc -l)" -eq $lines

"$lab" exec python3 "$peer" answers 198.18.1.1 5060 6000 >"$tmp/answers.json"
a() { jq -r "$1" "$tmp/answers.json"; }
check "OPTIONS 200 (got $(a .OPTIONS)), with a To tag" test "$(a .OPTIONS)" = 200 -a "$(a .options_has_to_tag)" = true
check "NOTIFY 200 (got $(a .NOTIFY))" test "$(a .NOTIFY)" = 200
check "INVITE 486 (got $(a .INVITE))" test "$(a .INVITE)" = 486
check "BYE 200 (got $(a .BYE))" test "$(a .BYE)" = 200
check "MESSAGE 405 (got $(a .MESSAGE))" test "$(a .MESSAGE)" = 405
check "unknown method 501 (got $(a .FROBNICATE))" test "$(a .FROBNICATE)" = 501
check "request for no line 404 (got $(a .unknown_line))" test "$(a .unknown_line)" = 404
check "ACK gets no answer" test "$(a .ack_answered)" = false
check "ping to a line address is answered" "$lab" exec ping -c 2 -W 1 -q 198.18.1.3 >/dev/null

"$lab" exec python3 "$peer" hostile 198.18.1.1 5060 >/dev/null
check "still all $lines registered after the hostile packets" test "$(lab_contacts | wc -l)" -eq $lines
check "still answering after them" test "$("$lab" exec python3 "$peer" answers 198.18.1.1 5060 6000 | jq -r .OPTIONS)" = 200

wait "$sipedge_pid"
rc=$?
sipedge_pid=
check "sipedge run exits 0 (got $rc)" test $rc -eq 0
s() { jq -r "$1" "$tmp/summary.json"; }
# garbage, truncated SIP, a DNS query, empty datagrams, a Content-Length past the end: 10 each
check "unparsable datagrams counted (got $(s .drops.sip_unparsable), sent 50)" test "$(s .drops.sip_unparsable)" -ge 50
# the 4,000-octet datagrams arrive fragmented, or (veth, af_packet) as one frame cut short
check "oversized datagrams counted (got $(s '.drops.ip_fragment + .drops.truncated'))" \
	test "$(s '.drops.ip_fragment + .drops.truncated')" -ge 10
check "stale responses counted (got $(s .drops.sip_stale))" test "$(s .drops.sip_stale)" -ge 10
check "the TCP SYN counted as a protocol drop (got $(s .drops.ip_protocol))" test "$(s .drops.ip_protocol)" -ge 1
check "pings answered (got $(s .icmp_echo_replies))" test "$(s .icmp_echo_replies)" -ge 2
check "every line un-registered at the end" test "$(s .unregistrations_ok)" -eq $lines

# --invite answer: a line takes the call, 180 then 200 with an SDP answer and a Contact
"$SIPEDGE" run "${eal[@]}" -- --lines 5 --invite answer --duration 4 --quiet >/dev/null 2>&1 &
sipedge_pid=$!
sleep 2
"$lab" exec python3 "$peer" call 198.18.1.1 5060 >"$tmp/call.json"
wait "$sipedge_pid"
sipedge_pid=
check "--invite answer: 180 then 200 (got $(jq -c .statuses "$tmp/call.json"))" \
	test "$(jq -c .statuses "$tmp/call.json")" = "[180,200]"
check "--invite answer: the 200 carries SDP audio and a Contact" \
	jq -e '.sdp_audio and .contact' "$tmp/call.json" >/dev/null
finish
