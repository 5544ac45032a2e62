// pattern.cpp: the pattern tree, use information and the recursive matcher.
#include "passes/pattern.h"

#include <algorithm>

#include "ir/op_registry.h"
#include "ir/printer.h"

namespace tevo::passes {

// ---- uses ----

UseInfo::UseInfo(const ir::Graph& g) {
  for (const auto& n : g.nodes())
    for (int i = 0; i < n->num_operands(); ++i)
      uses_[n->operand(i)].push_back(Use{n.get(), i});
  for (const ir::Value* v : g.outputs)
    ++outputs_[v];
}

std::span<const UseInfo::Use> UseInfo::uses(const ir::Value* v) const {
  auto it = uses_.find(v);
  if (it == uses_.end())
    return {};
  return it->second;
}

bool UseInfo::is_output(const ir::Value* v) const {
  return outputs_.count(v) > 0;
}

int64_t UseInfo::count(const ir::Value* v) const {
  auto it = outputs_.find(v);
  return static_cast<int64_t>(uses(v).size()) + (it == outputs_.end() ? 0 : it->second);
}

// ---- constants ----

std::optional<double> splat_value(const ir::Value* v) {
  const ir::Node* p = v->producer;
  if (!p || ir::is_complex(v->type.dtype))
    return std::nullopt;
  if (p->op == ir::OpKind::Full) // the value the dtype holds (i32 2.5 holds 2, f16 0.1 ...)
    return ir::DenseData::from_doubles(ir::TensorType{v->type.dtype, {}},
                                       {p->attrs.f64("value")})
        ->at(0);
  if (p->op != ir::OpKind::Constant)
    return std::nullopt;
  const ir::DenseData& d = *p->attrs.get("value").dense();
  int64_t n = d.type.numel();
  if (n == 0)
    return std::nullopt;
  double first = d.at(0);
  for (int64_t i = 1; i < n; ++i)
    if (!(d.at(i) == first))
      return std::nullopt;
  // The value must survive a round trip through its dtype (i64 beyond 2^53 would not).
  auto again = ir::DenseData::from_doubles(ir::TensorType{d.type.dtype, {}}, {first});
  size_t elem = again->bytes.size();
  if (d.bytes.size() < elem ||
      !std::equal(again->bytes.begin(), again->bytes.end(), d.bytes.begin()))
    return std::nullopt;
  return first;
}

ir::Value* Match::operator[](std::string_view name) const {
  auto it = values.find(name);
  TEVO_ASSERT(it != values.end(), "pattern binding '{}' is not bound", name);
  return it->second;
}

// ---- the pattern tree ----

namespace pat {

struct PatNode {
  enum class Kind { Any, Op, OneOf, Where, OneUse, Attr, Splat } kind = Kind::Any;
  std::string bind;               ///< Any, Op, Splat
  ir::OpKind op{};                ///< Op
  std::vector<Pattern> children;  ///< Op operands, OneOf alternatives, the constrained one
  std::string what;               ///< Where: description
  Pred pred;                      ///< Where
  std::string attr_name;          ///< Attr
  ir::Attr attr_value;            ///< Attr
};

namespace {

Pattern make(PatNode n) {
  return std::make_shared<const PatNode>(std::move(n));
}

} // namespace

Pattern any(std::string bind) {
  PatNode n;
  n.kind = PatNode::Kind::Any;
  n.bind = std::move(bind);
  return make(std::move(n));
}

Pattern op(ir::OpKind k, std::vector<Pattern> operands, std::string bind) {
  PatNode n;
  n.kind = PatNode::Kind::Op;
  n.op = k;
  n.children = std::move(operands);
  n.bind = std::move(bind);
  return make(std::move(n));
}

Pattern one_of(std::vector<Pattern> alternatives) {
  PatNode n;
  n.kind = PatNode::Kind::OneOf;
  n.children = std::move(alternatives);
  return make(std::move(n));
}

Pattern where(Pattern p, std::string what, Pred pred) {
  PatNode n;
  n.kind = PatNode::Kind::Where;
  n.children = {std::move(p)};
  n.what = std::move(what);
  n.pred = std::move(pred);
  return make(std::move(n));
}

Pattern one_use(Pattern p) {
  PatNode n;
  n.kind = PatNode::Kind::OneUse;
  n.children = {std::move(p)};
  return make(std::move(n));
}

Pattern attr(Pattern p, std::string name, ir::Attr value) {
  PatNode n;
  n.kind = PatNode::Kind::Attr;
  n.children = {std::move(p)};
  n.attr_name = std::move(name);
  n.attr_value = std::move(value);
  return make(std::move(n));
}

Pattern splat(std::string bind) {
  PatNode n;
  n.kind = PatNode::Kind::Splat;
  n.bind = std::move(bind);
  return make(std::move(n));
}

} // namespace pat

// ---- matching ----

namespace {

using pat::PatNode;

class Matcher {
public:
  Matcher(const UseInfo& uses, Match& m) : uses_(uses), m_(m) {}

  bool run(const PatNode& p, ir::Value* v, int depth) {
    switch (p.kind) {
    case PatNode::Kind::Any:
      return bind(p.bind, v, depth);
    case PatNode::Kind::Splat:
      if (!splat_value(v))
        return fail(depth, "splat constant");
      return bind(p.bind, v, depth);
    case PatNode::Kind::Op:
      return match_op(p, v, depth);
    case PatNode::Kind::OneOf: {
      for (const auto& alt : p.children) {
        auto saved = m_.values;
        if (run(*alt, v, depth))
          return true;
        m_.values = std::move(saved);
      }
      return false;
    }
    case PatNode::Kind::Where:
      if (!run(*p.children[0], v, depth))
        return false;
      if (!p.pred(*v, m_))
        return fail(depth, p.what);
      return true;
    case PatNode::Kind::OneUse:
      if (!run(*p.children[0], v, depth))
        return false;
      if (uses_.count(v) != 1 || uses_.is_output(v))
        return fail(depth, "single use");
      return true;
    case PatNode::Kind::Attr: {
      if (!run(*p.children[0], v, depth))
        return false;
      const ir::Attr* a = v->producer ? v->producer->attrs.find(p.attr_name) : nullptr;
      if (!a || !(*a == p.attr_value))
        return fail(depth, fmt::format("{} == {}", p.attr_name, ir::print_attr(p.attr_value)));
      return true;
    }
    }
    return false;
  }

private:
  bool bind(const std::string& name, ir::Value* v, int depth) {
    if (name.empty())
      return true;
    auto [it, fresh] = m_.values.emplace(name, v);
    if (!fresh && it->second != v)
      return fail(depth, fmt::format("'{}' bound to two different values", name));
    return true;
  }

  bool operands_match(const PatNode& p, const ir::Node& n, bool swapped, int depth) {
    for (size_t i = 0; i < p.children.size(); ++i) {
      size_t j = swapped ? p.children.size() - 1 - i : i;
      if (!run(*p.children[i], n.operands[j], depth + 1))
        return false;
    }
    return true;
  }

  bool match_op(const PatNode& p, ir::Value* v, int depth) {
    const ir::Node* n = v->producer;
    if (!n || n->op != p.op) {
      if (depth > 0)
        fail(depth, fmt::format("{} producer", ir::op_def(p.op).name));
      return false;
    }
    if (n->num_operands() != static_cast<int>(p.children.size()))
      return fail(depth, fmt::format("{} with {} operands", n->def().name, p.children.size()));
    auto saved = m_.values;
    if (operands_match(p, *n, false, depth))
      return bind(p.bind, v, depth);
    if (p.children.size() == 2 && n->def().has(ir::kCommutative)) {
      m_.values = saved;
      if (operands_match(p, *n, true, depth))
        return bind(p.bind, v, depth);
    }
    m_.values = std::move(saved);
    return false;
  }

  /// Records the failure of the deepest attempt (ties: the first one).
  bool fail(int depth, std::string why) {
    if (depth >= deepest_) {
      if (depth > deepest_ || m_.failure.empty())
        m_.failure = std::move(why);
      deepest_ = depth;
    }
    return false;
  }

  const UseInfo& uses_;
  Match& m_;
  int deepest_ = -1;
};

} // namespace

bool match(const pat::Pattern& p, ir::Value* v, const UseInfo& uses, Match& m) {
  auto saved = m.values;
  m.failure.clear();
  Matcher mt(uses, m);
  if (mt.run(*p, v, 0)) {
    m.failure.clear();
    return true;
  }
  m.values = std::move(saved);
  return false;
}

} // namespace tevo::passes
