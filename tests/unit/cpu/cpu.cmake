# The compiled CPU backend end to end (cpu::compile) against NumPy goldens and the interpreter.
file(GLOB CPU_BACKEND_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*_test.cpp)
tevo_unit_test(cpu_backend_tests SOURCES ${CPU_BACKEND_TESTS} LIBS tevo_cpu tevo_train_cpu tevo_runtime)
