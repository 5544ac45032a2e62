# The variant zoo (frontend/nn/variants): every mixer against NumPy goldens from the
# papers' equations (tests/variants/gen_golden.py), f64 gradient checks, causality, and
# one AdamW step of the VariantLM for every registry entry (all on the interpreter).
tevo_unit_test(variant_tests SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/golden_test.cpp ${CMAKE_CURRENT_LIST_DIR}/grad_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/causality_test.cpp ${CMAKE_CURRENT_LIST_DIR}/lm_test.cpp
  LIBS tevo_train tevo_frontend tevo_runtime tevo_test_support)

# The same models through the CPU backend (cpu::compile), against the interpreter.
tevo_unit_test(variant_cpu_tests SOURCES ${CMAKE_CURRENT_LIST_DIR}/cpu_variants_test.cpp
  LIBS tevo_cpu tevo_train_cpu tevo_runtime)
