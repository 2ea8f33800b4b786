#!/usr/bin/env bash
# A run interrupted with Ctrl-C (SIGINT) or stopped with SIGTERM un-registers its lines,
# exits 0 and still writes its summary.
. "$(dirname "$0")/lab.sh.inc"
lines=200

"$lab" up >/dev/null || { echo "FAIL: lab did not come up"; exit 1; }
for sig in INT TERM; do
	"$SIPEDGE" run "${eal[@]}" -- --lines $lines --expires 60 \
		--summary-json "$tmp/summary-$sig.json" --quiet >"$tmp/out" 2>&1 &
	sipedge_pid=$!
	for _ in $(seq 100); do
		[ "$(lab_contacts | wc -l)" -eq $lines ] && break
		sleep 0.1
	done
	check "SIG$sig: all $lines registered before the signal" test "$(lab_contacts | wc -l)" -eq $lines
	kill -"$sig" "$sipedge_pid"
	wait "$sipedge_pid"
	rc=$?
	sipedge_pid=
	check "SIG$sig: exit status 0 (got $rc)" test $rc -eq 0
	check "SIG$sig: summary written and says interrupted" \
		jq -e ".interrupted == true and .unregistrations_ok == $lines and .registered_end == 0" \
		"$tmp/summary-$sig.json"
	check "SIG$sig: Kamailio holds no contact afterwards" test "$(lab_contacts | wc -l)" -eq 0
done
finish
