// llvm_scalar.cpp: the ScalarBuilder that emits LLVM IR, and the dtype <-> LLVM type
// mapping (element loads and stores).
//
// This is the CPU backend's only per-intrinsic surface: every elementwise op reaches the
// generated code through apply/select/cast here. Semantics follow the interpreter
// (ir/interp/scalar_eval.cpp): Max/Min propagate NaN, integer division truncates and
// x/0 = 0, float -> int casts truncate and saturate (NaN -> 0), bool is x != 0.
// Integer arithmetic wraps on overflow (the interpreter computes exactly in f64 and
// saturates on store; the two differ only on overflow).
#include <llvm/IR/Intrinsics.h>

#include "backends/cpu/llvm_internal.h"
#include "backends/cpu/llvm_math.h"
#include "backends/cpu/llvm_vector_math.h"
#include "ir/diag.h"
#include "ir/element.h"

namespace tevo::cpu {

namespace {

using llvm::Value;

[[noreturn]] void unsupported(std::string msg) {
  throw ir::Error(ir::Diag{ir::Loc{}, std::move(msg), {}});
}

bool fp(ir::DType t) {
  return ir::is_float(t);
}

Value* fconst(Value* like, double v) {
  return llvm::ConstantFP::get(like->getType(), v);
}

Value* iconst(Value* like, int64_t v) {
  return llvm::ConstantInt::get(like->getType(), static_cast<uint64_t>(v), true);
}

/// A value of any compute type as bool (x != 0; NaN is true).
Value* to_bool(llvm::IRBuilder<>& b, Value* v) {
  llvm::Type* t = v->getType();
  if (t->isIntegerTy(1))
    return v;
  if (t->isFloatingPointTy())
    return b.CreateFCmpUNE(v, fconst(v, 0.0));
  return b.CreateICmpNE(v, iconst(v, 0));
}

/// f32 value rounded to bf16 precision as bits (round to nearest even, quiet NaN), i32.
Value* bf16_bits(llvm::IRBuilder<>& b, Value* f) {
  Value* u = b.CreateBitCast(f, b.getInt32Ty());
  Value* lsb = b.CreateAnd(b.CreateLShr(u, 16), 1);
  Value* rounded = b.CreateLShr(b.CreateAdd(b.CreateAdd(u, b.getInt32(0x7fff)), lsb), 16);
  Value* nan = b.CreateOr(b.CreateLShr(u, 16), 0x40);
  return b.CreateSelect(b.CreateFCmpUNO(f, f), nan, rounded);
}

/// An f32 compute value rounded to the precision of dtype t (f16/bf16), still f32.
Value* round_to(llvm::IRBuilder<>& b, ir::DType t, Value* f) {
  if (t == ir::DType::F16)
    return b.CreateFPExt(b.CreateFPTrunc(f, b.getHalfTy()), b.getFloatTy());
  if (t == ir::DType::BF16)
    return b.CreateBitCast(b.CreateShl(bf16_bits(b, f), 16), b.getFloatTy());
  return f;
}

/// Float -> integer as the interpreter stores it: truncation toward zero, saturation,
/// NaN -> 0. i64's upper bound is the largest double below 2^63, as in ir/element.h.
Value* float_to_int(llvm::IRBuilder<>& b, Value* v, llvm::Type* it) {
  Value* r = b.CreateIntrinsic(llvm::Intrinsic::fptosi_sat, {it, v->getType()}, {v});
  if (it->isIntegerTy(64)) {
    Value* big = b.CreateFCmpOGE(v, fconst(v, 9223372036854775808.0));
    r = b.CreateSelect(big, iconst(r, 9223372036854774784LL), r);
  }
  return r;
}

} // namespace

llvm::Type* compute_type(llvm::LLVMContext& c, ir::DType t) {
  switch (t) {
  case ir::DType::F32:
  case ir::DType::F16:
  case ir::DType::BF16:
    return llvm::Type::getFloatTy(c);
  case ir::DType::F64:
    return llvm::Type::getDoubleTy(c);
  case ir::DType::I32:
    return llvm::Type::getInt32Ty(c);
  case ir::DType::I64:
    return llvm::Type::getInt64Ty(c);
  case ir::DType::Bool:
    return llvm::Type::getInt1Ty(c);
  case ir::DType::C64:
  case ir::DType::C128:
    break;
  }
  unsupported(fmt::format("dtype {} is not supported by the CPU code generator", t));
}

llvm::Type* storage_type(llvm::LLVMContext& c, ir::DType t) {
  switch (t) {
  case ir::DType::F16:
    return llvm::Type::getHalfTy(c);
  case ir::DType::BF16:
    return llvm::Type::getBFloatTy(c);
  case ir::DType::Bool:
    return llvm::Type::getInt8Ty(c);
  default:
    return compute_type(c, t);
  }
}

Value* load_element(llvm::IRBuilder<>& b, ir::DType t, Value* ptr) {
  llvm::LLVMContext& c = b.getContext();
  Value* v = b.CreateLoad(storage_type(c, t), ptr);
  switch (t) {
  case ir::DType::F16:
    return b.CreateFPExt(v, b.getFloatTy());
  case ir::DType::BF16: // exact: the bf16 bits are the upper half of the f32
    return b.CreateBitCast(b.CreateShl(b.CreateZExt(b.CreateBitCast(v, b.getInt16Ty()),
                                                    b.getInt32Ty()),
                                       16),
                           b.getFloatTy());
  case ir::DType::Bool:
    return b.CreateICmpNE(v, b.getInt8(0));
  default:
    return v;
  }
}

llvm::StoreInst* store_element(llvm::IRBuilder<>& b, ir::DType t, Value* v, Value* ptr) {
  switch (t) {
  case ir::DType::F16:
    v = b.CreateFPTrunc(v, b.getHalfTy());
    break;
  case ir::DType::BF16:
    v = b.CreateBitCast(b.CreateTrunc(bf16_bits(b, v), b.getInt16Ty()), b.getBFloatTy());
    break;
  case ir::DType::Bool:
    v = b.CreateZExt(v, b.getInt8Ty());
    break;
  default:
    break;
  }
  return b.CreateStore(v, ptr);
}

LlvmScalarBuilder::LlvmScalarBuilder(llvm::IRBuilder<>& b, llvm::Module& m) : b_(b), m_(m) {}

ir::SVal LlvmScalarBuilder::wrap(Value* v, ir::DType t) {
  TEVO_ASSERT(v->getType() == compute_type(m_.getContext(), t),
              "LLVM value of the wrong type for dtype {}", t);
  vals_.push_back(v);
  return ir::SVal{static_cast<int32_t>(vals_.size() - 1), t};
}

Value* LlvmScalarBuilder::get(ir::SVal v) const {
  TEVO_ASSERT(v.id >= 0 && static_cast<size_t>(v.id) < vals_.size(), "bad scalar handle {}",
              v.id);
  return vals_[static_cast<size_t>(v.id)];
}

ir::SVal LlvmScalarBuilder::constant(double v, ir::DType t) {
  llvm::Type* ty = compute_type(m_.getContext(), t);
  switch (t) {
  case ir::DType::I32:
    return wrap(llvm::ConstantInt::get(
                    ty, static_cast<uint64_t>(ir::clamp_to_int(v, -2147483648.0, 2147483647.0)),
                    true),
                t);
  case ir::DType::I64:
    return wrap(llvm::ConstantInt::get(ty,
                                       static_cast<uint64_t>(ir::clamp_to_int(
                                           v, -9223372036854775808.0, 9223372036854774784.0)),
                                       true),
                t);
  case ir::DType::Bool:
    return wrap(b_.getInt1(v != 0), t);
  default:
    return wrap(llvm::ConstantFP::get(ty, v), t);
  }
}

ir::SVal LlvmScalarBuilder::apply(ir::ScalarOp op, std::span<const ir::SVal> args) {
  using ir::ScalarOp;
  TEVO_ASSERT(!args.empty(), "scalar intrinsic without operands");
  ir::DType t = args[0].type;
  Value* x = get(args[0]);
  Value* y = args.size() > 1 ? get(args[1]) : nullptr;
  if (y)
    TEVO_ASSERT(x->getType() == y->getType(), "scalar operands of different dtypes");
  bool is_f = fp(t);
  bool is_b = ir::is_bool(t);
  auto cmp = [&](llvm::CmpInst::Predicate fpred, llvm::CmpInst::Predicate spred,
                 llvm::CmpInst::Predicate upred) {
    llvm::CmpInst::Predicate p = is_f ? fpred : is_b ? upred : spred;
    return wrap(is_f ? b_.CreateFCmp(p, x, y) : b_.CreateICmp(p, x, y), ir::DType::Bool);
  };
  switch (op) {
  case ScalarOp::Neg:
    return wrap(is_f ? b_.CreateFNeg(x) : is_b ? x : b_.CreateNeg(x), t);
  case ScalarOp::Abs:
    if (is_b)
      return wrap(x, t);
    return wrap(is_f ? b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x)
                     : b_.CreateBinaryIntrinsic(llvm::Intrinsic::abs, x, b_.getFalse()),
                t);
  case ScalarOp::Add:
    return wrap(is_f ? b_.CreateFAdd(x, y) : is_b ? b_.CreateOr(x, y) : b_.CreateAdd(x, y), t);
  case ScalarOp::Sub:
    return wrap(is_f ? b_.CreateFSub(x, y) : is_b ? b_.CreateXor(x, y) : b_.CreateSub(x, y), t);
  case ScalarOp::Mul:
    return wrap(is_f ? b_.CreateFMul(x, y) : is_b ? b_.CreateAnd(x, y) : b_.CreateMul(x, y), t);
  case ScalarOp::Div: {
    if (is_f) // exact; a divisor constant along rows is a reciprocal in emit_eval.cpp
      return wrap(b_.CreateFDiv(x, y), t);
    if (is_b)
      return wrap(b_.CreateAnd(x, y), t);
    // Truncating division with x/0 = 0 and MIN/-1 = MIN (wraps), with no undefined case.
    Value* zero = b_.CreateICmpEQ(y, iconst(y, 0));
    Value* min = llvm::ConstantInt::get(
        x->getType(), llvm::APInt::getSignedMinValue(x->getType()->getIntegerBitWidth()));
    Value* ovf = b_.CreateAnd(b_.CreateICmpEQ(x, min), b_.CreateICmpEQ(y, iconst(y, -1)));
    Value* safe = b_.CreateSelect(b_.CreateOr(zero, ovf), iconst(y, 1), y);
    Value* q = b_.CreateSDiv(x, safe);
    return wrap(b_.CreateSelect(zero, iconst(x, 0), b_.CreateSelect(ovf, min, q)), t);
  }
  case ScalarOp::Max:
  case ScalarOp::Min: {
    bool mx = op == ScalarOp::Max;
    if (is_b)
      return wrap(mx ? b_.CreateOr(x, y) : b_.CreateAnd(x, y), t);
    if (!is_f)
      return wrap(b_.CreateBinaryIntrinsic(mx ? llvm::Intrinsic::smax : llvm::Intrinsic::smin, x,
                                           y),
                  t);
    // std::max(x, y) = x < y ? y : x and std::min(x, y) = y < x ? y : x (keeps x on
    // ties, -0 included), then NaN in either operand gives NaN.
    Value* pick_y = mx ? b_.CreateFCmpOLT(x, y) : b_.CreateFCmpOLT(y, x);
    Value* r = b_.CreateSelect(pick_y, y, x);
    return wrap(b_.CreateSelect(b_.CreateFCmpUNO(y, y), y, r), t);
  }
  case ScalarOp::Eq:
    return cmp(llvm::CmpInst::FCMP_OEQ, llvm::CmpInst::ICMP_EQ, llvm::CmpInst::ICMP_EQ);
  case ScalarOp::Ne:
    return cmp(llvm::CmpInst::FCMP_UNE, llvm::CmpInst::ICMP_NE, llvm::CmpInst::ICMP_NE);
  case ScalarOp::Lt:
    return cmp(llvm::CmpInst::FCMP_OLT, llvm::CmpInst::ICMP_SLT, llvm::CmpInst::ICMP_ULT);
  case ScalarOp::Le:
    return cmp(llvm::CmpInst::FCMP_OLE, llvm::CmpInst::ICMP_SLE, llvm::CmpInst::ICMP_ULE);
  case ScalarOp::Gt:
    return cmp(llvm::CmpInst::FCMP_OGT, llvm::CmpInst::ICMP_SGT, llvm::CmpInst::ICMP_UGT);
  case ScalarOp::Ge:
    return cmp(llvm::CmpInst::FCMP_OGE, llvm::CmpInst::ICMP_SGE, llvm::CmpInst::ICMP_UGE);
  case ScalarOp::And:
    return wrap(b_.CreateAnd(to_bool(b_, x), to_bool(b_, y)), ir::DType::Bool);
  case ScalarOp::Or:
    return wrap(b_.CreateOr(to_bool(b_, x), to_bool(b_, y)), ir::DType::Bool);
  case ScalarOp::Not:
    return wrap(b_.CreateNot(to_bool(b_, x)), ir::DType::Bool);
  case ScalarOp::Real:
  case ScalarOp::Imag:
  case ScalarOp::MakeComplex:
    unsupported("complex values are not supported by the CPU code generator");
  case ScalarOp::Exp:
  case ScalarOp::Expm1:
  case ScalarOp::Log:
  case ScalarOp::Log1p:
  case ScalarOp::Sqrt:
  case ScalarOp::Tanh:
  case ScalarOp::Sin:
  case ScalarOp::Cos:
  case ScalarOp::Erf:
  case ScalarOp::Floor:
  case ScalarOp::Pow:
    break;
  }
  // Math intrinsics. Integer and bool operands are computed in f64 and converted back as
  // the interpreter does (truncation; non-finite -> 0).
  if (!is_f) {
    llvm::Type* d = b_.getDoubleTy();
    x = is_b ? b_.CreateUIToFP(x, d) : b_.CreateSIToFP(x, d);
    if (y)
      y = is_b ? b_.CreateUIToFP(y, d) : b_.CreateSIToFP(y, d);
  }
  Value* r = nullptr;
  switch (op) {
  case ScalarOp::Exp: // f32: widened by the vectorisers, expanded for the target later
    r = x->getType()->isFloatTy() ? vmath::exp_call(b_, x) : math::exp(b_, x);
    break;
  case ScalarOp::Expm1:
    r = math::expm1(b_, x);
    break;
  case ScalarOp::Log:
    r = math::log(b_, x);
    break;
  case ScalarOp::Log1p:
    r = math::log1p(b_, x);
    break;
  case ScalarOp::Sqrt:
    r = b_.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, x);
    break;
  case ScalarOp::Tanh:
    r = math::tanh(b_, x);
    break;
  case ScalarOp::Sin:
    r = math::sin(b_, x);
    break;
  case ScalarOp::Cos:
    r = math::cos(b_, x);
    break;
  case ScalarOp::Erf:
    r = math::erf(b_, x);
    break;
  case ScalarOp::Floor:
    r = b_.CreateUnaryIntrinsic(llvm::Intrinsic::floor, x);
    break;
  case ScalarOp::Pow:
    r = math::pow(b_, x, y);
    break;
  default:
    TEVO_ASSERT(false, "unhandled scalar intrinsic {}", static_cast<int>(op));
  }
  if (is_f)
    return wrap(r, t);
  if (is_b)
    return wrap(to_bool(b_, r), t);
  Value* fin = b_.CreateFCmpONE(b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, r),
                                fconst(r, INFINITY));
  Value* i = float_to_int(b_, r, compute_type(m_.getContext(), t));
  return wrap(b_.CreateSelect(fin, i, iconst(i, 0)), t);
}

ir::SVal LlvmScalarBuilder::select(ir::SVal c, ir::SVal a, ir::SVal b) {
  Value* va = get(a);
  Value* vb = get(b);
  TEVO_ASSERT(va->getType() == vb->getType(), "select between different dtypes");
  return wrap(b_.CreateSelect(to_bool(b_, get(c)), va, vb), a.type);
}

ir::SVal LlvmScalarBuilder::cast(ir::SVal x, ir::DType to) {
  ir::DType from = x.type;
  Value* v = get(x);
  llvm::Type* dst = compute_type(m_.getContext(), to);
  if (from == to)
    return wrap(v, to);
  if (ir::is_bool(to))
    return wrap(to_bool(b_, v), to);
  if (ir::is_bool(from))
    return wrap(fp(to) ? b_.CreateUIToFP(v, dst) : b_.CreateZExt(v, dst), to);
  if (fp(to)) {
    if (fp(from)) {
      // Through f32 for f16/bf16, as the interpreter's store does (double rounding).
      if (v->getType() != dst)
        v = b_.CreateFPCast(v, dst);
    } else {
      // int -> f64 -> target, exactly the interpreter's conversion chain.
      v = b_.CreateSIToFP(v, b_.getDoubleTy());
      if (dst != v->getType())
        v = b_.CreateFPTrunc(v, dst);
    }
    return wrap(round_to(b_, to, v), to);
  }
  if (fp(from))
    return wrap(float_to_int(b_, v, dst), to);
  // int -> int: widen, or narrow with saturation.
  unsigned sb = v->getType()->getIntegerBitWidth();
  unsigned db = dst->getIntegerBitWidth();
  if (db >= sb)
    return wrap(b_.CreateSExt(v, dst), to);
  Value* hi = llvm::ConstantInt::get(v->getType(), llvm::APInt::getSignedMaxValue(db).sext(sb));
  Value* lo = llvm::ConstantInt::get(v->getType(), llvm::APInt::getSignedMinValue(db).sext(sb));
  v = b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, v, hi);
  v = b_.CreateBinaryIntrinsic(llvm::Intrinsic::smax, v, lo);
  return wrap(b_.CreateTrunc(v, dst), to);
}

} // namespace tevo::cpu
