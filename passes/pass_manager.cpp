// pass_manager.cpp: pipeline parsing, the run loop and its instrumentation.
#include "passes/pass_manager.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "ir/verifier.h"
#include "passes/pass_registry.h"

namespace tevo::passes {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

/// Splits "a,b,c" into names, expanding "default"; "" is the empty pipeline.
ir::Expected<std::vector<std::string>> split_pipeline(std::string_view text) {
  std::vector<std::string> names;
  if (trim(text).empty())
    return names;
  size_t pos = 0;
  while (true) {
    size_t comma = text.find(',', pos);
    std::string_view item = trim(
        text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
    if (item.empty())
      return ir::make_diag("empty pass name in pipeline '{}'", text);
    if (item == "default") {
      auto d = split_pipeline(kDefaultPipeline);
      names.insert(names.end(), d->begin(), d->end());
    } else {
      names.emplace_back(item);
    }
    if (comma == std::string_view::npos)
      break;
    pos = comma + 1;
  }
  return names;
}

std::optional<ir::Diag> check_known(const std::string& name, const char* where) {
  if (find_pass(name))
    return std::nullopt;
  return ir::make_diag("unknown pass '{}' in {} (known passes: {})", name, where,
                       known_pass_names());
}

} // namespace

ir::Expected<PassManager> PassManager::parse(std::string_view pipeline, PipelineOptions opts) {
  auto names = split_pipeline(pipeline);
  if (!names.ok())
    return names.error();
  for (const auto& n : *names)
    if (auto d = check_known(n, "pipeline"))
      return *d;
  for (const auto& n : opts.print_before)
    if (auto d = check_known(n, "print-before"))
      return *d;
  for (const auto& n : opts.print_after)
    if (auto d = check_known(n, "print-after"))
      return *d;
  if (!opts.remarks.empty() && opts.remarks != "missed" && opts.remarks != "applied" &&
      opts.remarks != "all")
    return ir::make_diag("unknown remark filter '{}' (expected missed, applied or all)",
                         opts.remarks);
  PassManager pm;
  for (const auto& n : *names)
    pm.passes_.push_back(create_pass(n));
  pm.seconds_.assign(pm.passes_.size(), 0.0);
  pm.ctx_ = PassContext(opts.pass_options);
  pm.opts_ = std::move(opts);
  return pm;
}

std::vector<std::string> PassManager::pipeline() const {
  std::vector<std::string> v;
  for (const auto& p : passes_)
    v.emplace_back(p->name());
  return v;
}

std::string PassManager::pipeline_string() const {
  std::string s;
  for (const auto& p : passes_)
    s += (s.empty() ? "" : ",") + std::string(p->name());
  return s;
}

bool PassManager::run(ir::Graph& g) {
  return run_graphs({&g});
}

bool PassManager::run(ir::Module& m) {
  std::vector<ir::Graph*> gs;
  for (auto& f : m.funcs)
    gs.push_back(f.get());
  return run_graphs(gs);
}

std::string PassManager::text(const std::vector<ir::Graph*>& gs) const {
  std::string s;
  for (size_t i = 0; i < gs.size(); ++i)
    s += (i ? "\n" : "") + ir::print_graph(*gs[i], opts_.print);
  return s;
}

void PassManager::dump(const std::string& header, const std::string& body) {
  if (!dumped_header_) {
    *opts_.log << "// pipeline: " << pipeline_string() << "\n";
    dumped_header_ = true;
  }
  *opts_.log << "// ----- " << header << " -----\n" << body;
}

bool PassManager::run_graphs(const std::vector<ir::Graph*>& gs) {
  dumped_header_ = false;
  if (opts_.verify_each)
    for (ir::Graph* g : gs)
      if (auto d = ir::verify(*g)) {
        d->message = "invalid input IR: " + d->message;
        throw ir::Error(*d);
      }
  bool any = false;
  for (size_t i = 0; i < passes_.size(); ++i) {
    Pass& pass = *passes_[i];
    std::string name(pass.name());
    bool logging = opts_.log != nullptr;
    bool before = logging && opts_.print_before.count(name);
    bool after = logging && (opts_.print_after_all || opts_.print_after.count(name) ||
                             (opts_.print_changed && opts_.print_after.empty()));
    std::string before_text;
    if (before || (after && opts_.print_changed))
      before_text = text(gs);
    if (before)
      dump("IR before " + name, before_text);

    auto t0 = std::chrono::steady_clock::now();
    bool changed = false;
    for (ir::Graph* g : gs)
      changed = pass.run(*g, ctx_).changed || changed;
    seconds_[i] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    any = any || changed;
    show_remarks();

    if (opts_.verify_each)
      for (ir::Graph* g : gs)
        if (auto d = ir::verify(*g)) {
          d->message =
              fmt::format("internal error: pass '{}' produced invalid IR: {}", name, d->message);
          throw ir::Error(*d);
        }
    if (!after)
      continue;
    std::string after_text = text(gs);
    if (!opts_.print_changed) {
      dump("IR after " + name, after_text);
      continue;
    }
    if (after_text == before_text) {
      dump("IR after " + name + " (unchanged)", "");
      continue;
    }
    if (!changed)
      throw ir::Error(ir::make_diag("internal error: pass '{}' changed the IR but reported no "
                                    "change",
                                    name));
    dump("IR after " + name, after_text);
  }
  return any;
}

void PassManager::show_remarks() {
  const auto& all = ctx_.remarks();
  for (; remarks_shown_ < all.size(); ++remarks_shown_) {
    const Remark& r = all[remarks_shown_];
    bool want = opts_.remarks == "all" ||
                (opts_.remarks == "missed" && r.kind == Remark::Kind::Missed) ||
                (opts_.remarks == "applied" && r.kind == Remark::Kind::Applied);
    if (want && opts_.log)
      *opts_.log << format_remark(r) << "\n";
  }
}

std::string PassManager::report() const {
  std::string s;
  if (opts_.time_passes) {
    double total = 0;
    for (double t : seconds_)
      total += t;
    s += "===----- pass execution times (wall clock) -----===\n";
    s += fmt::format("  {:>10}  {:>6}  {}\n", "time (ms)", "%", "pass");
    auto row = [&](double sec, const std::string& what) {
      double pct = total > 0 ? 100.0 * sec / total : 0.0;
      s += fmt::format("  {:>10.3f}  {:>5.1f}%  {}\n", sec * 1e3, pct, what);
    };
    for (size_t i = 0; i < passes_.size(); ++i)
      row(seconds_[i], std::string(passes_[i]->name()));
    row(total, "total");
  }
  if (opts_.pass_stats) {
    s += "===----- pass statistics -----===\n";
    size_t w = 0;
    for (const auto& [k, v] : ctx_.stats())
      w = std::max(w, k.size());
    for (const auto& [k, v] : ctx_.stats())
      s += fmt::format("  {:<{}}  {}\n", k, w, v);
    if (ctx_.stats().empty())
      s += "  (none)\n";
  }
  return s;
}

} // namespace tevo::passes
