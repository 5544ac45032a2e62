// golden_test.cpp: every zoo mixer against the NumPy reference of its paper's equations
// (tests/variants/gen_golden.py; the data in tests/variants/golden/<mixer>.safetensors).
#include "runtime/safetensors.h"
#include "tests/unit/variants/variants_test_util.h"

#include <doctest/doctest.h>
#include <set>

using namespace tevo;
using namespace tevo::nn;
using namespace tevo::nn::variants;
using namespace tevo::nn::variants::test;

namespace {

Array to_array(const rt::HostTensor& h) {
  return Array::from_bytes(ir::TensorType{h.dtype, ir::Shape(h.shape)}, h.data.data());
}

void check_golden(const std::string& name) {
  CAPTURE(name);
  rt::TensorFile f = rt::read_safetensors(std::string(TEVO_SOURCE_DIR) + "/tests/variants/golden/" +
                                          name + ".safetensors");
  const rt::HostTensor* x = f.find("x");
  const rt::HostTensor* y = f.find("y");
  REQUIRE(x != nullptr);
  REQUIRE(y != nullptr);
  REQUIRE(x->shape.size() == 3);
  TracedMixer m = trace_mixer(mixer_config(name), x->shape[0], x->shape[1], DType::F64);
  ParamStore params;
  for (const auto& [tname, h] : f.tensors)
    if (tname.starts_with("param."))
      params[tname.substr(6)] = to_array(h);
  // The reference sets every parameter the module declares, and nothing else.
  std::set<std::string> declared, given;
  for (const ParamSpec& s : m.mixer->parameters())
    declared.insert(s.name);
  for (const auto& [k, v] : params)
    given.insert(k);
  CHECK(declared == given);
  std::vector<Array> out =
      ir::interp::run(*m.graph, bind_inputs(*m.graph, params, {{"x", to_array(*x)}}));
  Array ref = to_array(*y);
  REQUIRE(out[0].shape() == ref.shape());
  double scale = 0;
  for (double v : ref.data)
    scale = std::max(scale, std::fabs(v));
  CHECK(scale > 0.1); // a vanishing reference would make the comparison empty
  CHECK(max_abs_diff(out[0], ref) <= 1e-10 * scale);
}

} // namespace

TEST_CASE("variants golden: every registry mixer matches its NumPy reference") {
  for (const std::string& name : mixer_names())
    check_golden(name);
}
