// fft_conv_bench.cpp: direct (oneDNN conv1d) vs FFT (long-conv -> fft_conv) causal
// depthwise long convolution on the CPU backend, the figures behind the long-conv rewrite.
//
// Usage: fft_conv_bench [threads] [max N] [direct max N]
// For each power of two N = 1024 .. max N and K = N, D = 64, B = 1:
// compiles y = conv1d(x, w, causal, groups = D) with pipeline "canonicalize,cse,dce"
// (direct) and "long-conv,dce" (FFT), runs each until 0.3 s have passed, and prints the
// best time per run, GFLOP/s of the direct form and the speedup. Direct runs stop above
// `direct max N` (they grow as N^2). Also times the backward (x and w gradients).
#include "backends/cpu/compile.h"
#include "ir/parser.h"
#include "passes/autodiff/grad.h"
#include "passes/pass_manager.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <fmt/format.h>

using namespace tevo;
using namespace tevo::ir;

namespace {

double best_seconds(cpu::Executable& exe, const std::vector<rt::HostTensor>& ins) {
  exe.run(ins); // warm-up (oneDNN primitive creation, page faults)
  double best = 1e30, total = 0;
  int runs = 0;
  while ((total < 0.3 || runs < 3) && runs < 50) {
    auto t0 = std::chrono::steady_clock::now();
    exe.run(ins);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, s);
    total += s;
    ++runs;
  }
  return best;
}

std::vector<rt::HostTensor> inputs(const Graph& g) {
  std::vector<rt::HostTensor> ins;
  uint32_t state = 1;
  for (const Value* v : g.inputs()) {
    rt::HostTensor t;
    t.dtype = v->type.dtype;
    t.shape = v->type.shape.to_vector();
    std::vector<float> vals(static_cast<size_t>(v->type.numel()));
    for (float& x : vals) {
      state = state * 1664525u + 1013904223u;
      x = static_cast<float>(state >> 8) / 16777216.0f - 0.5f;
    }
    t.data.resize(vals.size() * sizeof(float));
    std::memcpy(t.data.data(), vals.data(), t.data.size());
    ins.push_back(std::move(t));
  }
  return ins;
}

} // namespace

int main(int argc, char** argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  int64_t max_n = argc > 2 ? std::atoll(argv[2]) : 65536;
  int64_t direct_max = argc > 3 ? std::atoll(argv[3]) : 16384;
  const int64_t d = 64;
  fmt::print("threads {}  D = {}  B = 1  K = N  f32\n", threads, d);
  fmt::print("{:>7} {:>12} {:>10} {:>12} {:>9} {:>14} {:>14}\n", "N", "direct ms", "GFLOP/s",
             "fft ms", "speedup", "fft fwd+bwd ms", "direct f+b ms");
  if (argc > 4 && std::string(argv[4]) == "k-sweep") { // forward only, N = max N, K varies
    fmt::print("{:>7} {:>7} {:>12} {:>12} {:>10}\n", "N", "K", "direct ms", "fft ms", "fft/direct");
    for (int64_t k = 4; k <= 512; k *= 2) {
      std::string text = fmt::format(
          "func @f(%x: f32[1,{0},{1}], %w: f32[{0},1,{2}]) -> f32[1,{0},{1}] {{\n"
          "  %y = conv1d %x, %w {{padding = [{3}, 0], groups = {0}}} : f32[1,{0},{1}]\n"
          "  return %y\n}}\n",
          d, max_n, k, k - 1);
      Module m = parse_module(text, "sweep.tir");
      auto ins = inputs(*m.funcs[0]);
      double t[2];
      for (int i = 0; i < 2; ++i) {
        cpu::CompileOptions o;
        o.threads = threads;
        o.pipeline = i == 0 ? "canonicalize,cse,dce" : "long-conv,dce";
        o.pipeline_options.pass_options["long-conv.force"] = "1";
        auto exe = cpu::compile(*m.funcs[0], o);
        t[i] = best_seconds(*exe, ins);
      }
      fmt::print("{:>7} {:>7} {:>12.3f} {:>12.3f} {:>10.2f}\n", max_n, k, t[0] * 1e3, t[1] * 1e3,
                 t[1] / t[0]);
    }
    return 0;
  }
  for (int64_t n = 1024; n <= max_n; n *= 2) {
    std::string text = fmt::format(
        "func @f(%x: f32[1,{0},{1}], %w: f32[{0},1,{1}]) -> f32[1,{0},{1}] {{\n"
        "  %y = conv1d %x, %w {{padding = [{2}, 0], groups = {0}}} : f32[1,{0},{1}]\n"
        "  return %y\n}}\n",
        d, n, n - 1);
    std::string train = fmt::format(
        "func @f(%x: f32[1,{0},{1}], %w: f32[{0},1,{1}]) -> f32[] {{\n"
        "  %y = conv1d %x, %w {{padding = [{2}, 0], groups = {0}}} : f32[1,{0},{1}]\n"
        "  %t = tanh %y : f32[1,{0},{1}]\n"
        "  %s = sum %t {{axes = []}} : f32[]\n"
        "  return %s\n}}\n",
        d, n, n - 1);
    Module m = parse_module(text, "bench.tir");
    // Training graphs: the rewrite runs on the forward graph before autodiff (as
    // train::make_train_step runs its forward pipeline), so the FFT form's backward is
    // fft_conv's own VJP; the direct form differentiates conv1d.
    Module mt = parse_module(train, "train.tir");
    Module mf = parse_module(train, "train.tir");
    passes::PassManager::parse("long-conv,dce").take().run(*mf.funcs[0]);
    for (Module* mm : {&mt, &mf}) {
      Graph& g = *mm->funcs[0];
      std::vector<Value*> wrt(g.inputs().begin(), g.inputs().end());
      g.outputs = autodiff::grad(g, g.outputs[0], wrt);
    }
    Graph& tg = *mt.funcs[0];
    auto ins = inputs(*m.funcs[0]);
    auto tins = inputs(tg);
    auto time = [&](const Graph& g, const std::vector<rt::HostTensor>& in, const char* pipe) {
      cpu::CompileOptions o;
      o.threads = threads;
      o.pipeline = pipe;
      auto exe = cpu::compile(g, o);
      return best_seconds(*exe, in);
    };
    double fft = time(*m.funcs[0], ins, "long-conv,dce");
    double fft_train = time(*mf.funcs[0], tins, "canonicalize,cse,dce");
    double flops = static_cast<double>(d) * static_cast<double>(n) * static_cast<double>(n + 1);
    if (n <= direct_max) {
      double direct = time(*m.funcs[0], ins, "canonicalize,cse,dce");
      double direct_train = n <= direct_max / 2 ? time(tg, tins, "canonicalize,cse,dce") : 0;
      fmt::print("{:>7} {:>12.2f} {:>10.1f} {:>12.2f} {:>8.1f}x {:>14.2f} {:>14}\n", n,
                 direct * 1e3, flops / direct / 1e9, fft * 1e3, direct / fft, fft_train * 1e3,
                 direct_train > 0 ? fmt::format("{:.2f}", direct_train * 1e3) : "-");
    } else {
      fmt::print("{:>7} {:>12} {:>10} {:>12.2f} {:>9} {:>14.2f} {:>14}\n", n, "-", "-",
                 fft * 1e3, "-", fft_train * 1e3, "-");
    }
    std::fflush(stdout);
  }
  return 0;
}
