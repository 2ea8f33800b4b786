#!/usr/bin/env bash
# Lines registering at a registrar given as a host name, located through the shared DNS
# cache against a real authoritative server (named, deploy/dns) and registered at real
# Kamailios (the lab's R 198.18.0.1 and BR 198.18.0.2), 1,000 lines:
#  - SRV priority order is failover order: priority 10 (R) down -> every line moves to
#    priority 20 (BR), and back when it answers again; the role never fails over;
#  - SRV weights 60/40 split 10,000 lines within 5 % of the ratio (Kamailio's own
#    tables), and named's query log shows one query per (name, type) per TTL period for
#    the whole population;
#  - a zone change (the target's address) moves the lines within the TTL;
#  - the DNS server stopped: without serve-stale the name is lost once its TTL ran out
#    and the lines fail over to the backup registrar BR (mode 1); with serve-stale they
#    keep registering to the last answer.
. "$(dirname "$0")/lab.sh.inc"
command -v named >/dev/null || { echo "SKIP: named is not installed (deploy/install-deps)"; exit 77; }
export SIPEDGE_DNS_DIR=/run/sipedge-dns-run SIPEDGE_DNS_PORT=5302
dns="$SIPEDGE_SOURCE_DIR/deploy/dns"
trap 'cleanup; "$dns" down >/dev/null 2>&1' EXIT
lines=1000
dom=example.test

zone() { # zone "SRV lines..." R1_ADDRESS
	cat <<ZONE
\$TTL 5
@       IN SOA ns.example.test. hostmaster.example.test. ( 1 3600 600 86400 3 )
@       IN NS ns
ns      IN A 127.0.0.1
reg     IN NAPTR 10 10 "S" "SIP+D2U" "" _sip._udp.reg
$1
r1   3  IN A $2
r2   3  IN A 198.18.0.2
ZONE
}
zone "_sip._udp.reg IN SRV 10 60 5060 r1
_sip._udp.reg IN SRV 20 0 5060 r2" 198.18.0.1 >"$tmp/priority"
zone "_sip._udp.reg IN SRV 10 60 5060 r1
_sip._udp.reg IN SRV 10 40 5060 r2" 198.18.0.1 >"$tmp/weights"
zone "_sip._udp.reg IN SRV 10 60 5060 r1" 198.18.0.1 >"$tmp/one"
zone "_sip._udp.reg IN SRV 10 60 5060 r1" 198.18.0.2 >"$tmp/moved"

start() { # start NAME OPTIONS...: the lab, named with zone NAME, sipedge in the background
	local name=$1
	shift
	"$lab" up --roles R,BR >/dev/null || { echo "FAIL: lab did not come up"; exit 1; }
	"$dns" up "$tmp/$name" >/dev/null || { echo "FAIL: named did not start"; exit 1; }
	"$SIPEDGE" run "${eal[@]}" -- --lines ${n:-$lines} --expires 30 --timer-f 3000 --rate 2000 \
		--registrar reg.example.test --domain $dom --dns-server 127.0.0.1:$SIPEDGE_DNS_PORT \
		--dns-timeout 500 --probe-interval 1-2 --probe-timeout 1500 --monitor-interval 2 \
		--storm-window 2 --summary-json "$tmp/$name.json" "$@" >"$tmp/$name.out" 2>&1 &
	sipedge_pid=$!
}
stop() {
	kill -TERM "$sipedge_pid"
	wait "$sipedge_pid"
	sipedge_pid=
}
count_at() { "$lab" bindings "$1" | grep -c "@$dom " || true; }
registered_somewhere() { [ $(($(count_at R) + $(count_at BR))) -eq "$1" ]; }

# SRV priority: 10 (R) first, 20 (BR) when R stops answering, 10 again when it returns
start priority
check "priority 10: R holds every line (holds \$(held R))" wait_until 20 holds R $lines $dom
"$lab" partition R >/dev/null
check "priority 10 down: every line moves to priority 20, BR (holds \$(held BR))" \
	wait_until 45 holds BR $lines $dom
"$lab" restore R >/dev/null
check "priority 10 back: every line returns to R (holds \$(held R))" \
	wait_until 30 holds R $lines $dom
check "and leaves BR (holds \$(held BR))" wait_until 10 holds_none BR
stop
check "the summary names both targets (got $(jq -c '.dns.roles.R.targets' "$tmp/priority.json"))" \
	test "$(jq -r '[.dns.roles.R.targets[].ip] | join(",")' "$tmp/priority.json")" = 198.18.0.1,198.18.0.2

# SRV weights: 60/40 over R and BR, as Kamailio's own tables count them, 10,000 lines
n=10000 start weights
: >"$SIPEDGE_DNS_DIR/query.log"
t0=$SECONDS
check "weights: every line registered somewhere (R \$(held R), BR \$(held BR))" \
	wait_until 30 registered_somewhere 10000
r1=$(count_at R)
r2=$(count_at BR)
echo "weights 60/40: R holds $r1 lines, BR $r2"
check "weights 60/40 split the lines within 5 % of the ratio (R $r1, BR $r2)" \
	test "$r1" -ge 5700 -a "$r1" -le 6300
sleep $((t0 + 20 - SECONDS))
secs=$((SECONDS - t0))
stop
for nt in "reg.example.test NAPTR 5" "_sip._udp.reg.example.test SRV 5" "r1.example.test A 3"; do
	set -- $nt
	q=$("$dns" queries "$1" "$2" | awk '{print $1}')
	echo "named answered ${q:-0} queries for $1 $2 (TTL $3 s) in $secs s of 10,000 lines"
	check "$1 $2: one query per TTL period for 10,000 lines (${q:-0} in $secs s, TTL $3 s)" \
		test "${q:-0}" -ge $((secs / $3 - 1)) -a "${q:-0}" -le $((secs * 1000 / ($3 * 950) + 2))
done

# a zone change: r1's address moves to BR's; the lines follow within the TTL
start one
check "one target: R holds every line (holds \$(held R))" wait_until 20 holds R $lines $dom
reloaded=$(date +%s.%N)
"$dns" reload "$tmp/moved"
check "r1's new address: every line moves to it within its TTL (BR holds \$(held BR))" \
	wait_until 15 holds BR $lines $dom
stop
# not before the TTL: by named's own log, the question that brought the new address came
# a TTL (less the 5 % prefetch margin) after the one before it, not at the reload
read -r before after < <("$dns" times r1.example.test A | awk -v t="$reloaded" '
	$1 <= t { b = $1 } $1 > t && a == "" { a = $1 } END { print b, a }')
check "the new address came with the regular refresh ($before, reload $reloaded, next $after)" \
	test -n "$before" -a -n "$after" -a "$(echo "$after - $before >= 2.75" | bc -l)" -eq 1
check "summary: the change is counted (target_changes $(jq .dns.target_changes "$tmp/one.json"))" \
	test "$(jq .dns.target_changes "$tmp/one.json")" -ge 2

# the DNS server stops: no serve-stale -> the name is lost, lines fail over to BR
for stale in off on; do
	start one --backup-registrar 198.18.0.2 --serve-stale $stale
	check "serve-stale $stale: R holds every line first (holds \$(held R))" \
		wait_until 20 holds R $lines $dom
	"$dns" stop
	if [ $stale = off ]; then
		check "named stopped: once the TTL ran out the lines fail over to BR (holds \$(held BR))" \
			wait_until 30 holds BR $lines $dom
	else
		sleep 15
		check "named stopped, serve-stale: the lines stay at R (R \$(held R), BR \$(held BR))" \
			test "$(count_at R)" -eq $lines -a "$(count_at BR)" -eq 0
	fi
	stop
done
check "serve-stale on: stale answers were served (got $(jq .dns.stale_served "$tmp/one.json"))" \
	test "$(jq .dns.stale_served "$tmp/one.json")" -gt 0
finish
