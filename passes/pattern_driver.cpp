// pattern_driver.cpp: the greedy fixed-point driver for rewrite patterns.
#include "passes/pattern_driver.h"

#include <unordered_set>

namespace tevo::passes {

void RewriteCtx::replace(ir::Value* from, ir::Value* to) {
  TEVO_ASSERT(from->type == to->type, "replacement changes type {} -> {}", from->type.str(),
              to->type.str());
  g_.replace_all_uses(from, to);
}

ir::Value* Tentative::op(ir::OpKind k, std::vector<ir::Value*> operands,
                         const ir::AttrList& attrs) {
  return op_before(*before_, k, std::move(operands), attrs);
}

ir::Value* Tentative::op_before(const ir::Node& before, ir::OpKind k,
                                std::vector<ir::Value*> operands, const ir::AttrList& attrs,
                                std::string name) {
  if (failed())
    return nullptr;
  for (const ir::Value* v : operands)
    if (!v) {
      fail("an operand could not be built");
      return nullptr;
    }
  ir::Builder b(g_);
  b.set_insertion_before(&before);
  auto n = b.try_create(k, std::move(operands), attrs, before.loc, std::move(name));
  if (!n) {
    fail(n.error().message);
    return nullptr;
  }
  created_.push_back(*n);
  cost_ += ir::node_cost(**n);
  return (*n)->result(0);
}

ir::Value* Tentative::reshape(ir::Value* v, std::vector<int64_t> to) {
  if (v && v->type.shape.to_vector() == to)
    return v;
  return op(ir::OpKind::Reshape, {v}, {{"shape", std::move(to)}});
}

void Tentative::discard() {
  std::unordered_set<const ir::Node*> made(created_.begin(), created_.end());
  std::vector<bool> keep;
  for (const auto& n : g_.nodes())
    keep.push_back(made.count(n.get()) == 0);
  g_.erase_nodes_if_not(keep);
  created_.clear();
}

size_t erase_dead_nodes(ir::Graph& g) {
  std::unordered_set<const ir::Value*> live(g.outputs.begin(), g.outputs.end());
  const auto& nodes = g.nodes();
  std::vector<bool> keep(nodes.size(), false);
  size_t erased = 0;
  for (size_t i = nodes.size(); i-- > 0;) {
    const ir::Node& n = *nodes[i];
    for (int r = 0; r < n.num_results() && !keep[i]; ++r)
      keep[i] = live.count(n.result(r)) > 0;
    if (!keep[i]) {
      ++erased;
      continue;
    }
    live.insert(n.operands.begin(), n.operands.end());
  }
  if (erased)
    g.erase_nodes_if_not(keep);
  return erased;
}

namespace {

Remark make_remark(Remark::Kind kind, std::string_view pass, const RewritePattern& p,
                   const ir::Node& n, std::string msg) {
  Remark r;
  r.kind = kind;
  r.pass = std::string(pass);
  r.pattern = std::string(p.name());
  r.loc = n.loc;
  r.node = n.scoped_name();
  r.message = std::move(msg);
  return r;
}

/// Tries every pattern at every node once; returns true after the first rewrite (the
/// graph changed, so the sweep must restart with fresh use information).
bool sweep(ir::Graph& g, const PatternList& patterns, PassContext& ctx, std::string_view pass) {
  UseInfo uses(g);
  for (size_t pos = 0; pos < g.nodes().size(); ++pos) {
    for (const auto& p : patterns) {
      ir::Node& n = *g.nodes()[pos];
      if (p->root() && *p->root() != n.op)
        continue;
      // Remember the root's identity: the rewrite inserts nodes before it.
      Remark where = make_remark(Remark::Kind::Applied, pass, *p, n, "");
      RewriteCtx rc(g, uses, ctx, pos);
      Outcome o = p->apply(rc);
      if (o.kind == Outcome::Kind::NoMatch)
        continue;
      where.message = std::move(o.message);
      if (o.kind == Outcome::Kind::Missed) {
        where.kind = Remark::Kind::Missed;
        ctx.remark(std::move(where));
        continue;
      }
      ctx.stat(fmt::format("{}.{}", pass, p->name())) += 1;
      ctx.remark(std::move(where));
      erase_dead_nodes(g);
      return true;
    }
  }
  return false;
}

} // namespace

bool apply_patterns(ir::Graph& g, const PatternList& patterns, PassContext& ctx,
                    std::string_view pass) {
  int64_t cap = ctx.option_i64(fmt::format("{}.max-rewrites", pass),
                               64 + 4 * static_cast<int64_t>(g.nodes().size()));
  int64_t done = 0;
  while (sweep(g, patterns, ctx, pass)) {
    if (++done > cap)
      throw ir::Error(ir::make_diag("internal error: pass '{}' did not converge after {} "
                                    "rewrites (option {}.max-rewrites)",
                                    pass, cap, pass));
  }
  return done > 0;
}

namespace {

class PatternPass final : public Pass {
public:
  PatternPass(std::string_view name, PatternList patterns)
      : name_(name), patterns_(std::move(patterns)) {}
  PassResult run(ir::Graph& g, PassContext& ctx) override {
    return {apply_patterns(g, patterns_, ctx, name_)};
  }

private:
  std::string name_;
  PatternList patterns_;
};

} // namespace

std::unique_ptr<Pass> make_pattern_pass(std::string_view name, PatternList patterns) {
  return std::make_unique<PatternPass>(name, std::move(patterns));
}

} // namespace tevo::passes
