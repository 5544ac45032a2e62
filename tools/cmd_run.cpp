// cmd_run.cpp: `tevo run`: execute a function on a backend: the f64 reference
// interpreter or the CPU compiler (JIT).
//
// Inputs come from a safetensors file (by input name) or are generated from --seed;
// outputs are summarised (shape, dtype, min/max/mean, first values) and optionally saved.
// --stats reports what the compiled plan does (kernels, library calls, peak scratch).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

#include "backends/cpu/compile.h"

#include "ir/interp/interpreter.h"
#include "ir/printer.h"
#include "runtime/safetensors.h"
#include "tools/commands.h"

namespace tevo::cli {

namespace {

using ir::interp::Array;

/// The name an input or output is known by in safetensors files: its SSA name, or its
/// position ("0", "1", ...) when it has none.
std::string io_name(const ir::Value* v, size_t i) {
  return v->name.empty() ? std::to_string(i) : v->name;
}

/// Deterministic pseudo-random input: floats uniform in [-1, 1), integers in [0, 4),
/// booleans fair. mt19937_64 is specified exactly by the standard, so this is portable.
Array random_input(const ir::TensorType& t, std::mt19937_64& gen) {
  Array a(t);
  for (int64_t i = 0; i < a.numel(); ++i) {
    double u = static_cast<double>(gen() >> 11) * 0x1.0p-53; // [0, 1)
    if (ir::is_float(t.dtype) || ir::is_complex(t.dtype))
      a[i] = 2 * u - 1;
    else if (ir::is_int(t.dtype))
      a[i] = std::floor(4 * u);
    else
      a[i] = u < 0.5 ? 0 : 1;
  }
  a.round_to_dtype();
  return a;
}

std::vector<Array> load_inputs(const ir::Graph& g, const Parsed& p) {
  std::vector<Array> ins;
  if (p.has("inputs")) {
    rt::TensorFile f = rt::read_safetensors(p.get("inputs"));
    for (size_t i = 0; i < g.inputs().size(); ++i) {
      const ir::Value* in = g.inputs()[i];
      std::string n = io_name(in, i);
      const rt::HostTensor* t = f.find(n);
      if (!t)
        throw ir::Error(ir::Diag{ir::Loc{}, fmt::format("{}: no tensor '{}' for input %{} ({})",
                                                        p.get("inputs"), n, n, in->type.str()),
                                 {}});
      ir::TensorType tt{t->dtype, ir::Shape(t->shape)};
      if (!(tt == in->type))
        throw ir::Error(ir::Diag{ir::Loc{}, fmt::format("{}: tensor '{}' is {} but input %{} is {}",
                                                        p.get("inputs"), n, tt.str(), n,
                                                        in->type.str()),
                                 {}});
      ins.push_back(Array::from_bytes(tt, t->data.data()));
    }
    return ins;
  }
  uint64_t seed = 0;
  try {
    seed = std::stoull(p.get("seed", "0"));
  } catch (const std::exception&) {
    throw ir::Error(ir::Diag{ir::Loc{}, fmt::format("--seed must be a non-negative integer, got '{}'",
                                                    p.get("seed")),
                             {}});
  }
  std::mt19937_64 gen(seed);
  for (const ir::Value* in : g.inputs())
    ins.push_back(random_input(in->type, gen));
  return ins;
}

std::string summary(const std::string& name, const Array& a) {
  std::string s = fmt::format("%{}: {}", name, a.type.str());
  if (a.numel() == 0)
    return s + " (empty)\n";
  double lo = INFINITY, hi = -INFINITY, sum = 0;
  for (double v : a.data) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sum += v;
  }
  s += fmt::format("  min {} max {} mean {}", ir::format_f64(lo), ir::format_f64(hi),
                   ir::format_f64(sum / static_cast<double>(a.numel())));
  s += "\n  [";
  int64_t n = std::min<int64_t>(a.numel(), 8);
  for (int64_t i = 0; i < n; ++i) {
    s += i ? ", " : "";
    s += a.imag.empty() ? fmt::format("{:.6g}", a[i])
                        : fmt::format("({:.6g}, {:.6g})", a[i], a.imag[static_cast<size_t>(i)]);
  }
  return s + (a.numel() > n ? ", ...]\n" : "]\n");
}

/// Compiles `g` for the CPU and runs it `repeat` times on `ins`; the last run's outputs.
std::vector<Array> run_cpu(const ir::Graph& g, const std::vector<Array>& ins, const Parsed& p) {
  cpu::CompileOptions o;
  o.threads = int_flag(p, "threads", 0, 0);
  o.target.cpu = p.get("cpu", "");
  o.target.features = p.get("features", "");
  o.target.opt_level = int_flag(p, "opt-level", 2, 0);
  o.target.stream_bytes = stream_bytes_flag(p);
  o.pipeline = p.get("pipeline", "default");
  o.keep_llvm_ir = p.has("dump-llvm");
  o.profile = p.has("profile");
  int repeat = int_flag(p, "repeat", 1, 1);
  auto exe = cpu::compile(g, o);
  if (p.has("dump-llvm"))
    write_output(p.get("dump-llvm"), exe->llvm_ir());
  std::vector<std::vector<uint8_t>> in_bytes;
  std::vector<const void*> in_ptrs;
  for (const Array& a : ins)
    in_bytes.push_back(a.to_bytes());
  for (const auto& b : in_bytes)
    in_ptrs.push_back(b.data());
  std::vector<std::vector<uint8_t>> out_bytes;
  std::vector<void*> out_ptrs;
  for (const ir::Value* v : g.outputs)
    out_bytes.emplace_back(static_cast<size_t>(v->type.bytes()));
  for (auto& b : out_bytes)
    out_ptrs.push_back(b.data());
  double best = INFINITY;
  for (int r = 0; r < repeat; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    exe->run(in_ptrs.data(), out_ptrs.data());
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
                              .count());
  }
  if (p.has("stats")) {
    cpu::ExecStats st = exe->stats();
    std::fprintf(stderr,
                 "stats: kernels %lld (%lld distinct), library calls %lld, runtime ops %lld, peak scratch %lld "
                 "bytes, compile %.3f s (passes %.3f, lower %.3f, codegen %.3f, jit %.3f), run "
                 "%.3f ms (best of %d)\n",
                 static_cast<long long>(st.kernels), static_cast<long long>(st.distinct_kernels),
                 static_cast<long long>(st.library_calls),
                 static_cast<long long>(st.runtime_ops), static_cast<long long>(st.arena_bytes),
                 st.compile_seconds, st.passes_seconds, st.lower_seconds, st.codegen_seconds,
                 st.jit_seconds, best * 1e3, repeat);
  }
  if (p.has("profile"))
    std::fputs(exe->profile(25).c_str(), stderr);
  std::vector<Array> outs;
  for (size_t i = 0; i < g.outputs.size(); ++i)
    outs.push_back(Array::from_bytes(g.outputs[i]->type, out_bytes[i].data()));
  return outs;
}

/// Compares each output with the tensor of the same name in `path` (|a-b| <= 1e-4 (1+|b|),
/// NaN matching NaN); prints one line per output, throws on the first mismatch.
void check_outputs(const ir::Graph& g, const std::vector<Array>& outs, const std::string& path) {
  rt::TensorFile f = rt::read_safetensors(path);
  for (size_t i = 0; i < outs.size(); ++i) {
    std::string n = io_name(g.outputs[i], i);
    const rt::HostTensor* t = f.find(n);
    ir::TensorType want_t = t ? ir::TensorType{t->dtype, ir::Shape(t->shape)} : ir::TensorType{};
    if (!t || !(want_t == outs[i].type))
      throw ir::Error(ir::Diag{ir::Loc{}, fmt::format("--check {}: no tensor '{}' of type {}",
                                                      path, n, outs[i].type.str()),
                               {}});
    Array want = Array::from_bytes(want_t, t->data.data());
    double worst = 0;
    for (int64_t k = 0; k < want.numel(); ++k) {
      double a = outs[i][k], b = want[k];
      double d = (std::isnan(a) && std::isnan(b)) || a == b ? 0 : std::fabs(a - b) / (1 + std::fabs(b));
      worst = std::isnan(d) ? INFINITY : std::max(worst, d);
    }
    std::printf("check %%%s against %s: max |diff| / (1 + |ref|) = %.3g\n", n.c_str(),
                path.c_str(), worst);
    if (!(worst <= 1e-4))
      throw ir::Error(ir::Diag{ir::Loc{}, fmt::format("--check {}: output '{}' differs by {:.3g}",
                                                      path, n, worst),
                               {}});
  }
}

int run_run(const Parsed& p) {
  std::string backend = p.get("backend", "interp");
  if (backend != "interp" && backend != "cpu")
    throw ir::Error(ir::Diag{ir::Loc{},
                             fmt::format("unknown backend '{}' (available: interp, cpu)", backend),
                             {}});
  if (p.has("inputs") && p.has("seed"))
    throw ir::Error(ir::Diag{ir::Loc{}, "give either --inputs or --seed, not both", {}});
  auto mods = load_modules(p);
  ir::Graph& g = pick_function(mods[0], p);
  auto ins = load_inputs(g, p);
  if (p.has("save-inputs")) {
    rt::TensorFile f;
    for (size_t i = 0; i < ins.size(); ++i)
      f.tensors.push_back({io_name(g.inputs()[i], i),
                           rt::HostTensor{ins[i].dtype(), ins[i].shape().to_vector(),
                                          ins[i].to_bytes()}});
    rt::write_safetensors(p.get("save-inputs"), f);
  }
  auto outs = backend == "cpu" ? run_cpu(g, ins, p) : ir::interp::run(g, ins);
  std::string text;
  rt::TensorFile f;
  for (size_t i = 0; i < outs.size(); ++i) {
    std::string n = io_name(g.outputs[i], i);
    text += summary(n, outs[i]);
    auto bytes = outs[i].to_bytes();
    f.tensors.push_back({n, rt::HostTensor{outs[i].dtype(), outs[i].shape().to_vector(), bytes}});
  }
  std::fputs(text.c_str(), stdout);
  if (p.has("check"))
    check_outputs(g, outs, p.get("check"));
  if (p.has("outputs"))
    rt::write_safetensors(p.get("outputs"), f);
  return 0;
}

} // namespace

const Command& run_command() {
  static const Command c{
      "run",
      "run a function on a backend and summarise its outputs",
      "tevo run FILE [--backend=interp|cpu] [--func=NAME] [--inputs=IN.safetensors | --seed=N] "
      "[--outputs=OUT.safetensors] [--save-inputs=IN.safetensors] [--check=REF.safetensors] [--threads=N] [--stats] [--profile] [--repeat=N] [--pipeline=P] [--dump-llvm=FILE]",
      {{"backend", true,
        "interp (the f64 reference interpreter, default) or cpu (compiled: LLVM + oneDNN)"},
       {"threads", true, "cpu: threads (default TEVO_NUM_THREADS, else all cores)"},
       {"stats", false, "cpu: print kernels, library calls, peak scratch bytes, times"},
       {"repeat", true, "cpu: run N times (stats report the best time)"},
       {"profile", false, "cpu: time every plan step; print the most expensive ones"},
       {"dump-llvm", true, "cpu: write the optimised LLVM IR to FILE ('-' = stdout)"},
       {"pipeline", true,
        "cpu: passes before decompose/fuse (default: 'default'; 'canonicalize,cse,dce' = "
        "rewrites off)"},
       {"cpu", true, "cpu: target CPU name (default: the host)"},
       {"opt-level", true, "cpu: LLVM optimisation level 0-3 (default 2)"},
       {"stream-kib", true, kStreamHelp},
       {"features", true, "cpu: target features, e.g. +avx2,-avx512f (default: the host's)"},
       {"func", true, "the function to run (default: the first)"},
       {"inputs", true, "safetensors file with one tensor per input, named like the input"},
       {"seed", true, "generate inputs from this seed instead (default 0)"},
       {"outputs", true, "write outputs to this safetensors file (atomically)"},
       {"check", true, "compare the outputs with this safetensors file (1e-4 relative)"},
       {"save-inputs", true, "write the inputs used (e.g. generated by --seed) to this file"}},
      run_run};
  return c;
}

} // namespace tevo::cli
