#!/usr/bin/env bash
# RFC 5626 keep-alives against Kamailio's stun module: every registered line sends a
# STUN Binding request at 80-100 % of the interval and gets it answered; when nftables
# in the lab drops the STUN (and only the STUN), each unanswered keep-alive is a flow
# failure and the line registers again. CRLF keep-alives go out without breaking SIP.
. "$(dirname "$0")/lab.sh.inc"
command -v nft >/dev/null || { echo "SKIP: nft is not installed"; exit 77; }
"$lab" up >/dev/null || { echo "FAIL: lab did not come up"; exit 1; }

run() { # name lines duration options...
	local name=$1 lines=$2 duration=$3
	shift 3
	"$SIPEDGE" run "${eal[@]}" -- --lines "$lines" --expires 300 --duration "$duration" \
		--summary-json "$tmp/$name.json" --quiet "$@" >"$tmp/$name.out" 2>&1
	check "$name: sipedge run exits 0" test $? -eq 0
}

run stun 200 9 --keepalive stun --keepalive-interval 2
s() { jq -r "$1" "$tmp/stun.json"; }
check "stun: at least 3 keep-alives per line answered (got $(s .keepalive_answered))" \
	test "$(s .keepalive_answered)" -ge 600
# a keep-alive still out when the run stops goes unanswered: at most one a line
check "stun: every keep-alive answered but the last ones, no flow failure" \
	test "$(s .keepalive_answered)" -ge $(($(s .keepalive_stun_sent) - 200)) -a "$(s .flow_failures)" -eq 0

# STUN starts with octet 0x00, SIP with a letter: drop the first, pass the second.
"$lab" exec nft add table inet setest
"$lab" exec nft add chain inet setest input '{ type filter hook input priority 0; }'
run blocked 50 6 --keepalive stun --keepalive-interval 1 --keepalive-timeout 1000 &
sleep 2
"$lab" exec nft add rule inet setest input udp dport 5060 @th,64,8 0 drop
wait $!
"$lab" exec nft delete table inet setest
s() { jq -r "$1" "$tmp/blocked.json"; }
check "blocked: unanswered keep-alives fail the flow (got $(s .flow_failures))" \
	test "$(s .flow_failures)" -ge 50
check "blocked: failed flows register again (got $(s .registrations_ok) registrations)" \
	test "$(s .registrations_ok)" -ge 100
check "blocked: all 50 un-registered at the end" test "$(s .unregistrations_ok)" -eq 50

run crlf 50 4 --keepalive crlf --keepalive-interval 1
s() { jq -r "$1" "$tmp/crlf.json"; }
check "crlf: CRLF keep-alives sent (got $(s .keepalive_crlf_sent))" test "$(s .keepalive_crlf_sent)" -ge 100
check "crlf: registrations unharmed" \
	test "$(s .registrations_ok)" -eq 50 -a "$(s .unregistrations_ok)" -eq 50
finish
