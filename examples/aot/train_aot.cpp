// train_aot.cpp: trains the gpt example's tiny GPT with its whole AdamW training step
// compiled ahead of time (train_tiny, made by train_gen and tevo_add_model).
//
//   train_aot [--init=W | --resume=CKPT] [--steps=K] [--seed=N] [--data=PATH]
//             [--checkpoint=OUT] [--threads=N]
//
// Parameters start from W (default: the generator's nn::init_params, what `gpt` starts
// from) with zero optimizer state, or from a checkpoint of `gpt` / train_aot. Each step
// draws a batch exactly as gpt does (examples/gpt/corpus.h, from --seed and the updates
// done), runs the step and feeds the new parameters and state back (the contract of
// frontend/train/train_step.h). The checkpoint written at the end has gpt's layout, so
// `gpt --resume` continues it and gpt_aot samples from it. Links no LLVM.
#include "examples/aot/aot_model.h"
#include "examples/aot/app_args.h"
#include "examples/gpt/corpus.h"
#include "runtime/checkpoint.h"
#include "train_tiny.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef TEVO_GPT_DEFAULT_DATA
#define TEVO_GPT_DEFAULT_DATA "examples/data/perldiag.txt"
#endif

namespace {

using namespace tevo::examples;
using tevo::rt::HostTensor;

const char* kUsage = "usage: train_aot [--init=W | --resume=CKPT] [--steps=K] [--seed=N] "
                     "[--data=PATH] [--checkpoint=OUT] [--threads=N]";

/// The compiled step with the parameters and optimizer state it carries between calls.
class Stepper {
public:
  explicit Stepper(int threads) : m_(train_tiny_create(threads)) {
    const auto& ins = m_.inputs();
    const auto& outs = m_.outputs();
    if (m_.require_input("tokens", "i64") != 0 || m_.require_input("targets", "i64") != 1)
      throw std::runtime_error("train_tiny: inputs 0 and 1 must be tokens and targets");
    size_t p = 2;
    while (p < ins.size() && ins[p].is_param)
      ++p;
    P_ = p - 2;
    S_ = ins.size() - p;
    if (P_ == 0 || outs.size() != 1 + P_ + S_ + 2)
      throw std::runtime_error("train_tiny is not a training step: " + std::to_string(ins.size()) +
                               " inputs, " + std::to_string(outs.size()) + " outputs");
    for (size_t k = 0; k < P_ + S_; ++k) {
      const tevo_tensor_info& in = ins[2 + k];
      if (type_str(in) != type_str(outs[1 + k]) || (k >= P_) == (in.is_param != 0))
        throw std::runtime_error(std::string("train_tiny: output '") + outs[1 + k].name +
                                 "' does not carry input '" + in.name + "'");
    }
    B_ = ins[0].shape[0];
    T_ = ins[0].shape[1];
    for (size_t k = 0; k < P_ + S_; ++k) {
      cur_.emplace_back(static_cast<size_t>(ins[2 + k].bytes));
      next_.emplace_back(static_cast<size_t>(ins[2 + k].bytes));
    }
    step_ = carried_index("step");
  }

  /// Parameters from `path` (a weights file or checkpoint); with `state`, also the
  /// optimizer state, else zeros.
  void load(const std::string& path, bool state) {
    tevo::rt::CheckpointSpec spec;
    spec.load_optimizer = state;
    for (size_t k = 0; k < P_ + S_; ++k)
      (k < P_ ? spec.params : spec.optimizer).push_back(spec_of(info(k)));
    tevo::rt::Checkpoint ck = tevo::rt::load_checkpoint(path, spec);
    for (size_t k = 0; k < P_ + S_; ++k) {
      const HostTensor* t = k < P_ ? ck.param(info(k).name) : ck.state(info(k).name);
      if (t)
        cur_[k] = t->data;
      else
        std::fill(cur_[k].begin(), cur_[k].end(), uint8_t{0});
    }
  }

  int64_t steps_done() const {
    return static_cast<int64_t>(element(info(step_), cur_[step_].data(), 0));
  }
  int64_t batch() const {
    return B_;
  }
  int64_t block() const {
    return T_;
  }
  /// Rows of the token embedding "wte.weight".
  int64_t vocab() const {
    for (size_t k = 0; k < P_; ++k)
      if (std::string(info(k).name) == "wte.weight" && info(k).rank == 2)
        return info(k).shape[0];
    throw std::runtime_error("train_tiny has no parameter wte.weight");
  }

  struct Stats {
    double loss, lr, grad_norm;
  };
  /// One update on tokens/targets (B*T ids each).
  Stats step(const std::vector<int64_t>& x, const std::vector<int64_t>& y) {
    std::vector<const void*> ins{x.data(), y.data()};
    for (auto& b : cur_)
      ins.push_back(b.data());
    double loss = 0, lr = 0, gn = 0; // scalars of at most 8 bytes
    std::vector<void*> outs{&loss};
    for (auto& b : next_)
      outs.push_back(b.data());
    outs.push_back(&lr);
    outs.push_back(&gn);
    m_.run(ins, outs);
    std::swap(cur_, next_);
    const auto& o = m_.outputs();
    return {element(o[0], &loss, 0), element(o[o.size() - 2], &lr, 0), element(o.back(), &gn, 0)};
  }

  /// A checkpoint in Trainer::save_checkpoint's layout.
  void save(const std::string& path) const {
    tevo::rt::Checkpoint c;
    for (size_t k = 0; k < P_ + S_; ++k) {
      tevo::rt::TensorSpec s = spec_of(info(k));
      (k < P_ ? c.params : c.optimizer).emplace_back(s.name, HostTensor{s.dtype, s.shape, cur_[k]});
    }
    c.metadata = {{"optimizer", optimizer_name()}, {"step", std::to_string(steps_done())}};
    tevo::rt::save_checkpoint(path, c);
  }

private:
  const tevo_tensor_info& info(size_t k) const {
    return m_.inputs()[2 + k];
  }
  size_t carried_index(const std::string& name) const {
    for (size_t k = P_; k < P_ + S_; ++k)
      if (name == info(k).name && type_str(info(k)) == "f32[]")
        return k;
    throw std::runtime_error("train_tiny has no f32[] state input '" + name + "'");
  }
  /// The optimizer's scope: output 1 is "<optimizer>.<first parameter>".
  std::string optimizer_name() const {
    std::string out = m_.outputs()[1].name, param = info(0).name;
    if (out.size() > param.size() + 1 &&
        out.compare(out.size() - param.size(), param.size(), param) == 0)
      return out.substr(0, out.size() - param.size() - 1);
    throw std::runtime_error("train_tiny: output '" + out + "' names no optimizer");
  }

  AotModel m_;
  size_t P_ = 0, S_ = 0, step_ = 0;
  int64_t B_ = 0, T_ = 0;
  std::vector<std::vector<uint8_t>> cur_, next_; // carried inputs [2, 2+P+S)
};

int run(int argc, char** argv) {
  AppArgs a = parse_app_args(argc, argv, kUsage);
  if (a.help) {
    std::puts(kUsage);
    return 0;
  }
  a.allow({"init", "resume", "steps", "seed", "data", "checkpoint", "threads"}, kUsage);
  if (!a.positional.empty())
    throw std::runtime_error(kUsage);
  if (a.has("init") && a.has("resume"))
    throw std::runtime_error("--init and --resume exclude each other");
  const int64_t steps = a.integer("steps", 30, 0);
  const auto seed = static_cast<uint64_t>(a.integer("seed", 1, 0));
  const std::string data = a.str("data", TEVO_GPT_DEFAULT_DATA);
  const std::string out = a.str("checkpoint", "checkpoints/train_aot.safetensors");

  Corpus c = load_corpus(data);
  Stepper st(static_cast<int>(a.integer("threads", 0, 0)));
  if (c.ids.size() < kMinCorpusIds || static_cast<int64_t>(c.ids.size()) <= st.block())
    throw std::runtime_error(data + ": too short (need at least 1 KiB of text)");
  if (a.has("resume"))
    st.load(a.str("resume", ""), true);
  else
    st.load(a.str("init", TEVO_MODEL_TRAIN_TINY_WEIGHTS), false);
  if (static_cast<int64_t>(c.vocab.size()) != st.vocab())
    throw std::runtime_error(data + " has " + std::to_string(c.vocab.size()) +
                             " distinct characters, the model was built for " +
                             std::to_string(st.vocab()) + " (train_gen --data)");
  std::printf("train_aot: batch %lld, block %lld, %zu characters of %s, from step %lld\n",
              static_cast<long long>(st.batch()), static_cast<long long>(st.block()), c.ids.size(),
              data.c_str(), static_cast<long long>(st.steps_done()));

  std::mt19937_64 rng = batch_rng(seed, st.steps_done());
  const auto n = static_cast<size_t>(st.batch() * st.block());
  std::vector<int64_t> x(n), y(n);
  std::vector<double> losses;
  for (int64_t s = 0; s < steps; ++s) {
    fill_batch(c, st.batch(), st.block(), rng, x.data(), y.data());
    Stepper::Stats r = st.step(x, y);
    losses.push_back(r.loss);
    std::printf("step %lld loss %.6f lr %.3e grad_norm %.4f\n",
                static_cast<long long>(st.steps_done()), r.loss, r.lr, r.grad_norm);
  }
  // The last steps' mean, as gpt reports it (one batch's loss is noisy).
  size_t tail = std::min<size_t>(10, losses.size());
  double final_loss = 0;
  for (size_t i = losses.size() - tail; i < losses.size(); ++i)
    final_loss += losses[i] / static_cast<double>(tail);
  if (tail > 0)
    std::printf("final loss: %.4f (unigram baseline %.4f)\n", final_loss, c.unigram_entropy);
  std::filesystem::path p(out);
  if (p.has_parent_path())
    std::filesystem::create_directories(p.parent_path());
  st.save(out);
  std::printf("saved %s (step %lld)\n", out.c_str(), static_cast<long long>(st.steps_done()));
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_aot: error: %s\n", e.what());
    return 1;
  }
}
