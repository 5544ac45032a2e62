// emit_structure.cpp: loop-group structure, body checks, reduction steps (see the header).
#include "backends/cpu/emit_structure.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/Intrinsics.h>

#include "ir/op_def.h"

namespace tevo::cpu {

using Ints = std::vector<int64_t>;

bool is_loop_reduction(ir::OpKind k) {
  return k == ir::OpKind::Sum || k == ir::OpKind::Max || k == ir::OpKind::Min ||
         k == ir::OpKind::Prod;
}

namespace {

bool is_supported(const ir::Node& n) {
  using K = ir::OpKind;
  if (n.def().scalar || is_loop_reduction(n.op))
    return true;
  switch (n.op) {
  case K::Transpose:
  case K::Reshape:
  case K::BroadcastTo:
  case K::Slice:
  case K::Pad:
  case K::Concat:
  case K::Tril:
  case K::Triu:
  case K::Gather:
  case K::Take:
  case K::Embedding:
  case K::OneHot:
  case K::Full:
  case K::Iota:
  case K::Arange:
  case K::Constant:
    return true;
  default:
    return false;
  }
}

} // namespace

[[noreturn]] void fail_at(const ir::Node& group, const std::string& msg) {
  throw ir::Error(ir::Diag{group.loc, msg, {}});
}

void check_body(const ir::Node& group, const ir::Graph& body) {
  for (const ir::Value* v : body.inputs())
    if (ir::is_complex(v->type.dtype))
      fail_at(group, fmt::format("cpu codegen: loop group input {} is {}: complex dtypes are "
                                 "not supported",
                                 v->index, v->type.str()));
  for (const auto& np : body.nodes()) {
    const ir::Node& n = *np;
    std::string_view name = n.def().name;
    if (!is_supported(n))
      fail_at(group, fmt::format("cpu codegen: {} cannot be generated in a loop group", name));
    if (n.num_results() != 1)
      fail_at(group, fmt::format("cpu codegen: {} with {} results cannot be generated in a "
                                 "loop group",
                                 name, n.num_results()));
    for (const ir::Value* x : n.operands)
      if (ir::is_complex(x->type.dtype))
        fail_at(group, fmt::format("cpu codegen: {} on {}: complex dtypes are not supported",
                                   name, x->type.str()));
    if (ir::is_complex(n.result()->type.dtype))
      fail_at(group, fmt::format("cpu codegen: {} to {}: complex dtypes are not supported", name,
                                 n.result()->type.str()));
    if (is_loop_reduction(n.op) && ir::is_bool(n.result()->type.dtype) &&
        (n.op == ir::OpKind::Sum || n.op == ir::OpKind::Prod))
      fail_at(group, fmt::format("cpu codegen: {} of bool is not supported", name));
  }
}

Structure analyse(const ir::Node& group, const ir::Graph& body) {
  Structure s;
  for (const auto& np : body.nodes())
    if (is_loop_reduction(np->op))
      s.reductions.push_back(np.get());
  if (s.reductions.empty()) {
    s.d = body.outputs[0]->type.shape.to_vector();
    for (const ir::Value* v : body.outputs)
      if (v->type.shape.to_vector() != s.d)
        fail_at(group, fmt::format("cpu codegen: map group results differ in shape: {} vs {}",
                                   body.outputs[0]->type.str(), v->type.str()));
    s.reduced.assign(s.d.size(), false);
    s.kept = s.keep_dims = s.d;
    return s;
  }
  const ir::Node& r0 = *s.reductions[0];
  s.d = r0.operand(0)->type.shape.to_vector();
  auto axes_of = [&](const ir::Node& r) {
    std::vector<bool> red(s.d.size(), r.attrs.i64_list("axes").empty());
    for (int64_t a : r.attrs.i64_list("axes"))
      red[static_cast<size_t>(*ir::normalize_axis(a, static_cast<int64_t>(s.d.size())))] = true;
    return red;
  };
  s.reduced = axes_of(r0);
  for (const ir::Node* r : s.reductions)
    if (r->operand(0)->type.shape.to_vector() != s.d || axes_of(*r) != s.reduced)
      fail_at(group, fmt::format("cpu codegen: reductions {} and {} of a loop group differ in "
                                 "operand shape or axes",
                                 r0.scoped_name(), r->scoped_name()));
  for (size_t i = 0; i < s.d.size(); ++i) {
    if (!s.reduced[i])
      s.kept.push_back(s.d[i]);
    s.keep_dims.push_back(s.reduced[i] ? 1 : s.d[i]);
  }
  for (const ir::Value* v : body.outputs) {
    Ints sh = v->type.shape.to_vector();
    if (sh != s.d && sh != s.kept && sh != s.keep_dims)
      fail_at(group, fmt::format("cpu codegen: reduce group result {} is neither the domain "
                                 "{} nor its reduced shape",
                                 v->type.str(), ir::Shape(s.d).str()));
  }
  return s;
}

llvm::Value* combine(llvm::IRBuilder<>& b, ir::OpKind op, ir::DType t, llvm::Value* acc,
                     llvm::Value* v) {
  bool fp = ir::is_float(t);
  bool flag = ir::is_bool(t);
  llvm::Value* r = nullptr;
  switch (op) {
  case ir::OpKind::Sum:
    r = fp ? b.CreateFAdd(acc, v) : b.CreateAdd(acc, v);
    break;
  case ir::OpKind::Prod:
    r = fp ? b.CreateFMul(acc, v) : b.CreateMul(acc, v);
    break;
  case ir::OpKind::Max: // NaN-propagating (llvm.maximum), like the reference
    r = fp ? b.CreateBinaryIntrinsic(llvm::Intrinsic::maximum, acc, v)
        : flag ? b.CreateOr(acc, v)
               : b.CreateBinaryIntrinsic(llvm::Intrinsic::smax, acc, v);
    break;
  case ir::OpKind::Min:
    r = fp ? b.CreateBinaryIntrinsic(llvm::Intrinsic::minimum, acc, v)
        : flag ? b.CreateAnd(acc, v)
               : b.CreateBinaryIntrinsic(llvm::Intrinsic::smin, acc, v);
    break;
  default:
    TEVO_ASSERT(false, "not a loop reduction");
  }
  // f32 sums may be reassociated (vectorised, several partial sums), as documented. Max
  // and min keep IEEE maximum / minimum (-0 below +0, like the reference): without that
  // ordering a zero's sign would depend on where it sits in the row (x86 saves 3 of 6
  // instructions a vector, which memory-bound rows did not show).
  if (auto* inst = llvm::dyn_cast<llvm::Instruction>(r); inst && fp &&
                                                         llvm::isa<llvm::FPMathOperator>(inst))
    inst->setHasAllowReassoc(true);
  return r;
}

llvm::Value* identity(llvm::IRBuilder<>& b, ir::OpKind op, ir::DType t, llvm::Type* ty) {
  bool hi = op == ir::OpKind::Min;
  if (op == ir::OpKind::Sum)
    return llvm::Constant::getNullValue(ty);
  if (op == ir::OpKind::Prod)
    return ir::is_float(t) ? llvm::ConstantFP::get(ty, 1.0) : llvm::ConstantInt::get(ty, 1);
  if (ir::is_float(t))
    return llvm::ConstantFP::getInfinity(ty, /*Negative=*/!hi);
  if (ir::is_bool(t))
    return hi ? b.getTrue() : b.getFalse();
  unsigned bits = ty->getIntegerBitWidth();
  return b.getInt(hi ? llvm::APInt::getSignedMaxValue(bits) : llvm::APInt::getSignedMinValue(bits));
}

} // namespace tevo::cpu
