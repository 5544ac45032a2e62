// use_scale.cpp: links the model that tevo_add_model built from gen_scale.cpp (weights
// embedded) and checks its outputs against the same arithmetic done here.
#include <cmath>
#include <cstdio>

#include "aot_scale.h"

int main() {
  static_assert(AOT_SCALE_NUM_INPUTS == 1, "the embedded parameter is no input");
  static_assert(AOT_SCALE_NUM_OUTPUTS == 2 && AOT_SCALE_OUTPUT_Y == 0 && AOT_SCALE_OUTPUT_Z == 1);
  AOT_SCALE_INPUT_X_CTYPE x[AOT_SCALE_INPUT_X_NUMEL];
  AOT_SCALE_OUTPUT_Y_CTYPE y[AOT_SCALE_OUTPUT_Y_NUMEL];
  AOT_SCALE_OUTPUT_Z_CTYPE z[AOT_SCALE_OUTPUT_Z_NUMEL];
  for (int i = 0; i < AOT_SCALE_INPUT_X_NUMEL; ++i)
    x[i] = static_cast<float>(i % 7) - 3.0f;
  tevo_model* m = aot_scale_create(0);
  if (!m || *aot_scale_last_error(m)) {
    std::fprintf(stderr, "error: %s\n", m ? aot_scale_last_error(m) : "out of memory");
    return 1;
  }
  const void* ins[] = {x};
  void* outs[] = {y, z};
  if (aot_scale_run(m, ins, outs) != 0) {
    std::fprintf(stderr, "error: %s\n", aot_scale_last_error(m));
    return 1;
  }
  aot_scale_destroy(m);
  int bad = 0;
  for (int i = 0; i < 4; ++i) {
    float want = 0;
    for (int j = 0; j < 8; ++j)
      want += x[i * 8 + j] * static_cast<float>(j + 1);
    if (std::fabs(y[i] - want) > 1e-5f * (1 + std::fabs(want)))
      bad += std::fprintf(stderr, "y[%d] = %g, want %g\n", i, y[i], want) > 0;
  }
  for (int i = 0; i < AOT_SCALE_OUTPUT_Z_NUMEL; ++i)
    if (z[i] != (x[i] > 0 ? x[i] : 0.0f))
      bad += std::fprintf(stderr, "z[%d] = %g, want %g\n", i, z[i], x[i] > 0 ? x[i] : 0.0f) > 0;
  std::printf(bad ? "FAIL\n" : "PASS\n");
  return bad ? 1 : 0;
}
