// gpt.cpp: the `gpt` example: a character-level GPT trained on a text file, then sampled.
//
// Everything runs through tevo's graphs: the training step (forward, backward, AdamW) is one
// IR graph run by a train::Trainer, and sampling runs a separately traced inference graph
// that shares the trained weights through an nn::ParamStore. --tiny (the default) fits the
// reference interpreter (--backend=interp) or compiled (--backend=cpu); --config=small
// is meant for the compiled CPU backend.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "examples/gpt/config.h"
#include "examples/gpt/corpus.h"
#include "frontend/nn/nn.h"
#include "frontend/train/cpu_backend.h"
#include "frontend/train/losses.h"
#include "frontend/train/trainer.h"
#include "ir/printer.h"
#include "runtime/checkpoint.h"

#ifndef TEVO_GPT_DEFAULT_DATA
#define TEVO_GPT_DEFAULT_DATA "examples/data/perldiag.txt"
#endif

using namespace tevo;
using examples::Corpus;
using examples::RunConfig;
using examples::config_by_name;
using examples::load_corpus;
using ir::interp::Array;

namespace {

struct Args {
  std::string config = "tiny";
  bool tiny = false;
  int64_t steps = -1;
  uint64_t seed = 1;
  std::string data = TEVO_GPT_DEFAULT_DATA;
  std::string dump_ir; // "", "forward", "train"
  std::string checkpoint;
  bool resume = false;
  int64_t sample = 200;
  double temperature = 0.8;
  int64_t top_k = 10;
  std::string backend = "interp";
};

const char* kUsage =
    "usage: gpt [--tiny | --config=tiny|small] [--steps=N] [--seed=N] [--data=PATH]\n"
    "           [--dump-ir[=train]] [--checkpoint=PATH] [--resume] [--sample=N]\n"
    "           [--temperature=X] [--top-k=K] [--backend=interp|cpu]\n";

int64_t to_int(std::string_view flag, const std::string& v) {
  size_t used = 0;
  int64_t x = 0;
  try {
    x = std::stoll(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != v.size())
    throw std::runtime_error(std::string(flag) + ": not an integer: '" + v + "'");
  return x;
}

double to_double(std::string_view flag, const std::string& v) {
  size_t used = 0;
  double x = 0;
  try {
    x = std::stod(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != v.size())
    throw std::runtime_error(std::string(flag) + ": not a number: '" + v + "'");
  return x;
}

Args parse_args(int argc, char** argv) {
  Args a;
  bool config_set = false;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    std::string key = s, val;
    bool has_val = false;
    if (size_t eq = s.find('='); eq != std::string::npos) {
      key = s.substr(0, eq);
      val = s.substr(eq + 1);
      has_val = true;
    }
    auto need = [&]() -> const std::string& {
      if (!has_val)
        throw std::runtime_error(key + " needs a value (" + key + "=...)");
      return val;
    };
    if (key == "--help" || key == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (key == "--tiny" && !has_val) {
      a.tiny = true;
    } else if (key == "--config") {
      a.config = need();
      config_set = true;
    } else if (key == "--steps") {
      a.steps = to_int(key, need());
      if (a.steps < 0)
        throw std::runtime_error("--steps must be >= 0");
    } else if (key == "--seed") {
      a.seed = static_cast<uint64_t>(to_int(key, need()));
    } else if (key == "--data") {
      a.data = need();
    } else if (key == "--dump-ir") {
      a.dump_ir = has_val ? val : "forward";
      if (a.dump_ir != "forward" && a.dump_ir != "train")
        throw std::runtime_error("--dump-ir takes no value or =train");
    } else if (key == "--checkpoint") {
      a.checkpoint = need();
    } else if (key == "--resume" && !has_val) {
      a.resume = true;
    } else if (key == "--sample") {
      a.sample = to_int(key, need());
      if (a.sample < 0)
        throw std::runtime_error("--sample must be >= 0");
    } else if (key == "--temperature") {
      a.temperature = to_double(key, need());
      if (!(a.temperature > 0))
        throw std::runtime_error("--temperature must be > 0");
    } else if (key == "--top-k") {
      a.top_k = to_int(key, need());
      if (a.top_k < 0)
        throw std::runtime_error("--top-k must be >= 0 (0: no limit)");
    } else if (key == "--backend") {
      a.backend = need();
      if (a.backend != "interp" && a.backend != "cpu")
        throw std::runtime_error("--backend must be interp or cpu, got '" + a.backend + "'");
    } else {
      throw std::runtime_error("unknown argument '" + s + "'\n" + kUsage);
    }
  }
  if (a.tiny) {
    if (config_set && a.config != "tiny")
      throw std::runtime_error("--tiny contradicts --config=" + a.config);
    a.config = "tiny";
  }
  if (a.checkpoint.empty())
    a.checkpoint = "checkpoints/gpt-" + a.config + ".safetensors";
  return a;
}

/// Batch of random windows: tokens [B, T] and the next characters as targets.
std::vector<Array> make_batch(const Corpus& c, int64_t B, int64_t T, std::mt19937_64& rng) {
  ir::TensorType ty{ir::DType::I64, ir::Shape{B, T}};
  std::vector<int64_t> x(static_cast<size_t>(B * T)), y(x.size());
  examples::fill_batch(c, B, T, rng, x.data(), y.data());
  return {Array::from_bytes(ty, reinterpret_cast<const uint8_t*>(x.data())),
          Array::from_bytes(ty, reinterpret_cast<const uint8_t*>(y.data()))};
}

std::string fmt_rate(double v) {
  char buf[32];
  if (v >= 1e6)
    std::snprintf(buf, sizeof buf, "%.1fM", v / 1e6);
  else if (v >= 1e3)
    std::snprintf(buf, sizeof buf, "%.1fk", v / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

/// `step  40/300 [####....] loss 2.912  1.2k tok/s  eta 0m52s`, rewritten in place.
void progress(int64_t done, int64_t total, double loss, double tok_per_s, double eta_s) {
  const int width = 20;
  int filled = total > 0 ? static_cast<int>(width * done / total) : width;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(width - filled), '.');
  int w = static_cast<int>(std::to_string(total).size());
  auto eta = static_cast<int64_t>(std::lround(eta_s));
  std::fprintf(stderr, "\rstep %*lld/%lld [%s] loss %.3f  %s tok/s  eta %lldm%02llds", w + 1,
               static_cast<long long>(done), static_cast<long long>(total), bar.c_str(), loss,
               fmt_rate(tok_per_s).c_str(), static_cast<long long>(eta / 60),
               static_cast<long long>(eta % 60));
  std::fflush(stderr);
}

/// Generates `n` characters after `prompt` with an inference graph for a fixed context of
/// block_size: the context is cropped to the last block_size ids, or right-padded when
/// shorter and the logits read at its last real position (causal attention: the padding
/// after it cannot change them).
std::string generate(nn::GPT& model, const nn::ParamStore& params, const Corpus& c,
                     std::vector<int64_t> context, int64_t n, double temperature, int64_t top_k,
                     uint64_t seed, train::Backend& backend) {
  const int64_t T = model.config().block_size, V = model.config().vocab_size;
  std::unique_ptr<ir::Graph> g = examples::gpt_sample_graph(model);
  std::unique_ptr<train::Executable> exe = backend.compile(*g); // once, for every token

  std::mt19937_64 rng(seed);
  std::string out;
  std::vector<int64_t> window(static_cast<size_t>(T));
  for (int64_t i = 0; i < n; ++i) {
    int64_t len = examples::fill_context(context, T, window.data());
    Array in = Array::from_bytes(ir::TensorType{ir::DType::I64, ir::Shape{1, T}},
                                 reinterpret_cast<const uint8_t*>(window.data()));
    std::vector<Array> ins = nn::bind_inputs(*g, params, {{"tokens", in}});
    std::vector<Array> logits = exe->run(ins);
    int64_t next = examples::sample_token(&logits[0].data[static_cast<size_t>((len - 1) * V)], V,
                                          temperature, top_k, rng);
    context.push_back(next);
    out.push_back(static_cast<char>(c.vocab[static_cast<size_t>(next)]));
  }
  return out;
}

/// The parameters of `path` in a fresh ParamStore, checked against the model's specs.
nn::ParamStore load_params(const std::string& path, const std::vector<nn::ParamSpec>& specs) {
  rt::CheckpointSpec expect;
  expect.load_optimizer = false;
  for (const nn::ParamSpec& p : specs)
    expect.params.push_back({p.name, p.dtype, p.shape});
  rt::Checkpoint ck = rt::load_checkpoint(path, expect);
  nn::ParamStore store;
  for (const auto& [name, tensor] : ck.params)
    store[name] = train::from_host(tensor);
  return store;
}

int run(const Args& a) {
  Corpus corpus = load_corpus(a.data);
  if (corpus.ids.size() < examples::kMinCorpusIds)
    throw std::runtime_error(a.data + ": too short (need at least 1 KiB of text)");
  RunConfig rc = config_by_name(a.config, static_cast<int64_t>(corpus.vocab.size()));
  if (a.steps >= 0)
    rc.steps = a.steps;
  const int64_t B = rc.batch, T = rc.gpt.block_size;

  nn::GPT model(rc.gpt);
  if (a.dump_ir == "forward") {
    model.train(false);
    Trace t("gpt_forward");
    t.output(model.forward(t, t.input("tokens", {B, T}, ir::DType::I64)));
    std::fputs(ir::print_graph(*t.finish()).c_str(), stdout);
    return 0;
  }

  train::TrainStep step = examples::gpt_train_step(model, rc);
  if (a.dump_ir == "train") {
    std::fputs(ir::print_graph(*step.graph).c_str(), stdout);
    return 0;
  }

  std::printf("gpt: config %s (n_layer %lld, n_head %lld, n_embd %lld, block %lld, batch %lld, "
              "vocab %lld), %zu characters of %s\n",
              rc.name.c_str(), static_cast<long long>(rc.gpt.n_layer),
              static_cast<long long>(rc.gpt.n_head), static_cast<long long>(rc.gpt.n_embd),
              static_cast<long long>(T), static_cast<long long>(B),
              static_cast<long long>(rc.gpt.vocab_size), corpus.ids.size(), a.data.c_str());
  std::fflush(stdout); // before the progress line on stderr
  std::shared_ptr<train::Backend> backend =
      a.backend == "cpu" ? train::cpu_backend() : train::interpreter_backend();
  auto tc = std::chrono::steady_clock::now();
  train::Trainer tr(std::move(step), nn::init_params(model, a.seed), {"default", backend});
  std::printf("backend %s: train step ready in %.2f s\n", backend->name().c_str(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - tc).count());
  if (a.resume) {
    tr.load_checkpoint(a.checkpoint);
    std::printf("resumed from %s at step %lld\n", a.checkpoint.c_str(),
                static_cast<long long>(tr.steps_done()));
  }

  // Batches depend on the seed and the step number, so a resumed run continues the stream.
  std::mt19937_64 rng = examples::batch_rng(a.seed, tr.steps_done());
  std::vector<double> losses;
  auto t0 = std::chrono::steady_clock::now();
  for (int64_t s = 0; s < rc.steps; ++s) {
    train::StepStats st = tr.step(make_batch(corpus, B, T, rng));
    losses.push_back(st.loss);
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double rate = static_cast<double>((s + 1) * B * T) / std::max(dt, 1e-9);
    double eta = dt / static_cast<double>(s + 1) * static_cast<double>(rc.steps - s - 1);
    progress(s + 1, rc.steps, st.loss, rate, eta);
  }
  if (rc.steps > 0)
    std::fputc('\n', stderr);

  // The last steps' mean: one batch's loss is noisy.
  size_t tail = std::min<size_t>(10, losses.size());
  double final_loss = NAN;
  if (tail > 0) {
    final_loss = 0;
    for (size_t i = losses.size() - tail; i < losses.size(); ++i)
      final_loss += losses[i] / static_cast<double>(tail);
  }
  std::printf("final loss: %.4f (unigram baseline %.4f)\n", final_loss, corpus.unigram_entropy);

  std::filesystem::path ck(a.checkpoint);
  if (ck.has_parent_path())
    std::filesystem::create_directories(ck.parent_path());
  tr.save_checkpoint(a.checkpoint);
  nn::ParamStore reloaded = load_params(a.checkpoint, model.parameters());
  std::printf("saved %s (step %lld); reloaded %zu parameters\n", a.checkpoint.c_str(),
              static_cast<long long>(tr.steps_done()), reloaded.size());

  if (a.sample > 0) {
    std::vector<int64_t> prompt = examples::default_prompt(corpus);
    std::string text =
        generate(model, reloaded, corpus, prompt, a.sample, a.temperature, a.top_k, a.seed,
                 *backend);
    std::printf("sample (temperature %g, top-k %lld, seed %llu):\n%s\n", a.temperature,
                static_cast<long long>(a.top_k), static_cast<unsigned long long>(a.seed),
                text.c_str());
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_args(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gpt: error: %s\n", e.what());
    return 1;
  }
}
