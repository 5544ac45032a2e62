// op_infer.h: small helpers for unit tests of op type inference and cost.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "ir/builder.h"
#include "ir/op_registry.h"

namespace tevo::testing {

/// A tensor type from a dtype and dims.
inline ir::TensorType tt(ir::DType d, std::initializer_list<int64_t> dims) {
  return ir::TensorType{d, ir::Shape(dims)};
}

/// Result types of op k ("f32[2,3]", comma-separated), or the error message.
inline std::string infer(ir::OpKind k, std::vector<ir::TensorType> ts, const ir::AttrList& attrs = {}) {
  const ir::OpDef& d = ir::op_def(k);
  auto full = ir::complete_attrs(d, attrs);
  if (!full)
    return full.error().message;
  auto r = ir::infer_result_types(d, ts, *full);
  if (!r)
    return r.error().message;
  std::string s;
  for (const auto& t : r.value())
    s += (s.empty() ? "" : ", ") + t.str();
  return s;
}

/// The cost hook's answer for op k on these operand types.
inline ir::Cost cost_of(ir::OpKind k, std::vector<ir::TensorType> ts, const ir::AttrList& attrs = {}) {
  const ir::OpDef& d = ir::op_def(k);
  ir::AttrDict full = ir::complete_attrs(d, attrs).take();
  auto res = ir::infer_result_types(d, ts, full).take();
  return d.cost(ir::CostCtx{ts, res, full});
}

} // namespace tevo::testing
