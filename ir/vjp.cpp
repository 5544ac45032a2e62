// vjp.cpp: helpers VJP rules share (broadcast adjoints, constants).
#include "ir/vjp.h"

#include "ir/op_registry.h"

namespace tevo::ir {

Value* VjpCtx::op(OpKind k, std::vector<Value*> operands, const AttrList& attrs) {
  std::string name;
  if (!node.scoped_name().empty())
    name = node.scoped_name() + ".grad";
  return b.op(k, std::move(operands), attrs, node.loc, name);
}

Value* VjpCtx::scalar(double v, DType t) {
  return op(OpKind::Full, {}, {{"shape", std::vector<int64_t>{}}, {"value", v}, {"dtype", t}});
}

Value* VjpCtx::fill(double v, const TensorType& t) {
  return op(OpKind::Full, {}, {{"shape", t.shape.to_vector()}, {"value", v}, {"dtype", t.dtype}});
}

Value* VjpCtx::unbroadcast(Value* g, const TensorType& t) {
  const Shape& gs = g->type.shape;
  if (gs == t.shape)
    return g;
  if (is_complex(g->type.dtype)) { // sum is real-only: reduce the two parts separately
    TensorType rt{g->type.dtype == DType::C64 ? DType::F32 : DType::F64, t.shape};
    return op(OpKind::Complex,
              {unbroadcast(op(OpKind::Real, {g}), rt), unbroadcast(op(OpKind::Imag, {g}), rt)});
  }
  int64_t lead = gs.rank() - t.shape.rank();
  std::vector<int64_t> axes;
  for (int64_t i = 0; i < gs.rank(); ++i)
    if (i < lead || (t.shape.dim(i - lead) == 1 && gs.dim(i) != 1))
      axes.push_back(i);
  Value* s = axes.empty() ? g : op(OpKind::Sum, {g}, {{"axes", axes}, {"keepdims", true}});
  if (lead > 0 || !(s->type.shape == t.shape))
    s = op(OpKind::Reshape, {s}, {{"shape", t.shape.to_vector()}});
  return s;
}

Value* VjpCtx::expand_reduced(Value* g, const std::vector<int64_t>& axes, bool keepdims,
                              const TensorType& t) {
  Value* k = g;
  if (!keepdims) {
    // Reinsert the reduced axes as size 1, then broadcast.
    std::vector<int64_t> dims = t.shape.to_vector();
    std::vector<int64_t> kept = dims;
    std::vector<int64_t> all = axes;
    if (all.empty())
      for (int64_t i = 0; i < t.shape.rank(); ++i)
        all.push_back(i);
    for (int64_t a : all)
      kept[static_cast<size_t>(a < 0 ? a + t.shape.rank() : a)] = 1;
    k = op(OpKind::Reshape, {g}, {{"shape", kept}});
  }
  if (k->type.shape == t.shape)
    return k;
  return op(OpKind::BroadcastTo, {k}, {{"shape", t.shape.to_vector()}});
}

} // namespace tevo::ir
