// profile.cpp: per-step time from the executor's step timer (see profile.h).
#include "bench/profile.h"

#include <stdexcept>

#ifdef TEVO_BENCH_HAVE_CPU
#include "backends/cpu/compile.h"
#include "backends/cpu/lower.h"
#include "runtime/executor.h"
#endif

namespace tevo::bench {

#ifdef TEVO_BENCH_HAVE_CPU
namespace {

const char* kind_name(rt::Step::Kind k) {
  switch (k) {
  case rt::Step::Kind::Kernel:
    return "kernel";
  case rt::Step::Kind::Matmul:
    return "matmul";
  case rt::Step::Kind::Conv1d:
    return "conv1d";
  case rt::Step::Kind::RuntimeOp:
    return "runtime";
  case rt::Step::Kind::Copy:
    return "copy";
  }
  return "?";
}

} // namespace

Profile profile_case(const Case& c, int threads, const TimingOptions& opts) {
  // cpu::compile's pipeline with the kernels kept, so that sub-plans can be run.
  cpu::CompileOptions co;
  co.threads = threads;
  std::unique_ptr<ir::Graph> fused = cpu::prepare(*c.graph, co);
  cpu::Lowered low = cpu::lower(*fused);
  cpu::KernelModule km(c.name, co.target);
  cpu::generate_kernels(low, km);
  std::unique_ptr<cpu::JitCode> code = km.jit();
  std::vector<rt::KernelFn> fns = cpu::lookup_kernels(*code, low.plan);

  std::vector<const void*> in;
  for (const auto& b : c.inputs)
    in.push_back(b.data());
  std::vector<std::vector<uint8_t>> outs;
  std::vector<void*> out;
  for (const rt::TensorSpec& t : low.plan.outputs)
    outs.emplace_back(static_cast<size_t>(t.bytes()));
  for (auto& b : outs)
    out.push_back(b.data());

  const std::vector<rt::Step> steps = low.plan.steps;
  rt::Executor ex(std::move(low.plan), fns, rt::ExecOptions{threads, /*profile=*/true});
  auto run = [&] { ex.run(in.data(), out.data()); };
  for (int i = 0; i < opts.warmup; ++i)
    run();
  // The executor's step times are sums over every run: read them before and after.
  std::vector<rt::StepProfile> before = ex.profile();
  TimingOptions timed = opts;
  timed.warmup = 0;
  Timing t = measure(run, timed);
  std::vector<rt::StepProfile> after = ex.profile();
  if (after.size() != steps.size() || before.size() != steps.size())
    throw std::runtime_error("profile: the executor returned no per-step times");
  Profile prof;
  prof.total_s = t.median_s;
  for (size_t k = 0; k < steps.size(); ++k)
    prof.steps.push_back({kind_name(steps[k].kind), steps[k].name,
                          (after[k].seconds - before[k].seconds) / t.runs});
  return prof;
}
#else
Profile profile_case(const Case&, int, const TimingOptions&) {
  throw std::runtime_error("unavailable: tevo-bench was built without the CPU backend");
}
#endif

} // namespace tevo::bench
