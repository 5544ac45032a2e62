# linear_scan (the first-order linear recurrence op) and the decay-scan rewrite: type rules,
# the CPU runtime kernel against the interpreter (1 and 2 threads, strided and broadcast
# operands, both directions), compiled gradients, malformed steps, and the zoo's S5 / RWKV
# mixers rewritten from their masked decay matrices.
file(GLOB SCAN_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*_test.cpp)
tevo_unit_test(scan_tests SOURCES ${SCAN_TESTS}
  LIBS tevo_cpu tevo_frontend tevo_runtime tevo_test_support)
