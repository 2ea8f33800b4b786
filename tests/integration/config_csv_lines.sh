#!/usr/bin/env bash
# Lines from a SIPp injection-style CSV register at a real Kamailio with each row's own
# password: 200 rows with the right one all register; a row with a wrong password is
# refused by Kamailio (failures: auth) while the other 199 register.
. "$(dirname "$0")/lab.sh.inc"
"$lab" up >/dev/null || { echo "FAIL: lab did not come up"; exit 1; }
csv() { # csv N WRONG_ROW
	echo SEQUENTIAL
	for ((i = 0; i < $1; i++)); do
		pw=secret
		[ "$i" -eq "$2" ] && pw=wrong
		printf '1%05d;198.18.0.1;[authentication username=1%05d password=%s]\n' "$i" "$i" "$pw"
	done
}
csv 200 -1 >"$tmp/good.csv"
csv 200 7 >"$tmp/one_wrong.csv"
for f in good one_wrong; do
	"$SIPEDGE" run "${eal[@]}" -- --lines-csv "$tmp/$f.csv" --password not-this-one --expires 30 \
		--duration 6 --summary-json "$tmp/$f.json" --quiet >"$tmp/$f.out" 2>&1 &
	sipedge_pid=$!
	sleep 4
	lab_contacts >"$tmp/$f.contacts"
	wait "$sipedge_pid"
	sipedge_pid=
done
s() { jq -r "$2" "$tmp/$1.json"; }
check "every row's own password: 200 lines (rows) registered (got $(s good .registrations_ok))" \
	test "$(s good .lines)" -eq 200 -a "$(s good .registrations_ok)" -eq 200
check "Kamailio held the 200 CSV users" cmp -s "$tmp/good.contacts" <(expected_contacts 200)
check "one wrong password: that line fails auth (got $(s one_wrong .failures.auth))" \
	test "$(s one_wrong .failures.auth)" -ge 1
check "and the other 199 register (Kamailio held $(wc -l <"$tmp/one_wrong.contacts"))" \
	cmp -s "$tmp/one_wrong.contacts" <(expected_contacts 200 | grep -v '^sip:100007@')
finish
