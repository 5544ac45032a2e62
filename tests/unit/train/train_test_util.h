// train_test_util.h: small array and graph helpers shared by the training tests.
#pragma once

#include "ir/graph.h"
#include "ir/interp/array.h"
#include "ir/interp/interpreter.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace tevo::test {

/// An interpreter array of the given type and values (row-major).
inline ir::interp::Array arr(ir::DType d, std::vector<int64_t> shape, std::vector<double> v) {
  ir::interp::Array a(ir::TensorType{d, ir::Shape(std::move(shape))});
  a.data = std::move(v);
  a.round_to_dtype();
  return a;
}
inline ir::interp::Array f64(std::vector<int64_t> shape, std::vector<double> v) {
  return arr(ir::DType::F64, std::move(shape), std::move(v));
}

/// Runs g on inputs and returns output 0's elements.
inline std::vector<double> run0(const ir::Graph& g, const std::vector<ir::interp::Array>& in) {
  return ir::interp::run(g, in)[0].data;
}

/// |a - b| <= atol + rtol * |b|.
inline bool near(double a, double b, double rtol = 1e-12, double atol = 1e-14) {
  return std::fabs(a - b) <= atol + rtol * std::fabs(b);
}

} // namespace tevo::test
