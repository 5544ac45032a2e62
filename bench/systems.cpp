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

/// One zero-filled buffer per graph output, as malloc places it (a large one starts 16
/// bytes past a page boundary, like a caller's std::vector: not line-aligned).
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

/// max |got - ref| / max |ref| of one output (float outputs; exact for others).
double rel_err(const Array& ref, const Array& g) {
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

#ifdef TEVO_BENCH_HAVE_CPU
double rel_err(const Array& ref, const ir::TensorType& t, const std::vector<uint8_t>& got) {
  return rel_err(ref, Array::from_bytes(t, got.data()));
}

/// The form statistics of SystemResult for a plan of a variant case of length n.
void describe_plan(const rt::Plan& p, int64_t n, SystemResult& r) {
  const int64_t nxn_bytes = n * n * 4;
  r.nxn_buffers = 0;
  for (const rt::Buffer& b : p.buffers)
    r.nxn_buffers += b.storage == rt::Storage::Arena && b.bytes >= nxn_bytes ? 1 : 0;
  auto square = [n](const rt::StridedDesc& d) {
    size_t k = d.dims.size();
    return k >= 2 && d.dims[k - 1] == n && d.dims[k - 2] == n;
  };
  r.nxn_matmuls = 0;
  for (const rt::MatmulStep& m : p.matmuls)
    r.nxn_matmuls += square(m.a) || square(m.b) || square(m.c) ? 1 : 0;
  r.conv_steps = static_cast<int64_t>(p.convs.size());
  for (const rt::Step& st : p.steps)
    if (st.kind == rt::Step::Kind::RuntimeOp)
      r.runtime_op_names += (r.runtime_op_names.empty() ? "" : ",") + p.runtime_ops[st.index].op;
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

double interp_agreement(const Case& a, const Case& b) {
  const auto &ia = a.graph->inputs(), &ib = b.graph->inputs();
  bool same = ia.size() == ib.size() && a.graph->outputs.size() == b.graph->outputs.size();
  for (size_t i = 0; same && i < ia.size(); ++i)
    same = ia[i]->name == ib[i]->name && ia[i]->type == ib[i]->type;
  for (size_t i = 0; same && i < a.graph->outputs.size(); ++i)
    same = a.graph->outputs[i]->type == b.graph->outputs[i]->type;
  if (!same)
    throw std::runtime_error(a.name + " and " + b.name + " differ in their inputs or outputs");
  std::vector<Array> in = input_arrays(a);
  std::vector<Array> ra = ir::interp::run(*a.graph, in), rb = ir::interp::run(*b.graph, in);
  double worst = 0;
  for (size_t i = 0; i < ra.size(); ++i)
    worst = std::max(worst, rel_err(rb[i], ra[i]));
  return worst;
}

SystemResult run_jit(const Case& c, const JitOptions& jit, const TimingOptions& opts) {
#ifdef TEVO_BENCH_HAVE_CPU
  SystemResult r;
  cpu::CompileOptions co;
  co.threads = jit.threads;
  co.pipeline = jit.pipeline;
  auto exe = cpu::compile(*c.graph, co);
  if (c.seq > 0)
    describe_plan(exe->plan(), c.seq, r);
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
  (void)c, (void)jit, (void)opts;
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
