// gen_scale.cpp: a model generator for tevo_add_model (tests/unit/aot/aot.cmake).
//
//   gen_scale DIR NAME   writes DIR/NAME.tir and DIR/NAME.weights.safetensors
//
// The model: y[i] = sum_j x[i,j] * w[j] (a reduce group) and z = relu(x) (a map group),
// with w a parameter whose values are w[j] = j + 1 (use_scale.cpp checks against that).
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "runtime/file_io.h"
#include "runtime/json.h"
#include "runtime/safetensors.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: gen_scale DIR NAME\n");
    return 2;
  }
  std::string dir = argv[1], name = argv[2];
  std::string tir = "func @" + name +
                    "(%x: f32[4,8], %w: f32[8] param) -> (f32[4], f32[4,8]) {\n"
                    "  %m = mul %x, %w : f32[4,8]\n"
                    "  %y = sum %m {axes = [1]} : f32[4]\n"
                    "  %z = relu %x : f32[4,8]\n"
                    "  return %y, %z\n"
                    "}\n";
  try {
    tevo::rt::write_file_atomic(dir + "/" + name + ".tir",
                                std::span<const uint8_t>(
                                    reinterpret_cast<const uint8_t*>(tir.data()), tir.size()));
    tevo::rt::HostTensor w{tevo::ir::DType::F32, {8}, std::vector<uint8_t>(8 * sizeof(float))};
    for (int j = 0; j < 8; ++j) {
      float v = static_cast<float>(j + 1);
      std::memcpy(w.data.data() + j * sizeof(float), &v, sizeof v);
    }
    tevo::rt::TensorFile f;
    f.tensors.push_back({"w", std::move(w)});
    tevo::rt::write_safetensors(dir + "/" + name + ".weights.safetensors", f);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
