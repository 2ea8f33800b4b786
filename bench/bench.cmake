# Benchmarks: one executable bench_<name> per bench/<name>.c, run through bench/run NAME.
add_executable(bench_sip ${CMAKE_SOURCE_DIR}/bench/sip.c)
target_link_libraries(bench_sip PRIVATE sip)

# The far side of bench/run dataplane: a DPDK registrar and STUN server as fast as it can.
add_executable(bench_responder ${CMAKE_SOURCE_DIR}/bench/responder.c ${CMAKE_SOURCE_DIR}/bench/resp.c)
target_link_libraries(bench_responder PRIVATE dataplane sip)

# The control plane alone: failover events, control state per line, loading lines.
add_executable(bench_control ${CMAKE_SOURCE_DIR}/bench/control.c)
target_link_libraries(bench_control PRIVATE control)

# The shared DNS cache alone: ns per hit, RFC 3263 resolutions per s, queries per TTL.
add_executable(bench_dns ${CMAKE_SOURCE_DIR}/bench/dns.c)
target_link_libraries(bench_dns PRIVATE control)

# The worker's keep-alive path with no port under it: ns per keep-alive, PMD excluded.
add_executable(bench_kapath ${CMAKE_SOURCE_DIR}/bench/kapath.c)
target_link_libraries(bench_kapath PRIVATE dataplane sip)

# sipedge run and the responder in one process over a pair of net_ring ports.
add_executable(bench_ringagent ${CMAKE_SOURCE_DIR}/bench/ringagent.c ${CMAKE_SOURCE_DIR}/bench/resp.c)
target_link_libraries(bench_ringagent PRIVATE control dataplane sip rte_net_ring)
