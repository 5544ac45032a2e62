// gpt_aot.cpp: samples text from a GPT compiled ahead of time (gpt_tiny, made by gpt_gen and
// tevo_add_model), with the weights of a checkpoint written by `gpt` or `train_aot`.
//
//   gpt_aot CHECKPOINT [--data=PATH] [--sample=N] [--temperature=X] [--top-k=K] [--seed=N]
//           [--threads=N] [--write-inputs=F] [--check-logits=F]
//
// The sampling rule is gpt's (examples/gpt/corpus.h): after a newline, the context cropped
// or padded to the model's block, temperature then top-k, from a seeded generator; with the
// same checkpoint, seed and settings the text is the one `gpt --sample=N` prints. The
// vocabulary is rebuilt from the data file, as gpt does (a checkpoint holds none).
// Test modes, on a fixed context (the data's first block_size characters):
// --write-inputs writes the model's inputs (tokens and the checkpoint's parameters) for
// `tevo run`; --check-logits compares the compiled logits with such a reference.
// The program links the AOT runtime only: no LLVM, no compiler.
#include "examples/aot/aot_model.h"
#include "examples/aot/app_args.h"
#include "examples/gpt/corpus.h"
#include "gpt_tiny.h"
#include "runtime/checkpoint.h"
#include "runtime/safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef TEVO_GPT_DEFAULT_DATA
#define TEVO_GPT_DEFAULT_DATA "examples/data/perldiag.txt"
#endif

namespace {

using namespace tevo::examples;

const char* kUsage =
    "usage: gpt_aot CHECKPOINT [--data=PATH] [--sample=N] [--temperature=X] [--top-k=K] "
    "[--seed=N] [--threads=N] [--write-inputs=F] [--check-logits=F]";

/// The compiled sampler: tokens i64[1, T] (+ parameters) -> logits f32[T, V].
class Sampler {
public:
  explicit Sampler(int threads)
      : model_(gpt_tiny_create(threads)), tokens_(model_.require_input("tokens", "i64")) {
    const tevo_tensor_info& in = model_.inputs()[static_cast<size_t>(tokens_)];
    if (model_.outputs().size() != 1 || in.rank != 2 || in.shape[0] != 1)
      throw std::runtime_error("gpt_tiny is not a sampler: " + type_str(in) + " tokens, " +
                               std::to_string(model_.outputs().size()) + " outputs");
    const tevo_tensor_info& out = model_.outputs()[0];
    T_ = in.shape[1];
    if (std::string(out.dtype) != "f32" || out.rank != 2 || out.shape[0] != T_)
      throw std::runtime_error("gpt_tiny: logits are " + type_str(out) + ", expected f32[" +
                               std::to_string(T_) + ",V]");
    V_ = out.shape[1];
    window_.resize(static_cast<size_t>(T_));
    logits_.resize(static_cast<size_t>(T_ * V_));
  }
  int64_t block() const {
    return T_;
  }
  int64_t vocab() const {
    return V_;
  }
  const AotModel& model() const {
    return model_;
  }
  /// Binds the parameters (a checkpoint's other tensors are ignored).
  void load_weights(const std::string& checkpoint) {
    model_.load_weights(checkpoint);
  }
  /// Logits for the window of `context` (corpus.h: fill_context); returns its length.
  int64_t run(const std::vector<int64_t>& context) {
    int64_t len = fill_context(context, T_, window_.data());
    std::vector<const void*> ins(model_.inputs().size(), nullptr); // parameters: bound
    ins[static_cast<size_t>(tokens_)] = window_.data();
    model_.run(ins, {logits_.data()});
    return len;
  }
  const std::vector<float>& logits() const {
    return logits_;
  }

private:
  AotModel model_;
  int tokens_;
  int64_t T_ = 0, V_ = 0;
  std::vector<int64_t> window_;
  std::vector<float> logits_;
};

std::string
generate(Sampler& s, const Corpus& c, int64_t n, double temperature, int64_t top_k, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int64_t> context = default_prompt(c);
  std::vector<double> row(static_cast<size_t>(s.vocab()));
  std::string out;
  for (int64_t i = 0; i < n; ++i) {
    int64_t len = s.run(context);
    for (int64_t v = 0; v < s.vocab(); ++v)
      row[static_cast<size_t>(v)] = s.logits()[static_cast<size_t>((len - 1) * s.vocab() + v)];
    int64_t next = sample_token(row.data(), s.vocab(), temperature, top_k, rng);
    context.push_back(next);
    out.push_back(static_cast<char>(c.vocab[static_cast<size_t>(next)]));
  }
  return out;
}

/// The test context: the data's first block_size ids.
std::vector<int64_t> test_context(const Corpus& c, int64_t T) {
  return {c.ids.begin(), c.ids.begin() + T};
}

/// The inputs of the sampler for `tevo run`: tokens of the test context and the parameters.
void write_inputs(const Sampler& s,
                  const Corpus& c,
                  const std::string& checkpoint,
                  const std::string& path) {
  tevo::rt::Checkpoint ck = tevo::rt::load_checkpoint(checkpoint);
  tevo::rt::TensorFile f;
  for (const tevo_tensor_info& in : s.model().inputs()) {
    if (!in.is_param) {
      std::vector<int64_t> ctx = test_context(c, s.block());
      tevo::rt::HostTensor t{tevo::ir::DType::I64, {1, s.block()}, {}};
      t.data.resize(ctx.size() * sizeof(int64_t));
      std::memcpy(t.data.data(), ctx.data(), t.data.size());
      f.tensors.emplace_back(in.name, std::move(t));
      continue;
    }
    const tevo::rt::HostTensor* p = ck.param(in.name);
    if (!p)
      throw std::runtime_error(checkpoint + ": no parameter '" + in.name + "'");
    check_type(*p, in, checkpoint);
    f.tensors.emplace_back(in.name, *p);
  }
  tevo::rt::write_safetensors(path, f);
  std::printf("wrote the inputs for the test context to %s\n", path.c_str());
}

/// Compares the compiled logits on the test context with `ref`'s tensor of the same name.
int check_logits(Sampler& s, const Corpus& c, const std::string& ref_path) {
  tevo::rt::TensorFile ref = tevo::rt::read_safetensors(ref_path);
  const tevo_tensor_info& out = s.model().outputs()[0];
  const tevo::rt::HostTensor* r = ref.find(out.name);
  if (!r)
    throw std::runtime_error(ref_path + ": no tensor '" + out.name + "'");
  check_type(*r, out, ref_path);
  s.run(test_context(c, s.block()));
  double worst = 0;
  for (int64_t i = 0; i < s.block() * s.vocab(); ++i) {
    double want = element(out, r->data.data(), i);
    double got = s.logits()[static_cast<size_t>(i)];
    double diff = std::fabs(got - want);
    worst = std::max(worst, diff);
    if (!(diff <= 1e-4 * (1 + std::fabs(want))))
      throw std::runtime_error("logits[" + std::to_string(i / s.vocab()) + "," +
                               std::to_string(i % s.vocab()) + "] = " + std::to_string(got) +
                               ", the reference has " + std::to_string(want));
  }
  std::printf("logits match the reference: %lld values, max |diff| %.3g\n",
              static_cast<long long>(s.block() * s.vocab()), worst);
  return 0;
}

int run(int argc, char** argv) {
  AppArgs a = parse_app_args(argc, argv, kUsage);
  if (a.help) {
    std::puts(kUsage);
    return 0;
  }
  a.allow(
      {"data", "sample", "temperature", "top-k", "seed", "threads", "write-inputs", "check-logits"},
      kUsage);
  if (a.positional.size() != 1)
    throw std::runtime_error(kUsage);
  const std::string checkpoint = a.positional[0];
  const std::string data = a.str("data", TEVO_GPT_DEFAULT_DATA);
  int64_t n = a.integer("sample", 200, 0);
  double temperature = a.real("temperature", 0.8);
  if (!(temperature > 0))
    throw std::runtime_error("--temperature must be > 0");
  int64_t top_k = a.integer("top-k", 10, 0);
  auto seed = static_cast<uint64_t>(a.integer("seed", 1, 0));

  Corpus c = load_corpus(data);
  Sampler s(static_cast<int>(a.integer("threads", 0, 0)));
  if (static_cast<int64_t>(c.vocab.size()) != s.vocab())
    throw std::runtime_error(data + " has " + std::to_string(c.vocab.size()) +
                             " distinct characters, the model was built for " +
                             std::to_string(s.vocab()) + " (gpt_gen --data)");
  if (static_cast<int64_t>(c.ids.size()) < s.block())
    throw std::runtime_error(data + ": shorter than the model's context");
  s.load_weights(checkpoint);
  if (a.has("write-inputs")) {
    write_inputs(s, c, checkpoint, a.str("write-inputs", ""));
    return 0;
  }
  if (a.has("check-logits"))
    return check_logits(s, c, a.str("check-logits", ""));
  std::printf("gpt_aot: block %lld, vocab %lld, %d threads, weights %s\n",
              static_cast<long long>(s.block()), static_cast<long long>(s.vocab()),
              s.model().threads(), checkpoint.c_str());
  std::string text = generate(s, c, n, temperature, top_k, seed);
  std::printf("sample (temperature %g, top-k %lld, seed %llu):\n%s\n", temperature,
              static_cast<long long>(top_k), static_cast<unsigned long long>(seed), text.c_str());
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gpt_aot: error: %s\n", e.what());
    return 1;
  }
}
