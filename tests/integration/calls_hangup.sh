#!/usr/bin/env bash
# The other side ends the call: 200 lines registered at a real Kamailio R place 20 calls/s
# through the proxy P to SIPp as a callee that answers and, 300 ms after the ACK, hangs up
# itself with a BYE along the dialog's route set (deploy/lab callee --hangup). The BYE
# reaches the line at its Contact, the line answers it 200 and the call counts as ended
# by the other side; the line's own hold (30 s) never runs out, so it sends no BYE.
#
# With argument tcp or tls (ctest's calls.hangup_tcp, hangup_tls): every role over that
# transport. Nothing listens at a line's Contact then: P sends the BYE back over the
# call's own connection, which the INVITE's Via ;alias named (RFC 5923).
. "$(dirname "$0")/lab.sh.inc"
command -v sipp >/dev/null || { echo "SKIP: sipp is not installed"; exit 77; }
tp=${1:-udp}
lines=200

"$lab" up --roles R,P >/dev/null || { echo "FAIL: lab did not come up"; exit 1; }
"$lab" callee --hangup >/dev/null || { echo "FAIL: the callee did not start"; exit 1; }
how=("${eal[@]}" --) t=
[ "$tp" != udp ] && how=(--) t=";transport=$tp"
[ "$tp" = tls ] && how=(-- --tls-ca "$SIPEDGE_LAB_DIR/tls/server.pem")
"$SIPEDGE" run "${how[@]}" --lines $lines --registrar "198.18.0.1$t" --proxy "198.18.0.3$t" \
	--expires 60 --timer-f 3000 --rate 1000 --calls 20 --call-to sip:callee@198.18.0.7 \
	--call-hold 30 --duration 10 --quiet --summary-json "$tmp/summary.json" \
	>"$tmp/run.out" 2>&1
rc=$?
check "sipedge runs 10 s and exits 0 (got $rc): $(tail -3 "$tmp/run.out")" test $rc -eq 0
s() { jq -c -r "$1" "$tmp/summary.json"; }
answered=$(s .calls.answered)
check "calls were placed and answered over $tp (answered $answered)" test "${answered:-0}" -ge 100
check "the callee's BYEs ended them: remote_bye $(s .calls.remote_bye) of $answered answered" \
	test "$(s .calls.remote_bye)" -ge $((answered * 9 / 10))
check "the lines answered the BYEs (requests answered $(s .requests_answered))" \
	test "$(s .requests_answered.BYE)" -ge $((answered * 9 / 10))
check "no BYE of ours: the calls completed by us $(s .calls.completed)" \
	test "$(s .calls.completed)" -le $((answered / 10))
check "no call left up at the end ($(s .calls.active_end))" test "$(s .calls.active_end)" -eq 0
# SIPp counts the calls whose BYE got its 200
ok=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "SuccessfulCall(C)") c = i }
	END { print $c + 0 }' "$SIPEDGE_LAB_DIR/callee-stat.csv" 2>/dev/null)
check "SIPp: its BYEs were answered 200 ($ok successful calls)" test "${ok:-0}" -ge $((answered * 9 / 10))
finish
