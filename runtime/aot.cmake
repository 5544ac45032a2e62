# runtime/aot.cmake: the runtime side of AOT artefacts (included from
# runtime/CMakeLists.txt after tevo_exec). No LLVM, no compiler.
#   tevo_aot_rt    the C API (c_api.h) every artefact's entry points forward to
#   tevo_aot_main  main() of executables made by `tevo compile --emit=exe`
add_library(tevo_aot_rt STATIC ${CMAKE_CURRENT_LIST_DIR}/c_api.cpp)
target_link_libraries(tevo_aot_rt PUBLIC tevo_exec)
tevo_warnings(tevo_aot_rt)

add_library(tevo_aot_main STATIC ${CMAKE_CURRENT_LIST_DIR}/aot_main.cpp)
target_link_libraries(tevo_aot_main PUBLIC tevo_aot_rt)
tevo_warnings(tevo_aot_main)
