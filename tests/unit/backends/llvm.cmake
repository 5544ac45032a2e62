# LLVM layer of the CPU code generator (backends/cpu/llvm_*.cpp, module.cpp). The test
# builds kernels by hand, so it includes backends/cpu/llvm_internal.h: LLVM's include
# directories and definitions as for tevo_cpu_codegen.
if(TARGET tevo_cpu_codegen)
  find_package(LLVM REQUIRED CONFIG PATHS /usr/lib/llvm-19/lib/cmake/llvm NO_DEFAULT_PATH)
  tevo_unit_test(cpu_llvm_tests SOURCES ${CMAKE_CURRENT_LIST_DIR}/llvm_test.cpp
    LIBS tevo_cpu_codegen tevo_ir LLVM)
  target_include_directories(cpu_llvm_tests SYSTEM PRIVATE ${LLVM_INCLUDE_DIRS})
  separate_arguments(TEVO_LLVM_TEST_DEFS NATIVE_COMMAND ${LLVM_DEFINITIONS})
  target_compile_definitions(cpu_llvm_tests PRIVATE ${TEVO_LLVM_TEST_DEFS})
endif()
