// exec_test_util.h: building small Plans by hand and checking executor results against
// the reference interpreter, for the executor tests.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "ir/element.h"
#include "ir/interp/interpreter.h"
#include "ir/parser.h"
#include "runtime/executor.h"
#include "runtime/plan.h"

namespace tevo::test {

using rt::DType;
using rt::HostTensor;

/// Builds a Plan step by step: inputs, outputs, arena buffers, views, steps.
struct PlanBuilder {
  rt::Plan p;

  int32_t add_buffer(rt::Storage s, int32_t index, int64_t bytes, int64_t offset = 0) {
    p.buffers.push_back(rt::Buffer{s, index, offset, bytes});
    return static_cast<int32_t>(p.buffers.size() - 1);
  }
  int32_t input(const std::string& name, DType t, std::vector<int64_t> shape) {
    p.inputs.push_back(rt::TensorSpec{name, t, std::move(shape)});
    return add_buffer(rt::Storage::Input, static_cast<int32_t>(p.inputs.size() - 1),
                      p.inputs.back().bytes());
  }
  int32_t output(const std::string& name, DType t, std::vector<int64_t> shape) {
    p.outputs.push_back(rt::TensorSpec{name, t, std::move(shape)});
    return add_buffer(rt::Storage::Output, static_cast<int32_t>(p.outputs.size() - 1),
                      p.outputs.back().bytes());
  }
  int32_t arena(int64_t bytes) {
    int64_t off = (p.arena_bytes + 63) / 64 * 64;
    p.arena_bytes = off + bytes;
    return add_buffer(rt::Storage::Arena, 0, bytes, off);
  }
  int32_t constant(std::vector<uint8_t> bytes) {
    p.constants.push_back(std::move(bytes));
    return add_buffer(rt::Storage::Constant, static_cast<int32_t>(p.constants.size() - 1),
                      static_cast<int64_t>(p.constants.back().size()));
  }
  void step(rt::Step::Kind k, size_t index, const std::string& name) {
    p.steps.push_back(rt::Step{k, static_cast<int32_t>(index), name, "model.py:" + name + ":1"});
  }
};

/// Dense row-major view of a whole buffer.
inline rt::StridedDesc dense(int32_t buf, DType t, std::vector<int64_t> dims, int64_t offset = 0) {
  std::vector<int64_t> st(dims.size(), 1);
  for (size_t i = dims.size(); i-- > 1;)
    st[i - 1] = st[i] * dims[i];
  return rt::StridedDesc{rt::ArgRef{buf, offset}, t, std::move(dims), std::move(st)};
}

inline rt::StridedDesc view(int32_t buf,
                            DType t,
                            std::vector<int64_t> dims,
                            std::vector<int64_t> strides,
                            int64_t offset = 0) {
  return rt::StridedDesc{rt::ArgRef{buf, offset}, t, std::move(dims), std::move(strides)};
}

/// A tensor of `t` and `shape` with values drawn in [lo, hi] (integers: whole numbers).
inline HostTensor random_tensor(
    DType t, std::vector<int64_t> shape, std::mt19937_64& rng, double lo = -2, double hi = 2) {
  HostTensor h{t, std::move(shape), {}};
  int64_t n = h.numel();
  h.data.assign(static_cast<size_t>(n * ir::dtype_size(t)), 0);
  std::uniform_real_distribution<double> u(lo, hi);
  for (int64_t i = 0; i < n; ++i) {
    double v = u(rng);
    if (!is_float(t) && !is_complex(t))
      v = std::floor(v);
    ir::store_element(h.data.data(), t, i, v, 0);
    if (is_complex(t))
      ir::store_element(h.data.data(), t, i, u(rng), 1);
  }
  return h;
}

/// Element i (complex: part) of a tensor as double.
inline double at(const HostTensor& h, int64_t i, int part = 0) {
  return ir::load_element(h.data.data(), h.dtype, i, part);
}

/// Runs the single function in `tir` on the interpreter; results as HostTensors.
inline std::vector<HostTensor> interpret(const std::string& tir, const std::vector<HostTensor>& in) {
  auto g = ir::parse_graph(tir, "test.tir");
  std::vector<ir::interp::Array> arrays;
  for (size_t i = 0; i < in.size(); ++i)
    arrays.push_back(ir::interp::Array::from_bytes(g->inputs()[i]->type, in[i].data.data()));
  std::vector<HostTensor> out;
  for (const auto& a : ir::interp::run(*g, arrays))
    out.push_back(HostTensor{a.dtype(), a.shape().to_vector(), a.to_bytes()});
  return out;
}

/// Checks a == b elementwise within atol + rtol * |b| (NaN must match NaN).
inline void check_close(const HostTensor& a, const HostTensor& b, double rtol, double atol,
                        const std::string& what) {
  INFO(what);
  REQUIRE(a.dtype == b.dtype);
  REQUIRE(a.shape == b.shape);
  int parts = is_complex(a.dtype) ? 2 : 1;
  for (int64_t i = 0; i < a.numel(); ++i)
    for (int p = 0; p < parts; ++p) {
      double x = at(a, i, p), y = at(b, i, p);
      if (std::isnan(y)) {
        CHECK_MESSAGE(std::isnan(x), what << " element " << i);
        continue;
      }
      if (!(std::fabs(x - y) <= atol + rtol * std::fabs(y))) {
        FAIL_CHECK(what << " element " << i << " part " << p << ": " << x << " vs " << y);
        return;
      }
    }
}

} // namespace tevo::test
