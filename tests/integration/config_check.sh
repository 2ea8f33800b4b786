#!/usr/bin/env bash
# `sipedge check -c FILE` and `sipedge run -c FILE` on configuration files a user writes:
# the shipped examples pass; every problem of a broken file is reported with file:line
# and a sentence (all of them, not only the first); a real Aastra phone configuration is
# read as a line template, and the failover mode follows the phone's table from the
# backups it configures. Needs no root: nothing here touches the network.
set -uo pipefail
: "${SIPEDGE:?set SIPEDGE to the sipedge binary}"
: "${SIPEDGE_SOURCE_DIR:?set SIPEDGE_SOURCE_DIR}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
passes=0
check() {
	local what=$1
	shift
	if "$@"; then passes=$((passes + 1)); else echo "FAIL: $what"; fails=$((fails + 1)); fi
}

ex="$SIPEDGE_SOURCE_DIR/docs/examples"
for f in "$ex"/*.yaml; do
	out=$("$SIPEDGE" check -c "$f" 2>&1)
	check "$(basename "$f") passes the check (got: $out)" test $? -eq 0
done
out=$("$SIPEDGE" check -c "$ex/lab-mode1.yaml")
check "the example is read as meant (got: $out)" \
	grep -q "ok: 10000 lines, mode 1, P 198.18.0.3:5060 BP 198.18.0.4:5060 R 198.18.0.1:5060 BR 198.18.0.2:5060, AOR user@198.18.0.3, backup AOR user@198.18.0.4" <<<"$out"

cat >"$tmp/bad.yaml" <<'YAML'
lines:
  count: lots
  colour: blue
servers:
  R: 198.18.0.300
  BR: registrar..example.net
  P: "198.18.0.3:5060;transport=sctp"
failover:
  mode: 7
storm: [1, 2]
timers:
  t1_ms:
    - 1
extra:
  x: 1
YAML
cat >"$tmp/bad.expected" <<EXPECTED
$tmp/bad.yaml:2: lines.count wants 1..16777216, not 'lots'
$tmp/bad.yaml:3: unknown key 'colour' in lines (it knows: count, user, user_base, password, local_ip, local_ports, phone_config, csv)
$tmp/bad.yaml:5: servers.R wants IPv4[:port] or a host name[:port], not '198.18.0.300'
$tmp/bad.yaml:6: servers.BR wants IPv4[:port] or a host name[:port], not 'registrar..example.net'
$tmp/bad.yaml:7: servers.P asks for transport 'sctp': udp, tcp or tls
$tmp/bad.yaml:9: failover.mode wants 1, 2, 3 or 4, not '7'
$tmp/bad.yaml:10: section storm wants keys under it (key: value)
$tmp/bad.yaml:13: timers.t1_ms wants a single value, not a list
$tmp/bad.yaml:14: unknown section 'extra' (sections: lines, servers, failover, storm, registration, timers, keepalive, subscriptions, calls, dns, run)
EXPECTED
"$SIPEDGE" check -c "$tmp/bad.yaml" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "a broken file fails the check with 1 (got $rc)" test $rc -eq 1
check "every problem, each with file:line and a sentence ($(diff "$tmp/bad.expected" "$tmp/err" | tr '\n' ' '))" \
	cmp -s "$tmp/bad.expected" "$tmp/err"
"$SIPEDGE" run -c "$tmp/bad.yaml" >"$tmp/out" 2>"$tmp/err2"
rc=$?
check "sipedge run refuses it with 2 before touching anything (got $rc)" test $rc -eq 2
check "and says the same" cmp -s "$tmp/bad.expected" "$tmp/err2"

printf 'lines:\n  count: [\n' >"$tmp/notyaml.yaml"
out=$("$SIPEDGE" check -c "$tmp/notyaml.yaml" 2>&1)
check "text that is not YAML: 1 and where (got: $out)" \
	grep -q "^$tmp/notyaml.yaml:[0-9]*: not YAML" <<<"$out"
out=$("$SIPEDGE" check -c "$tmp/none.yaml" 2>&1)
check "a missing file is said so (got: $out)" grep -q "none.yaml: cannot read: No such file" <<<"$out"
"$SIPEDGE" check >/dev/null 2>&1
check "no file given: usage error 2" test $? -eq 2
printf 'failover:\n  mode: 2\n' >"$tmp/mode2.yaml"
out=$("$SIPEDGE" check -c "$tmp/mode2.yaml" 2>&1)
check "mode 2 without its backups is refused (got: $out)" \
	grep -q "mode 2 needs a backup registrar (BR)" <<<"$out"

# A real phone configuration: the seed table's rows follow from the backups it sets.
cat >"$tmp/aastra.cfg" <<'CFG'
# aastra.cfg
sip proxy ip: 198.18.0.3
sip proxy port: 5060
sip backup proxy ip: 198.18.0.4
sip backup proxy port: 0
sip registrar ip: 198.18.0.1
sip registrar port: 5060
sip backup registrar ip: 198.18.0.2
sip backup registrar port: 5060
sip outbound support: 0
sip registration period: 120
sip line1 user name: 100000
sip line1 auth name: 100000
sip line1 password: secret
sip dial plan: "x+#|xx+*"
CFG
printf 'lines:\n  phone_config: %s\n  count: 20\n' "$tmp/aastra.cfg" >"$tmp/phone.yaml"
out=$("$SIPEDGE" check -c "$tmp/phone.yaml" 2>&1)
check "backup proxy and registrar configured: mode 1 (got: $out)" \
	grep -q "ok: 20 lines, mode 1, P 198.18.0.3:5060 BP 198.18.0.4:5060 R 198.18.0.1:5060 BR 198.18.0.2:5060" <<<"$out"
printf 'sip backup outbound proxy: 198.18.0.6\nsip outbound proxy: 198.18.0.5\n' >>"$tmp/aastra.cfg"
out=$("$SIPEDGE" check -c "$tmp/phone.yaml" 2>&1)
check "and a backup outbound proxy: mode 2 (got: $out)" grep -q "mode 2," <<<"$out"
grep -v "backup proxy\|backup registrar" "$tmp/aastra.cfg" >"$tmp/aastra3.cfg"
printf 'lines:\n  phone_config: %s\n' "$tmp/aastra3.cfg" >"$tmp/phone3.yaml"
out=$("$SIPEDGE" check -c "$tmp/phone3.yaml" 2>&1)
check "backup outbound proxy only: mode 3 (got: $out)" grep -q "mode 3," <<<"$out"
printf 'sip outbound support: 1\n' >>"$tmp/aastra3.cfg"
out=$("$SIPEDGE" check -c "$tmp/phone3.yaml" 2>&1)
check "and outbound support on: mode 4 (got: $out)" grep -q "mode 4," <<<"$out"
printf 'sip proxy ip: 198.18.0.3\nsip outbound support: maybe\na line without a colon\n' >"$tmp/bad.cfg"
printf 'lines:\n  phone_config: %s\n' "$tmp/bad.cfg" >"$tmp/badphone.yaml"
"$SIPEDGE" check -c "$tmp/badphone.yaml" >/dev/null 2>"$tmp/err"
check "phone file: a bad outbound support is named at its line ($(cat "$tmp/err"))" \
	grep -q "^$tmp/bad.cfg:2: sip outbound support: 'maybe' wants on or off" "$tmp/err"
check "phone file: a line that is no key: value is named" \
	grep -q "^$tmp/bad.cfg:3: not a 'key: value' line: 'a line without a colon'" "$tmp/err"
check "the YAML line that named the phone file is reported too" \
	grep -q "^$tmp/badphone.yaml:2: lines.phone_config" "$tmp/err"
# Lines from a SIPp injection-style CSV: the rows set the count; problems by line.
printf 'SEQUENTIAL\n# users\n200001;[authentication username=200001 password=pw1]\n200002\n' >"$tmp/lines.csv"
printf 'lines:\n  csv: %s\n' "$tmp/lines.csv" >"$tmp/csv.yaml"
out=$("$SIPEDGE" check -c "$tmp/csv.yaml" 2>&1)
check "a CSV of 2 rows gives 2 lines (got: $out)" grep -q "ok: 2 lines," <<<"$out"
printf 'lines:\n  csv: %s\n  count: 3\n' "$tmp/lines.csv" >"$tmp/csv3.yaml"
out=$("$SIPEDGE" check -c "$tmp/csv3.yaml" 2>&1)
check "more lines than rows is refused (got: $out)" grep -q "3 lines asked for, but the CSV" <<<"$out"
printf 'RANDOMLY\nbad user;x\n300001;[authentication username=300002 password=p]\n300003;[authentication username=300003 password=]\n' >"$tmp/bad.csv"
printf 'lines:\n  csv: %s\n' "$tmp/bad.csv" >"$tmp/badcsv.yaml"
"$SIPEDGE" check -c "$tmp/badcsv.yaml" >/dev/null 2>"$tmp/err"
check "CSV: a bad first line is named ($(head -1 "$tmp/err"))" \
	grep -q "^$tmp/bad.csv:1: the first line wants SEQUENTIAL, RANDOM or USER, not 'RANDOMLY'" "$tmp/err"
check "CSV: a user name a URI cannot carry" grep -q "^$tmp/bad.csv:2: a user name of 1..31 URI characters first, not 'bad user'" "$tmp/err"
check "CSV: an authentication name unlike the user" grep -q "^$tmp/bad.csv:3: authentication username differs" "$tmp/err"
check "CSV: an empty password" grep -q "^$tmp/bad.csv:4: password empty" "$tmp/err"
# Transports: every role the same; TLS defaults to port 5061; a mix is refused.
printf 'lines:\n  count: 10\nservers:\n  R: "198.18.0.1;transport=tls"\n  BR: "198.18.0.2:5071;transport=tls"\n' >"$tmp/tls.yaml"
out=$("$SIPEDGE" check -c "$tmp/tls.yaml" 2>&1)
check "roles over TLS, 5061 by default (got: $out)" \
	grep -q "R 198.18.0.1:5061;transport=tls BR 198.18.0.2:5071;transport=tls," <<<"$out"
printf 'servers:\n  R: "198.18.0.1;transport=tcp"\n  BR: "198.18.0.2"\n' >"$tmp/mix.yaml"
out=$("$SIPEDGE" check -c "$tmp/mix.yaml" 2>&1)
check "roles of two transports are refused with a sentence (got: $out)" \
	grep -q "BR says ;transport=udp but R says tcp: the lines use one transport" <<<"$out"
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
