# The fused attention ops: verifier, cost, gradients (f64 finite differences) and the CPU
# runtime kernels against the reference interpreter.
file(GLOB ATTENTION_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*_test.cpp)
tevo_unit_test(attention_tests SOURCES ${ATTENTION_TESTS}
  LIBS tevo_cpu tevo_runtime tevo_test_support)
