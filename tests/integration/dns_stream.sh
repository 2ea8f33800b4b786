#!/usr/bin/env bash
# Roles over TCP and TLS given as host names: RFC 3263 run for the role's own transport
# against a real authoritative server (named, deploy/dns), lines registered at the lab's
# real Kamailios (R 198.18.0.1, BR 198.18.0.2):
#  - `sipedge resolve` takes each transport's NAPTR record (SIP+D2U, SIPS+D2T) and its
#    SRV (_sip._udp, _sips._tcp); with no NAPTR record for TCP, _sip._tcp's SRV directly;
#  - TLS, 1,000 lines: every line at the SRV's priority 10 (R, port 5061), the servers'
#    certificate checked to name the domain asked for (reg.example.test, RFC 5922 §7.2),
#    not the address DNS gave; R crashed: priority 20 (BR); R back: back to R;
#  - a name the certificate does not carry, whose records lead to the same servers: every
#    handshake fails and nothing registers;
#  - TCP, 1,000 lines: _sip._tcp's priority 10 (here BR) holds every line over TCP.
. "$(dirname "$0")/lab.sh.inc"
command -v named >/dev/null || { echo "SKIP: named is not installed (deploy/install-deps)"; exit 77; }
export SIPEDGE_DNS_DIR=/run/sipedge-dns-stream SIPEDGE_DNS_PORT=5303
dns="$SIPEDGE_SOURCE_DIR/deploy/dns"
trap 'cleanup; "$dns" down >/dev/null 2>&1' EXIT
lines=1000
dom=example.test

cat >"$tmp/zone" <<'ZONE'
$TTL 5
@       IN SOA ns.example.test. hostmaster.example.test. ( 1 3600 600 86400 3 )
@       IN NS ns
ns      IN A 127.0.0.1
reg     IN NAPTR 10 10 "S" "SIP+D2U" "" _sip._udp.reg
reg     IN NAPTR 20 10 "S" "SIPS+D2T" "" _sips._tcp.reg
_sip._udp.reg  IN SRV 10 0 5060 r1
_sips._tcp.reg IN SRV 10 0 5061 r1
_sips._tcp.reg IN SRV 20 0 5061 r2
_sip._tcp.reg  IN SRV 10 0 5060 r2
_sip._tcp.reg  IN SRV 20 0 5060 r1
other   IN NAPTR 10 10 "S" "SIPS+D2T" "" _sips._tcp.reg
r1      IN A 198.18.0.1
r2      IN A 198.18.0.2
ZONE

"$lab" up --roles R,BR >/dev/null || { echo "FAIL: lab did not come up"; exit 1; }
"$dns" up "$tmp/zone" >/dev/null || { echo "FAIL: named did not start"; exit 1; }
ns=(--dns-server 127.0.0.1:$SIPEDGE_DNS_PORT --dns-timeout 500)

# resolve NAME[;transport=..]: "how ip:port,ip:port" of sipedge resolve's answer
resolve() {
	"$SIPEDGE" resolve --server 127.0.0.1:$SIPEDGE_DNS_PORT "$1" |
		jq -r '.how + " " + ([.targets[] | .ip + ":" + (.port | tostring)] | join(","))'
}
got=$(resolve reg.example.test)
check "UDP: NAPTR SIP+D2U, then _sip._udp (got '$got')" test "$got" = "NAPTR 198.18.0.1:5060"
got=$(resolve "reg.example.test;transport=tls")
check "TLS: NAPTR SIPS+D2T, then _sips._tcp in priority order (got '$got')" \
	test "$got" = "NAPTR 198.18.0.1:5061,198.18.0.2:5061"
got=$(resolve "reg.example.test;transport=tcp")
check "TCP: no NAPTR for it, so _sip._tcp's SRV (got '$got')" \
	test "$got" = "SRV 198.18.0.2:5060,198.18.0.1:5060"

# holds_stream NAME N TRANSPORT: NAME's table is exactly lines 0..N-1 at AOR domain
# example.test, each contact over TRANSPORT from the kernel's path (198.19.254.1)
holds_stream() {
	lab_bindings "$1" >"$tmp/b.$1"
	[ "$(awk '{print $1}' "$tmp/b.$1" | md5sum)" = "$(for ((i = 0; i < $2; i++)); do
		printf '1%05d@%s\n' "$i" $dom
	done | sort | md5sum)" ] &&
		! awk '{print $2}' "$tmp/b.$1" | grep -qv "^sip:1[0-9]*@198\\.19\\.254\\.1:[0-9]*;transport=$3\$"
}
run() { # run NAME TRANSPORT-NAME OPTIONS...: sipedge in the background
	local name=$1 host=$2
	shift 2
	"$SIPEDGE" run -- --lines $lines --registrar "$host" --domain $dom "${ns[@]}" \
		--expires 30 --timer-f 3000 --keepalive crlf --keepalive-interval 5 \
		--keepalive-timeout 2000 --probe-interval 1-2 --probe-timeout 1500 \
		--monitor-interval 2 --storm-window 2 --rate 500 \
		--summary-json "$tmp/$name.json" "$@" >"$tmp/$name.out" 2>&1 &
	sipedge_pid=$!
}
stop() {
	kill -TERM "$sipedge_pid"
	wait "$sipedge_pid"
	rc=$?
	sipedge_pid=
}
ca=(--tls-ca "$SIPEDGE_LAB_DIR/tls/server.pem")

run tls "reg.example.test;transport=tls" "${ca[@]}"
check "TLS by name: R (priority 10, port 5061) holds every line (holds \$(held R))" \
	wait_until 30 holds_stream R $lines tls
check "TLS by name: BR holds nothing (holds \$(held BR))" holds_none BR
"$lab" crash R >/dev/null
check "R crashed: every line at priority 20, BR, over TLS (holds \$(held BR))" \
	wait_until 30 holds_stream BR $lines tls
"$lab" restore R >/dev/null
check "R back: every line returns to R (holds \$(held R))" \
	wait_until 40 holds_stream R $lines tls
check "and leaves BR (holds \$(held BR))" wait_until 10 holds_none BR
stop
check "sipedge exits 0 on SIGTERM (got $rc)" test $rc -eq 0
check "no binding left at R after the run (holds \$(held R))" wait_until 5 holds_none R
j() { jq -c -r "$1" "$tmp/tls.json"; }
check "summary: TLS, no handshake failed (got $(j .connections))" \
	test "$(j .connections.transport)" = tls -a "$(j .connections.tls_failures)" -eq 0
check "summary: R's targets from NAPTR, both SRV targets (got $(j .dns.roles.R))" \
	test "$(j '.dns.roles.R.how')" = NAPTR -a \
	"$(j '[.dns.roles.R.targets[] | .ip + ":" + (.port | tostring)] | join(",")')" = \
	198.18.0.1:5061,198.18.0.2:5061

# other.example.test leads to the same servers, but their certificate does not name it
lines=20 run other "other.example.test;transport=tls" "${ca[@]}" --duration 5 --quiet
wait "$sipedge_pid"
sipedge_pid=
check "a name the certificate lacks: every handshake fails, nothing registers (got $(jq -c '{connections, registered_peak}' "$tmp/other.json"))" \
	test "$(jq .connections.tls_failures "$tmp/other.json")" -gt 0 -a \
	"$(jq .registered_peak "$tmp/other.json")" -eq 0
check "nothing of other.example.test at R (holds \$(held R))" holds_none R

run tcp "reg.example.test;transport=tcp"
check "TCP by name: _sip._tcp's priority 10, BR, holds every line (holds \$(held BR))" \
	wait_until 30 holds_stream BR $lines tcp
check "TCP by name: R holds nothing (holds \$(held R))" holds_none R
stop
check "sipedge exits 0 on SIGTERM (got $rc)" test $rc -eq 0
check "no binding left at BR after the run (holds \$(held BR))" wait_until 5 holds_none BR
finish
