// compile.cpp: the CPU backend pipeline: passes -> lower -> LLVM (one module) -> JIT ->
// an Executable around rt::Executor.
#include "backends/cpu/compile.h"

#include <chrono>
#include <cstdlib>
#include <unordered_map>

#include <fmt/format.h>

#include "backends/cpu/lower.h"
#include "ir/printer.h"
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
  std::string profile(size_t top) const override {
    return exec_->format_profile(top);
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

namespace {

/// A group's identity for code generation: its body printed with every value renamed by
/// position, its kind, and the operand layouts and in-place pairs of the spec.
std::string kernel_key(const KernelSpec& spec) {
  std::unique_ptr<ir::Graph> body = spec.group->attrs.get("body").region()->clone();
  for (ir::Value* v : body->inputs())
    v->name.clear();
  for (const auto& n : body->nodes())
    for (int r = 0; r < n->num_results(); ++r)
      n->result(r)->name.clear();
  std::string key = ir::print_graph(*body);
  key += spec.group->attrs.get("kind").str();
  for (const auto& s : spec.operand_strides) {
    key += '|';
    for (int64_t x : s)
      key += std::to_string(x) + ',';
  }
  for (const auto& [a, b] : spec.inplace)
    key += fmt::format("|{}>{}", a, b);
  return key;
}

} // namespace

size_t generate_kernels(Lowered& low, KernelModule& km) {
  rt::Plan& plan = low.plan;
  plan.kernel_errors.resize(plan.kernels.size());
  std::unordered_map<std::string, size_t> first; // key -> index of the generated kernel
  size_t distinct = 0;
  for (size_t i = 0; i < low.kernels.size(); ++i) {
    std::string key = kernel_key(low.kernels[i]);
    auto it = first.find(key);
    // Kernels that report data errors name their own nodes: never shared.
    if (it != first.end() && plan.kernel_errors[it->second].empty()) {
      size_t j = it->second;
      plan.kernels[i].extent = plan.kernels[j].extent;
      plan.kernels[i].grain = plan.kernels[j].grain;
      plan.kernel_names[static_cast<size_t>(plan.kernels[i].kernel)] =
          plan.kernel_names[static_cast<size_t>(plan.kernels[j].kernel)];
      continue;
    }
    KernelInfo info = km.add(low.kernels[i]);
    plan.kernels[i].extent = info.extent;
    plan.kernels[i].grain = info.grain;
    plan.kernel_errors[i] = std::move(info.errors);
    first.emplace(std::move(key), i);
    ++distinct;
  }
  return distinct;
}

std::vector<rt::KernelFn> lookup_kernels(JitCode& code, const rt::Plan& plan) {
  std::unordered_map<std::string, rt::KernelFn> looked_up;
  std::vector<rt::KernelFn> fns;
  for (const std::string& sym : plan.kernel_names) {
    auto [it, fresh] = looked_up.emplace(sym, nullptr);
    if (fresh)
      it->second = code.lookup(sym);
    fns.push_back(it->second);
  }
  return fns;
}

std::vector<ir::interp::Array> run_arrays(Executable& exe,
                                          const std::vector<ir::interp::Array>& inputs) {
  const rt::Plan& plan = exe.plan();
  std::vector<std::vector<uint8_t>> in_bytes;
  std::vector<const void*> in;
  for (const ir::interp::Array& a : inputs)
    in_bytes.push_back(a.to_bytes());
  for (const auto& b : in_bytes)
    in.push_back(b.data());
  std::vector<std::vector<uint8_t>> out_bytes;
  std::vector<void*> out;
  for (const rt::TensorSpec& t : plan.outputs)
    out_bytes.emplace_back(static_cast<size_t>(t.bytes()));
  for (auto& b : out_bytes)
    out.push_back(b.data());
  exe.run(in.data(), out.data());
  std::vector<ir::interp::Array> outs;
  for (size_t i = 0; i < plan.outputs.size(); ++i) {
    const rt::TensorSpec& t = plan.outputs[i];
    outs.push_back(ir::interp::Array::from_bytes(ir::TensorType{t.dtype, ir::Shape(t.shape)},
                                                 out_bytes[i].data()));
  }
  return outs;
}

std::unique_ptr<ir::Graph> prepare(const ir::Graph& g, const CompileOptions& opts) {
  std::unique_ptr<ir::Graph> work = g.clone();
  std::string pipeline = opts.pipeline == "default" ? std::string(passes::kDefaultPipeline)
                                                    : opts.pipeline;
  // cse after fuse: fusion copies cheap producers into each consumer, so a shared chain
  // feeding two materialised views becomes two identical groups (train_gpt: the q/k/v
  // gradient concat, once per matmul it feeds); cse keeps one.
  pipeline += pipeline.empty() ? "split-k,decompose,split-reduce,fuse,cse"
                               : ",split-k,decompose,split-reduce,fuse,cse";
  auto pm = passes::PassManager::parse(pipeline, opts.pipeline_options);
  if (!pm)
    throw ir::Error(pm.error());
  pm->run(*work);
  return work;
}

std::unique_ptr<Executable> compile(const ir::Graph& g, const CompileOptions& opts) {
  auto t0 = std::chrono::steady_clock::now();
  auto lap = [last = t0]() mutable {
    auto now = std::chrono::steady_clock::now();
    double s = std::chrono::duration<double>(now - last).count();
    last = now;
    return s;
  };
  ExecStats st;
  std::unique_ptr<ir::Graph> fused = prepare(g, opts);
  st.passes_seconds = lap();
  Lowered low = lower(*fused);
  st.lower_seconds = lap();

  KernelModule km(g.name.empty() ? "tevo" : g.name, opts.target);
  st.distinct_kernels = static_cast<int64_t>(generate_kernels(low, km));
  st.codegen_seconds = lap();
  std::string ir_text;
  if (opts.keep_llvm_ir || debug_level() >= 2) {
    km.optimize();
    ir_text = km.llvm_ir();
  }
  std::unique_ptr<JitCode> code = km.jit();
  std::vector<rt::KernelFn> fns = lookup_kernels(*code, low.plan);
  st.jit_seconds = lap();

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
                                             rt::ExecOptions{opts.threads, opts.profile});
  st.compile_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return std::make_unique<CpuExecutable>(std::move(fused), std::move(code), std::move(exec),
                                         std::move(ir_text), st);
}

} // namespace tevo::cpu
