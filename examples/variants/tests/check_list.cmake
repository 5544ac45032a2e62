# check_list.cmake: fails unless the mixers `variants --list` prints are exactly the ones
# the per-variant smoke tests cover (so a mixer added to the registry gets a test).
#   cmake -DVARIANTS=<exe> -DTESTED="a;b;..." -P check_list.cmake
execute_process(COMMAND ${VARIANTS} --list OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "variants --list failed (exit ${rc})")
endif()
string(REPLACE "\n" ";" lines "${out}")
set(listed "")
foreach(line IN LISTS lines)
  # Table rows: "| name | causal | ..."; skip the header and the rule.
  if(line MATCHES "^\\| ([a-z0-9_]+) +\\|" AND NOT CMAKE_MATCH_1 STREQUAL "mixer")
    list(APPEND listed ${CMAKE_MATCH_1})
  endif()
endforeach()
if(NOT listed STREQUAL TESTED)
  message(FATAL_ERROR "variants --list prints '${listed}' but the smoke tests cover "
                      "'${TESTED}': update TEVO_VARIANTS_MIXERS in examples/variants/CMakeLists.txt")
endif()
list(LENGTH listed n)
message(STATUS "variants --list: ${n} mixers, each with a smoke test")
