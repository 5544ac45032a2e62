// trainer.cpp: the interpreter backend and the host-side training loop.
#include "frontend/train/trainer.h"

#include "passes/pass_manager.h"

namespace tevo::train {

namespace {

[[noreturn]] void fail(std::string msg) {
  throw ir::Error(ir::Diag{Loc{}, std::move(msg), {}});
}

class InterpreterExecutable final : public Executable {
public:
  InterpreterExecutable(std::unique_ptr<ir::Graph> g, ir::interp::Options o)
      : g_(std::move(g)), opts_(o) {}
  std::vector<Array> run(const std::vector<Array>& inputs) override {
    return ir::interp::run(*g_, inputs, opts_);
  }

private:
  std::unique_ptr<ir::Graph> g_;
  ir::interp::Options opts_;
};

class InterpreterBackend final : public Backend {
public:
  explicit InterpreterBackend(ir::interp::Options o) : opts_(o) {}
  std::string name() const override {
    return "interpreter";
  }
  std::unique_ptr<Executable> compile(const ir::Graph& g) override {
    return std::make_unique<InterpreterExecutable>(g.clone(), opts_);
  }

private:
  ir::interp::Options opts_;
};

/// Checks that `have` holds exactly the tensors of `specs` with their types.
void check_store(const nn::ParamStore& have,
                 const std::vector<TensorSpec>& specs,
                 const char* what) {
  for (const TensorSpec& s : specs) {
    auto it = have.find(s.name);
    if (it == have.end())
      fail(fmt::format("trainer: missing {} '{}' ({})", what, s.name, s.type().str()));
    if (!(it->second.type == s.type()))
      fail(fmt::format("trainer: {} '{}' is {}, the train step expects {}", what, s.name,
                       it->second.type.str(), s.type().str()));
  }
  if (have.size() != specs.size())
    for (const auto& [name, a] : have) {
      bool known = false;
      for (const TensorSpec& s : specs)
        known = known || s.name == name;
      if (!known)
        fail(fmt::format("trainer: unexpected {} '{}' (not in the train step)", what, name));
    }
}

std::vector<rt::TensorSpec> rt_specs(const std::vector<TensorSpec>& v) {
  std::vector<rt::TensorSpec> out;
  for (const TensorSpec& s : v)
    out.push_back({s.name, s.dtype, s.shape});
  return out;
}

} // namespace

std::shared_ptr<Backend> interpreter_backend(ir::interp::Options opts) {
  return std::make_shared<InterpreterBackend>(opts);
}

rt::HostTensor to_host(const Array& a) {
  return {a.dtype(), a.shape().to_vector(), a.to_bytes()};
}

Array from_host(const rt::HostTensor& t) {
  return Array::from_bytes(ir::TensorType{t.dtype, ir::Shape(t.shape)}, t.data.data());
}

Trainer::Trainer(TrainStep step, nn::ParamStore params, TrainerOptions opts)
    : step_(std::move(step)), params_(std::move(params)) {
  if (!step_.graph)
    fail("trainer: the train step has no graph");
  check_store(params_, step_.params, "parameter");
  for (const TensorSpec& s : step_.state)
    state_.emplace(s.name, Array(s.type()));
  graph_ = step_.graph->clone();
  if (!opts.pipeline.empty()) {
    passes::PassManager pm = passes::PassManager::parse(opts.pipeline).take();
    size_t n_in = graph_->inputs().size(), n_out = graph_->outputs.size();
    pm.run(*graph_);
    TEVO_ASSERT(graph_->inputs().size() == n_in && graph_->outputs.size() == n_out,
                "pipeline '{}' changed the train step's signature", opts.pipeline);
  }
  std::shared_ptr<Backend> backend = opts.backend ? opts.backend : interpreter_backend();
  exe_ = backend->compile(*graph_);
}

int64_t Trainer::steps_done() const {
  return static_cast<int64_t>(state_.at("step")[0]);
}

StepStats Trainer::step(const std::vector<Array>& batch) {
  if (batch.size() != step_.batch.size())
    fail(fmt::format("trainer: {} batch arrays given, the train step takes {}", batch.size(),
                     step_.batch.size()));
  std::vector<Array> inputs;
  inputs.reserve(batch.size() + step_.params.size() + step_.state.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!(batch[i].type == step_.batch[i].type()))
      fail(fmt::format("trainer: batch input '{}' is {}, the train step expects {}",
                       step_.batch[i].name, batch[i].type.str(), step_.batch[i].type().str()));
    inputs.push_back(batch[i]);
  }
  for (const TensorSpec& s : step_.params)
    inputs.push_back(params_.at(s.name));
  for (const TensorSpec& s : step_.state)
    inputs.push_back(state_.at(s.name));
  std::vector<Array> out = exe_->run(inputs);
  TEVO_ASSERT(out.size() == step_.grad_norm_output() + 1, "train step returned {} outputs",
              out.size());
  for (size_t i = 0; i < step_.params.size(); ++i)
    params_[step_.params[i].name] = std::move(out[step_.param_output(i)]);
  for (size_t j = 0; j < step_.state.size(); ++j)
    state_[step_.state[j].name] = std::move(out[step_.state_output(j)]);
  return {steps_done(), out[step_.loss_output()][0], out[step_.lr_output()][0],
          out[step_.grad_norm_output()][0]};
}

rt::Checkpoint Trainer::checkpoint() const {
  rt::Checkpoint c;
  for (const TensorSpec& s : step_.params)
    c.params.emplace_back(s.name, to_host(params_.at(s.name)));
  for (const TensorSpec& s : step_.state)
    c.optimizer.emplace_back(s.name, to_host(state_.at(s.name)));
  c.metadata = {{"optimizer", step_.optimizer.name()}, {"step", std::to_string(steps_done())}};
  return c;
}

void Trainer::save_checkpoint(const std::string& path) const {
  rt::save_checkpoint(path, checkpoint());
}

rt::CheckpointSpec Trainer::spec(bool with_optimizer) const {
  return {rt_specs(step_.params), rt_specs(step_.state), with_optimizer};
}

void Trainer::restore(const rt::Checkpoint& c) {
  for (const auto& [name, t] : c.params)
    params_[name] = from_host(t);
  for (const auto& [name, t] : c.optimizer)
    state_[name] = from_host(t);
}

void Trainer::load_checkpoint(const std::string& path) {
  restore(rt::load_checkpoint(path, spec(true)));
}

void Trainer::load_params(const std::string& path) {
  restore(rt::load_checkpoint(path, spec(false)));
}

} // namespace tevo::train
