# Benchmarks: one executable bench_<name> per bench/<name>.c, run through bench/run NAME.
add_executable(bench_sip ${CMAKE_SOURCE_DIR}/bench/sip.c)
target_link_libraries(bench_sip PRIVATE sip)
