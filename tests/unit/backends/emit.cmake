# Loop-group code generation (backends/cpu/emit_*.cpp): kernels JIT-compiled through
# cpu::KernelModule and compared with the interpreter. No LLVM headers in the tests.
if(TARGET tevo_cpu_codegen)
  tevo_unit_test(cpu_emit_tests
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/emit_test.cpp ${CMAKE_CURRENT_LIST_DIR}/emit_reduce_test.cpp
            ${CMAKE_CURRENT_LIST_DIR}/emit_rows_test.cpp ${CMAKE_CURRENT_LIST_DIR}/emit_stream_test.cpp
    LIBS tevo_cpu_codegen tevo_ir)
endif()
