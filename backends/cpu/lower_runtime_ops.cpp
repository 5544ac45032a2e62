// lower_runtime_ops.cpp: ops run by hand-written runtime kernels -> RuntimeOpStep.
//
// The attribute layout is the one runtime/kernels/kernels.h documents (iattrs/fattrs per
// op); axes are passed normalised (non-negative), attention's mask as 0 none, 1 causal,
// 2 sliding. Operands keep their strided layouts (views cost nothing here either);
// results are dense.
#include "backends/cpu/lower_internal.h"

namespace tevo::cpu::detail {

namespace {

using ir::OpKind;

int64_t axis_of(const ir::Node& n, const char* attr, int64_t rank) {
  std::optional<int64_t> a = ir::normalize_axis(n.attrs.i64(attr), rank);
  TEVO_ASSERT(a.has_value(), "verified axis out of range");
  return *a;
}

} // namespace

bool is_runtime_op(ir::OpKind k) {
  switch (k) {
  case OpKind::Cumsum:
  case OpKind::LinearScan:
  case OpKind::Topk:
  case OpKind::ScatterAdd:
  case OpKind::Rfft:
  case OpKind::Irfft:
  case OpKind::DftCs:
  case OpKind::RandomUniform:
  case OpKind::RandomNormal:
  case OpKind::Argmax:
  case OpKind::Attention:
  case OpKind::AttentionGrad:
  case OpKind::FftConv:
  case OpKind::FftConvGrad:
    return true;
  default:
    return false;
  }
}

namespace {

/// Appends step `s` (operands and results of n, placed) to the plan.
void add_runtime_step(Lowerer& L, const ir::Node& n, rt::RuntimeOpStep s) {
  std::vector<int32_t> touched;
  for (const ir::Value* v : n.operands) {
    const Placed& p = L.at(v);
    s.operands.push_back(L.desc(p));
    touched.push_back(p.buffer);
  }
  for (int i = 0; i < n.num_results(); ++i) {
    Placed p = L.place_result(n.result(i));
    s.results.push_back(L.desc(p));
    touched.push_back(p.buffer);
  }
  rt::Plan& plan = L.out.plan;
  plan.runtime_ops.push_back(std::move(s));
  L.add_step(rt::Step::Kind::RuntimeOp, static_cast<int32_t>(plan.runtime_ops.size() - 1), n,
             touched);
}

} // namespace

bool is_depthwise_conv1d(const ir::Node& n) {
  if (n.op != OpKind::Conv1d)
    return false;
  const ir::Shape &x = n.operand(0)->type.shape, &w = n.operand(1)->type.shape;
  ir::DType t = n.result(0)->type.dtype;
  return (t == ir::DType::F32 || t == ir::DType::F64) && n.attrs.i64("stride") == 1 &&
         n.attrs.i64("dilation") == 1 && n.attrs.i64("groups") == w.dim(0) &&
         x.dim(1) == w.dim(0) * w.dim(1);
}

void lower_depthwise_conv1d(Lowerer& L, const ir::Node& n) {
  rt::RuntimeOpStep s;
  s.op = "depthwise_conv1d";
  const std::vector<int64_t>& pad = n.attrs.i64_list("padding");
  s.iattrs = {pad[0], pad[1]};
  add_runtime_step(L, n, std::move(s));
}

void lower_runtime_op(Lowerer& L, const ir::Node& n) {
  rt::RuntimeOpStep s;
  s.op = std::string(n.def().name);
  int64_t rank = n.num_operands() > 0 ? n.operand(0)->type.shape.rank() : 0;
  const ir::AttrDict& a = n.attrs;
  switch (n.op) {
  case OpKind::Cumsum:
    s.iattrs = {axis_of(n, "axis", rank), a.boolean("exclusive") ? 1 : 0,
                a.boolean("reverse") ? 1 : 0};
    break;
  case OpKind::LinearScan: // the axis is b's (operand 1), a may have a lower rank
    s.iattrs = {axis_of(n, "axis", n.operand(1)->type.shape.rank()), a.boolean("reverse") ? 1 : 0};
    break;
  case OpKind::Topk:
    s.iattrs = {a.i64("k"), axis_of(n, "axis", rank), a.boolean("largest") ? 1 : 0};
    break;
  case OpKind::ScatterAdd:
  case OpKind::Rfft:
  case OpKind::DftCs:
  case OpKind::Argmax:
    s.iattrs = {axis_of(n, "axis", rank)};
    break;
  case OpKind::Irfft:
    s.iattrs = {axis_of(n, "axis", rank), a.i64("n")};
    break;
  case OpKind::RandomUniform:
    s.iattrs = {a.i64("seed")};
    s.fattrs = {a.f64("low"), a.f64("high")};
    break;
  case OpKind::RandomNormal:
    s.iattrs = {a.i64("seed")};
    s.fattrs = {a.f64("mean"), a.f64("std")};
    break;
  case OpKind::Attention:
  case OpKind::AttentionGrad: {
    const std::string& mask = a.get("mask").str();
    s.iattrs = {mask == "causal" ? 1 : mask == "sliding" ? 2 : 0, a.i64("window"),
                a.boolean("has_bias") ? 1 : 0, a.boolean("has_keep") ? 1 : 0,
                a.boolean("bias_toeplitz") ? 1 : 0};
    if (n.op == OpKind::AttentionGrad)
      s.iattrs.push_back(a.boolean("has_dlse") ? 1 : 0);
    s.fattrs = {a.f64("scale")};
    break;
  }
  case OpKind::FftConv:
    s.iattrs = {a.boolean("reverse") ? 1 : 0};
    break;
  case OpKind::FftConvGrad:
    break;
  default:
    TEVO_ASSERT(false, "{} is not a runtime op", n.def().name);
  }
  add_runtime_step(L, n, std::move(s));
}

} // namespace tevo::cpu::detail
