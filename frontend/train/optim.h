// optim.h: optimizers, gradient clipping and learning-rate schedules as graph ops.
//
// Every update is built from DSL ops, so the optimizer runs inside the training-step
// graph: one graph holds forward, backward and update, and a backend compiles all three
// together. The formulas follow the documentation of torch.optim.SGD, Adam and AdamW
// and torch.nn.utils.clip_grad_norm_ (see docs/TRAINING.md).
#pragma once

#include "frontend/ops.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tevo::train {

/// Learning rate as a function of the step counter, computed in the graph.
struct LrSchedule {
  enum class Kind : uint8_t { Constant, WarmupCosine };
  Kind kind = Kind::Constant;
  int64_t warmup_steps = 0; ///< linear warmup length (WarmupCosine)
  int64_t total_steps = 0;  ///< step at which the cosine reaches min_lr (WarmupCosine)
  double min_lr = 0;        ///< floor reached at total_steps and kept afterwards

  static LrSchedule constant() {
    return {};
  }
  /// lr = base·(s+1)/warmup for s < warmup, then a cosine from base down to min_lr over
  /// [warmup, total], then min_lr (s = updates done before this one).
  static LrSchedule warmup_cosine(int64_t warmup_steps, int64_t total_steps, double min_lr = 0) {
    return {Kind::WarmupCosine, warmup_steps, total_steps, min_lr};
  }
};

/// The host-side mirror of the schedule: the lr of the update that follows `step`
/// completed updates (what the graph computes, for logging and tests).
double scheduled_lr(const LrSchedule& s, double base_lr, int64_t step);

/// Optimizer hyperparameters (PyTorch names and defaults).
struct Optimizer {
  enum class Kind : uint8_t { Sgd, Adam, AdamW };
  Kind kind = Kind::Sgd;
  double lr = 1e-3;
  double momentum = 0;   ///< SGD
  double dampening = 0;  ///< SGD
  bool nesterov = false; ///< SGD
  double beta1 = 0.9;    ///< Adam, AdamW
  double beta2 = 0.999;  ///< Adam, AdamW
  double eps = 1e-8;     ///< Adam, AdamW
  /// SGD and Adam: L2 penalty added to the gradient; AdamW: decoupled decay of the weights.
  double weight_decay = 0;
  /// Global-norm gradient clipping when > 0 (before weight decay and the update).
  double max_grad_norm = 0;
  LrSchedule schedule;

  static Optimizer
  sgd(double lr, double momentum = 0, double weight_decay = 0, bool nesterov = false);
  static Optimizer adam(double lr = 1e-3,
                        double beta1 = 0.9,
                        double beta2 = 0.999,
                        double eps = 1e-8,
                        double weight_decay = 0);
  static Optimizer adamw(double lr = 1e-3,
                         double beta1 = 0.9,
                         double beta2 = 0.999,
                         double eps = 1e-8,
                         double weight_decay = 1e-2);

  /// "sgd", "adam" or "adamw": the scope of its nodes and the checkpoint metadata.
  std::string name() const;
  /// Per-parameter state slots, PyTorch's names: {"momentum_buffer"} for SGD with
  /// momentum, {} without, {"exp_avg", "exp_avg_sq"} for Adam and AdamW.
  std::vector<std::string> state_slots() const;
  /// Throws ir::Error (one line) on a meaningless setting (lr < 0, beta outside [0, 1),
  /// nesterov without momentum, a schedule whose total_steps <= warmup_steps, ...).
  void validate() const;
};

/// The learning rate for this update, in dtype `dtype`, from `step` (a rank-0 tensor:
/// the number of updates done so far). Nodes are scoped "lr_schedule".
Tensor scheduled_lr(const LrSchedule& s, double base_lr, Tensor step, DType dtype);

/// The dtype scalar training math (norms, the schedule) is done in for tensors of these
/// dtypes: f64 when any is f64, else f32 (so f16/bf16 never overflow a sum of squares).
DType compute_dtype(const std::vector<Tensor>& ts);

/// Gradients scaled so that their global L2 norm is at most max_norm, as
/// torch.nn.utils.clip_grad_norm_: coef = min(1, max_norm / (norm + 1e-6)).
struct ClippedGrads {
  std::vector<Tensor> grads; ///< clipped (the inputs when max_norm <= 0)
  Tensor norm;               ///< global norm before clipping, rank 0, compute_dtype(grads)
};
/// Scoped "clip_grad_norm". `grads` must be non-empty float tensors of one trace.
ClippedGrads clip_grad_norm(const std::vector<Tensor>& grads, double max_norm);

/// One parameter's update: its new value and new state (in state_slots() order).
struct ParamUpdate {
  Tensor param;
  std::vector<Tensor> state;
};
/// Applies `opt` to one parameter. `state` holds the slots of state_slots(); `lr` is the
/// scheduled rate and `step` the updates done before this one (both rank 0, any float
/// dtype: cast to the parameter's; bias corrections use t = step + 1). Nodes are named in the
/// caller's scope (make_train_step uses "<optimizer>.<param>").
ParamUpdate optimizer_update(const Optimizer& opt,
                             Tensor param,
                             Tensor grad,
                             const std::vector<Tensor>& state,
                             Tensor lr,
                             Tensor step);

} // namespace tevo::train
