// compare.cpp: the naive and rewritten training runs of one variant LM (see compare.h).
#include "examples/variants/compare.h"

#include "backends/cpu/compile.h"
#include "frontend/train/cpu_backend.h"
#include "frontend/train/losses.h"
#include "frontend/train/trainer.h"
#include "passes/pass_manager.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <sstream>

namespace tevo::examples::variants {

namespace {

using ir::interp::Array;
using nn::variants::VariantLM;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::vector<std::string> families(const MixerInfo& m) {
  std::vector<std::string> out;
  std::istringstream in(m.rewrites);
  for (std::string f; std::getline(in, f, ',');) {
    f.erase(0, f.find_first_not_of(' '));
    if (!f.empty())
      out.push_back(f);
  }
  return out;
}

bool has_family(const MixerInfo& m, const std::string& f) {
  std::vector<std::string> fs = families(m);
  return std::find(fs.begin(), fs.end(), f) != fs.end();
}

/// The loss graph a training step differentiates: cross-entropy of the next token.
std::unique_ptr<ir::Graph> trace_loss(VariantLM& model, int64_t batch) {
  const int64_t n = model.config().seq_len;
  Trace t("forward");
  Tensor tokens = t.input("tokens", {batch, n}, ir::DType::I64);
  Tensor targets = t.input("targets", {batch, n}, ir::DType::I64);
  Tensor loss = train::cross_entropy(model.forward(t, tokens), targets);
  t.output(loss.named("loss"));
  return t.finish();
}

/// The CPU backend, remembering the statistics of the last executable it compiled
/// (train::cpu_backend() hides the cpu::Executable, and with it the plan's arena size).
class MeteredCpuBackend final : public train::Backend {
public:
  explicit MeteredCpuBackend(cpu::CompileOptions o) : opts_(std::move(o)) {}
  std::string name() const override {
    return "cpu";
  }
  std::unique_ptr<train::Executable> compile(const ir::Graph& g) override {
    std::unique_ptr<cpu::Executable> exe = cpu::compile(g, opts_);
    last_ = exe.get();
    return std::make_unique<Exe>(std::move(exe));
  }
  /// The executable compiled last; it lives as long as the Executable returned for it.
  const cpu::Executable* last() const {
    return last_;
  }

private:
  class Exe final : public train::Executable {
  public:
    explicit Exe(std::unique_ptr<cpu::Executable> e) : exe_(std::move(e)) {}
    std::vector<Array> run(const std::vector<Array>& inputs) override {
      return cpu::run_arrays(*exe_, inputs);
    }

  private:
    std::unique_ptr<cpu::Executable> exe_;
  };

  cpu::CompileOptions opts_;
  const cpu::Executable* last_ = nullptr;
};

} // namespace

std::vector<std::string> rewrite_passes() {
  std::vector<std::string> all =
      passes::PassManager::parse(passes::kDefaultPipeline).take().pipeline();
  std::vector<std::string> naive = passes::PassManager::parse(kNaivePipeline).take().pipeline();
  std::vector<std::string> out;
  for (const std::string& p : all)
    if (std::find(naive.begin(), naive.end(), p) == naive.end())
      out.push_back(p);
  return out;
}

std::string expected_rewrite(const MixerInfo& m) {
  // The pass that implements each rewrite family, and which mixers it applies to.
  std::string pass;
  if (has_family(m, "R1"))
    pass = "fuse-attention";
  else if (has_family(m, "R2") && m.variant.starts_with("longconv."))
    pass = "decay-scan"; // S5 / RWKV: unrolled recurrences as masked decay matrices
  else if (has_family(m, "R2"))
    pass = "reassociate-matmul"; // the right product, or the chunked scan when causal
  else if (has_family(m, "R3") && m.variant.starts_with("longconv."))
    pass = "long-conv"; // a long causal convolution
  else if (has_family(m, "R3"))
    pass = "dft-matmul"; // FNet: products with DFT cos / sin matrices as FFTs
  std::vector<std::string> rw = rewrite_passes();
  return std::find(rw.begin(), rw.end(), pass) != rw.end() ? pass : "";
}

std::string no_rewrite_reason(const MixerInfo& m) {
  std::string reason;
  for (const std::string& f : families(m)) {
    reason += (reason.empty() ? "" : ", ") + f;
  }
  return reason + ": no pass in the default pipeline yet";
}

VariantLMConfig lm_config(const Options& o, const MixerInfo& m, int64_t vocab) {
  VariantLMConfig c;
  c.mixer = m.name;
  c.causal = m.causal;
  c.vocab = vocab;
  c.d_model = o.d_model;
  // gqa with 2 heads would share one key/value head between both: that is mqa.
  c.n_heads = o.heads > 0 ? o.heads : (m.name == "gqa" ? 4 : 2);
  c.n_layers = o.layers;
  c.seq_len = o.seq;
  c.feature_seed = static_cast<int64_t>(o.seed);
  if (!o.ffn.empty())
    c.ffn = o.ffn;
  if (!o.norm.empty())
    c.norm = o.norm;
  if (!o.residual.empty())
    c.residual = o.residual;
  return c;
}

ForwardReport run_forward_pipeline(
    const VariantLMConfig& c, int64_t batch, bool print_ir, bool remarks, std::ostream& out) {
  VariantLM model(c);
  model.train(true);
  std::unique_ptr<ir::Graph> g = trace_loss(model, batch);

  passes::PipelineOptions po;
  if (print_ir) {
    std::vector<std::string> names =
        passes::PassManager::parse(passes::kDefaultPipeline).take().pipeline();
    po.print_before = {names.front()};
    po.print_after_all = true;
    po.print_changed = true;
  }
  po.remarks = remarks ? "all" : "";
  po.log = print_ir || remarks ? &out : nullptr;
  passes::PassManager pm = passes::PassManager::parse(passes::kDefaultPipeline, po).take();
  pm.run(*g);

  ForwardReport r;
  std::vector<std::string> rw = rewrite_passes();
  auto is_rewrite = [&](const std::string& pass) {
    return std::find(rw.begin(), rw.end(), pass) != rw.end();
  };
  for (const auto& [name, count] : pm.context().stats()) {
    size_t dot = name.find('.');
    if (count > 0 && dot != std::string::npos && is_rewrite(name.substr(0, dot)))
      r.rewrites[name] = count;
  }
  for (const passes::Remark& rm : pm.context().remarks())
    if (is_rewrite(rm.pass))
      r.remarks.push_back(rm);
  return r;
}

std::vector<std::vector<Array>> make_batches(const Corpus& corpus, const Options& o) {
  if (corpus.ids.size() <= static_cast<size_t>(o.seq) + 1)
    throw std::runtime_error(o.data + ": too short for --seq=" + std::to_string(o.seq));
  std::mt19937_64 rng = batch_rng(o.seed, 0);
  ir::TensorType ty{ir::DType::I64, ir::Shape{o.batch, o.seq}};
  std::vector<std::vector<Array>> out;
  std::vector<int64_t> x(static_cast<size_t>(o.batch * o.seq)), y(x.size());
  for (int64_t s = 0; s < o.steps; ++s) {
    fill_batch(corpus, o.batch, o.seq, rng, x.data(), y.data());
    out.push_back({Array::from_bytes(ty, reinterpret_cast<const uint8_t*>(x.data())),
                   Array::from_bytes(ty, reinterpret_cast<const uint8_t*>(y.data()))});
  }
  return out;
}

RunResult train_run(const VariantLMConfig& c,
                    const Options& o,
                    const std::vector<std::vector<Array>>& batches,
                    bool rewrite) {
  const std::string pipeline = rewrite ? std::string("default") : std::string(kNaivePipeline);
  auto t0 = Clock::now();
  VariantLM model(c);
  model.train(true);
  auto loss_fn = [&model](Trace& t, const std::vector<Tensor>& b) {
    return train::cross_entropy(model.forward(t, b[0]), b[1]);
  };
  train::Optimizer opt = train::Optimizer::adamw(o.lr, 0.9, 0.95, 1e-8, 0.01);
  opt.max_grad_norm = 1.0;
  train::TrainStepOptions so;
  so.forward_pipeline = pipeline;
  const std::vector<int64_t> shape = {o.batch, c.seq_len};
  train::TrainStep step = train::make_train_step(
      loss_fn, model.parameters(), opt,
      {{"tokens", shape, ir::DType::I64}, {"targets", shape, ir::DType::I64}}, so);

  std::shared_ptr<MeteredCpuBackend> metered;
  std::shared_ptr<train::Backend> backend;
  if (o.backend == "cpu") {
    cpu::CompileOptions co;
    co.pipeline = pipeline;
    co.threads = static_cast<int>(o.threads);
    co.profile = o.profile;
    metered = std::make_shared<MeteredCpuBackend>(co);
    backend = metered;
  } else {
    backend = train::interpreter_backend();
  }
  train::Trainer tr(std::move(step), nn::init_params(model, o.seed), {pipeline, backend});

  RunResult r;
  r.compile_seconds = seconds_since(t0);
  if (metered)
    r.arena_bytes = metered->last()->stats().arena_bytes;
  for (const std::vector<Array>& b : batches) {
    auto ts = Clock::now();
    train::StepStats st = tr.step(b);
    r.step_seconds.push_back(seconds_since(ts));
    r.losses.push_back(st.loss);
  }
  if (metered && o.profile)
    r.profile = metered->last()->profile(8); // the Trainer (and its executable) still lives
  return r;
}

double rel_diff(double a, double b) {
  if (!std::isfinite(a) || !std::isfinite(b))
    return a == b ? 0.0 : std::numeric_limits<double>::infinity();
  double m = std::max(std::fabs(a), std::fabs(b));
  return m == 0 ? 0.0 : std::fabs(a - b) / m;
}

Comparison
compare_variant(const Options& o, const MixerInfo& m, const Corpus& corpus, std::ostream& out) {
  Comparison cmp;
  cmp.variant = m.name;
  try {
    cmp.config = lm_config(o, m, static_cast<int64_t>(corpus.vocab.size()));
    const VariantLMConfig& c = cmp.config;
    out << m.name << " (" << (c.causal ? "causal" : "bidirectional") << " LM: vocab " << c.vocab
        << ", d_model " << c.d_model << ", " << c.n_heads << " heads, " << c.n_layers
        << " layers, N=" << c.seq_len << ", batch " << o.batch << ", backend " << o.backend
        << ", ffn " << c.ffn << ", norm " << c.norm << ", residual " << c.residual << ")\n";
    cmp.forward = run_forward_pipeline(c, o.batch, false, o.remarks, out);
    std::vector<std::vector<Array>> batches = make_batches(corpus, o);
    cmp.naive = train_run(c, o, batches, false);
    cmp.rewritten = train_run(c, o, batches, true);
  } catch (const std::exception& e) {
    cmp.error = e.what();
    return cmp;
  }

  char line[160];
  std::snprintf(line, sizeof line, "  %4s  %-14s %-14s %s\n", "step", "naive loss",
                "rewritten loss", "rel diff");
  out << line;
  for (size_t s = 0; s < cmp.naive.losses.size(); ++s) {
    double a = cmp.naive.losses[s], b = cmp.rewritten.losses[s], d = rel_diff(a, b);
    auto step = static_cast<int64_t>(s) + 1;
    if (cmp.worst_step == 0 || d > cmp.max_rel_diff) {
      cmp.max_rel_diff = d;
      cmp.worst_step = step;
    }
    if (!(d <= o.tolerance) && cmp.first_bad == 0)
      cmp.first_bad = step;
    std::snprintf(line, sizeof line, "  %4lld  %-14.7f %-14.7f %.2e%s\n",
                  static_cast<long long>(step), a, b, d, d <= o.tolerance ? "" : "  MISMATCH");
    out << line;
  }
  if (o.profile && !cmp.naive.profile.empty())
    out << "  profile, naive:\n"
        << cmp.naive.profile << "  profile, rewritten:\n"
        << cmp.rewritten.profile;
  out.flush();
  return cmp;
}

} // namespace tevo::examples::variants
