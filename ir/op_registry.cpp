// op_registry.cpp: builds the op table once from ops.def.
#include "ir/op_registry.h"

#include <vector>

namespace tevo::ir {

namespace {
std::vector<OpDef> build_table() {
  std::vector<OpDef> t;
  t.reserve(kNumOps);
#define TEVO_OP(e, nm, family)                                                                     \
  t.push_back(def_##e());                                                                          \
  t.back().kind = OpKind::e;                                                                       \
  TEVO_ASSERT(t.back().name == nm, "op {} defined with name '{}'", nm, t.back().name);
#include "ir/ops.def"
#undef TEVO_OP
  return t;
}

const std::vector<OpDef>& table() {
  static const std::vector<OpDef> t = build_table(); // built once, then immutable
  return t;
}
} // namespace

const OpDef& op_def(OpKind k) {
  return table()[static_cast<size_t>(k)];
}

std::optional<OpKind> op_from_name(std::string_view name) {
  for (const auto& d : table())
    if (d.name == name)
      return d.kind;
  return std::nullopt;
}

std::span<const OpDef> all_ops() {
  return table();
}

Cost default_cost(const CostCtx& c) {
  Cost k;
  for (const auto& t : c.operands)
    k.bytes_read += static_cast<double>(t.bytes());
  for (const auto& t : c.results) {
    k.bytes_written += static_cast<double>(t.bytes());
    k.flops += static_cast<double>(t.numel());
  }
  return k;
}

} // namespace tevo::ir
