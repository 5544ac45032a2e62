// systems.cpp: running a case on the interpreter, the JIT and an AOT shared library.
#include "bench/systems.h"

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "ir/interp/interpreter.h"

#ifdef TEVO_BENCH_HAVE_CPU
#include "backends/cpu/compile.h"
#endif

namespace tevo::bench {

namespace {

using ir::interp::Array;

std::vector<Array> input_arrays(const Case& c) {
  std::vector<Array> in;
  const auto& vs = c.graph->inputs();
  for (size_t i = 0; i < vs.size(); ++i)
    in.push_back(Array::from_bytes(vs[i]->type, c.inputs[i].data()));
  return in;
}

std::vector<const void*> input_ptrs(const Case& c) {
  std::vector<const void*> p;
  for (const auto& b : c.inputs)
    p.push_back(b.data());
  return p;
}

/// One zero-filled, 64-byte aligned buffer per graph output.
struct Outputs {
  std::vector<std::vector<uint8_t>> bufs;
  std::vector<void*> ptrs;
  explicit Outputs(const ir::Graph& g) {
    for (const ir::Value* v : g.outputs)
      bufs.emplace_back(static_cast<size_t>(v->type.numel() * ir::dtype_size(v->type.dtype)));
    for (auto& b : bufs)
      ptrs.push_back(b.data());
  }
};

#ifdef TEVO_BENCH_HAVE_CPU
/// max |got - ref| / max |ref| of one output (float outputs; exact for others).
double rel_err(const Array& ref, const ir::TensorType& t, const std::vector<uint8_t>& got) {
  Array g = Array::from_bytes(t, got.data());
  double num = 0, den = 0;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    if (std::isnan(ref[i]) != std::isnan(g[i]))
      return INFINITY;
    if (!std::isnan(ref[i]) && ref[i] != g[i])
      num = std::max(num, std::abs(ref[i] - g[i]));
    den = std::max(den, std::abs(ref[i]));
  }
  return num / std::max(den, 1e-30);
}
#endif

} // namespace

bool have_cpu_backend() {
#ifdef TEVO_BENCH_HAVE_CPU
  return true;
#else
  return false;
#endif
}

SystemResult run_interp(const Case& c, const TimingOptions& opts, bool check) {
  SystemResult r;
  std::vector<Array> in = input_arrays(c);
  std::vector<Array> out;
  r.timing = measure([&] { out = ir::interp::run(*c.graph, in); }, opts);
#ifdef TEVO_BENCH_HAVE_CPU
  if (check) {
    auto exe = cpu::compile(*c.graph);
    Outputs o(*c.graph);
    std::vector<const void*> ip = input_ptrs(c);
    exe->run(ip.data(), o.ptrs.data());
    r.check_rel_err = 0;
    for (size_t i = 0; i < out.size(); ++i)
      r.check_rel_err =
          std::max(r.check_rel_err, rel_err(out[i], c.graph->outputs[i]->type, o.bufs[i]));
  }
#else
  (void)check;
#endif
  return r;
}

SystemResult run_jit(const Case& c, int threads, const TimingOptions& opts) {
#ifdef TEVO_BENCH_HAVE_CPU
  SystemResult r;
  cpu::CompileOptions co;
  co.threads = threads;
  auto exe = cpu::compile(*c.graph, co);
  cpu::ExecStats st = exe->stats();
  r.compile_s = st.compile_seconds;
  r.arena_bytes = st.arena_bytes;
  r.kernels = st.kernels;
  r.library_calls = st.library_calls;
  r.runtime_ops = st.runtime_ops;
  Outputs o(*c.graph);
  std::vector<const void*> ip = input_ptrs(c);
  r.timing = measure([&] { exe->run(ip.data(), o.ptrs.data()); }, opts);
  return r;
#else
  (void)c, (void)threads, (void)opts;
  throw std::runtime_error("unavailable: tevo-bench was built without the CPU backend");
#endif
}

SystemResult run_aot(const Case& c, const std::string& library, const std::string& name,
                     int threads, const TimingOptions& opts) {
  void* h = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h)
    throw std::runtime_error("unavailable: " + std::string(dlerror()));
  std::unique_ptr<void, int (*)(void*)> lib(h, dlclose);
  auto sym = [&](const std::string& s) {
    void* p = dlsym(h, (name + s).c_str());
    if (!p)
      throw std::runtime_error("unavailable: " + library + " has no " + name + s);
    return p;
  };
  using CreateFn = void* (*)(int);
  using RunFn = int (*)(void*, const void* const*, void* const*);
  using ErrorFn = const char* (*)(void*);
  using DestroyFn = void (*)(void*);
  auto create = reinterpret_cast<CreateFn>(sym("_create"));
  auto run = reinterpret_cast<RunFn>(sym("_run"));
  auto last_error = reinterpret_cast<ErrorFn>(sym("_last_error"));
  auto destroy = reinterpret_cast<DestroyFn>(sym("_destroy"));
  void* model = create(threads);
  if (!model)
    throw std::runtime_error(name + "_create failed");
  std::unique_ptr<void, DestroyFn> guard(model, destroy);
  Outputs o(*c.graph);
  std::vector<const void*> ip = input_ptrs(c);
  SystemResult r;
  r.timing = measure(
      [&] {
        if (run(model, ip.data(), o.ptrs.data()) != 0)
          throw std::runtime_error(name + "_run: " + last_error(model));
      },
      opts);
  return r;
}

} // namespace tevo::bench
