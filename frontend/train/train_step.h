// train_step.h: make_train_step, one graph for forward, backward and optimizer update.
//
// The graph contract (docs/TRAINING.md), with P parameters and S state tensors:
//   inputs:  batch (data) in the given order; the P parameters (param) in spec order;
//            the optimizer state (state): for each parameter in order its slots
//            "<param>.<slot>" (Optimizer::state_slots()), then "step" (f32[]).
//   outputs: 0 "loss"; 1..P the new parameters ("<opt>.<param>"); then the S new state
//            tensors in input order ("<opt>.<param>.<slot>", "<opt>.step"); then "lr"
//            (the rate this update used) and "grad_norm" (global L2 norm of the
//            gradients before clipping).
// Output i of 1..P+S replaces state-or-parameter input nb + i - 1, so a runner feeds
// outputs [1, 1+P+S) straight back as inputs [nb, nb+P+S) of the next call.
#pragma once

#include "frontend/nn/module.h"
#include "frontend/train/optim.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tevo::train {

/// A named, typed tensor of the step's signature.
struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  DType dtype = DType::F32;
  ir::TensorType type() const {
    return {dtype, ir::Shape(shape)};
  }
};

/// Builds the scalar loss from the batch. Parameters are taken from the trace by name
/// (Trace::param, or modules' forward); the step declares them all beforehand, so a
/// module asking for "blocks.0.weight" gets the step's input.
using LossFn = std::function<Tensor(Trace& t, const std::vector<Tensor>& batch)>;

struct TrainStepOptions {
  std::string name = "train_step"; ///< graph name
  /// Passes run on the forward graph before autodiff, so that what they build is
  /// differentiated by its own rule: fused attention's backward recomputes from the
  /// log-sum-exp instead of storing N x N probabilities, a reassociated product's
  /// backward is reassociated too. "" runs none (the backward of the naive form).
  std::string forward_pipeline = "default";
};

/// The training-step graph and its signature.
struct TrainStep {
  std::unique_ptr<ir::Graph> graph;
  Optimizer optimizer;
  std::vector<TensorSpec> batch;  ///< data inputs [0, nb)
  std::vector<TensorSpec> params; ///< param inputs [nb, nb+P), outputs [1, 1+P)
  std::vector<TensorSpec> state;  ///< state inputs [nb+P, nb+P+S), outputs [1+P, 1+P+S)

  size_t loss_output() const {
    return 0;
  }
  size_t param_output(size_t i) const {
    return 1 + i;
  }
  size_t state_output(size_t j) const {
    return 1 + params.size() + j;
  }
  size_t lr_output() const {
    return 1 + params.size() + state.size();
  }
  size_t grad_norm_output() const {
    return lr_output() + 1;
  }
  /// Index of `name` in `state`, or -1.
  int64_t state_index(const std::string& name) const;
};

/// Traces `loss_fn` with every parameter of `params` declared as a param input (of the
/// spec's dtype; per-parameter state has the parameter's type), appends
/// its gradient (autodiff::grad) and the optimizer update. Throws ir::Error when the
/// loss is not a float scalar, when loss_fn declares an input that is neither in
/// `batch` nor in `params`, on duplicate or clashing names, or when an op on the path
/// has no gradient rule.
TrainStep make_train_step(const LossFn& loss_fn,
                          const std::vector<nn::ParamSpec>& params,
                          const Optimizer& opt,
                          const std::vector<TensorSpec>& batch,
                          const TrainStepOptions& options = {});

} // namespace tevo::train
