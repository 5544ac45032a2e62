// module.cpp: the KernelModule's LLVM plumbing: target machine, O2 (by default) pipeline, ORC JIT and
// object-file emission.
//
// One module holds every kernel of a graph; it is verified, optimised once for the
// target (loop and SLP vectorisation with the target's cost model), then either handed
// to an LLJIT that owns it for the lifetime of the returned JitCode, or compiled to a
// relocatable (PIC) object file that is written atomically. KernelModule::add lives in
// emit_group.cpp.
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <llvm/ADT/SmallVector.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Verifier.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/Triple.h>
#include <llvm/Transforms/Utils/Cloning.h>

#include "backends/cpu/llvm_internal.h"
#include "backends/cpu/llvm_stream.h"
#include "backends/cpu/llvm_vector_math.h"
#include "ir/diag.h"
#include "runtime/file_io.h"

namespace tevo::cpu {

namespace {

/// Registers the native target once per process (thread-safe: a function-local static).
void init_native_target() {
  static const bool done = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
    return true;
  }();
  (void)done;
}

llvm::CodeGenOptLevel codegen_level(int opt_level) {
  switch (std::clamp(opt_level, 0, 3)) {
  case 0:
    return llvm::CodeGenOptLevel::None;
  case 1:
    return llvm::CodeGenOptLevel::Less;
  case 2:
    return llvm::CodeGenOptLevel::Default;
  default:
    return llvm::CodeGenOptLevel::Aggressive;
  }
}

[[noreturn]] void user_error(std::string msg) {
  throw ir::Error(ir::Diag{ir::Loc{}, std::move(msg), {}});
}

/// Rejects a CPU name or a feature the target does not know (LLVM would only warn on
/// stderr and silently generate generic code).
void check_target(const llvm::Target& target, const std::string& triple, const TargetOptions& t) {
  std::unique_ptr<llvm::MCSubtargetInfo> sti(target.createMCSubtargetInfo(triple, "", ""));
  TEVO_ASSERT(sti, "no subtarget information for {}", triple);
  if (!t.cpu.empty() && !sti->isCPUStringValid(t.cpu))
    user_error("unknown CPU '" + t.cpu + "' for target " + triple + " (try --cpu=" + host_cpu() +
               ")");
  if (t.features.empty())
    return;
  auto known = sti->getAllProcessorFeatures();
  llvm::SmallVector<llvm::StringRef, 32> parts;
  llvm::StringRef(t.features).split(parts, ',', -1, false);
  for (llvm::StringRef f : parts) {
    f = f.trim();
    if (f.size() < 2 || (f[0] != '+' && f[0] != '-'))
      user_error("bad CPU feature '" + f.str() + "': expected +name or -name, comma-separated");
    llvm::StringRef name = f.drop_front();
    bool found = std::any_of(known.begin(), known.end(),
                             [&](const llvm::SubtargetFeatureKV& kv) { return name == kv.Key; });
    if (!found)
      user_error("unknown CPU feature '" + name.str() + "' for target " + triple);
  }
}

std::string error_text(llvm::Error e) {
  return llvm::toString(std::move(e));
}

/// The in-process code: the LLJIT owns the module, its machine code and the symbols.
class LlvmJitCode final : public JitCode {
public:
  explicit LlvmJitCode(std::unique_ptr<llvm::orc::LLJIT> jit) : jit_(std::move(jit)) {}

  rt::KernelFn lookup(const std::string& symbol) override {
    auto addr = jit_->lookup(symbol);
    if (!addr) {
      std::string why = error_text(addr.takeError());
      TEVO_ASSERT(false, "JIT symbol '{}' not found: {}", symbol, why);
    }
    return addr->toPtr<rt::KernelFn>();
  }

private:
  std::unique_ptr<llvm::orc::LLJIT> jit_;
};

/// The host's last-level cache in bytes (TargetOptions::stream_bytes = -1): the largest
/// data cache the kernel lists for CPU 0, else what the C library says, else 32 MiB.
/// (Under a hypervisor glibc's sysconf reported 320 MiB for an L3 that sysfs and cpuid's
/// cache leaf give as 32 MiB.)
int64_t host_llc_bytes() {
  int64_t best = 0;
  for (int i = 0; i < 8; ++i) {
    std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    std::ifstream type(dir + "type"), size(dir + "size");
    std::string t;
    int64_t n = 0;
    char unit = 0;
    if (!(type >> t) || t == "Instruction" || !(size >> n))
      continue;
    size >> unit;
    best = std::max(best, n << (unit == 'K' ? 10 : unit == 'M' ? 20 : unit == 'G' ? 30 : 0));
  }
  if (best > 0)
    return best;
  if (long v = sysconf(_SC_LEVEL3_CACHE_SIZE); v > 0)
    return v;
  return int64_t{32} << 20;
}

} // namespace

/// Adds the target's CPU and features so that cost models see the real machine.
void set_target_attrs(const KernelModule::Impl& impl, llvm::Function* f) {
  f->addFnAttr(llvm::Attribute::NoUnwind);
  if (!impl.tm)
    return;
  f->addFnAttr("target-cpu", impl.tm->getTargetCPU());
  f->addFnAttr("target-features", impl.tm->getTargetFeatureString());
  // LLVM prefers 256-bit vectors even on AVX-512 CPUs (a frequency concern of early
  // AVX-512 parts); for these kernels (exp/erf polynomials, streaming) 512 bits measured
  // faster: exp over 1M f32 0.57 -> 0.38 ms, elu 0.78 -> 0.54 ms, softmax rows 28 -> 24 ms.
  llvm::SmallVector<llvm::StringRef, 64> features;
  impl.tm->getTargetFeatureString().split(features, ',');
  if (llvm::is_contained(features, "+avx512f"))
    f->addFnAttr("prefer-vector-width", "512");
}

std::string host_cpu() {
  return llvm::sys::getHostCPUName().str();
}

std::string host_features() {
  // Sorted so that the string (and everything derived from it) is deterministic.
  std::vector<std::string> on;
  for (const auto& kv : llvm::sys::getHostCPUFeatures())
    on.push_back((kv.second ? "+" : "-") + kv.first().str());
  std::sort(on.begin(), on.end(), [](const std::string& a, const std::string& b) {
    return a.substr(1) < b.substr(1);
  });
  std::string s;
  for (const auto& f : on)
    s += (s.empty() ? "" : ",") + f;
  return s;
}

KernelModule::KernelModule(std::string name, TargetOptions target)
    : impl_(std::make_unique<Impl>()) {
  init_native_target();
  Impl& m = *impl_;
  m.target = std::move(target);
  std::string triple = llvm::sys::getProcessTriple();
  std::string err;
  const llvm::Target* t = llvm::TargetRegistry::lookupTarget(triple, err);
  TEVO_ASSERT(t, "no LLVM target for {}: {}", triple, err);
  check_target(*t, triple, m.target);
  std::string cpu = m.target.cpu.empty() ? host_cpu() : m.target.cpu;
  std::string features = m.target.features.empty() ? host_features() : m.target.features;
  llvm::TargetOptions opts;
  m.tm.reset(t->createTargetMachine(triple, cpu, features, opts, llvm::Reloc::PIC_, std::nullopt,
                                    codegen_level(m.target.opt_level)));
  TEVO_ASSERT(m.tm, "cannot create a target machine for {} ({})", triple, cpu);
  m.target.cpu = cpu;
  m.target.features = features;
  if (m.target.stream_bytes < 0)
    m.target.stream_bytes = host_llc_bytes();
  m.ctx = std::make_unique<llvm::LLVMContext>();
  m.mod = std::make_unique<llvm::Module>(name, *m.ctx);
  m.mod->setTargetTriple(triple);
  m.mod->setDataLayout(m.tm->createDataLayout());
}

KernelModule::~KernelModule() = default;

void KernelModule::optimize() {
  Impl& m = *impl_;
  TEVO_ASSERT(m.mod, "KernelModule used after jit()");
  if (m.optimized)
    return;
  std::string msg;
  llvm::raw_string_ostream os(msg);
  if (llvm::verifyModule(*m.mod, &os)) {
    os.flush();
    TEVO_ASSERT(false, "generated LLVM module '{}' is invalid: {}", m.mod->getName().str(), msg);
  }
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions pto;
  pto.LoopVectorization = m.target.opt_level >= 2;
  pto.SLPVectorization = m.target.opt_level >= 2;
  pto.LoopUnrolling = m.target.opt_level >= 2;
  pto.LoopInterleaving = m.target.opt_level >= 2;
  // The target machine gives the pipeline the target's cost model (TTI): vector widths,
  // the cost of gathers and of the polynomial code's operations.
  llvm::PassBuilder pb(m.tm.get(), pto);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::OptimizationLevel level = llvm::OptimizationLevel::O3;
  switch (std::clamp(m.target.opt_level, 0, 3)) {
  case 0:
    level = llvm::OptimizationLevel::O0;
    break;
  case 1:
    level = llvm::OptimizationLevel::O1;
    break;
  case 2:
    level = llvm::OptimizationLevel::O2;
    break;
  default:
    break;
  }
  llvm::ModulePassManager mpm = level == llvm::OptimizationLevel::O0
                                    ? pb.buildO0DefaultPipeline(level)
                                    : pb.buildPerModuleDefaultPipeline(level);
  mpm.run(*m.mod, mam);
  vmath::expand_vector_math(*m.mod, *m.tm);
  stream::lower_stream_stores(*m.mod, *m.tm);
  m.optimized = true;
}

std::string KernelModule::llvm_ir() const {
  TEVO_ASSERT(impl_->mod, "KernelModule used after jit()");
  std::string s;
  llvm::raw_string_ostream os(s);
  impl_->mod->print(os, nullptr);
  os.flush();
  return s;
}

std::unique_ptr<JitCode> KernelModule::jit() {
  optimize();
  Impl& m = *impl_;
  // The same CPU, features and code model as the module was optimised for.
  llvm::orc::JITTargetMachineBuilder jtmb{llvm::Triple(m.mod->getTargetTriple())};
  jtmb.setCPU(m.target.cpu);
  jtmb.setFeatures(m.target.features);
  jtmb.setCodeGenOptLevel(codegen_level(m.target.opt_level));
  jtmb.setRelocationModel(llvm::Reloc::PIC_);
  auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(jtmb)).create();
  if (!jit) {
    std::string why = error_text(jit.takeError());
    TEVO_ASSERT(false, "cannot create the LLVM JIT: {}", why);
  }
  // Kernels may call the C library (memset/memcpy from idiom recognition, libm for f64
  // functions): resolve those against the running process.
  auto gen = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      (*jit)->getDataLayout().getGlobalPrefix());
  if (!gen) {
    std::string why = error_text(gen.takeError());
    TEVO_ASSERT(false, "cannot search the process for symbols: {}", why);
  }
  (*jit)->getMainJITDylib().addGenerator(std::move(*gen));
  llvm::orc::ThreadSafeModule tsm(std::move(m.mod), std::move(m.ctx));
  if (llvm::Error e = (*jit)->addIRModule(std::move(tsm))) {
    std::string why = error_text(std::move(e));
    TEVO_ASSERT(false, "cannot add the module to the JIT: {}", why);
  }
  return std::make_unique<LlvmJitCode>(std::move(*jit));
}

void KernelModule::emit_object(const std::string& path) {
  optimize();
  Impl& m = *impl_;
  // Code generation rewrites the IR it runs on (CodeGenPrepare, intrinsic lowering):
  // emit from a copy so that llvm_ir() and jit() still see the optimised module.
  std::unique_ptr<llvm::Module> copy = llvm::CloneModule(*m.mod);
  llvm::SmallVector<char, 0> buf;
  llvm::raw_svector_ostream os(buf);
  llvm::legacy::PassManager pm;
  bool cannot = m.tm->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile);
  TEVO_ASSERT(!cannot, "the target machine cannot emit object files");
  pm.run(*copy);
  rt::write_file_atomic(
      path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(buf.data()), buf.size()));
}

} // namespace tevo::cpu
