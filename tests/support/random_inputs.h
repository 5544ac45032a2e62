// random_inputs.h: deterministic random interpreter inputs for a graph's signature.
#pragma once

#include <cstdint>
#include <vector>

#include "ir/graph.h"
#include "ir/interp/array.h"
#include "tests/support/rng.h"

namespace tevo::test {

/// One array per graph input: floats and integers uniform in [lo, hi) (rounded to the
/// dtype), bools true with probability `p_true` (masks).
inline std::vector<ir::interp::Array> random_inputs(const ir::Graph& g, uint64_t seed,
                                                    double lo = -1.0, double hi = 1.0,
                                                    double p_true = 0.75) {
  Rng rng(seed);
  std::vector<ir::interp::Array> ins;
  for (const ir::Value* v : g.inputs()) {
    ir::interp::Array a(v->type);
    bool is_bool = v->type.dtype == ir::DType::Bool;
    for (int64_t i = 0; i < a.numel(); ++i)
      a[i] = is_bool ? (rng.uniform(0, 1) < p_true ? 1.0 : 0.0) : rng.uniform(lo, hi);
    a.round_to_dtype();
    ins.push_back(std::move(a));
  }
  return ins;
}

} // namespace tevo::test
