# Executor tests: hand-built plans (C++ kernels with the kernel ABI, oneDNN steps, runtime
# kernels, plan bytes) checked against naive references and the interpreter.
file(GLOB TEVO_EXEC_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*_test.cpp)
tevo_unit_test(exec_tests SOURCES ${TEVO_EXEC_TESTS} LIBS tevo_exec tevo_ir)
