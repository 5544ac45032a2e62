# tests/unit/aot/aot.cmake: AOT artefacts end to end, as CTest script tests
# (tests/aot/aot_test.sh): exe / shared / obj / lib artefacts against the interpreter,
# embedded weights, bad inputs, user errors, no LLVM in what the artefacts link, a C
# program using the generated header, and tevo_add_model (cmake/TevoModel.cmake).
if(NOT TARGET tevo_cpu_aot)
  return()
endif()
set(TEVO_AOT_TEST_DIR ${CMAKE_CURRENT_LIST_DIR}/../../aot)

add_executable(aot_testtool ${TEVO_AOT_TEST_DIR}/aot_testtool.cpp)
target_link_libraries(aot_testtool PRIVATE tevo_runtime)
tevo_warnings(aot_testtool)

foreach(c exe_mlp exe_norm_attn embed shared_c obj_lib bad_inputs errors)
  add_test(NAME aot_${c}
    COMMAND ${TEVO_AOT_TEST_DIR}/aot_test.sh ${c} $<TARGET_FILE:tevo> $<TARGET_FILE:aot_testtool>
            ${CMAKE_C_COMPILER} ${TEVO_AOT_TEST_DIR} ${CMAKE_CURRENT_BINARY_DIR}/aot/${c})
  set_tests_properties(aot_${c} PROPERTIES LABELS aot)
endforeach()

# tevo_add_model: a generator writes the model at build time, tevo compiles it into a
# static library, and a C++ program links it like any library.
include(TevoModel)
add_executable(aot_gen_scale ${TEVO_AOT_TEST_DIR}/gen_scale.cpp)
target_link_libraries(aot_gen_scale PRIVATE tevo_runtime)
tevo_warnings(aot_gen_scale)
tevo_add_model(aot_scale GENERATOR aot_gen_scale EMBED_WEIGHTS)
add_executable(aot_use_scale ${TEVO_AOT_TEST_DIR}/use_scale.cpp)
target_link_libraries(aot_use_scale PRIVATE aot_scale)
tevo_warnings(aot_use_scale)
add_test(NAME aot_add_model COMMAND aot_use_scale)
set_tests_properties(aot_add_model PROPERTIES LABELS aot)
