#!/usr/bin/env bash
# DNS through one shared TTL cache, against a real authoritative server (BIND's named on
# loopback, deploy/dns) serving NAPTR -> SRV (priorities 10 and 20, weights 60/40) -> A
# with TTLs of 3 and 5 s. 10,000 lines each locate sip.example.test once a second:
#  - named's own query log shows one query per (name, type) per TTL period for the whole
#    population, and sipedge's counters agree; no line waits once the cache is warm;
#  - the lines split over the priority-10 targets 60/40 (within 5 % of the ratio);
#  - a zone change (a new address for r1) reaches the lines within r1's TTL;
#  - named stopped: without serve-stale the lines lose the name once the TTL ran out;
#    with serve-stale they keep the last answer.
set -uo pipefail
: "${SIPEDGE:?set SIPEDGE to the sipedge binary}"
: "${SIPEDGE_SOURCE_DIR:?set SIPEDGE_SOURCE_DIR}"
for tool in named dig jq; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (deploy/install-deps)"; exit 77; }
done
[ "$(id -u)" -eq 0 ] || { echo "SKIP: named's state lives under /run (root)"; exit 77; }
export SIPEDGE_DNS_DIR=/run/sipedge-dns-test SIPEDGE_DNS_PORT=5301
dns="$SIPEDGE_SOURCE_DIR/deploy/dns"
tmp=$(mktemp -d)
fails=0
passes=0
check() {
	local what=$1
	shift
	if "$@"; then passes=$((passes + 1)); else echo "FAIL: $what"; fails=$((fails + 1)); fi
}
trap '"$dns" down >/dev/null 2>&1; rm -rf "$tmp"' EXIT
zone() { # zone R1_ADDRESS: the test zone
	cat <<ZONE
\$TTL 5
@       IN SOA ns.example.test. hostmaster.example.test. ( 1 3600 600 86400 3 )
@       IN NS ns
ns      IN A 127.0.0.1
sip     IN NAPTR 10 10 "S" "SIP+D2U" "" _sip._udp.sip
_sip._udp.sip IN SRV 10 60 5060 r1
_sip._udp.sip IN SRV 10 40 5060 r2
_sip._udp.sip IN SRV 20 0 5060 r3
r1   3  IN A $1
r2   3  IN A 198.18.0.2
r3   3  IN A 198.18.0.3
big     IN NAPTR 10 10 "S" "SIP+D2U" "" _sip._udp.big
$(for i in $(seq 40); do echo "_sip._udp.big IN SRV 10 1 5060 a-long-target-name-$i"; done)
$(for i in $(seq 40); do echo "a-long-target-name-$i 3 IN A 198.18.0.$((i % 3 + 1))"; done)
ZONE
}
resolve() { "$SIPEDGE" resolve --server 127.0.0.1:$SIPEDGE_DNS_PORT --timeout 500 --tries 1 "$@"; }
count() { "$dns" queries "$1" "$2" | awk '{print $1}'; }

zone 198.18.0.1 >"$tmp/zone1"
zone 198.18.0.11 >"$tmp/zone2"
"$dns" up "$tmp/zone1" >/dev/null || { echo "FAIL: named did not start"; exit 1; }
: >"$SIPEDGE_DNS_DIR/query.log"

# 10,000 lines for 20 s; the zone changes r1's address 10 s in
duration=20
start=$(date +%s.%N)
resolve --lines 10000 --duration $duration --every-ms 250 sip.example.test >"$tmp/run.jsonl" &
pid=$!
sleep 10
reload_at=$(echo "$(date +%s.%N) - $start" | bc)
"$dns" reload "$tmp/zone2"
wait $pid
tail -1 "$tmp/run.jsonl" >"$tmp/summary.json"
s() { jq -r "$1" "$tmp/summary.json"; }

# one query per (name, type) per TTL period: a refresh at 95 % of each TTL, plus the
# first; the bound is the same for 1 line or 10,000
for nt in "sip.example.test NAPTR 5" "_sip._udp.sip.example.test SRV 5" "r2.example.test A 3"; do
	set -- $nt
	n=$(count "$1" "$2")
	echo "named answered $n queries for $1 $2 (TTL $3 s) in $duration s for 10,000 lines"
	lo=$((duration / $3))
	hi=$(echo "($duration * 1000 / ($3 * 950)) + 2" | bc)
	check "$1 $2: named answered $n queries in $duration s for 10,000 lines (TTL $3 s: $lo..$hi)" \
		test "${n:-0}" -ge $lo -a "${n:-0}" -le "$hi"
done
total=$("$dns" queries | awk '{n += $1} END {print n}')
check "sipedge's query count is named's ($(s .queries) vs $total)" test "$(s .queries)" -eq "$total"
check "1,000,000 lookups, all but the first few from the cache (hits $(s .hits), coalesced $(s .coalesced))" \
	test "$(s .lookups)" -ge 900000 -a "$(s .misses)" -le 1000
check "no line waits once the cache is warm (waited $(s '.hosts[0].waited'))" \
	test "$(s '.hosts[0].waited')" -le 200
# the split over the priority-10 targets, summed over the samples before the change
read -r r1 r2 r3 < <(jq -rs --argjson t "$reload_at" '[.[] | select(.t_s? and .t_s < $t) |
	.hosts[0].split] | [([.[][] | select(.ip == "198.18.0.1") | .lines] | add),
	([.[][] | select(.ip == "198.18.0.2") | .lines] | add),
	([.[][] | select(.ip == "198.18.0.3") | .lines] | add // 0)] | @tsv' "$tmp/run.jsonl")
check "weights 60/40 split the lines within 5 % of the ratio (r1 $r1, r2 $r2), priority 20 idle ($r3)" \
	test "$(echo "r = $r1 / ($r1 + $r2); r >= 0.57 && r <= 0.63" | bc -l)" -eq 1 -a "$r3" -eq 0
first_new=$(jq -rs '[.[] | select(.t_s? and ([.hosts[0].split[] | select(.ip == "198.18.0.11" and .lines > 0)] | length > 0)) | .t_s] | min // "none"' "$tmp/run.jsonl")
check "the zone change reaches the lines within r1's TTL (reload at ${reload_at}s, first seen at ${first_new}s)" \
	test "$first_new" != none -a "$(echo "$first_new <= $reload_at + 3 + 0.5 && $first_new >= $reload_at - 0.3" | bc -l)" -eq 1

# an SRV set too big for a UDP answer: truncated, asked again over TCP (c-ares), used
out=$(resolve big.example.test)
check "a truncated answer is asked again over TCP and used (got $(jq -c '{status, n: (.targets | length)}' <<<"$out"))" \
	test "$(jq -r .status <<<"$out")" = ok -a "$(jq '.targets | length' <<<"$out")" -eq 16
check "named saw the question over TCP too" grep -q "query: _sip._udp.big.example.test IN SRV +T" "$SIPEDGE_DNS_DIR/query.log"

# a registrar whose name does not exist: the run refuses to start, and says why
err=$("$SIPEDGE" run -- --registrar nothere.example.test --dns-server 127.0.0.1:$SIPEDGE_DNS_PORT \
	--dns-timeout 500 --quiet 2>&1 >/dev/null)
rc=$?
check "a name that does not resolve stops the run with 1 and a sentence (rc $rc: $err)" \
	test $rc -eq 1 -a "$err" = "sipedge run: R nothere.example.test: DNS gave no usable answer (nxdomain)"

# the server stops 4 s in: without serve-stale, lines lose the name once its TTL ran out
for stale in off on; do
	"$dns" up "$tmp/zone1" >/dev/null
	args=()
	[ $stale = on ] && args=(--serve-stale)
	resolve --lines 1000 --duration 12 --every-ms 500 "${args[@]}" sip.example.test >"$tmp/stop-$stale.jsonl" &
	pid=$!
	sleep 4
	"$dns" stop
	wait $pid
	tail -1 "$tmp/stop-$stale.jsonl" >"$tmp/summary.json"
	if [ $stale = off ]; then
		check "named stopped, no serve-stale: lines fail once the TTL ran out (failed $(s '.hosts[0].failed'), status $(s '.hosts[0].status'))" \
			test "$(s '.hosts[0].failed')" -gt 0 -a "$(s '.hosts[0].status')" = timeout
		late=$(jq -rs '[.[] | select(.t_s? and .t_s < 4) | .hosts[0].status | select(. != "ok")] | length' "$tmp/stop-$stale.jsonl")
		check "and not before it stopped ($late samples failed)" test "$late" -eq 0
	else
		check "named stopped, serve-stale: no line fails (failed $(s '.hosts[0].failed'), stale served $(s .stale_served))" \
			test "$(s '.hosts[0].failed')" -eq 0 -a "$(s .stale_served)" -gt 0
		check "and the lines keep the last answer (targets $(s '[.hosts[0].targets[].ip] | join(",")'))" \
			test "$(s '[.hosts[0].targets[].ip] | join(",")')" = "198.18.0.1,198.18.0.2,198.18.0.3"
	fi
done
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
