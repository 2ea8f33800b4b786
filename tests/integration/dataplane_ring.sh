#!/usr/bin/env bash
# The dataplane over net_ring, with bench_responder's registrar and STUN server in the same
# process (bench_ringagent, as bench/run dataplane runs it): 2,000 lines register with
# digest auth, keep alive over STUN and un-register at the end; the responder checks every
# digest. No lab: the frames cross between two lcores as mbufs. The agent takes the
# lcores the responder left free, and stops it when it fails after it started.
set -uo pipefail
: "${BUILD_DIR:?set BUILD_DIR to the build tree}"
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: DPDK's EAL needs root here"
	exit 77
fi
command -v jq >/dev/null || { echo "SKIP: jq is not installed (deploy/install-deps)"; exit 77; }
bin=$BUILD_DIR/bench_ringagent
[ -x "$bin" ] || { echo "FAIL: $bin was not built"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() { # check "what" command...
	local what=$1
	shift
	"$@" || { echo "FAIL: $what"; fails=$((fails + 1)); }
}

timeout 120 "$bin" --stats "$tmp/resp.json" --duration 60 run --lcores 0@0,1@1,2@0 -m 1024 \
	--no-huge --no-pci --no-telemetry --log-level=lib.eal:error --file-prefix="sering$$" -- \
	--quiet --summary-json "$tmp/run.json" --lines 2000 --rate 4000 \
	--expires 3600 --keepalive stun --keepalive-interval 0.5 --duration 4 >"$tmp/run.out" 2>&1
rc=$?
check "bench_ringagent exits 0 (got $rc: $(tail -3 "$tmp/run.out"))" test $rc -eq 0
# a figure, 0 when the file or the key is missing (a failed run), so every check reports
s() { jq -r "$1 // 0" "$tmp/run.json" 2>/dev/null || echo 0; }
r() { jq -r "$1 // 0" "$tmp/resp.json" 2>/dev/null || echo 0; }
check "every line registered (got $(s .registrations_ok))" test "$(s .registrations_ok)" -eq 2000
check "the responder challenged and verified every registration (challenges $(r .challenges), \
verified $(r .verified), failed $(r .verify_failed))" \
	test "$(r .verified)" -ge 2000 -a "$(r .verify_failed)" -eq 0 -a "$(r .challenges)" -ge 2000
# 0.5 s interval, about 3 s keeping alive after the ramp: 5 or so a line
check "keep-alives answered (got $(s .keepalive_answered) of $(s .keepalive_stun_sent))" \
	test "$(s .keepalive_answered)" -ge 6000 -a \
	"$(s .keepalive_answered)" -ge $(($(s .keepalive_stun_sent) - 2000))
check "no flow failure (got $(s .flow_failures))" test "$(s .flow_failures)" -eq 0
check "every line un-registered at the end (got $(s .unregistrations_ok))" \
	test "$(s .unregistrations_ok)" -eq 2000

# The agent failing after the responder's lcore started (a pcap file it cannot write):
# a clear error and exit 1, the responder stopped first, no crash and no wait for it.
timeout 30 "$bin" --duration 60 run --lcores 0@0,1@1,2@0 -m 1024 --no-huge --no-pci \
	--no-telemetry --log-level=lib.eal:error --file-prefix="seringf$$" -- --quiet \
	--lines 10 --pcap "$tmp/no-such-dir/x.pcap" --duration 1 >"$tmp/fail.out" 2>&1
rc=$?
check "a failing agent exits 1, not by a signal or the timeout (got $rc: $(tail -2 "$tmp/fail.out"))" \
	test $rc -eq 1
[ "$fails" -eq 0 ] && echo "passed" || tail -n 12 "$tmp/run.out"
[ "$fails" -eq 0 ]
