// executor.cpp: rt::Executor, which runs a validated Plan step by step (see executor.h).
//
// Everything a run needs is set up in the constructor: the arena, the runtime kernels'
// workspace, oneDNN's scratchpad, per-step pointer arrays and the prepared primitives. A
// run then only resolves the caller's input/output pointers, fills those arrays and calls.
// Kernel steps are split into contiguous chunks over one OpenMP team; the first failing
// chunk in iteration order decides the error, so errors do not depend on scheduling.
#include "runtime/executor.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>

#include <fmt/format.h>
#include <omp.h>

#include "runtime/json.h"
#include "runtime/kernels/kernels.h"
#include "runtime/onednn_ops.h"

namespace tevo::rt {

namespace {

/// 64-byte aligned, zero-filled memory owned by a unique_ptr.
struct FreeDeleter {
  void operator()(void* p) const {
    std::free(p);
  }
};
using Block = std::unique_ptr<uint8_t, FreeDeleter>;

Block aligned_zeroed(int64_t bytes) {
  size_t n = static_cast<size_t>((std::max<int64_t>(bytes, 1) + 63) / 64 * 64);
  void* p = std::aligned_alloc(64, n);
  if (!p)
    throw Error(fmt::format("executor: cannot allocate {} bytes", n));
  std::memset(p, 0, n);
  return Block(static_cast<uint8_t*>(p));
}

int resolve_threads(int requested) {
  if (requested > 0)
    return requested;
  if (const char* env = std::getenv("TEVO_NUM_THREADS"); env && *env) {
    char* end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (*end != '\0' || v < 1 || v > 4096)
      throw Error(fmt::format("TEVO_NUM_THREADS: expected a positive integer, got '{}'", env));
    return static_cast<int>(v);
  }
  return std::max(1, omp_get_max_threads());
}

/// Sets the OpenMP thread count of the calling thread for a scope (oneDNN reads it).
class ThreadScope {
public:
  explicit ThreadScope(int n) : saved_(omp_get_max_threads()) {
    omp_set_num_threads(n);
  }
  ~ThreadScope() {
    omp_set_num_threads(saved_);
  }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

private:
  int saved_;
};

} // namespace

struct Executor::Impl {
  Plan plan;
  std::vector<KernelFn> fns;
  int threads = 1;
  bool profiling = false;
  std::vector<double> step_seconds; ///< per step, summed over runs (profiling only)
  Block arena, workspace, scratchpad;
  int64_t workspace_bytes = 0;
  std::vector<uint8_t*> bases;                 ///< per buffer, resolved per run
  std::vector<std::vector<void*>> kernel_args; ///< per kernel step
  std::vector<int32_t> chunk_codes;            ///< per thread chunk
  LibraryOps library;
  std::vector<int> matmul_handle, conv_handle;
  std::vector<std::vector<void*>> matmul_post; ///< per matmul: src1 pointers
  std::vector<std::vector<const void*>> rt_in;
  std::vector<std::vector<void*>> rt_out;
  ExecutorStats stats;

  uint8_t* at(const ArgRef& r) const {
    return bases[static_cast<size_t>(r.buffer)] + r.offset;
  }

  [[noreturn]] void step_error(const Step& s, const std::string& msg) const {
    throw Error(fmt::format("{} (in {} at {})", msg, s.name.empty() ? "?" : s.name,
                            s.loc.empty() ? "?" : s.loc));
  }

  void run_kernel(const Step& s) {
    const KernelStep& k = plan.kernels[static_cast<size_t>(s.index)];
    KernelFn fn = fns[static_cast<size_t>(k.kernel)];
    std::vector<void*>& args = kernel_args[static_cast<size_t>(s.index)];
    for (size_t i = 0; i < k.args.size(); ++i)
      args[i] = at(k.args[i]);
    if (k.extent == 0)
      return;
    int64_t chunks = std::min<int64_t>(threads, k.extent / k.grain);
    int32_t code = 0;
    if (chunks < 2) {
      code = fn(args.data(), 0, k.extent);
    } else {
      const int64_t base = k.extent / chunks, extra = k.extent % chunks;
      int32_t* codes = chunk_codes.data();
#pragma omp parallel num_threads(static_cast<int>(chunks))
      {
        int64_t nt = omp_get_num_threads();
        for (int64_t c = omp_get_thread_num(); c < chunks; c += nt) {
          int64_t begin = c * base + std::min(c, extra);
          int64_t end = begin + base + (c < extra ? 1 : 0);
          codes[c] = fn(args.data(), begin, end);
        }
      }
      for (int64_t c = 0; c < chunks && code == 0; ++c)
        code = codes[c];
    }
    if (code == 0)
      return;
    const auto& table = static_cast<size_t>(k.kernel) < plan.kernel_errors.size()
                            ? plan.kernel_errors[static_cast<size_t>(k.kernel)]
                            : std::vector<std::string>{};
    if (code > 0 && static_cast<size_t>(code) <= table.size())
      step_error(s, table[static_cast<size_t>(code - 1)]);
    step_error(s, fmt::format("kernel {} failed with code {}",
                              plan.kernel_names[static_cast<size_t>(k.kernel)], code));
  }

  void run_matmul(const Step& s) {
    const MatmulStep& m = plan.matmuls[static_cast<size_t>(s.index)];
    std::vector<void*>& post = matmul_post[static_cast<size_t>(s.index)];
    for (size_t i = 0; i < m.post_ops.size(); ++i)
      post[i] = m.post_ops[i].src1.dims.empty() ? nullptr : at(m.post_ops[i].src1.at);
    library.run(matmul_handle[static_cast<size_t>(s.index)],
                LibraryArgs{at(m.a.at), at(m.b.at), at(m.c.at), post});
  }

  void run_conv(const Step& s) {
    const Conv1dStep& c = plan.convs[static_cast<size_t>(s.index)];
    library.run(conv_handle[static_cast<size_t>(s.index)],
                LibraryArgs{at(c.x.at), at(c.w.at), at(c.y.at), {}});
  }

  void run_runtime_op(const Step& s) {
    size_t i = static_cast<size_t>(s.index);
    const RuntimeOpStep& r = plan.runtime_ops[i];
    for (size_t j = 0; j < r.operands.size(); ++j)
      rt_in[i][j] = at(r.operands[j].at);
    for (size_t j = 0; j < r.results.size(); ++j)
      rt_out[i][j] = at(r.results[j].at);
    kernels::run(r, rt_in[i], rt_out[i], workspace.get(), threads);
  }

  void run(const void* const* inputs, void* const* outputs) {
    for (size_t b = 0; b < plan.buffers.size(); ++b) {
      const Buffer& buf = plan.buffers[b];
      if (buf.storage == Storage::Input)
        bases[b] = const_cast<uint8_t*>(static_cast<const uint8_t*>(inputs[buf.index]));
      else if (buf.storage == Storage::Output)
        bases[b] = static_cast<uint8_t*>(outputs[buf.index]);
    }
    ThreadScope scope(threads);
    for (size_t si = 0; si < plan.steps.size(); ++si) {
      const Step& s = plan.steps[si];
      auto t0 = profiling ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
      try {
        switch (s.kind) {
        case Step::Kind::Kernel: run_kernel(s); break;
        case Step::Kind::Matmul: run_matmul(s); break;
        case Step::Kind::Conv1d: run_conv(s); break;
        case Step::Kind::RuntimeOp: run_runtime_op(s); break;
        case Step::Kind::Copy: {
          const CopyStep& c = plan.copies[static_cast<size_t>(s.index)];
          std::memmove(at(c.to), at(c.from), static_cast<size_t>(c.bytes));
          break;
        }
        }
      } catch (const Error& e) {
        if (s.kind == Step::Kind::Kernel)
          throw; // already names the step
        step_error(s, e.what());
      }
      if (profiling)
        step_seconds[si] +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
  }
};

Executor::Executor(Plan plan, std::vector<KernelFn> kernels, ExecOptions opts)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  validate_plan(plan);
  if (kernels.size() != plan.kernel_names.size())
    throw Error(fmt::format("executor: {} kernel functions for {} kernels", kernels.size(),
                            plan.kernel_names.size()));
  for (size_t i = 0; i < kernels.size(); ++i)
    if (!kernels[i])
      throw Error(fmt::format("executor: no function for kernel '{}'", plan.kernel_names[i]));
  m.plan = std::move(plan);
  m.fns = std::move(kernels);
  m.threads = resolve_threads(opts.threads);
  m.profiling = opts.profile;
  m.step_seconds.assign(m.plan.steps.size(), 0.0);
  const Plan& p = m.plan;

  m.arena = aligned_zeroed(p.arena_bytes);
  m.bases.assign(p.buffers.size(), nullptr);
  for (size_t b = 0; b < p.buffers.size(); ++b) {
    const Buffer& buf = p.buffers[b];
    if (buf.storage == Storage::Arena)
      m.bases[b] = m.arena.get() + buf.offset;
    else if (buf.storage == Storage::Constant)
      m.bases[b] = const_cast<uint8_t*>(p.constants[static_cast<size_t>(buf.index)].data());
  }
  for (const KernelStep& k : p.kernels)
    m.kernel_args.emplace_back(k.args.size(), nullptr);
  m.chunk_codes.assign(static_cast<size_t>(m.threads), 0);

  ThreadScope scope(m.threads); // oneDNN sizes scratchpads by the thread count
  for (const MatmulStep& mm : p.matmuls) {
    m.matmul_handle.push_back(m.library.prepare(mm));
    m.matmul_post.emplace_back(mm.post_ops.size(), nullptr);
  }
  for (const Conv1dStep& c : p.convs)
    m.conv_handle.push_back(m.library.prepare(c));
  int64_t ws = 0;
  for (const RuntimeOpStep& r : p.runtime_ops) {
    kernels::check(r);
    ws = std::max(ws, kernels::workspace_bytes(r, m.threads));
    m.rt_in.emplace_back(r.operands.size(), nullptr);
    m.rt_out.emplace_back(r.results.size(), nullptr);
  }
  m.workspace = aligned_zeroed(ws);
  m.scratchpad = aligned_zeroed(m.library.scratchpad_bytes());
  m.library.set_scratchpad(m.scratchpad.get());
  m.workspace_bytes = ws + m.library.scratchpad_bytes();

  ExecutorStats& st = m.stats;
  for (const Step& s : p.steps) {
    st.kernels += s.kind == Step::Kind::Kernel;
    st.library_calls += s.kind == Step::Kind::Matmul || s.kind == Step::Kind::Conv1d;
    st.runtime_ops += s.kind == Step::Kind::RuntimeOp;
    st.copies += s.kind == Step::Kind::Copy;
  }
  st.arena_bytes = p.arena_bytes;
  st.workspace_bytes = m.workspace_bytes;
  st.primitives = m.library.primitives();
  st.gemm_library_steps = m.library.gemm_steps();
  st.reference_library_steps = m.library.reference_steps();
}

Executor::~Executor() = default;

void Executor::run(const void* const* inputs, void* const* outputs) {
  impl_->run(inputs, outputs);
}

std::vector<HostTensor> Executor::run(const std::vector<HostTensor>& inputs) {
  const Plan& p = impl_->plan;
  if (inputs.size() < p.inputs.size())
    throw Error(fmt::format("missing input '{}'", p.inputs[inputs.size()].name));
  if (inputs.size() > p.inputs.size())
    throw Error(fmt::format("expected {} inputs, got {}", p.inputs.size(), inputs.size()));
  std::vector<const void*> in(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorSpec& s = p.inputs[i];
    const HostTensor& t = inputs[i];
    if (t.dtype != s.dtype || t.shape != s.shape)
      throw Error(fmt::format("input '{}': expected {}, got {}", s.name, s.type_str(),
                              t.type_str()));
    if (static_cast<int64_t>(t.data.size()) != s.bytes())
      throw Error(fmt::format("input '{}': {} needs {} bytes, got {}", s.name, s.type_str(),
                              s.bytes(), t.data.size()));
    in[i] = t.data.data();
  }
  std::vector<HostTensor> out(p.outputs.size());
  std::vector<void*> outp(p.outputs.size());
  for (size_t i = 0; i < out.size(); ++i) {
    const TensorSpec& s = p.outputs[i];
    out[i] = HostTensor{s.dtype, s.shape, std::vector<uint8_t>(static_cast<size_t>(s.bytes()))};
    outp[i] = out[i].data.data();
  }
  impl_->run(in.data(), outp.data());
  return out;
}

std::vector<HostTensor>
Executor::run(const std::vector<std::pair<std::string, HostTensor>>& inputs) {
  const Plan& p = impl_->plan;
  std::vector<const HostTensor*> by_index(p.inputs.size(), nullptr);
  for (const auto& [name, t] : inputs) {
    size_t i = 0;
    while (i < p.inputs.size() && p.inputs[i].name != name)
      ++i;
    if (i == p.inputs.size())
      throw Error(fmt::format("unknown input '{}'", name));
    if (by_index[i])
      throw Error(fmt::format("input '{}' given twice", name));
    by_index[i] = &t;
  }
  std::vector<HostTensor> ordered;
  ordered.reserve(p.inputs.size());
  for (size_t i = 0; i < p.inputs.size(); ++i) {
    if (!by_index[i])
      throw Error(fmt::format("missing input '{}'", p.inputs[i].name));
    ordered.push_back(*by_index[i]);
  }
  return run(ordered);
}

const Plan& Executor::plan() const {
  return impl_->plan;
}

int Executor::threads() const {
  return impl_->threads;
}

ExecutorStats Executor::stats() const {
  return impl_->stats;
}

} // namespace tevo::rt

namespace tevo::rt {

std::vector<StepProfile> Executor::profile() const {
  std::vector<StepProfile> out;
  if (!impl_->profiling)
    return out;
  for (size_t i = 0; i < impl_->step_seconds.size(); ++i)
    out.push_back({static_cast<int32_t>(i), impl_->step_seconds[i]});
  return out;
}

std::string Executor::format_profile(size_t top) const {
  std::vector<StepProfile> p = profile();
  if (p.empty())
    return "";
  double total = 0;
  for (const StepProfile& s : p)
    total += s.seconds;
  std::stable_sort(p.begin(), p.end(),
                   [](const StepProfile& a, const StepProfile& b) { return a.seconds > b.seconds; });
  static const char* kKinds[] = {"kernel", "matmul", "conv1d", "runtime", "copy"};
  std::string out = fmt::format("profile: {} steps, {:.3f} ms in steps\n", p.size(), total * 1e3);
  for (size_t i = 0; i < std::min(top, p.size()); ++i) {
    const Step& s = impl_->plan.steps[static_cast<size_t>(p[i].step)];
    out += fmt::format("  {:9.3f} ms {:5.1f}%  {:<7} #{:<4} {}\n", p[i].seconds * 1e3,
                       total > 0 ? 100 * p[i].seconds / total : 0.0,
                       kKinds[static_cast<size_t>(s.kind)], p[i].step, s.name);
  }
  return out;
}

} // namespace tevo::rt
