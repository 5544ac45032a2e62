// trainer.h: the host-side training loop: runs the train-step graph and carries state.
//
// The Trainer owns the parameters (an nn::ParamStore) and the optimizer state, feeds them
// with each batch into the step graph and takes the new values from its outputs. It
// runs the graph through a Backend, so the reference interpreter used today can be
// replaced by a compiled backend without touching the loop.
#pragma once

#include "frontend/train/train_step.h"
#include "ir/interp/interpreter.h"
#include "runtime/checkpoint.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tevo::train {

using ir::interp::Array;

/// A graph made runnable: takes one array per graph input, returns one per output.
class Executable {
public:
  virtual ~Executable() = default;
  virtual std::vector<Array> run(const std::vector<Array>& inputs) = 0;
};

/// Makes Executables from graphs (the interpreter today, a JIT later).
class Backend {
public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  /// The executable keeps what it needs; `g` may be destroyed afterwards.
  virtual std::unique_ptr<Executable> compile(const ir::Graph& g) = 0;
};

/// The reference interpreter as a Backend.
std::shared_ptr<Backend> interpreter_backend(ir::interp::Options opts = {});

struct TrainerOptions {
  /// Pass pipeline applied once to the step graph before compiling ("" = none,
  /// "default" = passes::kDefaultPipeline).
  std::string pipeline;
  /// nullptr: interpreter_backend().
  std::shared_ptr<Backend> backend;
};

/// What one step reports (the values the graph's extra outputs carry).
struct StepStats {
  int64_t step = 0;     ///< updates done, this one included
  double loss = 0;      ///< loss before this update
  double lr = 0;        ///< learning rate this update used
  double grad_norm = 0; ///< global gradient norm before clipping
};

class Trainer {
public:
  /// Checks `params` against the step's parameter specs (same names, dtypes, shapes);
  /// optimizer state starts at zero with step 0. Throws ir::Error (one line).
  Trainer(TrainStep step, nn::ParamStore params, TrainerOptions opts = {});

  /// Runs one training step on `batch` (one array per batch input, in order).
  StepStats step(const std::vector<Array>& batch);

  const nn::ParamStore& params() const {
    return params_;
  }
  /// Optimizer state by state name ("w.exp_avg", "step").
  const nn::ParamStore& optimizer_state() const {
    return state_;
  }
  int64_t steps_done() const;
  const TrainStep& train_step() const {
    return step_;
  }
  /// The graph as compiled (after the pipeline).
  const ir::Graph& graph() const {
    return *graph_;
  }

  /// Parameters and optimizer state as a checkpoint (metadata: "optimizer", "step").
  rt::Checkpoint checkpoint() const;
  void save_checkpoint(const std::string& path) const;
  /// Restores parameters and optimizer state; the file must match the step exactly
  /// (throws rt::Error naming the missing, mismatched or unexpected tensor).
  void load_checkpoint(const std::string& path);
  /// Restores parameters only (a weights file); the optimizer state is kept.
  void load_params(const std::string& path);

private:
  rt::CheckpointSpec spec(bool with_optimizer) const;
  void restore(const rt::Checkpoint& c);

  TrainStep step_;
  std::unique_ptr<ir::Graph> graph_;
  std::unique_ptr<Executable> exe_;
  nn::ParamStore params_;
  nn::ParamStore state_;
};

/// Conversions between the interpreter's arrays and checkpoint tensors.
rt::HostTensor to_host(const Array& a);
Array from_host(const rt::HostTensor& t);

} // namespace tevo::train
