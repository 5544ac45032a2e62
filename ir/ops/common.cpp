// common.cpp: shared helpers for op definitions.
#include "ir/ops/common.h"

#include <algorithm>

namespace tevo::ir::ops {

bool in_domain(DType t, Domain d) {
  switch (d) {
  case Domain::Float:
    return is_float(t);
  case Domain::Numeric:
    return is_float(t) || is_int(t);
  case Domain::NumericOrComplex:
    return is_float(t) || is_int(t) || is_complex(t);
  case Domain::Bool:
    return is_bool(t);
  case Domain::Any:
    return true;
  }
  return false;
}

const char* domain_name(Domain d) {
  switch (d) {
  case Domain::Float:
    return "a float tensor";
  case Domain::Numeric:
    return "a float or integer tensor";
  case Domain::NumericOrComplex:
    return "a float, integer or complex tensor";
  case Domain::Bool:
    return "a bool tensor";
  case Domain::Any:
    return "a tensor";
  }
  return "";
}

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

Expected<int64_t> attr_axis(const InferCtx& c, const TensorType& x) {
  int64_t a = c.attrs.i64("axis");
  auto n = normalize_axis(a, x.shape.rank());
  if (!n)
    return make_diag("axis {} out of range for {}", a, x.str());
  return *n;
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
