// compile.cpp: the CPU backend pipeline: passes -> lower -> LLVM (one module) -> JIT ->
// an Executable around rt::Executor.
#include "backends/cpu/compile.h"

#include <chrono>
#include <cstdlib>

#include "backends/cpu/lower.h"
#include "runtime/executor.h"

namespace tevo::cpu {

namespace {

class CpuExecutable final : public Executable {
public:
  CpuExecutable(std::unique_ptr<ir::Graph> fused, std::unique_ptr<JitCode> code,
                std::unique_ptr<rt::Executor> exec, std::string llvm_ir, ExecStats stats)
      : fused_(std::move(fused)), code_(std::move(code)), exec_(std::move(exec)),
        llvm_ir_(std::move(llvm_ir)), stats_(stats) {}

  std::vector<rt::HostTensor> run(const std::vector<rt::HostTensor>& inputs) override {
    return exec_->run(inputs);
  }
  void run(const void* const* inputs, void* const* outputs) override {
    exec_->run(inputs, outputs);
  }
  const rt::Plan& plan() const override {
    return exec_->plan();
  }
  ExecStats stats() const override {
    return stats_;
  }
  const ir::Graph& fused_graph() const override {
    return *fused_;
  }
  const std::string& llvm_ir() const override {
    return llvm_ir_;
  }

private:
  std::unique_ptr<ir::Graph> fused_;
  std::unique_ptr<JitCode> code_; // owns the machine code the executor calls
  std::unique_ptr<rt::Executor> exec_;
  std::string llvm_ir_;
  ExecStats stats_;
};

int debug_level() {
  const char* e = std::getenv("TEVO_DEBUG");
  return e ? std::atoi(e) : 0;
}

} // namespace

std::unique_ptr<ir::Graph> prepare(const ir::Graph& g, const CompileOptions& opts) {
  std::unique_ptr<ir::Graph> work = g.clone();
  std::string pipeline = opts.pipeline == "default" ? std::string(passes::kDefaultPipeline)
                                                    : opts.pipeline;
  pipeline += pipeline.empty() ? "decompose,fuse" : ",decompose,fuse";
  auto pm = passes::PassManager::parse(pipeline, opts.pipeline_options);
  if (!pm)
    throw ir::Error(pm.error());
  pm->run(*work);
  return work;
}

std::unique_ptr<Executable> compile(const ir::Graph& g, const CompileOptions& opts) {
  auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<ir::Graph> fused = prepare(g, opts);
  Lowered low = lower(*fused);

  low.plan.kernel_errors.resize(low.plan.kernels.size());
  KernelModule km(g.name.empty() ? "tevo" : g.name, opts.target);
  for (size_t i = 0; i < low.kernels.size(); ++i) {
    KernelInfo info = km.add(low.kernels[i]);
    low.plan.kernels[i].extent = info.extent;
    low.plan.kernels[i].grain = info.grain;
    low.plan.kernel_errors[i] = std::move(info.errors);
  }
  std::string ir_text;
  if (opts.keep_llvm_ir || debug_level() >= 2) {
    km.optimize();
    ir_text = km.llvm_ir();
  }
  std::unique_ptr<JitCode> code = km.jit();
  std::vector<rt::KernelFn> fns;
  for (const std::string& sym : low.plan.kernel_names)
    fns.push_back(code->lookup(sym));

  ExecStats st;
  for (const rt::Step& s : low.plan.steps) {
    switch (s.kind) {
    case rt::Step::Kind::Kernel:
      ++st.kernels;
      break;
    case rt::Step::Kind::Matmul:
    case rt::Step::Kind::Conv1d:
      ++st.library_calls;
      break;
    case rt::Step::Kind::RuntimeOp:
      ++st.runtime_ops;
      break;
    case rt::Step::Kind::Copy:
      break;
    }
  }
  st.arena_bytes = low.plan.arena_bytes;
  auto exec = std::make_unique<rt::Executor>(std::move(low.plan), std::move(fns),
                                             rt::ExecOptions{opts.threads});
  st.compile_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return std::make_unique<CpuExecutable>(std::move(fused), std::move(code), std::move(exec),
                                         std::move(ir_text), st);
}

} // namespace tevo::cpu
