// emit_eval.cpp: BodyEmitter core: memoised evaluation, body inputs, elementwise ops (through
// their registry scalar definitions), sources, reductions' values and data-error flags.
//
// Views live in emit_views.cpp and gathers in emit_index.cpp; the loop nest that calls
// emit() is built by GroupEmitter (emit_group.h).
#include "backends/cpu/emit_eval.h"

#include <llvm/IR/Constants.h>

#include "ir/op_def.h"
#include "ir/op_registry.h"

namespace tevo::cpu {

llvm::Value* add_nw(llvm::IRBuilder<>& b, llvm::Value* x, llvm::Value* y) {
  return b.CreateAdd(x, y, "", /*HasNUW=*/true, /*HasNSW=*/true);
}

llvm::Value* mul_nw(llvm::IRBuilder<>& b, llvm::Value* x, llvm::Value* y) {
  return b.CreateMul(x, y, "", /*HasNUW=*/true, /*HasNSW=*/true);
}

llvm::Value* add_scaled(llvm::IRBuilder<>& b, llvm::Value* y, llvm::Value* x, int64_t c) {
  if (c == 0)
    return y;
  llvm::Value* t = x;
  if (c != 1) {
    llvm::Value* k = b.getInt64(static_cast<uint64_t>(c));
    // A negative stride is legal for an operand; its product is not unsigned-safe.
    t = c > 0 ? mul_nw(b, x, k) : b.CreateNSWMul(x, k);
  }
  if (!y)
    return t;
  return c > 0 ? add_nw(b, y, t) : b.CreateNSWAdd(y, t);
}

llvm::Value* ravel_dense(llvm::IRBuilder<>& b, const Index& idx, const std::vector<int64_t>& dims) {
  llvm::Value* off = nullptr;
  int64_t stride = 1;
  for (size_t d = dims.size(); d-- > 0;) {
    if (dims[d] != 1)
      off = add_scaled(b, off, idx[d], stride);
    stride *= dims[d];
  }
  return off ? off : b.getInt64(0);
}

Index unravel(llvm::IRBuilder<>& b, llvm::Value* flat, const std::vector<int64_t>& dims) {
  Index idx(dims.size(), b.getInt64(0));
  // The first non-unit dim takes what is left: no division for it.
  size_t first = dims.size();
  for (size_t d = 0; d < dims.size(); ++d)
    if (dims[d] != 1) {
      first = d;
      break;
    }
  for (size_t d = dims.size(); d-- > 0;) {
    if (dims[d] == 1)
      continue;
    if (d == first) {
      idx[d] = flat;
      break;
    }
    llvm::Value* n = b.getInt64(static_cast<uint64_t>(dims[d]));
    idx[d] = b.CreateURem(flat, n);
    flat = b.CreateUDiv(flat, n);
  }
  return idx;
}

BodyEmitter::BodyEmitter(llvm::IRBuilder<>& b, llvm::Module& m, const ir::Node& group,
                         std::vector<OperandAccess> operands, llvm::BasicBlock* alloca_block,
                         std::vector<std::string>& errors)
    : b_(b), m_(m), group_(group), body_(*group.attrs.get("body").region()), sb_(b, m),
      operands_(std::move(operands)), alloca_block_(alloca_block), errors_(errors) {
  memo_.emplace_back();
}

void BodyEmitter::fail(const std::string& message) const {
  throw ir::Error(ir::Diag{group_.loc, message, {}});
}

void BodyEmitter::push_scope() {
  memo_.emplace_back();
}

void BodyEmitter::pop_scope() {
  TEVO_ASSERT(memo_.size() > 1, "unbalanced memo scopes");
  memo_.pop_back();
}

void BodyEmitter::set_reduced(const ir::Node* n, llvm::Value* v, Index canonical) {
  reduced_[n] = {v, std::move(canonical)};
}

void BodyEmitter::define(const ir::Value* v, const Index& idx, llvm::Value* x) {
  TEVO_ASSERT(static_cast<int64_t>(idx.size()) == v->type.shape.rank(),
              "index of rank {} for a value of rank {}", idx.size(), v->type.shape.rank());
  memo_.back().insert_or_assign(Key{v, idx}, x);
}

llvm::Value* BodyEmitter::emit(const ir::Value* v, const Index& idx) {
  TEVO_ASSERT(static_cast<int64_t>(idx.size()) == v->type.shape.rank(),
              "index of rank {} for a value of rank {}", idx.size(), v->type.shape.rank());
  Key key{v, idx};
  for (auto s = memo_.rbegin(); s != memo_.rend(); ++s)
    if (auto it = s->find(key); it != s->end())
      return it->second;
  llvm::Value* r = v->is_input() ? load_input(v->index, idx) : compute(*v->producer, idx);
  memo_.back().emplace(std::move(key), r);
  return r;
}

llvm::Value* BodyEmitter::compute(const ir::Node& n, const Index& idx) {
  using K = ir::OpKind;
  const ir::OpDef& def = n.def();
  if (n.num_results() != 1)
    fail(fmt::format("cpu codegen: {} with {} results cannot be generated in a loop group",
                     def.name, n.num_results()));
  if (def.scalar)
    return elementwise(n, idx);
  switch (n.op) {
  case K::Transpose:
  case K::Reshape:
  case K::BroadcastTo:
  case K::Slice:
  case K::Pad:
  case K::Concat:
  case K::Tril:
  case K::Triu:
    return view(n, idx);
  case K::Gather:
  case K::Take:
  case K::Embedding:
  case K::OneHot:
    return indexed(n, idx);
  case K::Full:
  case K::Iota:
  case K::Arange:
  case K::Constant:
    return source(n, idx);
  case K::Sum:
  case K::Max:
  case K::Min:
  case K::Prod:
    return reduced(n, idx);
  default:
    break;
  }
  fail(fmt::format("cpu codegen: {} cannot be generated in a loop group", def.name));
}

llvm::Value* BodyEmitter::load_input(int i, const Index& idx) {
  const OperandAccess& a = operands_[static_cast<size_t>(i)];
  ir::DType t = body_.input(i)->type.dtype;
  llvm::Value* off = nullptr;
  for (size_t d = 0; d < idx.size(); ++d)
    off = add_scaled(b_, off, idx[d], a.strides[d]);
  if (!off)
    off = i64(0);
  llvm::Value* p = b_.CreateInBoundsGEP(storage_type(b_.getContext(), t), a.ptr, off);
  return load_element(b_, t, p);
}

Index BodyEmitter::broadcast_index(const ir::Shape& s, const Index& idx) {
  size_t r = idx.size(), rs = static_cast<size_t>(s.rank());
  TEVO_ASSERT(rs <= r, "operand of rank {} broadcast to rank {}", rs, r);
  Index out(rs);
  for (size_t j = 0; j < rs; ++j)
    out[j] = s.dim(static_cast<int64_t>(j)) == 1 ? i64(0) : idx[r - rs + j];
  return out;
}

namespace {

/// A float x / y whose divisor is constant along the result's last dim (a row sum, a norm,
/// a scalar): the one division worth turning into a reciprocal and a multiply.
bool divides_by_row_constant(const ir::Node& n) {
  if (n.op != ir::OpKind::Div || !ir::is_float(n.result()->type.dtype))
    return false;
  const ir::Shape& r = n.result()->type.shape;
  const ir::Shape& y = n.operand(1)->type.shape;
  return r.rank() > 0 && r.dim(r.rank() - 1) > 1 && (y.rank() == 0 || y.dim(y.rank() - 1) == 1);
}

} // namespace

llvm::Value* BodyEmitter::elementwise(const ir::Node& n, const Index& idx) {
  std::vector<ir::SVal> args;
  args.reserve(n.operands.size());
  for (const ir::Value* x : n.operands)
    args.push_back(sb_.wrap(emit(x, broadcast_index(x->type.shape, idx)), x->type.dtype));
  // x * (1 / y) written out: one reciprocal per row once LICM hoists it, a multiply per
  // element, and the same formula for every element whichever loop (vector body or
  // remainder, at a thread's chunk boundary) computes it. Other divisions are exact.
  ir::SVal r = divides_by_row_constant(n)
                   ? sb_.apply(ir::ScalarOp::Mul,
                               std::vector<ir::SVal>{
                                   args[0], sb_.apply(ir::ScalarOp::Div,
                                                      std::vector<ir::SVal>{
                                                          sb_.constant(1.0, n.operand(1)->type.dtype),
                                                          args[1]})})
                   : n.def().scalar(sb_, args, n.attrs);
  ir::DType want = n.result()->type.dtype;
  if (r.type != want) // a scalar definition may compute in another dtype: convert as cast
    r = sb_.cast(r, want);
  return sb_.get(r);
}

llvm::Value* BodyEmitter::convert(llvm::Value* v, ir::DType from, ir::DType to) {
  if (from == to)
    return v;
  return sb_.get(sb_.cast(sb_.wrap(v, from), to));
}

llvm::Value* BodyEmitter::zero_of(ir::DType t) {
  return sb_.get(sb_.constant(0, t));
}

llvm::Value* BodyEmitter::source(const ir::Node& n, const Index& idx) {
  const ir::TensorType& t = n.result()->type;
  switch (n.op) {
  case ir::OpKind::Full: // the f64 attribute converted as storing it would (like cast)
    return convert(sb_.get(sb_.constant(n.attrs.f64("value"), ir::DType::F64)), ir::DType::F64,
                   t.dtype);
  case ir::OpKind::Iota: {
    int64_t axis = *ir::normalize_axis(n.attrs.i64("axis"), t.shape.rank());
    return convert(idx[static_cast<size_t>(axis)], ir::DType::I64, t.dtype);
  }
  case ir::OpKind::Arange: { // start + i * step in double, then rounded (the reference's order)
    ir::SVal i = sb_.cast(sb_.wrap(idx[0], ir::DType::I64), ir::DType::F64);
    ir::SVal v = sb_.add(sb_.constant(n.attrs.f64("start"), ir::DType::F64),
                         sb_.mul(i, sb_.constant(n.attrs.f64("step"), ir::DType::F64)));
    return convert(sb_.get(v), ir::DType::F64, t.dtype);
  }
  case ir::OpKind::Constant: {
    llvm::GlobalVariable*& g = constants_[&n];
    if (!g) {
      const ir::DenseData& d = *n.attrs.get("value").dense();
      llvm::Constant* init = llvm::ConstantDataArray::get(b_.getContext(), d.bytes);
      g = new llvm::GlobalVariable(m_, init->getType(), /*isConstant=*/true,
                                   llvm::GlobalValue::PrivateLinkage, init, "tevo.const");
      g->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
      g->setAlignment(llvm::Align(64));
    }
    llvm::Value* off = ravel_dense(b_, idx, t.shape.to_vector());
    llvm::Value* p = b_.CreateInBoundsGEP(storage_type(b_.getContext(), t.dtype), g, off);
    return load_element(b_, t.dtype, p);
  }
  default:
    break;
  }
  fail(fmt::format("cpu codegen: {} cannot be generated in a loop group", n.def().name));
}

/// Two index entries that denote the same value (one SSA value, or equal constants).
static bool same_index(llvm::Value* a, llvm::Value* b) {
  if (a == b)
    return true;
  auto* ca = llvm::dyn_cast<llvm::ConstantInt>(a);
  auto* cb = llvm::dyn_cast<llvm::ConstantInt>(b);
  return ca && cb && ca->getValue() == cb->getValue();
}

llvm::Value* BodyEmitter::reduced(const ir::Node& n, const Index& idx) {
  auto it = reduced_.find(&n);
  TEVO_ASSERT(it != reduced_.end(), "reduction read before its loop ran");
  const Index& canon = it->second.second;
  bool ok = canon.size() == idx.size();
  for (size_t d = 0; ok && d < idx.size(); ++d)
    ok = same_index(canon[d], idx[d]);
  TEVO_ASSERT(ok, "reduction {} read at a non-canonical index (fuse contract)", n.scoped_name());
  return it->second.first;
}

int BodyEmitter::error_site(const ir::Node& n) {
  auto it = site_of_.find(&n);
  if (it != site_of_.end())
    return it->second;
  const ir::Loc& loc = n.loc.known() ? n.loc : group_.loc;
  const std::string& name = n.scoped_name().empty() ? group_.scoped_name() : n.scoped_name();
  errors_.push_back(
      fmt::format("{} index out of range at {} ({})", n.def().name, name, loc.str()));
  llvm::IRBuilder<> ab(alloca_block_->getTerminator());
  llvm::AllocaInst* flag = ab.CreateAlloca(ab.getInt1Ty(), nullptr, "err.flag");
  ab.CreateStore(ab.getFalse(), flag);
  flags_.push_back(flag);
  int site = static_cast<int>(flags_.size()) - 1;
  site_of_[&n] = site;
  return site;
}

llvm::Value* BodyEmitter::checked_index(const ir::Node& n, llvm::Value* v, int64_t dim) {
  llvm::Value* k = b_.CreateSExtOrTrunc(v, b_.getInt64Ty());
  // Unsigned compare: a negative index wraps above dim.
  llvm::Value* bad = b_.CreateICmpUGE(k, i64(dim));
  llvm::AllocaInst* flag = flags_[static_cast<size_t>(error_site(n))];
  b_.CreateStore(b_.CreateOr(b_.CreateLoad(b_.getInt1Ty(), flag), bad), flag);
  return b_.CreateSelect(bad, i64(0), k);
}

llvm::Value* BodyEmitter::error_code() {
  llvm::Value* code = b_.getInt32(0);
  for (size_t k = flags_.size(); k-- > 0;) {
    llvm::Value* set = b_.CreateLoad(b_.getInt1Ty(), flags_[k]);
    code = b_.CreateSelect(set, b_.getInt32(static_cast<uint32_t>(k + 1)), code);
  }
  return code;
}

} // namespace tevo::cpu
