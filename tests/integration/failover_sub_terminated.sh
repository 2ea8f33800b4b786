#!/usr/bin/env bash
# A notifier that ends subscriptions itself (RFC 6665 §4.1.3): behind P, the lab's SIPp
# notifier sends each line, 3 s after the subscription was made, a NOTIFY with
# Subscription-State terminated;reason=deactivated. The line answers it and subscribes
# again at once, as a new dialog: a new Call-ID, through P again, again and again. Checked
# from the real peers: P's record of the Call-ID of every new subscription, the notifier's
# count of subscriptions that ran to their end (a request outside the dialog fails one),
# and R's location table (the registrations stay as they were).
# With argument tcp (ctest's failover.sub_terminated_tcp): the lines' requests, and the
# NOTIFYs P relays to them, over a TCP connection of each line's.
. "$(dirname "$0")/lab.sh.inc"
command -v sipp >/dev/null || { echo "SKIP: sipp is not installed (deploy/install-deps)"; exit 77; }
tp=${1:-udp}
lines=1000
P=198.18.0.3

# held_ok: R holds every line, with the primary AOR, once
held_ok() { holds R $lines $P; }
args=("${eal[@]}" -- --registrar 198.18.0.1 --proxy $P)
if [ "$tp" = tcp ]; then
	# each contact a TCP address of the kernel's path (198.19.254.1, any port)
	held_ok() {
		lab_bindings R >"$tmp/b.R"
		[ "$(awk '{print $1}' "$tmp/b.R" | md5sum)" = "$(for ((i = 0; i < lines; i++)); do
			printf '1%05d@%s\n' "$i" $P
		done | sort | md5sum)" ] &&
			! awk '{print $2}' "$tmp/b.R" | grep -qv '^sip:1[0-9]*@198\.19\.254\.1:[0-9]*;transport=tcp$'
	}
	args=(-- --registrar "198.18.0.1;transport=tcp" --proxy "$P;transport=tcp")
fi

"$lab" up --roles R,P --notifier-ends 3000 >/dev/null || { echo "FAIL: lab did not come up"; exit 1; }
"$SIPEDGE" run "${args[@]}" --lines $lines --expires 60 --timer-f 3000 \
	--probe-interval 1-2 --probe-timeout 1500 \
	--monitor-interval 2 --rate 2000 --sub-expires 600 \
	--summary-json "$tmp/summary.json" >"$tmp/run.out" 2>&1 &
sipedge_pid=$!

# every one of lines 0..N-1 made at least K subscriptions at P, each under a Call-ID of
# its own
new_dialogs() {
	"$lab" new-dialogs P | awk -v n="$1" -v k="$2" '{ c[$2]++ }
		END { for (i = 0; i < n; i++) if (c[sprintf("1%05d", i)] < k) exit 1 }'
}
new_dialogs_seen() {
	"$lab" new-dialogs P | awk '{ c[$2]++ } END { for (u in c) n[c[u]]++;
		for (k in n) printf "%d lines with %d; ", n[k], k }'
}
ended_ok() { # the notifier saw at least N subscriptions end as their dialogs say
	local ok failed
	read -r ok failed < <("$lab" notifier-stats)
	[ "$ok" -ge "$1" ]
}

check "R holds every line (holds \$(held R))" wait_until 20 held_ok
# 3 s after each subscription the notifier ends it; the line subscribes again at once
check "every line subscribed at P 3 times at least, each under a new Call-ID (saw: \$(new_dialogs_seen))" \
	wait_until 30 new_dialogs $lines 3
check "the notifier ended 2 subscriptions per line at least" wait_until 10 ended_ok $((2 * lines))
check "R still holds every line, once (holds \$(held R))" held_ok

kill -TERM "$sipedge_pid"
wait "$sipedge_pid"
rc=$?
sipedge_pid=
check "sipedge exits 0 on SIGTERM (got $rc): $(tail -3 "$tmp/run.out")" test $rc -eq 0
sleep 1.5 # the statistics file is written every second
read -r ok failed < <("$lab" notifier-stats)
check "the notifier saw no request outside its dialog (failed: $failed; $(notifier_failures))" \
	test "$failed" -eq 0
s() { jq -c -r "$1" "$tmp/summary.json"; }
check "summary: the notifier's ends are counted, 2 per line at least (got $(s .subscriptions.failures))" \
	test "$(s '.subscriptions.failures.terminated // 0')" -ge $((2 * lines))
check "summary: no subscription failed otherwise (got $(s .subscriptions.failures))" \
	test "$(s '[.subscriptions.failures | to_entries[] | select(.key != "terminated") | .value] | add // 0')" -eq 0
finish
