#!/usr/bin/env bash
# A DNS server that lies (tests/integration/dns_hostile.py on loopback): garbage, an
# answer to another question, a record cut short, a CNAME loop, a chain too long,
# SERVFAIL, silence. Each is a clear, counted outcome for the name it concerns (garbage
# and answers to other questions are no answer at all: c-ares drops what does not match
# the query, RFC 5452 §9.1, so they end as timeouts); the others still resolve; nothing
# crashes or hangs.
set -uo pipefail
: "${SIPEDGE:?set SIPEDGE to the sipedge binary}"
command -v python3 >/dev/null || { echo "SKIP: python3 is not installed"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: jq is not installed"; exit 77; }
port=5303
tmp=$(mktemp -d)
fails=0
passes=0
check() {
	local what=$1
	shift
	if "$@"; then passes=$((passes + 1)); else echo "FAIL: $what"; fails=$((fails + 1)); fi
}
python3 "$(dirname "$0")/dns_hostile.py" $port 60 &
liar=$!
trap 'kill $liar 2>/dev/null; rm -rf "$tmp"' EXIT
sleep 0.5

start=$SECONDS
timeout 30 "$SIPEDGE" resolve --server 127.0.0.1:$port --timeout 300 --tries 1 \
	garbage.liar.test:5060 mismatch.liar.test:5060 broken.liar.test:5060 \
	loop.liar.test:5060 long.liar.test:5060 \
	servfail.liar.test:5060 silent.liar.test:5060 ok.liar.test:5060 >"$tmp/out" 2>"$tmp/err"
rc=$?
check "resolve ends by itself, in time, with 1: some names failed (rc $rc, $((SECONDS - start)) s)" \
	test $rc -eq 1 -a $((SECONDS - start)) -le 10
status() { jq -r "select(.host == \"$1\") | .status" "$tmp/out"; }
for pair in garbage:timeout mismatch:timeout broken:bad_reply loop:cname_loop long:cname_loop \
	servfail:servfail silent:timeout ok:ok; do
	name=${pair%%:*}
	want=${pair#*:}
	check "$name.liar.test: $want (got $(status $name.liar.test))" \
		test "$(status $name.liar.test)" = "$want"
done
check "the good name still resolves to its address (got $(jq -r 'select(.host == "ok.liar.test") | .targets[0].ip' "$tmp/out"))" \
	test "$(jq -r 'select(.host == "ok.liar.test") | .targets[0].ip' "$tmp/out")" = 198.18.0.1
check "nothing on stderr ($(head -3 "$tmp/err"))" test ! -s "$tmp/err"

# and under load: 1,000 lines asking for every name for 4 s stay bounded and counted
timeout 30 "$SIPEDGE" resolve --server 127.0.0.1:$port --timeout 300 --tries 1 --lines 1000 \
	--duration 4 broken.liar.test:5060 loop.liar.test:5060 silent.liar.test:5060 \
	ok.liar.test:5060 >"$tmp/load" 2>&1
rc=$?
s() { tail -1 "$tmp/load" | jq -r "$1"; }
check "1,000 lines against the liar end in time (rc $rc)" test $rc -le 1
check "failures are held, not asked again per line (queries $(s .queries) for $(s .lookups) lookups)" \
	test "$(s .queries)" -le 40 -a "$(s .lookups)" -ge 10000
check "and counted by kind (answers $(tail -1 "$tmp/load" | jq -c .answers))" \
	test "$(s .answers.bad_reply)" -gt 0 -a "$(s .answers.cname_loop)" -gt 0 -a "$(s .answers.timeout)" -gt 0
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
