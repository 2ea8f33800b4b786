#!/usr/bin/env bash
# bench/run dataplane [--lines N] [--duration S] [--verify-every N] [--json]
# sipedge's worker against bench_responder over net_memif, each a DPDK process: the agent's
# control thread and the responder share core 0, the agent's worker has core 1 to itself,
# so the figures are per worker core. Runs: authenticated registrations (REGISTER, 401,
# REGISTER, 200, again every 10 ms per line), STUN keep-alives, latency at light load,
# memory per line at 100,000 and 1,000,000 lines, and the load time of 1,000,000 lines.
set -euo pipefail
cd "$(dirname "$0")/.."
lines=20000
duration=10
verify_every=1
json=0
while [ $# -gt 0 ]; do
	case "$1" in
	--lines) lines=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--verify-every) verify_every=$2; shift 2 ;;
	--json) json=1; shift ;;
	*) echo "bench/run dataplane: unknown option $1" >&2; exit 2 ;;
	esac
done
bin=build-bench
tmp=$(mktemp -d)
sock=$tmp/memif.sock
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
common=(--no-huge --no-pci --no-telemetry --log-level=lib.eal:error)

# run NAME RESPONDER-OPTS -- SIPEDGE-OPTS: one agent run against a fresh responder
run() {
	local name=$1
	shift
	local resp=()
	while [ "$1" != "--" ]; do resp+=("$1"); shift; done
	shift
	"$bin/bench_responder" -l 0 -m 512 "${common[@]}" --file-prefix="sebr$$" \
		"--vdev=net_memif0,role=server,socket=$sock" -- --ip 198.18.0.1 \
		--verify-every "$verify_every" --stats "$tmp/$name-resp.json" "${resp[@]}" &
	local rpid=$!
	sleep 1
	"$bin/sipedge" run -l 0-1 -m 2048 "${common[@]}" --file-prefix="seba$$" \
		"--vdev=net_memif0,role=client,socket=$sock" -- --quiet \
		--summary-json "$tmp/$name.json" "$@" >"$tmp/$name.out" 2>&1 ||
		{ echo "bench: sipedge run ($name) failed: $(tail -3 "$tmp/$name.out")" >&2; exit 1; }
	kill -TERM $rpid 2>/dev/null || true
	wait $rpid 2>/dev/null || true
}
j() { jq -r "$2" "$tmp/$1.json"; }

run reg --expires 1 --duration $((duration + 8)) -- \
	--lines "$lines" --rate 0 --expires 1 --refresh 1-1 --duration "$duration"
run ka --duration $((duration + 8)) -- \
	--lines "$lines" --rate 0 --expires 3600 --keepalive stun --keepalive-interval 0.02 \
	--duration "$duration"
# the same keep-alives, the responder's answers held and sent 1,000 at a time (its ring
# holds 1,024): the worker takes them in full bursts, as it would from a faster peer
run kab --batch 1000 --duration $((duration + 8)) -- \
	--lines "$lines" --rate 0 --expires 3600 --keepalive stun --keepalive-interval 0.02 \
	--duration "$duration"
# the worker's keep-alive path with no port under it (bench/kapath.c): the agent's own
# cost, which the memif runs cannot tell apart from the transport's
"$bin/bench_kapath" --lines "$lines" --json >"$tmp/kapath.json" ||
	{ echo "bench: bench_kapath failed" >&2; exit 1; }
run lat --expires 1 --duration 12 -- --lines 1000 --rate 0 --expires 1 --refresh 50-90 --duration 4
run mem1 --duration 20 -- --lines 1 --duration 1
run mem100k --duration 30 -- --lines 100000 --rate 0 --duration 1
run mem1m --duration 60 -- --lines 1000000 --rate 0 --duration 1

reg_s=$(j reg "(.registrations_ok / $duration)")
ka_s=$(j ka "(.keepalive_answered / $duration)")
# The worker's busy share (TSC cycles of loop passes that found work / all cycles): the
# responder, on the core it shares with the agent's control thread, offers less than the
# worker can take, so the worker idles part of the time. Work per busy second is what one
# worker core does when kept busy; it includes each pass's fixed cost, so it is low when
# the load is light.
reg_busy=$(j reg '.workers[0].busy_share')
ka_busy=$(j ka '.workers[0].busy_share')
reg_core=$(jq -n "$reg_s / $reg_busy")
ka_core=$(jq -n "$ka_s / $ka_busy")
kab_s=$(j kab "(.keepalive_answered / $duration)")
kab_busy=$(j kab '.workers[0].busy_share')
kab_core=$(jq -n "$kab_s / $kab_busy")
base=$(j mem1 .rss_kb_loaded)
b100k=$(( ($(j mem100k .rss_kb_loaded) - base) * 1024 / 100000 ))
b1m=$(( ($(j mem1m .rss_kb_loaded) - base) * 1024 / 1000000 ))
if [ $json -eq 1 ]; then
	jq -n -c --argjson reg "$reg_s" --argjson ka "$ka_s" \
		--argjson p50 "$(j lat .reg_latency_p50_us)" --argjson p99 "$(j lat .reg_latency_p99_us)" \
		--argjson b100k "$b100k" --argjson b1m "$b1m" --argjson st "$(j mem1m .load_s)" \
		--argjson resp "$(cat "$tmp/reg-resp.json")" --argjson lines "$lines" \
		--argjson regb "$reg_busy" --argjson kab "$ka_busy" --argjson regc "$reg_core" \
		--argjson kac "$ka_core" --argjson kabs "$kab_s" --argjson kabb "$kab_busy" \
		--argjson kabc "$kab_core" --argjson kp "$(cat "$tmp/kapath.json")" \
		'{auth_reg_per_s_per_core: ($reg|floor), keepalive_per_s_per_core: ($ka|floor),
		  auth_reg_per_busy_core_s: ($regc|floor), keepalive_per_busy_core_s: ($kac|floor),
		  worker_busy_reg: $regb, worker_busy_keepalive: $kab,
		  keepalive_batched_per_s: ($kabs|floor), worker_busy_keepalive_batched: $kabb,
		  keepalive_per_busy_core_s_batched: ($kabc|floor),
		  keepalive_path_ns: $kp.keepalive_path_ns, keepalive_path_per_s: $kp.keepalive_path_per_s,
		  reg_latency_p50_us: $p50, reg_latency_p99_us: $p99, bytes_per_line_100k: $b100k,
		  bytes_per_line_1m: $b1m, startup_1m_s: $st, lines: $lines,
		  responder_verify_every: $resp.verify_every, responder_cpu_share: $resp.cpu_share}'
	exit 0
fi
cat <<TABLE
| figure | measured | per busy second of the worker core | target |
|---|---:|---:|---:|
| authenticated registrations/s per worker core ($lines lines) | $(printf '%.0f' "$reg_s") (worker $(printf '%.0f' "$(jq -n "$reg_busy * 100")") % busy) | $(printf '%.0f' "$reg_core") | >= 250,000 |
| STUN keep-alives/s per worker core ($lines lines) | $(printf '%.0f' "$ka_s") (worker $(printf '%.0f' "$(jq -n "$ka_busy * 100")") % busy) | $(printf '%.0f' "$ka_core") | >= 5,000,000 |
| the same, answers sent in batches of 1,000 (full bursts) | $(printf '%.0f' "$kab_s") (worker $(printf '%.0f' "$(jq -n "$kab_busy * 100")") % busy) | $(printf '%.0f' "$kab_core") | >= 5,000,000 |
| the worker's keep-alive path alone, no port (bench_kapath, $lines lines): ns per keep-alive | $(jq -r .keepalive_path_ns "$tmp/kapath.json") ns | $(jq -r .keepalive_path_per_s "$tmp/kapath.json") | >= 5,000,000 |
| registration latency p50 / p99 (1,000 lines, light load) | $(j lat .reg_latency_p50_us) / $(j lat .reg_latency_p99_us) us | | - |
| bytes per line at 100,000 lines (RSS growth / lines) | $b100k | | <= 512 |
| bytes per line at 1,000,000 lines | $b1m | | <= 512 |
| start-up (load) time for 1,000,000 lines | $(j mem1m .load_s) s | | - |

"Per busy second": the work done divided by the time the worker's loop spent in passes
that found work (TSC cycles), i.e. what the worker core does when kept busy. The
responder shares core 0 with the agent's control thread and offers less than the worker
takes, so the measured rates are the responder's; the busy figure includes each loop
pass's fixed cost and so understates a saturated worker; the batched run takes the
answers in full bursts, so that cost is spread over 32 frames a pass, as at saturation.
The path alone is the worker's functions for a keep-alive (wheel, request and headers,
classify, STUN parse, the line's answer) with the memif PMD, the mbufs and the idle loop
taken away: the difference to the busy figure is what the transport costs here (memif
copies every frame between the two processes' memory, across cores).

Responder: verified $(jq -r .verified "$tmp/reg-resp.json") digests (every $verify_every), \
$(jq -r .verify_failed "$tmp/reg-resp.json") failed, CPU share $(jq -r .cpu_share "$tmp/reg-resp.json") \
of its core (it polls while frames come and sleeps after 10 ms without one: 1.0 means it never idled, not that it was saturated). Registration run: \
$(j reg .registrations_ok) registrations, $(j reg .retransmissions) retransmissions, \
$(j reg .drops.sip_no_buffer) sends without a buffer.
TABLE
