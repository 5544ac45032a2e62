// pass.cpp: PassContext options and the Pass name accessors.
#include "passes/pass.h"

#include <charconv>

#include "ir/diag.h"
#include "passes/pass_registry.h"

namespace tevo::passes {

std::string PassContext::option(const std::string& name, const std::string& def) const {
  auto it = options_.find(name);
  return it == options_.end() ? def : it->second;
}

int64_t PassContext::option_i64(const std::string& name, int64_t def) const {
  auto it = options_.find(name);
  if (it == options_.end())
    return def;
  const std::string& s = it->second;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size())
    throw ir::Error(ir::make_diag("pass option '{}' must be an integer, got '{}'", name, s));
  return v;
}

void PassContext::remark(Remark r) {
  for (const Remark& old : remarks_)
    if (old == r)
      return;
  remarks_.push_back(std::move(r));
}

std::string format_remark(const Remark& r) {
  std::string where = r.node.empty() ? "" : fmt::format(" (at {})", r.node);
  return fmt::format("{}: remark: [{}] {}/{}: {}{}", r.loc.str(),
                     r.kind == Remark::Kind::Applied ? "applied" : "missed", r.pass, r.pattern,
                     r.message, where);
}

std::string_view Pass::name() const {
  return info_ ? info_->name : std::string_view("<unregistered>");
}

std::string_view Pass::description() const {
  return info_ ? info_->description : std::string_view();
}

} // namespace tevo::passes
