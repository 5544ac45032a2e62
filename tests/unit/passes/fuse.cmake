# fuse_tests: decompose + fuse over every golden op case and a GPT training step, checked
# against the interpreter (needs tevo_runtime for the golden data and tevo_train for the
# GPT, which pass_tests does not link). Sources live in tests/unit/fuse/ so that the
# pass_tests glob does not pick them up.
tevo_unit_test(fuse_tests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/../fuse/fuse_golden_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/../fuse/fuse_gpt_test.cpp
  LIBS tevo_train tevo_frontend tevo_runtime tevo_passes)
