// module_aot.cpp: the LLVM side of AOT artefacts: the entry points added to a kernel
// module, and static libraries written with LLVM's archive writer.
//
// An artefact's object holds, besides the kernels, private constants for the serialised
// plan, the kernel table and the parameter mask, one `tevo_artefact` record
// (runtime/c_api.h) pointing at them, and the exported functions NAME_create, NAME_run,
// NAME_load_weights, NAME_last_error and NAME_destroy, each a tail call into the
// runtime's C API. Everything else in the module is made internal, so that several
// models link into one program without symbol clashes.
#include <llvm/IR/Constants.h>
#include <llvm/IR/DerivedTypes.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/Object/Archive.h>
#include <llvm/Object/ArchiveWriter.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/MemoryBuffer.h>

#include <string>
#include <vector>

#include "backends/cpu/aot.h"
#include "backends/cpu/llvm_internal.h"
#include "ir/diag.h"
#include "runtime/file_io.h"
#include "runtime/json.h"

namespace tevo::cpu {

namespace {

/// Must match TEVO_ARTEFACT_ABI in runtime/c_api.h (not included: it is a C header of
/// the runtime, and the record's layout below is what the number stands for).
constexpr uint32_t kArtefactAbi = 1;

/// A private constant global holding `bytes`.
llvm::GlobalVariable* byte_array(llvm::Module& m, const std::string& name,
                                 const std::vector<uint8_t>& bytes, unsigned align) {
  llvm::Constant* init = llvm::ConstantDataArray::get(m.getContext(), llvm::ArrayRef(bytes));
  auto* g = new llvm::GlobalVariable(m, init->getType(), /*isConstant=*/true,
                                     llvm::GlobalValue::PrivateLinkage, init, name);
  g->setAlignment(llvm::Align(align));
  g->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
  return g;
}

/// Frees `name` in the module: an existing (by now internal) value of that name is
/// renamed, so the exported symbol gets exactly `name`.
void reserve_name(llvm::Module& m, const std::string& name) {
  if (llvm::GlobalValue* old = m.getNamedValue(name)) {
    TEVO_ASSERT(old->hasLocalLinkage(), "exported symbol '{}' clashes with an external one",
                name);
    old->setName(name + ".internal");
  }
}

/// Defines `ret name(params...)` as a tail call of the runtime function `callee` with
/// `prefix` arguments followed by the function's own.
void forward(llvm::Module& m, const std::string& name, llvm::FunctionType* type,
             const std::string& callee, std::vector<llvm::Value*> prefix,
             llvm::FunctionType* callee_type) {
  reserve_name(m, name);
  auto* f = llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage, name, m);
  f->addFnAttr(llvm::Attribute::NoUnwind);
  llvm::FunctionCallee target = m.getOrInsertFunction(callee, callee_type);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(m.getContext(), "entry", f));
  std::vector<llvm::Value*> args = std::move(prefix);
  for (llvm::Argument& a : f->args())
    args.push_back(&a);
  llvm::CallInst* call = b.CreateCall(target, args);
  call->setTailCall();
  if (type->getReturnType()->isVoidTy())
    b.CreateRetVoid();
  else
    b.CreateRet(call);
}

[[noreturn]] void user_error(std::string msg) {
  throw ir::Error(ir::Diag{ir::Loc{}, std::move(msg), {}});
}

} // namespace

void add_aot_entry(KernelModule& km, const AotEntry& e) {
  KernelModule::Impl& impl = km.impl();
  TEVO_ASSERT(impl.mod, "KernelModule used after jit()");
  llvm::Module& m = *impl.mod;
  llvm::LLVMContext& c = *impl.ctx;

  // Kernels and their helpers are reached only through the table: keep them local (not
  // the llvm.* globals: their linkage is fixed).
  for (llvm::Function& f : m.functions())
    if (!f.isDeclaration())
      f.setLinkage(llvm::GlobalValue::InternalLinkage);
  for (llvm::GlobalVariable& g : m.globals())
    if (!g.isDeclaration() && !g.hasLocalLinkage() && !g.getName().starts_with("llvm."))
      g.setLinkage(llvm::GlobalValue::InternalLinkage);

  auto* ptr = llvm::PointerType::get(c, 0);
  auto* i32 = llvm::Type::getInt32Ty(c);
  auto* i64 = llvm::Type::getInt64Ty(c);

  llvm::GlobalVariable* plan = byte_array(m, e.name + ".plan", e.plan, 16);
  llvm::GlobalVariable* mask = byte_array(m, e.name + ".params", e.param_mask, 1);
  std::vector<llvm::Constant*> fns;
  for (const std::string& sym : e.kernels) {
    llvm::Function* f = m.getFunction(sym);
    TEVO_ASSERT(f && !f->isDeclaration(), "kernel '{}' is not in module '{}'", sym,
                m.getName().str());
    fns.push_back(f);
  }
  auto* table_type = llvm::ArrayType::get(ptr, fns.size());
  auto* table = new llvm::GlobalVariable(m, table_type, true, llvm::GlobalValue::PrivateLinkage,
                                         llvm::ConstantArray::get(table_type, fns),
                                         e.name + ".kernels");

  // struct tevo_artefact { u32 abi, num_kernels; const u8* plan; u64 plan_bytes;
  //                        const tevo_kernel_fn* kernels; const u8* param_mask;
  //                        u64 num_inputs; }
  auto* rec_type = llvm::StructType::get(c, {i32, i32, ptr, i64, ptr, ptr, i64});
  llvm::Constant* rec_init = llvm::ConstantStruct::get(
      rec_type, {llvm::ConstantInt::get(i32, kArtefactAbi),
                 llvm::ConstantInt::get(i32, e.kernels.size()), plan,
                 llvm::ConstantInt::get(i64, e.plan.size()), table, mask,
                 llvm::ConstantInt::get(i64, e.param_mask.size())});
  std::string rec_name = e.main ? "tevo_main_artefact" : e.name + ".artefact";
  if (e.main)
    reserve_name(m, rec_name);
  auto* rec = new llvm::GlobalVariable(
      m, rec_type, true,
      e.main ? llvm::GlobalValue::ExternalLinkage : llvm::GlobalValue::PrivateLinkage, rec_init,
      rec_name);

  auto* create_t = llvm::FunctionType::get(ptr, {i32}, false);
  forward(m, e.name + "_create", create_t, "tevo_model_create", {rec},
          llvm::FunctionType::get(ptr, {ptr, i32}, false));
  auto* run_t = llvm::FunctionType::get(i32, {ptr, ptr, ptr}, false);
  forward(m, e.name + "_run", run_t, "tevo_model_run", {}, run_t);
  auto* load_t = llvm::FunctionType::get(i32, {ptr, ptr}, false);
  forward(m, e.name + "_load_weights", load_t, "tevo_model_load_weights", {}, load_t);
  auto* err_t = llvm::FunctionType::get(ptr, {ptr}, false);
  forward(m, e.name + "_last_error", err_t, "tevo_model_last_error", {}, err_t);
  auto* destroy_t = llvm::FunctionType::get(llvm::Type::getVoidTy(c), {ptr}, false);
  forward(m, e.name + "_destroy", destroy_t, "tevo_model_destroy", {}, destroy_t);
}

void write_archive(const std::string& path, const std::vector<std::string>& objects) {
  std::vector<llvm::NewArchiveMember> members;
  std::vector<std::string> names;
  names.reserve(objects.size()); // MemberName points into these strings
  for (const std::string& o : objects) {
    auto mem = llvm::NewArchiveMember::getFile(o, /*Deterministic=*/true);
    if (!mem)
      user_error(o + ": " + llvm::toString(mem.takeError()));
    names.push_back(o.substr(o.find_last_of('/') + 1));
    mem->MemberName = names.back();
    members.push_back(std::move(*mem));
  }
  std::string warnings;
  auto buf = llvm::writeArchiveToBuffer(
      members, llvm::SymtabWritingMode::NormalSymtab, llvm::object::Archive::K_GNU,
      /*Deterministic=*/true, /*Thin=*/false,
      [&](llvm::Error w) { warnings += llvm::toString(std::move(w)); });
  if (!buf)
    user_error(path + ": cannot write the archive: " + llvm::toString(buf.takeError()));
  if (!warnings.empty())
    user_error(path + ": cannot write the archive: " + warnings);
  try {
    rt::write_file_atomic(path, std::span<const uint8_t>(
                                    reinterpret_cast<const uint8_t*>((*buf)->getBufferStart()),
                                    (*buf)->getBufferSize()));
  } catch (const rt::Error& err) {
    user_error(err.what());
  }
}

} // namespace tevo::cpu
