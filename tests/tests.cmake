# Test registration by file name, so that adding a test is adding a file:
#   tests/unit/test_<area>_<what>.c  -> ctest "unit.<area>.<what>", labels unit;<area>
#   tests/fuzz/fuzz_<area>_<what>.c  -> with FUZZ=ON: a bounded libFuzzer run (labels fuzz;<area>);
#                                       otherwise: its seeds replayed once (labels fuzz;<area>)
#   tests/integration/<area>_<what>.sh -> ctest "integration.<area>.<what>", labels integration;<area>
set(SIPEDGE_CORPUS_DIR ${CMAKE_SOURCE_DIR}/tests/corpus)
set(FUZZ_SECONDS 60 CACHE STRING "Seconds each fuzz target runs under ctest")

function(sipedge_area_of name prefix out)
  string(REGEX REPLACE "^${prefix}_([a-z]+)_.*$" "\\1" area ${name})
  set(${out} ${area} PARENT_SCOPE)
endfunction()

file(GLOB UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_*.c)
file(GLOB INTEGRATION_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/integration/*.sh)
if(FUZZ)
  # A fuzz build runs only the fuzz targets; the other builds run the rest.
  set(UNIT_TESTS "")
  set(INTEGRATION_TESTS "")
endif()
foreach(src ${UNIT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  sipedge_area_of(${name} test area)
  string(REGEX REPLACE "^test_${area}_" "" what ${name})
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE sip dataplane control PkgConfig::CMOCKA)
  target_compile_definitions(${name} PRIVATE SIPEDGE_CORPUS_DIR="${SIPEDGE_CORPUS_DIR}"
                             SIPEDGE_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  add_test(NAME unit.${area}.${what} COMMAND ${name})
  set_tests_properties(unit.${area}.${what} PROPERTIES LABELS "unit;${area}" TIMEOUT 120)
endforeach()

file(GLOB FUZZ_TARGETS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
foreach(src ${FUZZ_TARGETS})
  get_filename_component(name ${src} NAME_WE)
  sipedge_area_of(${name} fuzz area)
  string(REGEX REPLACE "^fuzz_${area}_" "" what ${name})
  set(seeds ${CMAKE_SOURCE_DIR}/tests/fuzz/seeds/${what})
  # sip/ parsers need only sip/; the configuration parsers live in control/
  set(fuzz_libs sip)
  if(NOT area STREQUAL "sip")
    set(fuzz_libs control)
  endif()
  if(FUZZ)
    add_executable(${name} ${src})
    target_link_libraries(${name} PRIVATE ${fuzz_libs})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    set(work ${CMAKE_BINARY_DIR}/fuzz-work/${name})
    file(MAKE_DIRECTORY ${work})
    add_test(NAME fuzz.${area}.${what}
             COMMAND ${name} -max_total_time=${FUZZ_SECONDS} -timeout=10 -rss_limit_mb=2048
                     -print_final_stats=1 ${work} ${seeds} ${SIPEDGE_CORPUS_DIR}/rfc4475
                     ${SIPEDGE_CORPUS_DIR}/rfc5118)
    set_tests_properties(fuzz.${area}.${what} PROPERTIES LABELS "fuzz;${area}"
                         TIMEOUT 600)
  else()
    add_executable(${name} ${src} ${CMAKE_SOURCE_DIR}/tests/fuzz/replay.c)
    target_link_libraries(${name} PRIVATE ${fuzz_libs})
    add_test(NAME fuzz.${area}.${what}.replay COMMAND ${name} ${seeds} ${SIPEDGE_CORPUS_DIR}/rfc4475
                                                          ${SIPEDGE_CORPUS_DIR}/rfc5118)
    set_tests_properties(fuzz.${area}.${what}.replay PROPERTIES LABELS "fuzz;${area}"
                         TIMEOUT 120)
  endif()
endforeach()

foreach(src ${INTEGRATION_TESTS})
  get_filename_component(name ${src} NAME_WE)
  string(REGEX REPLACE "^([a-z]+)_.*$" "\\1" area ${name})
  string(REGEX REPLACE "^${area}_" "" what ${name})
  add_test(NAME integration.${area}.${what} COMMAND bash ${src})
  set_tests_properties(integration.${area}.${what} PROPERTIES
    LABELS "integration;${area}" TIMEOUT 900 SKIP_RETURN_CODE 77 RESOURCE_LOCK cpu_lab
    ENVIRONMENT "SIPEDGE=$<TARGET_FILE:sipedge>;SIPEDGE_SOURCE_DIR=${CMAKE_SOURCE_DIR};BUILD_DIR=${CMAKE_BINARY_DIR}")
endforeach()

# The same tests over other transports, each with its argument: mode 4 over TCP and TLS,
# mode 1 over TLS, calls over TCP and TLS (1,000 lines), calls the other side ends, the
# subscriptions a notifier ends over TCP.
foreach(variant "failover_mode4.sh;failover;mode4_tcp;tcp;1000"
                "failover_mode4.sh;failover;mode4_tls;tls;1000"
                "failover_tcp.sh;failover;tls;tls;1000"
                "failover_calls.sh;failover;calls_tcp;tcp;1000"
                "failover_sub_terminated.sh;failover;sub_terminated_tcp;tcp;1000"
                "failover_calls.sh;failover;calls_tls;tls;1000"
                "calls_hangup.sh;calls;hangup_tcp;tcp;200"
                "calls_hangup.sh;calls;hangup_tls;tls;200")
  list(GET variant 0 script)
  list(GET variant 1 area)
  list(GET variant 2 what)
  list(GET variant 3 tp)
  list(GET variant 4 n)
  add_test(NAME integration.${area}.${what}
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/${script} ${tp} ${n})
  set_tests_properties(integration.${area}.${what} PROPERTIES
    LABELS "integration;${area}" TIMEOUT 900 SKIP_RETURN_CODE 77 RESOURCE_LOCK cpu_lab
    ENVIRONMENT "SIPEDGE=$<TARGET_FILE:sipedge>;SIPEDGE_SOURCE_DIR=${CMAKE_SOURCE_DIR};BUILD_DIR=${CMAKE_BINARY_DIR}")
endforeach()
