# Lowering tests: fused graphs -> plans (layouts, views, in-place, memory plan, listing), and
# whole graphs through decompose + fuse + lower run by a reference plan executor.
if(TARGET tevo_cpu_lower)
  tevo_unit_test(cpu_lower_tests
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/lower_test.cpp ${CMAKE_CURRENT_LIST_DIR}/lower_memory_test.cpp
            ${CMAKE_CURRENT_LIST_DIR}/lower_layout_test.cpp
            ${CMAKE_CURRENT_LIST_DIR}/lower_pipeline_test.cpp
    LIBS tevo_cpu_lower tevo_passes)
endif()
