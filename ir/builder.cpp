// builder.cpp: attribute completion, type inference and node creation.
#include "ir/builder.h"

#include "ir/op_registry.h"

namespace tevo::ir {

static std::optional<Attr> coerce(const Attr& a, AttrKind want) {
  if (a.kind() == want)
    return a;
  if (want == AttrKind::F64 && a.kind() == AttrKind::I64)
    return Attr(static_cast<double>(a.i64()));
  if (want == AttrKind::F64List && a.kind() == AttrKind::I64List) {
    std::vector<double> v;
    for (int64_t x : a.i64_list())
      v.push_back(static_cast<double>(x));
    return Attr(v);
  }
  if (want == AttrKind::I64List && a.kind() == AttrKind::F64List && a.f64_list().empty())
    return Attr(std::vector<int64_t>{});
  return std::nullopt;
}

Expected<AttrDict> complete_attrs(const OpDef& def, const AttrList& given) {
  for (const auto& [k, v] : given) {
    if (!def.attr_spec(k)) {
      std::string known;
      for (const auto& s : def.attrs)
        known += (known.empty() ? "" : ", ") + s.name;
      return make_diag("[{}] unknown attribute '{}' (expected: {})", def.name, k,
                       known.empty() ? std::string("none") : known);
    }
  }
  AttrDict out;
  for (const auto& spec : def.attrs) {
    const Attr* found = nullptr;
    for (const auto& [k, v] : given)
      if (k == spec.name)
        found = &v;
    if (!found) {
      if (!spec.default_value)
        return make_diag("[{}] missing required attribute '{}' ({})", def.name, spec.name,
                         attr_kind_name(spec.kind));
      out.set(spec.name, *spec.default_value);
      continue;
    }
    auto c = coerce(*found, spec.kind);
    if (!c)
      return make_diag("[{}] attribute '{}' must be {}, got {}", def.name, spec.name,
                       attr_kind_name(spec.kind), attr_kind_name(found->kind()));
    out.set(spec.name, std::move(*c));
  }
  return out;
}

Expected<std::vector<TensorType>> infer_result_types(const OpDef& def,
                                                     std::span<const TensorType> operands,
                                                     const AttrDict& attrs) {
  int n = static_cast<int>(operands.size());
  if (def.has(kVariadic)) {
    if (n < def.min_operands)
      return make_diag("[{}] expects at least {} operands, got {}", def.name, def.min_operands, n);
  } else if (n < def.min_operands || n > def.max_operands) {
    if (def.min_operands == def.max_operands)
      return make_diag("[{}] expects {} operand{}, got {}", def.name, def.min_operands,
                       def.min_operands == 1 ? "" : "s", n);
    return make_diag("[{}] expects {} to {} operands, got {}", def.name, def.min_operands,
                     def.max_operands, n);
  }
  for (const auto& t : operands)
    if (!checked_numel(t.shape))
      return make_diag("[{}] operand {} is too large", def.name, t.str());
  auto r = def.infer(InferCtx{operands, attrs});
  if (!r.ok()) {
    Diag d = r.error();
    d.message = fmt::format("[{}] {}", def.name, d.message);
    return d;
  }
  // One central size check, so no op can produce a type whose size arithmetic overflows.
  for (const auto& t : r.value())
    if (!checked_numel(t.shape))
      return make_diag("[{}] result {} is too large (limits: rank {}, dims 2^40, 2^50 elements)",
                       def.name, t.str(), kMaxRank);
  return r;
}

void Builder::set_insertion_before(const Node* n) {
  int64_t i = g_.index_of(n);
  TEVO_ASSERT(i >= 0, "insertion point not in graph");
  set_insertion_index(static_cast<size_t>(i));
}

Expected<Node*> Builder::try_create(OpKind k, std::vector<Value*> operands, const AttrList& attrs,
                                    Loc loc, std::string name) {
  const OpDef& def = op_def(k);
  auto locate = [&](Diag d) {
    d.loc = loc;
    if (!name.empty())
      d.notes.push_back("in " + name);
    return d;
  };
  auto full = complete_attrs(def, attrs);
  if (!full.ok())
    return locate(full.error());
  std::vector<TensorType> types;
  for (Value* v : operands) {
    TEVO_ASSERT(v != nullptr, "null operand to {}", def.name);
    types.push_back(v->type);
  }
  auto res = infer_result_types(def, types, *full);
  if (!res.ok()) {
    Diag d = res.error();
    // Name the operand types: the most useful fact in a shape error.
    std::string sig;
    for (const auto& t : types)
      sig += (sig.empty() ? "" : ", ") + t.str();
    if (!types.empty() && d.message.find(types[0].str()) == std::string::npos)
      d.notes.push_back("operand types: " + sig);
    return locate(d);
  }
  size_t pos = at_end_ ? g_.nodes().size() : pos_;
  Node* n = g_.insert_node(pos, k, std::move(operands), std::move(*full), *res, std::move(loc));
  if (!at_end_)
    ++pos_;
  if (!name.empty()) {
    if (n->num_results() == 1) {
      n->result(0)->name = name;
    } else {
      for (int i = 0; i < n->num_results(); ++i)
        n->result(i)->name = fmt::format("{}.{}", name, i);
    }
  }
  return n;
}

Node* Builder::create(OpKind k, std::vector<Value*> operands, const AttrList& attrs, Loc loc,
                      std::string name) {
  return try_create(k, std::move(operands), attrs, std::move(loc), std::move(name)).take();
}

} // namespace tevo::ir
