#!/usr/bin/env bash
# `sipedge parse` as a user meets it: every corpus file gets the exit status its EXPECT
# line asks for, accepted files print one valid JSON object each, rejected ones print
# "FILE: error at octet N: reason", and bad usage exits 2 with a sentence.
set -uo pipefail
: "${SIPEDGE:?set SIPEDGE to the sipedge binary}"
: "${SIPEDGE_SOURCE_DIR:?set SIPEDGE_SOURCE_DIR}"
corpus=$SIPEDGE_SOURCE_DIR/tests/corpus
fails=0
pass=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { pass=$((pass + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for dir in rfc4475 rfc5118; do
	while read -r file expect; do
		f=$corpus/$dir/$file
		"$SIPEDGE" parse "$f" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		case "$expect" in
		accept)
			[ $rc -eq 0 ] || { fail "$dir/$file: exit $rc, expected 0: $(cat "$tmp/err")"; continue; }
			jq -e --arg f "$f" '.file == $f and (.headers | length) > 0 and .cseq.seq >= 0' \
				"$tmp/out" >/dev/null || { fail "$dir/$file: output is not the expected JSON"; continue; }
			;;
		reject)
			[ $rc -eq 1 ] || { fail "$dir/$file: exit $rc, expected 1"; continue; }
			grep -qE "^$f: error at octet [0-9]+: .+" "$tmp/err" ||
				{ fail "$dir/$file: stderr lacks 'FILE: error at octet N: reason'"; continue; }
			[ -s "$tmp/out" ] && { fail "$dir/$file: a rejected file printed JSON"; continue; }
			;;
		either)
			[ $rc -le 1 ] || { fail "$dir/$file: exit $rc"; continue; }
			;;
		esac
		ok
	done <"$corpus/$dir/EXPECT"
done

# Several files: one JSON line per accepted file, exit 1 because one was rejected.
"$SIPEDGE" parse "$corpus/rfc4475/wsinv.dat" "$corpus/rfc4475/clerr.dat" \
	"$corpus/rfc5118/ipv6-good.dat" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$tmp/out")" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
	jq -s -e 'length == 2' "$tmp/out" >/dev/null && ok || fail "several files: exit $rc"

# Typed fields a user reads: folded wsinv headers, the Via set, the unfolded values.
jq -e '.via | length == 3' <(head -1 "$tmp/out") >/dev/null && ok || fail "wsinv: three Via values"
jq -e '.to.tag == "1918181833n" and .cseq.method == "INVITE" and .max_forwards == 68' \
	<(head -1 "$tmp/out") >/dev/null && ok || fail "wsinv: To tag, CSeq, Max-Forwards"

# Usage errors exit 2 with a sentence; help and --help exit 0.
"$SIPEDGE" parse 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "no FILE" "$tmp/err" && ok || fail "parse without FILE"
"$SIPEDGE" frobnicate 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "unknown command" "$tmp/err" && ok || fail "unknown command"
"$SIPEDGE" parse /nonexistent 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "cannot open" "$tmp/err" && ok || fail "missing file"
"$SIPEDGE" help | grep -q parse && ok || fail "help lists parse"
"$SIPEDGE" version | grep -q "DPDK" && ok || fail "version names DPDK"
for c in version parse; do
	"$SIPEDGE" $c --help | grep -q "usage: sipedge $c" && ok || fail "$c --help"
done

echo "$pass passed, $fails failed"
[ $fails -eq 0 ]
