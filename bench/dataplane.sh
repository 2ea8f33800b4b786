#!/usr/bin/env bash
# bench/run dataplane [--lines N] [--duration S] [--verify-every N] [--repeat N] [--json]
# sipedge's worker against bench_responder over net_memif, each a DPDK process: the agent's
# control thread and the responder share core 0, the agent's worker has core 1 to itself,
# so the figures are per worker core. Runs: authenticated registrations (REGISTER, 401,
# REGISTER, 200, again every 10 ms per line), STUN keep-alives, latency at light load,
# memory per line at 100,000 and 1,000,000 lines, and the load time of 1,000,000 lines.
# The keep-alives run again over net_ring, the responder in the agent's process
# (bench_ringagent). The throughput runs are made --repeat times (3), interleaved: this machine's speed
# drifts by a quarter within minutes, so one run is a draw. The figures are the median
# run's (of an even count, the lower middle one), with the lowest and highest beside them.
set -euo pipefail
cd "$(dirname "$0")/.."
lines=20000
duration=10
verify_every=1
repeat=3
json=0
while [ $# -gt 0 ]; do
	case "$1" in
	--lines) lines=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--verify-every) verify_every=$2; shift 2 ;;
	--repeat) repeat=$2; shift 2 ;;
	--json) json=1; shift ;;
	*) echo "bench/run dataplane: unknown option $1" >&2; exit 2 ;;
	esac
done
case "$repeat" in '' | *[!0-9]* | 0) echo "bench/run dataplane: --repeat wants a count >= 1" >&2; exit 2 ;; esac
bin=build-bench
tmp=$(mktemp -d)
sock=$tmp/memif.sock
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
common=(--no-huge --no-pci --no-telemetry --log-level=lib.eal:error)

# run [--ring] NAME RESPONDER-OPTS -- SIPEDGE-OPTS: one agent run against a fresh
# responder: over net_memif, the responder a process of its own on core 0; with --ring,
# over net_ring in one process (bench_ringagent), the responder on an lcore of its own
# sharing core 0 with control. The worker has core 1 either way.
run() {
	local ring=0
	[ "$1" = --ring ] && { ring=1; shift; }
	local name=$1
	shift
	local resp=(--verify-every "$verify_every" --stats "$tmp/$name-resp.json")
	while [ "$1" != "--" ]; do resp+=("$1"); shift; done
	shift
	local agent=(--quiet --summary-json "$tmp/$name.json" "$@")
	if [ $ring -eq 1 ]; then
		"$bin/bench_ringagent" "${resp[@]}" run --lcores 0@0,1@1,2@0 -m 2048 "${common[@]}" \
			--file-prefix="sebg$$" -- "${agent[@]}" >"$tmp/$name.out" 2>&1 ||
			{ echo "bench: bench_ringagent ($name) failed: $(tail -3 "$tmp/$name.out")" >&2; exit 1; }
		return
	fi
	"$bin/bench_responder" -l 0 -m 512 "${common[@]}" --file-prefix="sebr$$" \
		"--vdev=net_memif0,role=server,socket=$sock" -- --ip 198.18.0.1 "${resp[@]}" &
	local rpid=$!
	sleep 1
	"$bin/sipedge" run -l 0-1 -m 2048 "${common[@]}" --file-prefix="seba$$" \
		"--vdev=net_memif0,role=client,socket=$sock" -- "${agent[@]}" >"$tmp/$name.out" 2>&1 ||
		{ echo "bench: sipedge run ($name) failed: $(tail -3 "$tmp/$name.out")" >&2; exit 1; }
	kill -TERM $rpid 2>/dev/null || true
	wait $rpid 2>/dev/null || true
}
j() { jq -r "$2" "$tmp/$1.json"; }

# the keep-alive runs: every line's flow kept alive every 20 ms, 1,000,000 a second
ka=(--lines "$lines" --rate 0 --expires 3600 --keepalive stun --keepalive-interval 0.02
	--duration "$duration")
for i in $(seq "$repeat"); do
	run "reg$i" --expires 1 --duration $((duration + 8)) -- \
		--lines "$lines" --rate 0 --expires 1 --refresh 1-1 --duration "$duration"
	run "ka$i" --duration $((duration + 8)) -- "${ka[@]}"
	# the same keep-alives, the responder's answers held and sent 1,000 at a time (its
	# ring holds 1,024): the worker takes them in full bursts, as from a faster peer
	run "kab$i" --batch 1000 --duration $((duration + 8)) -- "${ka[@]}"
	# the keep-alives again over net_ring: no copy between two processes' memory
	run --ring "kar$i" --duration $((duration + 8)) -- "${ka[@]}"
	run --ring "karb$i" --batch 1000 --duration $((duration + 8)) -- "${ka[@]}"
done
# the worker's keep-alive path with no port under it (bench/kapath.c): the agent's own
# cost, which the memif runs cannot tell apart from the transport's
"$bin/bench_kapath" --lines "$lines" --json >"$tmp/kapath.json" ||
	{ echo "bench: bench_kapath failed" >&2; exit 1; }
run lat --expires 1 --duration 12 -- --lines 1000 --rate 0 --expires 1 --refresh 50-90 --duration 4
run mem1 --duration 20 -- --lines 1 --duration 1
run mem100k --duration 30 -- --lines 100000 --rate 0 --duration 1
run mem1m --duration 60 -- --lines 1000000 --rate 0 --duration 1

# pick KIND COUNTER: of the runs KIND1..KINDn, the one whose work per busy second is the
# median (of an even count, the lower of the two middle runs); sets <KIND>_s (work per second measured), _busy (the worker's busy share), _core
# (work per busy second), _lo and _hi (the lowest and highest work per busy second).
# The worker's busy share is TSC cycles of loop passes that found work / all cycles: the
# responder, on the core it shares with the agent's control thread, offers less than the
# worker can take, so the worker idles part of the time. Work per busy second is what
# one worker core does when kept busy; it includes each pass's fixed cost, so it is low
# when the load is light.
pick() {
	local kind=$1 counter=$2 i rows
	rows=$(for i in $(seq "$repeat"); do
		jq -r --arg run "$kind$i" --argjson d "$duration" \
			"[(.$counter / \$d / .workers[0].busy_share), (.$counter / \$d),
			  .workers[0].busy_share, \$run] | @tsv" "$tmp/$kind$i.json"
	done | sort -g)
	read -r core rate busy _ <<<"$(sed -n "$(((repeat + 1) / 2))p" <<<"$rows")"
	printf -v "${kind}_core" %s "$core"
	printf -v "${kind}_s" %s "$rate"
	printf -v "${kind}_busy" %s "$busy"
	printf -v "${kind}_lo" %s "$(head -1 <<<"$rows" | cut -f1)"
	printf -v "${kind}_hi" %s "$(tail -1 <<<"$rows" | cut -f1)"
	printf -v "${kind}_run" %s "$(sed -n "$(((repeat + 1) / 2))p" <<<"$rows" | cut -f4)"
}
pick reg registrations_ok
pick ka keepalive_answered
pick kab keepalive_answered
pick kar keepalive_answered
pick karb keepalive_answered
base=$(j mem1 .rss_kb_loaded)
b100k=$(( ($(j mem100k .rss_kb_loaded) - base) * 1024 / 100000 ))
b1m=$(( ($(j mem1m .rss_kb_loaded) - base) * 1024 / 1000000 ))
if [ $json -eq 1 ]; then
	jq -n -c --argjson reg "$reg_s" --argjson ka "$ka_s" \
		--argjson p50 "$(j lat .reg_latency_p50_us)" --argjson p99 "$(j lat .reg_latency_p99_us)" \
		--argjson b100k "$b100k" --argjson b1m "$b1m" --argjson st "$(j mem1m .load_s)" \
		--argjson resp "$(cat "$tmp/$reg_run-resp.json")" --argjson lines "$lines" \
		--argjson regb "$reg_busy" --argjson kab "$ka_busy" --argjson regc "$reg_core" \
		--argjson kac "$ka_core" --argjson kabs "$kab_s" --argjson kabb "$kab_busy" \
		--argjson kabc "$kab_core" --argjson kp "$(cat "$tmp/kapath.json")" \
		--argjson reglo "$reg_lo" --argjson reghi "$reg_hi" --argjson kalo "$ka_lo" \
		--argjson kahi "$ka_hi" --argjson kablo "$kab_lo" --argjson kabhi "$kab_hi" \
		--argjson repeat "$repeat" \
		--argjson kars "$kar_s" --argjson karb "$kar_busy" --argjson karc "$kar_core" \
		--argjson karlo "$kar_lo" --argjson karhi "$kar_hi" --argjson karbs "$karb_s" \
		--argjson karbb "$karb_busy" --argjson karbc "$karb_core" --argjson karblo "$karb_lo" \
		--argjson karbhi "$karb_hi" \
		'{auth_reg_per_s_per_core: ($reg|floor), keepalive_per_s_per_core: ($ka|floor),
		  auth_reg_per_busy_core_s: ($regc|floor), keepalive_per_busy_core_s: ($kac|floor),
		  auth_reg_per_busy_core_s_range: [($reglo|floor), ($reghi|floor)],
		  keepalive_per_busy_core_s_range: [($kalo|floor), ($kahi|floor)],
		  keepalive_per_busy_core_s_batched_range: [($kablo|floor), ($kabhi|floor)],
		  runs_each: $repeat,
		  keepalive_ring_per_s: ($kars|floor), worker_busy_keepalive_ring: $karb,
		  keepalive_ring_per_busy_core_s: ($karc|floor),
		  keepalive_ring_per_busy_core_s_range: [($karlo|floor), ($karhi|floor)],
		  keepalive_ring_batched_per_s: ($karbs|floor), worker_busy_keepalive_ring_batched: $karbb,
		  keepalive_ring_per_busy_core_s_batched: ($karbc|floor),
		  keepalive_ring_per_busy_core_s_batched_range: [($karblo|floor), ($karbhi|floor)],
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
| authenticated registrations/s per worker core ($lines lines) | $(printf '%.0f' "$reg_s") (worker $(printf '%.0f' "$(jq -n "$reg_busy * 100")") % busy) | $(printf '%.0f' "$reg_core") ($(printf '%.0f' "$reg_lo") to $(printf '%.0f' "$reg_hi")) | >= 250,000 |
| STUN keep-alives/s per worker core ($lines lines) | $(printf '%.0f' "$ka_s") (worker $(printf '%.0f' "$(jq -n "$ka_busy * 100")") % busy) | $(printf '%.0f' "$ka_core") ($(printf '%.0f' "$ka_lo") to $(printf '%.0f' "$ka_hi")) | >= 5,000,000 |
| the same, answers sent in batches of 1,000 (full bursts) | $(printf '%.0f' "$kab_s") (worker $(printf '%.0f' "$(jq -n "$kab_busy * 100")") % busy) | $(printf '%.0f' "$kab_core") ($(printf '%.0f' "$kab_lo") to $(printf '%.0f' "$kab_hi")) | >= 5,000,000 |
| STUN keep-alives/s per worker core over net_ring (agent and responder in one process) | $(printf '%.0f' "$kar_s") (worker $(printf '%.0f' "$(jq -n "$kar_busy * 100")") % busy) | $(printf '%.0f' "$kar_core") ($(printf '%.0f' "$kar_lo") to $(printf '%.0f' "$kar_hi")) | >= 5,000,000 |
| the same over net_ring, answers in batches of 1,000 | $(printf '%.0f' "$karb_s") (worker $(printf '%.0f' "$(jq -n "$karb_busy * 100")") % busy) | $(printf '%.0f' "$karb_core") ($(printf '%.0f' "$karb_lo") to $(printf '%.0f' "$karb_hi")) | >= 5,000,000 |
| the worker's keep-alive path alone, no port (bench_kapath, $lines lines): ns per keep-alive | $(jq -r .keepalive_path_ns "$tmp/kapath.json") ns | $(jq -r .keepalive_path_per_s "$tmp/kapath.json") | >= 5,000,000 |
| registration latency p50 / p99 (1,000 lines, light load) | $(j lat .reg_latency_p50_us) / $(j lat .reg_latency_p99_us) us | | - |
| bytes per line at 100,000 lines (RSS growth / lines) | $b100k | | <= 512 |
| bytes per line at 1,000,000 lines | $b1m | | <= 512 |
| start-up (load) time for 1,000,000 lines | $(j mem1m .load_s) s | | - |

Each throughput row is the median of $repeat runs (interleaved), the lowest and highest in
brackets: the machine's speed drifts between runs.
"Per busy second": the work done divided by the time the worker's loop spent in passes
that found work (TSC cycles), i.e. what the worker core does when kept busy. The
responder shares core 0 with the agent's control thread and offers less than the worker
takes, so the measured rates are the responder's; the busy figure includes each loop
pass's fixed cost and so understates a saturated worker; the batched run takes the
answers in full bursts, so that cost is spread over 32 frames a pass, as at saturation.
The net_ring rows run the same agent code (bench_ringagent: sipedge run with the
responder on a third lcore of the process, joined by two rte_rings): frames cross as
mbuf pointers, with no copy; the responder answers a STUN request in the request's own
buffer, so the agent gets its buffers back, as from a NIC's transmit completions.
The path alone is the worker's functions for a keep-alive (wheel, request and headers,
classify, STUN parse, the line's answer) with the memif PMD, the mbufs and the idle loop
taken away: the difference to the busy figures is what crossing between two cores costs
here. Over memif and over net_ring alike, each keep-alive moves several cache lines
(descriptors or mbuf headers, the frames) from the responder's core and back; on a
NIC, frames come from memory and the sent buffers stay on the worker's core.

Responder: verified $(jq -r .verified "$tmp/$reg_run-resp.json") digests (every $verify_every), \
$(jq -r .verify_failed "$tmp/$reg_run-resp.json") failed, CPU share $(jq -r .cpu_share "$tmp/$reg_run-resp.json") \
of its core (it polls while frames come and sleeps after 10 ms without one: 1.0 means it never idled, not that it was saturated). Registration run: \
$(j "$reg_run" .registrations_ok) registrations, $(j "$reg_run" .retransmissions) retransmissions, \
$(j "$reg_run" .drops.sip_no_buffer) sends without a buffer.
TABLE
