/* use_model.c: a C99 program that uses an AOT-compiled model through its generated header
 * (tests/aot/aot_test.sh compiles it with `cc` against mlp.h and libmlp.so).
 *
 *   use_model WEIGHTS.safetensors X.bin Y.bin
 *
 * Reads x as raw f32 bytes, binds the parameters from WEIGHTS, runs the model twice
 * (results must be identical) and writes y as raw bytes. Also checks the error paths of
 * the C API: running without bound parameters and loading a missing weights file must
 * fail with a message. Exit 0 on success, 1 with a message otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlp.h"

static int fail(const char* what, const char* msg) {
  fprintf(stderr, "error: %s: %s\n", what, msg);
  return 1;
}

int main(int argc, char** argv) {
  static const int64_t x_shape[] = MLP_INPUT_X_SHAPE;
  static MLP_INPUT_X_CTYPE x[MLP_INPUT_X_NUMEL];
  static MLP_OUTPUT_Y_CTYPE y[MLP_OUTPUT_Y_NUMEL], y2[MLP_OUTPUT_Y_NUMEL];
  const void* inputs[MLP_NUM_INPUTS] = {0};
  void* outputs[MLP_NUM_OUTPUTS];
  tevo_model* m;
  FILE* f;
  int rc = 0;

  if (argc != 4)
    return fail("usage", "use_model WEIGHTS.safetensors X.bin Y.bin");
  if (MLP_NUM_INPUTS != 4 || MLP_NUM_OUTPUTS != 1 || MLP_INPUT_X_RANK != 2 ||
      x_shape[0] != 8 || x_shape[1] != 16 || MLP_INPUT_X_IS_PARAM != 0 ||
      MLP_INPUT_W1_IS_PARAM != 1 || strcmp(MLP_INPUT_W1_DTYPE, "f32") != 0 ||
      MLP_INPUT_X_BYTES != 8 * 16 * 4)
    return fail("header", "unexpected constants in mlp.h");
  f = fopen(argv[2], "rb");
  if (!f || fread(x, 1, sizeof x, f) != sizeof x || fgetc(f) != EOF)
    return fail(argv[2], "cannot read exactly MLP_INPUT_X_BYTES bytes");
  fclose(f);

  m = mlp_create(1);
  if (!m || mlp_last_error(m)[0] != '\0')
    return fail("mlp_create", m ? mlp_last_error(m) : "out of memory");
  inputs[MLP_INPUT_X] = x;
  outputs[MLP_OUTPUT_Y] = y;
  if (mlp_run(m, inputs, outputs) == 0 || mlp_last_error(m)[0] == '\0')
    rc = fail("mlp_run", "succeeded without parameters");
  else
    fprintf(stderr, "expected error: %s\n", mlp_last_error(m));
  if (mlp_load_weights(m, "/nonexistent/w.safetensors") == 0)
    rc = fail("mlp_load_weights", "succeeded on a missing file");
  if (mlp_load_weights(m, argv[1]) != 0)
    return fail("mlp_load_weights", mlp_last_error(m));
  if (mlp_run(m, inputs, outputs) != 0)
    return fail("mlp_run", mlp_last_error(m));
  if (mlp_last_error(m)[0] != '\0')
    rc = fail("mlp_last_error", "not empty after a successful run");
  outputs[MLP_OUTPUT_Y] = y2;
  if (mlp_run(m, inputs, outputs) != 0)
    return fail("mlp_run", mlp_last_error(m));
  if (memcmp(y, y2, sizeof y) != 0)
    rc = fail("mlp_run", "two runs differ");
  mlp_destroy(m);

  f = fopen(argv[3], "wb");
  if (!f || fwrite(y, 1, sizeof y, f) != sizeof y || fclose(f) != 0)
    return fail(argv[3], "cannot write");
  return rc;
}
