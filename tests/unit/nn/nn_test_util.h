// nn_test_util.h: helpers of the nn tests: random arrays, running traced modules.
#pragma once

#include "frontend/nn/nn.h"
#include "ir/interp/interpreter.h"
#include "ir/random.h"

#include <cmath>
#include <map>
#include <string>
#include <vector>

namespace tevo::nn::test {

using ir::interp::Array;

/// An array of type (dtype, shape) with U(lo, hi) values (rounded to the dtype).
inline Array
rand_array(DType dt, std::vector<int64_t> shape, int64_t seed, double lo = -1.0, double hi = 1.0) {
  Array a(ir::TensorType{dt, ir::Shape(shape)});
  for (int64_t i = 0; i < a.numel(); ++i)
    a[i] = ir::random::uniform(seed, static_cast<uint64_t>(i), lo, hi);
  a.round_to_dtype();
  return a;
}

/// Integer ids in [0, n).
inline Array rand_ids(std::vector<int64_t> shape, int64_t n, int64_t seed) {
  Array a(ir::TensorType{DType::I64, ir::Shape(shape)});
  for (int64_t i = 0; i < a.numel(); ++i)
    a[i] = std::floor(
        ir::random::uniform(seed, static_cast<uint64_t>(i), 0.0, static_cast<double>(n)));
  return a;
}

inline Array bool_array(std::vector<int64_t> shape, const std::vector<int>& v) {
  Array a(ir::TensorType{DType::Bool, ir::Shape(shape)});
  for (size_t i = 0; i < v.size(); ++i)
    a.data[i] = v[i] ? 1.0 : 0.0;
  return a;
}

/// Runs a finished graph with parameters from `params` and data inputs by name.
inline std::vector<Array>
run(const ir::Graph& g, const ParamStore& params, const std::map<std::string, Array>& data) {
  return ir::interp::run(g, bind_inputs(g, params, data));
}

/// Names of the graph's param inputs, in order.
inline std::vector<std::string> param_inputs(const ir::Graph& g) {
  std::vector<std::string> out;
  for (const ir::Value* v : g.inputs())
    if (v->input_kind == ir::InputKind::Param)
      out.push_back(v->name);
  return out;
}

inline double max_abs_diff(const Array& a, const Array& b) {
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

} // namespace tevo::nn::test
