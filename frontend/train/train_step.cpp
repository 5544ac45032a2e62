// train_step.cpp: trace the loss, append its gradient and the optimizer update.
#include "frontend/train/train_step.h"

#include "passes/autodiff/grad.h"
#include "passes/pass_manager.h"

#include <set>

namespace tevo::train {

namespace {
[[noreturn]] void fail(std::string msg) {
  throw ir::Error(ir::Diag{Loc{}, std::move(msg), {}});
}
const char* kind_name(ir::InputKind k) {
  switch (k) {
  case ir::InputKind::Data:
    return "data";
  case ir::InputKind::Param:
    return "param";
  case ir::InputKind::State:
    return "state";
  }
  return "?";
}
} // namespace

int64_t TrainStep::state_index(const std::string& name) const {
  for (size_t j = 0; j < state.size(); ++j)
    if (state[j].name == name)
      return static_cast<int64_t>(j);
  return -1;
}

TrainStep make_train_step(const LossFn& loss_fn,
                          const std::vector<nn::ParamSpec>& params,
                          const Optimizer& opt,
                          const std::vector<TensorSpec>& batch,
                          const TrainStepOptions& options) {
  opt.validate();
  TrainStep step;
  step.optimizer = opt;
  step.batch = batch;
  for (const auto& p : params) {
    if (!ir::is_float(p.dtype))
      fail(fmt::format("train step: parameter '{}' has dtype {}, not a float type", p.name,
                       ir::dtype_name(p.dtype)));
    step.params.push_back({p.name, p.shape, p.dtype});
  }
  for (const auto& p : params)
    for (const auto& slot : opt.state_slots())
      step.state.push_back({p.name + "." + slot, p.shape, p.dtype});
  step.state.push_back({"step", {}, DType::F32});

  // Every name is one input: a clash would silently merge two tensors.
  std::set<std::string> seen;
  auto claim = [&](const std::string& n, const char* what) {
    if (n.empty())
      fail(fmt::format("train step: {} with an empty name", what));
    if (!seen.insert(n).second)
      fail(fmt::format("train step: name '{}' ({}) is used twice in the signature", n, what));
  };
  for (const auto& b : step.batch)
    claim(b.name, "batch input");
  for (const auto& p : step.params)
    claim(p.name, "parameter");
  for (const auto& s : step.state)
    claim(s.name, "optimizer state");

  Trace t(options.name);
  std::vector<Tensor> batch_in, param_in, state_in;
  for (const auto& b : step.batch)
    batch_in.push_back(t.input(b.name, b.shape, b.dtype));
  for (const auto& p : step.params)
    param_in.push_back(t.param(p.name, p.shape, p.dtype));
  for (const auto& s : step.state)
    state_in.push_back(t.state(s.name, s.shape, s.dtype));
  size_t n_inputs = t.graph().inputs().size();

  // Forward.
  Tensor loss = loss_fn(t, batch_in);
  if (!loss.valid() || &loss.trace() != &t)
    fail("train step: the loss function returned no tensor of this trace");
  for (size_t i = n_inputs; i < t.graph().inputs().size(); ++i) {
    const ir::Value* in = t.graph().input(static_cast<int>(i));
    fail(fmt::format("train step: the loss function declared {} input '{}' ({}) that is not in "
                     "the batch or parameter specs",
                     kind_name(in->input_kind), in->name, in->type.str()));
  }
  if (!ir::is_float(loss.dtype()) || loss.rank() != 0)
    fail(fmt::format("train step: the loss must be a float scalar, got {}", loss.type().str()));
  if (loss.value()->is_input())
    fail(fmt::format("train step: the loss is the input '{}' itself", loss.value()->name));
  if (!options.forward_pipeline.empty()) {
    // The forward alone is the graph the passes see: its only output is the loss.
    ir::Graph& g = t.graph();
    g.outputs = {loss.value()};
    passes::PassManager::parse(options.forward_pipeline).take().run(g);
    loss = Tensor(&t, g.outputs[0]);
    g.outputs.clear();
  }
  loss.value()->name = "loss";

  // Backward: autodiff appends "<fwd>.grad" nodes after the forward.
  std::vector<ir::Value*> wrt;
  for (const Tensor& p : param_in)
    wrt.push_back(p.value());
  std::vector<Tensor> grads;
  for (ir::Value* g : autodiff::grad(t.graph(), loss.value(), wrt))
    grads.emplace_back(&t, g);

  // Update: clipping, schedule, then one scope per parameter.
  Tensor step_in = state_in.back();
  Tensor grad_norm;
  if (!grads.empty()) {
    ClippedGrads c = clip_grad_norm(grads, opt.max_grad_norm);
    grads = c.grads;
    grad_norm = c.norm;
  } else {
    grad_norm = full(t, {}, 0.0, DType::F32);
  }
  Tensor lr = scheduled_lr(opt.schedule, opt.lr, step_in, compute_dtype(param_in));
  std::vector<Tensor> new_params, new_state;
  size_t slots = opt.state_slots().size();
  {
    auto os = t.scope(opt.name());
    for (size_t i = 0; i < param_in.size(); ++i) {
      ParamUpdate u;
      {
        auto ps = t.scope(step.params[i].name);
        std::vector<Tensor> st(state_in.begin() + static_cast<std::ptrdiff_t>(i * slots),
                               state_in.begin() + static_cast<std::ptrdiff_t>((i + 1) * slots));
        u = optimizer_update(opt, param_in[i], grads[i], st, lr, step_in);
      }
      u.param.named(step.params[i].name);
      new_params.push_back(u.param);
      for (size_t k = 0; k < slots; ++k) {
        u.state[k].named(step.state[i * slots + k].name);
        new_state.push_back(u.state[k]);
      }
    }
    Tensor next = step_in + 1.0;
    next.named("step");
    new_state.push_back(next);
  }
  lr.named("lr");
  grad_norm.named("grad_norm");

  t.output(loss);
  for (const Tensor& p : new_params)
    t.output(p);
  for (const Tensor& s : new_state)
    t.output(s);
  t.output(lr);
  t.output(grad_norm);
  step.graph = t.finish();
  return step;
}

} // namespace tevo::train
