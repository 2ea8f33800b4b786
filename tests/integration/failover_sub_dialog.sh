#!/usr/bin/env bash
# Subscription dialogs as a carrier has them: the proxy P record-routes each line's
# SUBSCRIBE to a notifier behind it (SIPp, deploy/sipp/notifier.xml), which answers with
# its own Contact and NOTIFYs the line along the route set. Every refresh and the
# un-SUBSCRIBE must then be in the dialog as RFC 3261 §12.2.1.1 says: to the notifier's
# Contact (the remote target) with P's Record-Route as the Route, through P. Checked from
# both real peers: P's record of what each in-dialog SUBSCRIBE arrived with, and the
# notifier's own count of subscriptions whose requests matched (a mismatch fails its call).
# Then P fails and returns: the subscriptions move to BP and back, each a new dialog with
# that proxy's route set, the old one ended in its dialog.
. "$(dirname "$0")/lab.sh.inc"
command -v sipp >/dev/null || { echo "SKIP: sipp is not installed (deploy/install-deps)"; exit 77; }
lines=1000
P=198.18.0.3
BP=198.18.0.4
NTF=198.18.0.8

"$lab" up --roles R,BR,P,BP --notifier >/dev/null || { echo "FAIL: lab did not come up"; exit 1; }
"$SIPEDGE" run "${eal[@]}" -- --lines $lines --expires 60 --timer-f 3000 \
	--registrar 198.18.0.1 --backup-registrar 198.18.0.2 --proxy $P --backup-proxy $BP \
	--probe-interval 1-2 --probe-timeout 1500 --monitor-interval 2 --storm-window 2 \
	--rate 2000 --sub-expires 12 --summary-json "$tmp/summary.json" >"$tmp/run.out" 2>&1 &
sipedge_pid=$!

# dialogs_ok NAME N HOP: proxy NAME saw an in-dialog SUBSCRIBE of N subscriptions, each with
# a Route naming HOP (its own Record-Route, ftag and all) and the notifier's Contact as its
# Request-URI
dialogs_ok() {
	[ "$("$lab" dialogs "$1" | grep -cE "^[^ ]+ <sip:${3//./\\.};lr;ftag=[^>]+> sip:mwi@${NTF//./\\.}:5060$")" -eq "$2" ]
}
dialogs_seen() {
	"$lab" dialogs "$1" | awk '{ k = ($2 ~ /^<sip:/ ? "route " : $2 " ") $3; n[k]++ }
		END { for (k in n) printf "%s: %d; ", k, n[k] }'
}
notified() { # the lines answered at least N NOTIFYs
	[ -f "$tmp/summary.json" ] || return 1
	[ "$(jq '[.. | objects | .requests_answered? // empty | .NOTIFY] | add // 0' "$tmp/summary.json")" -ge "$1" ]
}

check "R holds every line (holds \$(held R))" wait_until 20 holds R $lines $P
# a refresh comes at 50-90 % of the 12 s granted
check "P relayed an in-dialog refresh of every subscription to the notifier's Contact along its Route (saw: \$(dialogs_seen P))" \
	wait_until 25 dialogs_ok P $lines $P

"$lab" freeze P >/dev/null
check "P fails: R holds every line with the backup AOR (holds \$(held R))" \
	wait_until 30 holds R $lines $BP
check "P fails: BP relayed an in-dialog refresh of every subscription, with BP's own route set (saw: \$(dialogs_seen BP))" \
	wait_until 30 dialogs_ok BP $lines $BP
"$lab" restore P >/dev/null
check "P returns: R holds every line with the primary AOR (holds \$(held R))" \
	wait_until 30 holds R $lines $P
sleep 2

kill -TERM "$sipedge_pid"
wait "$sipedge_pid"
rc=$?
sipedge_pid=
check "sipedge exits 0 on SIGTERM (got $rc): $(tail -3 "$tmp/run.out")" test $rc -eq 0
sleep 1.5 # the statistics file is written every second
read -r ok failed < <("$lab" notifier-stats)
# each line's subscription at P, then at BP, then at P again: three dialogs, each ended
# by an un-SUBSCRIBE in the dialog (P's first one when the line left it after P came
# back is the exception: P was frozen, its dialog timed out at the notifier's side)
check "the notifier saw no subscription addressed outside its dialog (failed: $failed; $(notifier_failures))" \
	test "$failed" -eq 0
check "the notifier's subscriptions ended by un-SUBSCRIBEs in their dialogs: at least 2 per line (got $ok)" \
	test "$ok" -ge $((2 * lines))
check "the lines answered the notifier's NOTIFYs (got $(jq -c '[.. | objects | .requests_answered? // empty]' "$tmp/summary.json"))" \
	notified $((2 * lines))
s() { jq -c -r "$1" "$tmp/summary.json"; }
# a refresh out when P froze times out: that is how the line learns; nothing else fails
check "summary: no subscription failed but by P's timeouts (got $(s .subscriptions.failures))" \
	test "$(s '[.subscriptions.failures | to_entries[] | select(.key != "timeout") | .value] | add')" -eq 0
finish
