#!/usr/bin/env bash
# Mode 3 (only BOP configured) of the seed table, with 1,000 lines against a real
# Kamailio registrar R and outbound proxies OP, BOP:
#  - requests go through OP first: R holds every line through OP (the Path OP added);
#  - OP fails (partitioned, then crashed) -> registration through BOP;
#  - OP returns -> registration through OP again.
# Its settings come from a YAML file (sipedge run -c).
# Subscriptions (the other half of the rows) are not emulated yet.
. "$(dirname "$0")/lab.sh.inc"
lines=1000
R=198.18.0.1
OP=198.18.0.5
BOP=198.18.0.6

"$lab" up --roles R,OP,BOP >/dev/null || { echo "FAIL: lab did not come up"; exit 1; }
# the settings come from a configuration file, as a user would keep them
cat >"$tmp/mode3.yaml" <<YAML
lines:
  count: $lines
servers:
  R: $R
  OP: $OP
  BOP: $BOP
failover:
  mode: 3
  probe_interval: 1-2
  probe_timeout_ms: 1500
  monitor_interval: 2
storm:
  window: 2
registration:
  expires: 30
  rate: 2000
timers:
  f_ms: 3000
run:
  summary_json: $tmp/summary.json
  report_dir: $tmp/report
YAML
"$SIPEDGE" check -c "$tmp/mode3.yaml" >/dev/null || echo "FAIL: the test's own configuration"
"$SIPEDGE" run "${eal[@]}" -- -c "$tmp/mode3.yaml" >"$tmp/out" 2>&1 &
sipedge_pid=$!

check "through OP first: R holds every line through OP (holds \$(held R))" \
	wait_until 20 holds R $lines $R $OP
for fault in partition crash; do
	"$lab" $fault OP >/dev/null
	check "OP fails ($fault): R holds every line through BOP (holds \$(held R))" \
		wait_until 45 holds R $lines $R $BOP
	"$lab" restore OP >/dev/null
	check "OP back ($fault): R holds every line through OP again (holds \$(held R))" \
		wait_until 30 holds R $lines $R $OP
done

kill -TERM "$sipedge_pid"
wait "$sipedge_pid"
rc=$?
sipedge_pid=
check "sipedge exits 0 on SIGTERM (got $rc): $(tail -3 "$tmp/out")" test $rc -eq 0
check "no binding left at R after the run (holds \$(held R))" wait_until 5 holds_none R
s() { jq -c -r "$1" "$tmp/summary.json"; }
check "summary: OP failed over twice and back twice, every line settled (got $(s '[.episodes[] | [.kind, .server, .time_s.settled]]'))" \
	test "$(s '[.episodes[] | select(.server == "OP" and .time_s.settled == '$lines')] | length')" -eq 4
check "report_dir holds summary.md with the failover table" grep -q "^| failover (OP down) | $lines | $lines |" "$tmp/report/summary.md"
check "and summary.json, the same figures as summary_json" \
	test "$(jq -c .episodes "$tmp/report/summary.json")" = "$(jq -c .episodes "$tmp/summary.json")"
finish
