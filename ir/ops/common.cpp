// common.cpp: shared helpers for op definitions.
#include "ir/ops/common.h"

#include <algorithm>

namespace tevo::ir::ops {

Expected<std::vector<int64_t>> normalize_axes(const std::vector<int64_t>& axes, int64_t rank,
                                              bool empty_is_all) {
  std::vector<int64_t> out;
  if (axes.empty() && empty_is_all) {
    for (int64_t i = 0; i < rank; ++i)
      out.push_back(i);
    return out;
  }
  for (int64_t a : axes) {
    auto n = normalize_axis(a, rank);
    if (!n)
      return make_diag("axis {} out of range for rank {}", a, rank);
    if (std::find(out.begin(), out.end(), *n) != out.end())
      return make_diag("axis {} repeated", a);
    out.push_back(*n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Cost streaming_cost(const CostCtx& c, double flops_per_out, double transc_per_out) {
  Cost k = default_cost(c);
  double n = 0;
  for (const auto& t : c.results)
    n += static_cast<double>(t.numel());
  k.flops = n * flops_per_out;
  k.transcendentals = n * transc_per_out;
  return k;
}

} // namespace tevo::ir::ops
