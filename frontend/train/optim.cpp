// optim.cpp: SGD, Adam, AdamW, clipping and the warmup+cosine schedule as DSL ops.
#include "frontend/train/optim.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace tevo::train {

namespace {
[[noreturn]] void fail(std::string msg) {
  throw ir::Error(ir::Diag{Loc{}, std::move(msg), {}});
}
Tensor scalar(Trace& t, double v, DType dtype) {
  return full(t, {}, v, dtype);
}
} // namespace

double scheduled_lr(const LrSchedule& s, double base_lr, int64_t step) {
  if (s.kind == LrSchedule::Kind::Constant)
    return base_lr;
  double x = static_cast<double>(step);
  double w = static_cast<double>(s.warmup_steps);
  if (x < w)
    return base_lr * (x + 1) / w;
  double span = static_cast<double>(s.total_steps - s.warmup_steps);
  double progress = std::clamp((x - w) / span, 0.0, 1.0);
  return s.min_lr + 0.5 * (base_lr - s.min_lr) * (1 + std::cos(std::numbers::pi * progress));
}

Optimizer Optimizer::sgd(double lr, double momentum, double weight_decay, bool nesterov) {
  Optimizer o;
  o.kind = Kind::Sgd;
  o.lr = lr;
  o.momentum = momentum;
  o.weight_decay = weight_decay;
  o.nesterov = nesterov;
  return o;
}

Optimizer Optimizer::adam(double lr, double beta1, double beta2, double eps, double weight_decay) {
  Optimizer o;
  o.kind = Kind::Adam;
  o.lr = lr;
  o.beta1 = beta1;
  o.beta2 = beta2;
  o.eps = eps;
  o.weight_decay = weight_decay;
  return o;
}

Optimizer Optimizer::adamw(double lr, double beta1, double beta2, double eps, double weight_decay) {
  Optimizer o = adam(lr, beta1, beta2, eps, weight_decay);
  o.kind = Kind::AdamW;
  return o;
}

std::string Optimizer::name() const {
  switch (kind) {
  case Kind::Sgd:
    return "sgd";
  case Kind::Adam:
    return "adam";
  case Kind::AdamW:
    return "adamw";
  }
  return "?";
}

std::vector<std::string> Optimizer::state_slots() const {
  if (kind == Kind::Sgd)
    return momentum != 0 ? std::vector<std::string>{"momentum_buffer"} : std::vector<std::string>{};
  return {"exp_avg", "exp_avg_sq"};
}

void Optimizer::validate() const {
  auto finite_nonneg = [](double v) { return std::isfinite(v) && v >= 0; };
  std::string n = name();
  if (!finite_nonneg(lr))
    fail(fmt::format("{}: learning rate {} must be finite and >= 0", n, lr));
  if (!finite_nonneg(weight_decay))
    fail(fmt::format("{}: weight_decay {} must be finite and >= 0", n, weight_decay));
  if (!std::isfinite(max_grad_norm) || max_grad_norm < 0)
    fail(fmt::format("{}: max_grad_norm {} must be finite and >= 0 (0 disables clipping)", n,
                     max_grad_norm));
  if (kind == Kind::Sgd) {
    if (!finite_nonneg(momentum))
      fail(fmt::format("sgd: momentum {} must be finite and >= 0", momentum));
    if (!std::isfinite(dampening))
      fail(fmt::format("sgd: dampening {} must be finite", dampening));
    if (nesterov && (momentum <= 0 || dampening != 0))
      fail("sgd: nesterov momentum requires momentum > 0 and dampening 0");
  } else {
    if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
      fail(fmt::format("{}: betas ({}, {}) must lie in [0, 1)", n, beta1, beta2));
    if (!finite_nonneg(eps))
      fail(fmt::format("{}: eps {} must be finite and >= 0", n, eps));
  }
  const LrSchedule& s = schedule;
  if (s.kind == LrSchedule::Kind::WarmupCosine) {
    if (s.warmup_steps < 0 || s.total_steps <= s.warmup_steps)
      fail(fmt::format("{}: warmup_cosine schedule needs 0 <= warmup_steps < total_steps, got "
                       "warmup {} and total {}",
                       n, s.warmup_steps, s.total_steps));
    if (!finite_nonneg(s.min_lr))
      fail(fmt::format("{}: schedule min_lr {} must be finite and >= 0", n, s.min_lr));
  }
}

Tensor scheduled_lr(const LrSchedule& s, double base_lr, Tensor step, DType dtype) {
  Trace& t = step.trace();
  auto scope = t.scope("lr_schedule");
  if (s.kind == LrSchedule::Kind::Constant)
    return scalar(t, base_lr, dtype);
  Tensor x = step.dtype() == dtype ? step : cast(step, dtype);
  double w = static_cast<double>(s.warmup_steps);
  double span = static_cast<double>(s.total_steps - s.warmup_steps);
  Tensor progress = minimum(maximum((x - w) / span, scalar(t, 0.0, dtype)), scalar(t, 1.0, dtype));
  Tensor decayed =
      s.min_lr + (0.5 * (base_lr - s.min_lr)) * (1.0 + cos(std::numbers::pi * progress));
  if (s.warmup_steps == 0)
    return decayed;
  Tensor warm = (x + 1.0) * (base_lr / w);
  return where(lt(x, scalar(t, w, dtype)), warm, decayed);
}

DType compute_dtype(const std::vector<Tensor>& ts) {
  for (const Tensor& x : ts)
    if (x.dtype() == DType::F64)
      return DType::F64;
  return DType::F32;
}

ClippedGrads clip_grad_norm(const std::vector<Tensor>& grads, double max_norm) {
  if (grads.empty())
    fail("clip_grad_norm: no gradients");
  for (const Tensor& g : grads)
    if (!ir::is_float(g.dtype()))
      fail(fmt::format("clip_grad_norm: gradient {} is not a float tensor", g.type().str()));
  DType d = compute_dtype(grads);
  Trace& t = grads[0].trace();
  auto scope = t.scope("clip_grad_norm");
  Tensor total;
  for (const Tensor& g : grads) {
    Tensor sq = sum(square(g.dtype() == d ? g : cast(g, d)));
    total = total.valid() ? total + sq : sq;
  }
  ClippedGrads out{grads, sqrt(total)};
  if (max_norm > 0) {
    Tensor coef = minimum(max_norm / (out.norm + 1e-6), scalar(t, 1.0, d));
    for (Tensor& g : out.grads)
      g = g * (g.dtype() == d ? coef : cast(coef, g.dtype()));
  }
  return out;
}

ParamUpdate optimizer_update(const Optimizer& opt,
                             Tensor param,
                             Tensor grad,
                             const std::vector<Tensor>& state,
                             Tensor lr,
                             Tensor step) {
  if (state.size() != opt.state_slots().size())
    fail(fmt::format("{}: {} state tensors given, the optimizer keeps {}", opt.name(), state.size(),
                     opt.state_slots().size()));
  Trace& t = param.trace();
  DType d = param.dtype();
  Tensor p = param, g = grad;
  Tensor s = step.dtype() == d ? step : cast(step, d);
  if (lr.dtype() != d)
    lr = cast(lr, d);
  ParamUpdate out;
  if (opt.kind == Optimizer::Kind::Sgd) {
    if (opt.weight_decay != 0)
      g = g + opt.weight_decay * p;
    if (opt.momentum != 0) {
      Tensor buf = opt.momentum * state[0] + (1.0 - opt.dampening) * g;
      // PyTorch starts the buffer at the first gradient itself (undamped).
      if (opt.dampening != 0)
        buf = where(eq(s, scalar(t, 0.0, d)), g, buf);
      out.state.push_back(buf);
      g = opt.nesterov ? g + opt.momentum * buf : buf;
    }
    out.param = p - lr * g;
    return out;
  }
  if (opt.weight_decay != 0) {
    if (opt.kind == Optimizer::Kind::AdamW)
      p = p * (1.0 - lr * opt.weight_decay);
    else
      g = g + opt.weight_decay * p;
  }
  Tensor m = opt.beta1 * state[0] + (1.0 - opt.beta1) * g;
  Tensor v = opt.beta2 * state[1] + (1.0 - opt.beta2) * (g * g);
  Tensor n = s + 1.0;
  Tensor bc1 = 1.0 - pow(scalar(t, opt.beta1, d), n);
  Tensor bc2 = 1.0 - pow(scalar(t, opt.beta2, d), n);
  Tensor denom = sqrt(v) / sqrt(bc2) + opt.eps;
  out.param = p - (lr / bc1) * (m / denom);
  out.state = {m, v};
  return out;
}

} // namespace tevo::train
