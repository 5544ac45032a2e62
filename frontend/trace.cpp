// trace.cpp: tracing context and Tensor basics.
#include "frontend/trace.h"

#include "frontend/tensor.h"

namespace tevo {

Trace::Trace(std::string func_name)
    : g_(std::make_unique<ir::Graph>(std::move(func_name))), b_(*g_) {}

Tensor Trace::add_input(std::string_view name, std::vector<int64_t> shape, ir::DType dtype,
                        ir::InputKind kind) {
  if (!ir::checked_numel(shape))
    throw ir::Error(ir::make_diag("input '{}' has an invalid shape {}", scoped(name),
                                  ir::Shape(shape).str()));
  std::string full = scoped(name);
  ir::TensorType type{dtype, ir::Shape(shape)};
  // A parameter or state used twice (a shared module) is one input.
  for (ir::Value* in : g_->inputs()) {
    if (in->name != full)
      continue;
    if (kind == ir::InputKind::Data || in->input_kind != kind || !(in->type == type))
      throw ir::Error(ir::make_diag("input '{}' declared twice, as {} and as {}", full,
                                    in->type.str(), type.str()));
    return Tensor(this, in);
  }
  ir::Value* v = g_->add_input(type, full, kind);
  return Tensor(this, v);
}

Tensor Trace::input(std::string_view name, std::vector<int64_t> shape, ir::DType dtype) {
  return add_input(name, std::move(shape), dtype, ir::InputKind::Data);
}
Tensor Trace::param(std::string_view name, std::vector<int64_t> shape, ir::DType dtype) {
  return add_input(name, std::move(shape), dtype, ir::InputKind::Param);
}
Tensor Trace::state(std::string_view name, std::vector<int64_t> shape, ir::DType dtype) {
  return add_input(name, std::move(shape), dtype, ir::InputKind::State);
}

void Trace::output(const Tensor& t) {
  TEVO_ASSERT(&t.trace() == this, "output from another trace");
  g_->outputs.push_back(t.value());
}

Trace::ScopeGuard Trace::scope(std::string_view name) {
  scopes_.emplace_back(name);
  return ScopeGuard(*this);
}

std::string Trace::path() const {
  std::string p;
  for (const auto& s : scopes_)
    p += (p.empty() ? "" : ".") + s;
  return p;
}

std::string Trace::scoped(std::string_view local) const {
  std::string p = path();
  return p.empty() ? std::string(local) : p + "." + std::string(local);
}

std::unique_ptr<ir::Graph> Trace::finish() {
  return std::move(g_);
}

int64_t Tensor::dim(int64_t i) const {
  auto a = ir::normalize_axis(i, rank());
  if (!a)
    throw ir::Error(ir::make_diag("dim {} out of range for {}", i, type().str()));
  return type().shape.dim(*a);
}

Tensor& Tensor::named(std::string_view local) {
  value_->name = trace_->scoped(local);
  return *this;
}

} // namespace tevo
