// emit_group.cpp: one loop group (`fused {kind = "loop"}`) -> one kernel function.
//
// The kernel has the ABI of runtime/plan.h: `int32_t k(void* const* args, int64_t begin,
// int64_t end)`. It loads the operand and result pointers and calls an internal body
// function that takes them as noalias parameters (the inliner keeps that as alias scopes).
// Map groups loop over the domain D, parallel over its leading dims; reduce groups loop
// over the kept dims O (parallel) and, inside, once over the reduced dims R per reduction,
// then once more to store D-shaped results. The contract is in docs/BACKEND.md and the
// shared brief ("Loop groups"); the body's values come from BodyEmitter (emit_eval.h).
#include <llvm/IR/Constants.h>
#include <llvm/IR/Intrinsics.h>

#include "backends/cpu/emit_eval.h"
#include "backends/cpu/emit_loops.h"
#include "ir/op_def.h"

namespace tevo::cpu {

namespace {

using Ints = std::vector<int64_t>;

/// Work (elements) worth one parallel iteration or one thread's share.
constexpr int64_t kMinWork = 32768;
/// Fewest elements worth one parallel iteration of a map group.
constexpr int64_t kMinInner = 256;

int64_t product(const Ints& d, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to; ++i)
    p *= d[i];
  return p;
}

bool is_loop_reduction(ir::OpKind k) {
  return k == ir::OpKind::Sum || k == ir::OpKind::Max || k == ir::OpKind::Min ||
         k == ir::OpKind::Prod;
}

bool is_supported(const ir::Node& n) {
  using K = ir::OpKind;
  if (n.def().scalar || is_loop_reduction(n.op))
    return true;
  switch (n.op) {
  case K::Transpose:
  case K::Reshape:
  case K::BroadcastTo:
  case K::Slice:
  case K::Pad:
  case K::Concat:
  case K::Tril:
  case K::Triu:
  case K::Gather:
  case K::Take:
  case K::Embedding:
  case K::OneHot:
  case K::Full:
  case K::Iota:
  case K::Arange:
  case K::Constant:
    return true;
  default:
    return false;
  }
}

[[noreturn]] void fail_at(const ir::Node& group, const std::string& msg) {
  throw ir::Error(ir::Diag{group.loc, msg, {}});
}

/// Rejects what the generator cannot do before any IR is created.
void check_body(const ir::Node& group, const ir::Graph& body) {
  for (const ir::Value* v : body.inputs())
    if (ir::is_complex(v->type.dtype))
      fail_at(group, fmt::format("cpu codegen: loop group input {} is {}: complex dtypes are "
                                 "not supported",
                                 v->index, v->type.str()));
  for (const auto& np : body.nodes()) {
    const ir::Node& n = *np;
    std::string_view name = n.def().name;
    if (!is_supported(n))
      fail_at(group, fmt::format("cpu codegen: {} cannot be generated in a loop group", name));
    if (n.num_results() != 1)
      fail_at(group, fmt::format("cpu codegen: {} with {} results cannot be generated in a "
                                 "loop group",
                                 name, n.num_results()));
    for (const ir::Value* x : n.operands)
      if (ir::is_complex(x->type.dtype))
        fail_at(group, fmt::format("cpu codegen: {} on {}: complex dtypes are not supported",
                                   name, x->type.str()));
    if (ir::is_complex(n.result()->type.dtype))
      fail_at(group, fmt::format("cpu codegen: {} to {}: complex dtypes are not supported", name,
                                 n.result()->type.str()));
    if (is_loop_reduction(n.op) && ir::is_bool(n.result()->type.dtype) &&
        (n.op == ir::OpKind::Sum || n.op == ir::OpKind::Prod))
      fail_at(group, fmt::format("cpu codegen: {} of bool is not supported", name));
  }
}

/// The loop structure of a group: its domain D and, for reduce groups, the reduced dims.
struct Structure {
  Ints d;                                  ///< the domain D
  std::vector<bool> reduced;               ///< per dim of D: in R (all false: map group)
  std::vector<const ir::Node*> reductions; ///< in body (topological) order
  Ints kept;                               ///< O_drop: the dims of D not in R
  Ints keep_dims;                          ///< O_keep: D with R dims set to 1
};

Structure analyse(const ir::Node& group, const ir::Graph& body) {
  Structure s;
  for (const auto& np : body.nodes())
    if (is_loop_reduction(np->op))
      s.reductions.push_back(np.get());
  if (s.reductions.empty()) {
    s.d = body.outputs[0]->type.shape.to_vector();
    for (const ir::Value* v : body.outputs)
      if (v->type.shape.to_vector() != s.d)
        fail_at(group, fmt::format("cpu codegen: map group results differ in shape: {} vs {}",
                                   body.outputs[0]->type.str(), v->type.str()));
    s.reduced.assign(s.d.size(), false);
    s.kept = s.keep_dims = s.d;
    return s;
  }
  const ir::Node& r0 = *s.reductions[0];
  s.d = r0.operand(0)->type.shape.to_vector();
  auto axes_of = [&](const ir::Node& r) {
    std::vector<bool> red(s.d.size(), r.attrs.i64_list("axes").empty());
    for (int64_t a : r.attrs.i64_list("axes"))
      red[static_cast<size_t>(*ir::normalize_axis(a, static_cast<int64_t>(s.d.size())))] = true;
    return red;
  };
  s.reduced = axes_of(r0);
  for (const ir::Node* r : s.reductions)
    if (r->operand(0)->type.shape.to_vector() != s.d || axes_of(*r) != s.reduced)
      fail_at(group, fmt::format("cpu codegen: reductions {} and {} of a loop group differ in "
                                 "operand shape or axes",
                                 r0.scoped_name(), r->scoped_name()));
  for (size_t i = 0; i < s.d.size(); ++i) {
    if (!s.reduced[i])
      s.kept.push_back(s.d[i]);
    s.keep_dims.push_back(s.reduced[i] ? 1 : s.d[i]);
  }
  for (const ir::Value* v : body.outputs) {
    Ints sh = v->type.shape.to_vector();
    if (sh != s.d && sh != s.kept && sh != s.keep_dims)
      fail_at(group, fmt::format("cpu codegen: reduce group result {} is neither the domain "
                                 "{} nor its reduced shape",
                                 v->type.str(), ir::Shape(s.d).str()));
  }
  return s;
}

/// Emits the combine step of reduction `op` and returns the new accumulator.
llvm::Value* combine(llvm::IRBuilder<>& b, ir::OpKind op, ir::DType t, llvm::Value* acc,
                     llvm::Value* v) {
  bool fp = ir::is_float(t);
  bool flag = ir::is_bool(t);
  llvm::Value* r = nullptr;
  switch (op) {
  case ir::OpKind::Sum:
    r = fp ? b.CreateFAdd(acc, v) : b.CreateAdd(acc, v);
    break;
  case ir::OpKind::Prod:
    r = fp ? b.CreateFMul(acc, v) : b.CreateMul(acc, v);
    break;
  case ir::OpKind::Max: // NaN-propagating (llvm.maximum), like the reference
    r = fp ? b.CreateBinaryIntrinsic(llvm::Intrinsic::maximum, acc, v)
        : flag ? b.CreateOr(acc, v)
               : b.CreateBinaryIntrinsic(llvm::Intrinsic::smax, acc, v);
    break;
  case ir::OpKind::Min:
    r = fp ? b.CreateBinaryIntrinsic(llvm::Intrinsic::minimum, acc, v)
        : flag ? b.CreateAnd(acc, v)
               : b.CreateBinaryIntrinsic(llvm::Intrinsic::smin, acc, v);
    break;
  default:
    TEVO_ASSERT(false, "not a loop reduction");
  }
  // f32 sums may be reassociated (vectorised, several partial sums), as documented.
  if (auto* inst = llvm::dyn_cast<llvm::Instruction>(r); inst && fp &&
                                                         llvm::isa<llvm::FPMathOperator>(inst))
    inst->setHasAllowReassoc(true);
  return r;
}

/// The identity of reduction `op` in type `ty` (dtype t).
llvm::Value* identity(llvm::IRBuilder<>& b, ir::OpKind op, ir::DType t, llvm::Type* ty) {
  bool hi = op == ir::OpKind::Min;
  if (op == ir::OpKind::Sum)
    return llvm::Constant::getNullValue(ty);
  if (op == ir::OpKind::Prod)
    return ir::is_float(t) ? llvm::ConstantFP::get(ty, 1.0) : llvm::ConstantInt::get(ty, 1);
  if (ir::is_float(t))
    return llvm::ConstantFP::getInfinity(ty, /*Negative=*/!hi);
  if (ir::is_bool(t))
    return hi ? b.getTrue() : b.getFalse();
  unsigned bits = ty->getIntegerBitWidth();
  return b.getInt(hi ? llvm::APInt::getSignedMaxValue(bits) : llvm::APInt::getSignedMinValue(bits));
}

/// Generates the body function of one group.
class GroupEmitter {
public:
  GroupEmitter(KernelModule::Impl& impl, const KernelSpec& spec, llvm::Function* f,
               KernelInfo& info)
      : group_(*spec.group), body_(*group_.attrs.get("body").region()),
        s_(analyse(group_, body_)), f_(f), b_(*impl.ctx), info_(info) {
    llvm::BasicBlock* entry = llvm::BasicBlock::Create(*impl.ctx, "entry", f);
    llvm::BasicBlock* start = llvm::BasicBlock::Create(*impl.ctx, "start", f);
    b_.SetInsertPoint(entry);
    b_.CreateBr(start);
    b_.SetInsertPoint(start);
    entry_ = entry;
    std::vector<OperandAccess> ops;
    for (int i = 0; i < group_.num_operands(); ++i) {
      const ir::Shape& sh = body_.input(i)->type.shape;
      const auto& given = spec.operand_strides;
      Ints st = i < static_cast<int>(given.size()) && !given[static_cast<size_t>(i)].empty()
                    ? given[static_cast<size_t>(i)]
                    : sh.strides();
      TEVO_ASSERT(static_cast<int64_t>(st.size()) == sh.rank(),
                  "operand {} of {} has {} strides for rank {}", i, spec.symbol, st.size(),
                  sh.rank());
      ops.push_back({f->getArg(static_cast<unsigned>(i)), st});
    }
    e_ = std::make_unique<BodyEmitter>(b_, *impl.mod, group_, std::move(ops), entry, info.errors);
  }

  void run() {
    int64_t nargs = group_.num_operands() + static_cast<int64_t>(body_.outputs.size());
    llvm::Value* begin = f_->getArg(static_cast<unsigned>(nargs));
    llvm::Value* end = f_->getArg(static_cast<unsigned>(nargs + 1));
    // Nothing to compute: an empty domain, or (reduce groups) no kept element. A reduce
    // group over an empty R still stores its identities.
    const Ints& par = s_.reductions.empty() ? s_.d : s_.kept;
    if (product(par, 0, par.size()) == 0) {
      info_.extent = 0;
      b_.CreateRet(b_.getInt32(0));
      return;
    }
    if (s_.reductions.empty())
      map_group(begin, end);
    else
      reduce_group(begin, end);
    b_.CreateRet(e_->error_code());
  }

private:
  void store(size_t j, const Index& idx, const Ints& dims) {
    const ir::Value* v = body_.outputs[j];
    llvm::Value* x = e_->emit(v, idx);
    llvm::Value* ptr = f_->getArg(static_cast<unsigned>(group_.num_operands()) +
                                  static_cast<unsigned>(j));
    llvm::Value* p = b_.CreateInBoundsGEP(storage_type(b_.getContext(), v->type.dtype), ptr,
                                          ravel_dense(b_, idx, dims));
    store_element(b_, v->type.dtype, x, p);
  }

  /// Loops over D: the leading dims [0, k) are flattened into the parallel index, the
  /// rest are loops inside one parallel iteration. k is the largest split that leaves
  /// kMinInner elements per iteration (amortising the index split, keeping the inner loops
  /// long enough to vectorise); the grain then gives each thread kMinWork elements.
  void map_group(llvm::Value* begin, llvm::Value* end) {
    const Ints& d = s_.d;
    size_t k = 0;
    for (size_t i = d.size(); i-- > 0;)
      if (product(d, i, d.size()) >= kMinInner) {
        k = i;
        break;
      }
    info_.extent = product(d, 0, k);
    int64_t inner = product(d, k, d.size());
    info_.grain = std::max<int64_t>(1, (kMinWork + inner - 1) / inner);
    LoopNest outer(b_, *e_);
    llvm::Value* r = outer.open(begin, end, "par");
    Index idx = unravel(b_, r, Ints(d.begin(), d.begin() + static_cast<ptrdiff_t>(k)));
    LoopNest nest(b_, *e_);
    for (size_t i = k; i < d.size(); ++i)
      idx.push_back(nest.open_dim(d[i], "i" + std::to_string(i)));
    for (size_t j = 0; j < body_.outputs.size(); ++j)
      store(j, idx, d);
    nest.close_all();
    outer.close_all();
  }

  /// The D index from the outer (O_drop) index and the R loop variables.
  Index domain_index(const Index& o, const Index& rv) const {
    Index idx;
    size_t io = 0, ir_ = 0;
    for (size_t i = 0; i < s_.d.size(); ++i)
      idx.push_back(s_.reduced[i] ? rv[ir_++] : o[io++]);
    return idx;
  }

  /// Opens loops over the R dims (in order: the last one innermost) and returns their
  /// variables (constant 0 for an extent-1 dim).
  Index open_reduced(LoopNest& nest) {
    Index rv;
    for (size_t i = 0; i < s_.d.size(); ++i)
      if (s_.reduced[i])
        rv.push_back(nest.open_dim(s_.d[i], "r" + std::to_string(i)));
    return rv;
  }

  void reduce_group(llvm::Value* begin, llvm::Value* end) {
    info_.extent = product(s_.kept, 0, s_.kept.size());
    int64_t red = product(s_.d, 0, s_.d.size()) / std::max<int64_t>(1, info_.extent);
    info_.grain = std::max<int64_t>(1, kMinWork / std::max<int64_t>(1, red));
    // Per body node: the last reduction (position in s_.reductions) it depends on, -1: none.
    std::map<const ir::Value*, int> last;
    for (size_t j = 0; j < s_.reductions.size(); ++j)
      last[s_.reductions[j]->result()] = static_cast<int>(j);
    for (const auto& np : body_.nodes()) {
      int m = last.count(np->result()) ? last[np->result()] : -1;
      for (const ir::Value* x : np->operands)
        if (auto it = last.find(x); it != last.end())
          m = std::max(m, it->second);
      last[np->result()] = m;
    }
    LoopNest outer(b_, *e_);
    llvm::Value* r = outer.open(begin, end, "par");
    Index o = unravel(b_, r, s_.kept);
    Index keep;
    for (size_t i = 0, io = 0; i < s_.d.size(); ++i)
      keep.push_back(s_.reduced[i] ? e_->i64(0) : o[io++]);
    for (size_t j = 0; j < s_.reductions.size(); ++j) {
      const ir::Node& rn = *s_.reductions[j];
      ir::DType t = rn.result()->type.dtype;
      llvm::Type* ty = compute_type(b_.getContext(), t);
      llvm::AllocaInst* acc;
      {
        llvm::IRBuilder<> ab(entry_->getTerminator());
        acc = ab.CreateAlloca(ty, nullptr, "acc");
      }
      b_.CreateStore(identity(b_, rn.op, t, ty), acc);
      LoopNest nest(b_, *e_);
      Index idx = domain_index(o, open_reduced(nest));
      llvm::Value* v = e_->emit(rn.operand(0), idx);
      b_.CreateStore(combine(b_, rn.op, t, b_.CreateLoad(ty, acc), v), acc);
      nest.close_all();
      bool keepdims = rn.result()->type.shape.rank() == static_cast<int64_t>(s_.d.size());
      e_->set_reduced(&rn, b_.CreateLoad(ty, acc), keepdims ? keep : o);
      // O-shaped values that now have all their reductions: once per outer iteration.
      for (const auto& np : body_.nodes()) {
        const ir::Value* v2 = np->result();
        if (last[v2] != static_cast<int>(j) || is_loop_reduction(np->op))
          continue;
        Ints sh = v2->type.shape.to_vector();
        if (sh == s_.d)
          continue;
        if (sh == s_.keep_dims)
          e_->emit(v2, keep);
        else if (sh == s_.kept)
          e_->emit(v2, o);
      }
    }
    bool any_d = false;
    for (size_t j = 0; j < body_.outputs.size(); ++j) {
      Ints sh = body_.outputs[j]->type.shape.to_vector();
      if (sh == s_.d)
        any_d = true;
      else if (sh == s_.keep_dims)
        store(j, keep, s_.keep_dims);
      else
        store(j, o, s_.kept);
    }
    if (any_d) {
      LoopNest nest(b_, *e_);
      Index idx = domain_index(o, open_reduced(nest));
      for (size_t j = 0; j < body_.outputs.size(); ++j)
        if (body_.outputs[j]->type.shape.to_vector() == s_.d)
          store(j, idx, s_.d);
      nest.close_all();
    }
    outer.close_all();
  }

  const ir::Node& group_;
  const ir::Graph& body_;
  Structure s_;
  llvm::Function* f_;
  llvm::IRBuilder<> b_;
  KernelInfo& info_;
  llvm::BasicBlock* entry_ = nullptr;
  std::unique_ptr<BodyEmitter> e_;
};

/// Adds the target's CPU and features so that cost models see the real machine.
void set_target_attrs(const KernelModule::Impl& impl, llvm::Function* f) {
  f->addFnAttr(llvm::Attribute::NoUnwind);
  if (!impl.tm)
    return;
  f->addFnAttr("target-cpu", impl.tm->getTargetCPU());
  f->addFnAttr("target-features", impl.tm->getTargetFeatureString());
}

} // namespace

KernelInfo emit_group(KernelModule::Impl& impl, const KernelSpec& spec) {
  TEVO_ASSERT(impl.mod, "KernelModule::add after jit()");
  TEVO_ASSERT(spec.group && spec.group->op == ir::OpKind::Fused, "kernel spec without a group");
  const ir::Node& group = *spec.group;
  if (group.attrs.get("kind").str() != "loop")
    fail_at(group, fmt::format("cpu codegen: fused group of kind \"{}\" is not a loop group",
                               group.attrs.get("kind").str()));
  const ir::Graph& body = *group.attrs.get("body").region();
  check_body(group, body);
  TEVO_ASSERT(!impl.mod->getNamedValue(spec.symbol), "kernel symbol {} defined twice",
              spec.symbol);

  llvm::LLVMContext& c = *impl.ctx;
  unsigned nops = static_cast<unsigned>(group.num_operands());
  unsigned nargs = nops + static_cast<unsigned>(body.outputs.size());
  std::vector<llvm::Type*> params(nargs, llvm::PointerType::getUnqual(c));
  params.push_back(llvm::Type::getInt64Ty(c));
  params.push_back(llvm::Type::getInt64Ty(c));
  auto* body_ty = llvm::FunctionType::get(llvm::Type::getInt32Ty(c), params, false);
  llvm::Function* bf = llvm::Function::Create(body_ty, llvm::GlobalValue::InternalLinkage,
                                              spec.symbol + ".body", *impl.mod);
  set_target_attrs(impl, bf);
  std::vector<bool> shared(nargs, false);
  for (auto [opnd, res] : spec.inplace) {
    shared[static_cast<size_t>(opnd)] = true;
    shared[nops + static_cast<size_t>(res)] = true;
  }
  for (unsigned i = 0; i < nargs; ++i) {
    bf->addParamAttr(i, llvm::Attribute::NoCapture);
    if (!shared[i])
      bf->addParamAttr(i, llvm::Attribute::NoAlias);
    if (i < nops && !shared[i])
      bf->addParamAttr(i, llvm::Attribute::ReadOnly);
  }

  KernelInfo info;
  try {
    GroupEmitter(impl, spec, bf, info).run();
  } catch (...) {
    bf->eraseFromParent();
    throw;
  }

  // The ABI entry: unpack args[] and call the body.
  auto* ptr = llvm::PointerType::getUnqual(c);
  auto* i64 = llvm::Type::getInt64Ty(c);
  auto* kty = llvm::FunctionType::get(llvm::Type::getInt32Ty(c), {ptr, i64, i64}, false);
  llvm::Function* kf = llvm::Function::Create(kty, llvm::GlobalValue::ExternalLinkage,
                                              spec.symbol, *impl.mod);
  set_target_attrs(impl, kf);
  kf->addParamAttr(0, llvm::Attribute::NoCapture);
  kf->addParamAttr(0, llvm::Attribute::ReadOnly);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(c, "entry", kf));
  std::vector<llvm::Value*> args;
  for (unsigned i = 0; i < nargs; ++i)
    args.push_back(b.CreateLoad(ptr, b.CreateConstInBoundsGEP1_64(ptr, kf->getArg(0), i)));
  // An in-place result is written through its operand's pointer (the executor passes the
  // same address for both): with one pointer, LLVM sees each element read before it is
  // written at the same index and vectorises; two unrelated pointers would need run-time
  // overlap checks, which fail for in-place buffers and fall back to scalar code (10x).
  for (auto [opnd, res] : spec.inplace)
    args[nops + static_cast<size_t>(res)] = args[static_cast<size_t>(opnd)];
  args.push_back(kf->getArg(1));
  args.push_back(kf->getArg(2));
  b.CreateRet(b.CreateCall(bf, args));
  impl.optimized = false;
  return info;
}

KernelInfo KernelModule::add(const KernelSpec& spec) {
  return emit_group(*impl_, spec);
}

} // namespace tevo::cpu
