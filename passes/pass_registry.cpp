// pass_registry.cpp: builds the pass table once from passes.def.
#include "passes/pass_registry.h"

#include <vector>

namespace tevo::passes {

namespace {
const std::vector<PassInfo>& table() {
  static const std::vector<PassInfo> t = {
      // built once, then immutable
#define TEVO_PASS(flag, factory, summary) PassInfo{flag, summary, &factory},
#include "passes/passes.def"
#undef TEVO_PASS
  };
  return t;
}
} // namespace

std::span<const PassInfo> all_passes() {
  return table();
}

const PassInfo* find_pass(std::string_view name) {
  for (const auto& p : table())
    if (p.name == name)
      return &p;
  return nullptr;
}

std::unique_ptr<Pass> create_pass(std::string_view name) {
  const PassInfo* info = find_pass(name);
  if (!info)
    return nullptr;
  std::unique_ptr<Pass> p = info->factory();
  p->info_ = info;
  return p;
}

std::string known_pass_names() {
  std::string s;
  for (const auto& p : table())
    s += (s.empty() ? "" : ", ") + std::string(p.name);
  return s;
}

} // namespace tevo::passes
