// llvm_math.cpp: exp, expm1, log, log1p, tanh, erf, sin, cos and pow as inline,
// branch-free LLVM IR (polynomials and bit manipulation) that the loop vectoriser
// turns into vector code; no library calls for f32.
//
// Methods (all selects, no branches; NaN propagates through the arithmetic):
//   exp    x = k ln2 + r (Cody-Waite, |r| <= 0.35); e^r = 1 + r P(r) in f32 (the runtime's
//          runtime/exp_poly.h: exp(0) = 1 exactly, <= 2.01 ulp), 1 + r + r^2 g(r) in f64;
//          2^k added to the exponent field (exact: every result kept is normal); 0 below
//          the smallest normal result, inf above the largest finite one.
//   expm1  the same reduction: e^x - 1 = 2^k (q + 1 - 2^-k) with q = r + r^2 g(r), exact
//          for k = 0, so tiny x keeps full relative accuracy.
//   log    x = 2^e m, m in [sqrt(1/2), sqrt(2)), f = m - 1, s = f / (2 + f),
//          log(1+f) = f - (f^2/2 - s (f^2/2 + z Q(z))) with z = s^2 (fdlibm's scheme).
//   log1p  u = 1 + x, log(u) + (x - (u - 1)) / u: the rounding error of u corrected.
//   tanh   t = expm1(2|x|), t / (t + 2) with the sign of x (|x| clamped where tanh = 1).
//   erf    f32: |x| < 1: x P(x^2); else 1 - exp(-x^2) erfcx(|x|) with erfcx a polynomial
//          on [1, 4] (erf = 1 in f32 beyond).
//   sin/cos f32: reduced by pi/2 in f64 (pi/2 in three parts, k < 2^31), Taylor series on
//          |r| <= pi/4, quadrant by selects. Accurate for |x| < 2^30; beyond, the
//          reduction is inexact (results clamped to [-1, 1]; no Payne-Hanek yet).
//   pow    f32: exp(y log|x|) in f64, then the C99 special cases.
// Coefficients: Chebyshev fits (mpmath.chebyfit, 50 digits) of the functions named at
// each table; series coefficients where the series is short enough.
// f64 sin, cos, erf and pow call the C library (scalar calls: such loops do not
// vectorise); everything else is inline for f64 as well.
//
// Accuracy measured by tests/unit/backends/llvm_test.cpp against glibc in f64 (max ulp
// over special values, 10^4 random inputs over many binades and x near 1): see that
// test's output; the bounds it asserts are f32 <= 3 ulp, f64 <= 1e-14 relative.
#include "backends/cpu/llvm_math.h"
#include "runtime/exp_poly.h"

#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/IntrinsicsX86.h>
#include <llvm/IR/Module.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>

namespace tevo::cpu::math {

namespace {

using llvm::Value;

/// Builder helpers for one floating-point type (scalar or vector) and its same-width
/// integer type.
struct Fp {
  llvm::IRBuilder<>& b;
  llvm::Type* ft;
  llvm::Type* it;
  bool f64;

  Fp(llvm::IRBuilder<>& builder, llvm::Type* t)
      : b(builder), ft(t), it(nullptr), f64(t->getScalarType()->isDoubleTy()) {
    it = t->getWithNewType(llvm::IntegerType::get(t->getContext(), f64 ? 64 : 32));
  }
  int mant() const {
    return f64 ? 52 : 23;
  }
  int bias() const {
    return f64 ? 1023 : 127;
  }
  Value* c(double v) const {
    return llvm::ConstantFP::get(ft, v);
  }
  Value* ic(int64_t v) const {
    return llvm::ConstantInt::get(it, static_cast<uint64_t>(v), true);
  }
  Value* add(Value* x, Value* y) const {
    return b.CreateFAdd(x, y);
  }
  Value* sub(Value* x, Value* y) const {
    return b.CreateFSub(x, y);
  }
  Value* mul(Value* x, Value* y) const {
    return b.CreateFMul(x, y);
  }
  /// x * y + z, fused where the target has FMA (the algorithms do not depend on it).
  Value* fma(Value* x, Value* y, Value* z) const {
    return b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {ft}, {x, y, z});
  }
  /// Horner evaluation; coefficients from the highest degree down.
  Value* poly(Value* x, std::initializer_list<double> cs) const {
    auto it_c = cs.begin();
    Value* r = c(*it_c++);
    for (; it_c != cs.end(); ++it_c)
      r = fma(r, x, c(*it_c));
    return r;
  }
  Value* sel(Value* cond, Value* x, Value* y) const {
    return b.CreateSelect(cond, x, y);
  }
  Value* bits(Value* x) const {
    return b.CreateBitCast(x, it);
  }
  Value* from_bits(Value* i) const {
    return b.CreateBitCast(i, ft);
  }
  Value* abs(Value* x) const {
    return b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
  }
  Value* copysign(Value* mag, Value* sgn) const {
    return b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, mag, sgn);
  }
  Value* floor(Value* x) const {
    return b.CreateUnaryIntrinsic(llvm::Intrinsic::floor, x);
  }
  /// x clamped to [lo, hi]; NaN stays NaN.
  Value* clamp(Value* x, double lo, double hi) const {
    x = sel(b.CreateFCmpOGT(x, c(hi)), c(hi), x);
    return sel(b.CreateFCmpOLT(x, c(lo)), c(lo), x);
  }
  /// Round to nearest integer (|v| < 2^(mant-1)) as float and as integer, without a
  /// float->int conversion (which would be poison for NaN): v + 1.5*2^mant has the
  /// integer in its low mantissa bits.
  std::pair<Value*, Value*> round(Value* v) const {
    double magic = 1.5 * std::ldexp(1.0, mant());
    Value* t = add(v, c(magic));
    Value* kf = sub(t, c(magic));
    Value* ki = b.CreateSub(bits(t), bits(c(magic)));
    return {kf, ki};
  }
  /// 2^k for k in the normal exponent range.
  Value* pow2(Value* k) const {
    return from_bits(b.CreateShl(b.CreateAdd(k, ic(bias())), static_cast<uint64_t>(mant())));
  }
  /// p * 2^k for |k| up to about twice the exponent range, rounding once.
  Value* scale(Value* p, Value* k) const {
    Value* k1 = b.CreateAShr(k, 1);
    Value* k2 = b.CreateSub(k, k1);
    return mul(mul(p, pow2(k1)), pow2(k2));
  }
};

// ln 2 split so that k * kLn2Hi is exact for every exponent k of the type.
constexpr double kLn2Hi32 = 0.693359375;
constexpr double kLn2Lo32 = -2.1219444005469058e-4;
constexpr double kLn2Hi64 = 0.6931471803691238;
constexpr double kLn2Lo64 = 1.9082149292705877e-10;

/// x - k ln2 for an integral float k, in two steps (k * kLn2Hi is exact).
Value* minus_k_ln2(const Fp& f, Value* x, Value* kf) {
  Value* r = f.fma(kf, f.c(-(f.f64 ? kLn2Hi64 : kLn2Hi32)), x);
  return f.fma(kf, f.c(-(f.f64 ? kLn2Lo64 : kLn2Lo32)), r);
}

/// e^r for |r| <= ln(2)/2 in f32: 1 + r P(r), runtime/exp_poly.h's polynomial.
Value* exp_poly32(const Fp& f, Value* r) {
  const float* c = rt::kExpPolyF32;
  return f.fma(f.poly(r, {c[0], c[1], c[2], c[3], c[4]}), r, f.c(1.0));
}

/// The least f32 x whose exp is a normal number (exact in f32).
constexpr double kExpLo32 = -87.33654022216797;

/// x = k ln2 + r; returns {r, k (integer)}. Exact for x within the exponent range; for x
/// outside it r and k are meaningless (callers select those x away or clamp them first).
std::pair<Value*, Value*> reduce_ln2(const Fp& f, Value* x) {
  auto [kf, ki] = f.round(f.mul(x, f.c(1.4426950408889634)));
  return {minus_k_ln2(f, x, kf), ki};
}

/// (e^r - 1 - r) / r^2 for |r| <= 0.35 (relative error 1e-9 f32, 2e-17 f64).
Value* exp_g(const Fp& f, Value* r) {
  if (!f.f64)
    return f.poly(r, {0.001392691805594798161, 0.008363767023287036966, 0.04166655016272030051,
                      0.1666657342385974139, 0.5});
  return f.poly(r, {2.510133585478852185e-8, 2.762132426931368615e-7, 2.755726644235342475e-6,
                    0.00002480151867226835421, 0.0001984126986436493187,
                    0.001388888891891890617, 0.008333333333329796681, 0.04166666666662067995,
                    0.1666666666666666753, 0.5000000000000001127});
}

Value* exp_impl(const Fp& f, Value* x) {
  // lo / hi: the least x whose exp is a normal number and the greatest whose exp is finite
  // (exact in the type). Between them k is in [emin, emax + 1], p = e^r >= 1 when k = emin
  // (r >= 0 there) and p < 1 when k = emax + 1, so p 2^k is a normal number and adding k
  // to p's exponent field is that product exactly, in two integer ops (a multiplication by
  // 2^k would need two steps to reach emax + 1). Outside, selects give 0 (results below the
  // smallest normal number are flushed: absolute error below FLT_MIN / DBL_MIN; no
  // subnormal is ever computed, as subnormal arithmetic takes microcode assists that made
  // masked softmax rows ten times slower), inf, or the NaN itself; what the exponent add
  // makes of such x is never used.
  const double lo = f.f64 ? -708.3964185322641 : kExpLo32;
  const double hi = f.f64 ? 709.782712893384 : 88.72283172607422;
  auto [r, k] = reduce_ln2(f, x);
  Value* p = f.f64 ? f.add(f.fma(f.mul(r, r), exp_g(f, r), r), f.c(1.0)) : exp_poly32(f, r);
  Value* y = f.from_bits(f.b.CreateAdd(f.bits(p), f.b.CreateShl(k, static_cast<uint64_t>(f.mant()))));
  y = f.sel(f.b.CreateFCmpOGT(x, f.c(hi)), f.c(HUGE_VAL), y);
  y = f.sel(f.b.CreateFCmpOLT(x, f.c(lo)), f.c(0.0), y);
  return f.sel(f.b.CreateFCmpUNO(x, x), x, y);
}

/// exp_impl's result through AVX-512's vscalefps (p 2^k in one instruction, +inf past the
/// range): <16 x float>, or <8 x float> / <4 x float> with AVX512VL. The same reduction and
/// polynomial, so the same bits as exp_impl wherever the result is a normal number or inf.
Value* exp_scalef(const Fp& f, Value* x) {
  llvm::IRBuilder<>& b = f.b;
  auto* vt = llvm::cast<llvm::FixedVectorType>(f.ft);
  unsigned n = vt->getNumElements();
  // Above 89 the reduction would lose r to cancellation; exp(89) is inf already. NaN
  // stays (the select keeps x when the compare is unordered).
  Value* xc = f.sel(b.CreateFCmpOLT(f.c(89.0), x), f.c(89.0), x);
  // x >= lo or NaN: lanes below (and -inf, whose reduction gives NaN) become 0.
  Value* keep = b.CreateFCmpUGE(x, f.c(kExpLo32));
  Value* kf = b.CreateUnaryIntrinsic(llvm::Intrinsic::roundeven,
                                     f.mul(xc, f.c(1.4426950408889634)));
  Value* p = exp_poly32(f, minus_k_ln2(f, xc, kf));
  llvm::Type* mt = b.getIntNTy(std::max(8U, n));
  Value* mask = b.CreateBitCast(keep, b.getIntNTy(n));
  if (n < 8)
    mask = b.CreateZExt(mask, mt);
  Value* zero = f.c(0.0);
  if (n == 16)
    return b.CreateIntrinsic(llvm::Intrinsic::x86_avx512_mask_scalef_ps_512, {},
                             {p, kf, zero, mask, b.getInt32(4)});
  auto id = n == 8 ? llvm::Intrinsic::x86_avx512_mask_scalef_ps_256
                   : llvm::Intrinsic::x86_avx512_mask_scalef_ps_128;
  return b.CreateIntrinsic(id, {}, {p, kf, zero, mask});
}

Value* expm1_impl(const Fp& f, Value* x) {
  // Below the lower bound expm1 rounds to -1; above the upper one it overflows.
  Value* xc = f.f64 ? f.clamp(x, -45.0, 710.0) : f.clamp(x, -25.0, 89.0);
  auto [r, k] = reduce_ln2(f, xc);
  Value* q = f.fma(f.mul(r, r), exp_g(f, r), r);
  // 1 - 2^-k, with -k bounded below where it no longer changes 1.
  Value* nk = f.b.CreateNeg(k);
  Value* lim = f.ic(f.f64 ? -60 : -30);
  nk = f.b.CreateSelect(f.b.CreateICmpSLT(nk, lim), lim, nk);
  Value* t = f.sub(f.c(1.0), f.pow2(nk));
  Value* res = f.scale(f.add(q, t), k);
  return f.sel(f.b.CreateFCmpOEQ(x, f.c(0.0)), x, res); // keeps -0
}

/// log(x) for finite x > 0 (subnormals included).
Value* log_core(const Fp& f, Value* x) {
  llvm::IRBuilder<>& b = f.b;
  double min_normal = std::ldexp(1.0, 1 - f.bias());
  Value* small = b.CreateFCmpOLT(x, f.c(min_normal));
  x = f.sel(small, f.mul(x, f.c(std::ldexp(1.0, f.mant()))), x);
  Value* eadj = f.b.CreateSelect(small, f.ic(-f.mant()), f.ic(0));
  // m in [sqrt(1/2), sqrt(2)): offset the bits by sqrt(1/2)'s before splitting.
  Value* off = f.bits(f.c(0.70710678118654752440));
  Value* ix = b.CreateSub(f.bits(x), off);
  Value* e = b.CreateAdd(b.CreateAShr(ix, static_cast<uint64_t>(f.mant())), eadj);
  Value* mmask = f.ic((int64_t{1} << f.mant()) - 1);
  Value* m = f.from_bits(b.CreateAdd(b.CreateAnd(ix, mmask), off));
  Value* fm = f.sub(m, f.c(1.0));
  Value* s = b.CreateFDiv(fm, f.add(fm, f.c(2.0)));
  Value* z = f.mul(s, s);
  // Q(z) = (2 atanh(s)/s - 2) / z on [0, 0.0295].
  Value* q = f.f64 ? f.poly(z, {0.1308962916067462257, 0.1326848568065442685,
                                0.1538625044794018861, 0.1818179544237198542,
                                0.2222222239356660867, 0.2857142857079543094,
                                0.4000000000000089036, 0.6666666666666666646})
                   : f.poly(z, {0.2333291280436864239, 0.2855073084477380608,
                                0.4000012263369878286, 0.6666666655352536182});
  Value* hfsq = f.mul(f.mul(fm, fm), f.c(0.5));
  Value* ef = b.CreateSIToFP(e, f.ft);
  Value* lo = f.fma(ef, f.c(f.f64 ? kLn2Lo64 : kLn2Lo32), f.mul(s, f.fma(z, q, hfsq)));
  return f.fma(ef, f.c(f.f64 ? kLn2Hi64 : kLn2Hi32), f.sub(fm, f.sub(hfsq, lo)));
}

/// The special cases of log at `x` applied to the value `r` computed for finite x > 0.
Value* log_specials(const Fp& f, Value* x, Value* r, Value* zero_at) {
  r = f.sel(f.b.CreateFCmpOEQ(x, f.c(INFINITY)), x, r);
  r = f.sel(f.b.CreateFCmpOEQ(x, zero_at), f.c(-INFINITY), r);
  return f.sel(f.b.CreateFCmpULT(x, zero_at), f.c(NAN), r); // below the domain, or NaN
}

Value* log_impl(const Fp& f, Value* x) {
  return log_specials(f, x, log_core(f, x), f.c(0.0));
}

Value* erf32(const Fp& f, Value* x) {
  Value* a = f.abs(x);
  // |x| < 1: erf(x) / x as a polynomial in x^2 (on [0, 1], relative error 1.3e-9).
  Value* small = f.mul(x, f.poly(f.mul(x, x), {0.00007875875062685488341,
                                              -0.0008016864287165869529,
                                              0.005189087423433973986, -0.02685421201062641244,
                                              0.1128359471516021773, -0.3761262666672033102,
                                              1.128379165848350946}));
  // 1 <= |x|: erfc = exp(-x^2) erfcx(|x|); erfcx on [1, 4] in u = (|x| - 2.5) / 1.5
  // (absolute error 1.8e-9). Beyond 4 the result is 1 in f32.
  Value* ac = f.clamp(a, 1.0, 4.0);
  Value* u = f.mul(f.sub(ac, f.c(2.5)), f.c(1.0 / 1.5));
  Value* cx = f.poly(u, {0.00001336583585792763618, -0.00003688891091659052408,
                         0.00005630357655618132566, -0.0001440577923307618752,
                         0.0004129869220693504023, -0.001017008940847017578,
                         0.002402487431083444950, -0.005567380322584669076,
                         0.01248952041745664996, -0.02700571687063479669,
                         0.05611048818984676560, -0.1115210051130610169,
                         0.2108063640611435806});
  Value* erfc = f.mul(exp_impl(f, f.b.CreateFNeg(f.mul(ac, ac))), cx);
  Value* big = f.copysign(f.sub(f.c(1.0), erfc), x);
  big = f.sel(f.b.CreateFCmpUNO(x, x), x, big);
  return f.sel(f.b.CreateFCmpOLT(a, f.c(1.0)), small, big);
}

/// sin (cos_shift = 0) or cos (1) of an f32 value, computed in f64.
Value* sincos32(llvm::IRBuilder<>& b, Value* x, int cos_shift) {
  Fp f(b, x->getType()->getWithNewType(b.getDoubleTy()));
  Value* d = b.CreateFPExt(x, f.ft);
  auto [kf, ki] = f.round(f.mul(d, f.c(0.63661977236758134308)));
  // pi/2 = P1 + P2 + P3; P1 and P2 have 22 significant bits, so k * P1 and k * P2 are
  // exact for |k| < 2^31.
  Value* nk = b.CreateFNeg(kf);
  Value* r = f.fma(nk, f.c(0x1.921fb0p+0), d);
  r = f.fma(nk, f.c(0x1.5110bp-22), r);
  r = f.fma(nk, f.c(0x1.18469898cc517p-44), r);
  Value* z = f.mul(r, r);
  // Taylor series, |r| <= pi/4: truncation below 1e-13.
  Value* s = f.fma(f.mul(z, r),
                   f.poly(z, {1.0 / 6227020800.0, -1.0 / 39916800.0, 1.0 / 362880.0,
                              -1.0 / 5040.0, 1.0 / 120.0, -1.0 / 6.0}),
                   r);
  Value* c = f.fma(f.mul(z, z),
                   f.poly(z, {-1.0 / 87178291200.0, 1.0 / 479001600.0, -1.0 / 3628800.0,
                              1.0 / 40320.0, -1.0 / 720.0, 1.0 / 24.0}),
                   f.fma(z, f.c(-0.5), f.c(1.0)));
  Value* q = b.CreateAdd(ki, f.ic(cos_shift));
  Value* swap = b.CreateICmpNE(b.CreateAnd(q, f.ic(1)), f.ic(0));
  Value* neg = b.CreateICmpNE(b.CreateAnd(q, f.ic(2)), f.ic(0));
  Value* v = f.sel(swap, c, s);
  v = f.sel(neg, b.CreateFNeg(v), v);
  // Beyond |x| ~ 3e9 the reduction is inexact: keep the result a sine at least.
  v = f.clamp(v, -1.0, 1.0);
  if (cos_shift == 0) // sin(-0) = -0
    v = f.sel(b.CreateFCmpOEQ(d, f.c(0.0)), d, v);
  return b.CreateFPTrunc(v, x->getType());
}

Value* pow32(llvm::IRBuilder<>& b, Value* x, Value* y) {
  Fp f(b, x->getType()->getWithNewType(b.getDoubleTy()));
  Value* xd = b.CreateFPExt(x, f.ft);
  Value* yd = b.CreateFPExt(y, f.ft);
  // |y log|x|| <= ~150 wherever the f32 result is finite and non-zero: the f64 error
  // (< 1e-13 relative) is far below f32's half ulp.
  Value* r = exp_impl(f, f.mul(yd, log_impl(f, f.abs(xd))));
  Value* yi = b.CreateFCmpOEQ(f.floor(yd), yd); // integral (or infinite)
  Value* half = f.mul(yd, f.c(0.5));
  Value* odd = b.CreateAnd(yi, b.CreateFCmpUNE(f.floor(half), half));
  Value* xneg = b.CreateICmpSLT(f.bits(xd), f.ic(0)); // sign bit, -0 included
  r = f.sel(b.CreateAnd(xneg, odd), b.CreateFNeg(r), r);
  Value* finite_neg = b.CreateAnd(b.CreateFCmpOLT(xd, f.c(0.0)),
                                  b.CreateFCmpOGT(xd, f.c(-INFINITY)));
  r = f.sel(b.CreateAnd(finite_neg, b.CreateNot(yi)), f.c(NAN), r);
  Value* one = b.CreateOr(b.CreateFCmpOEQ(yd, f.c(0.0)), b.CreateFCmpOEQ(xd, f.c(1.0)));
  one = b.CreateOr(one, b.CreateAnd(b.CreateFCmpOEQ(xd, f.c(-1.0)),
                                    b.CreateFCmpOEQ(f.abs(yd), f.c(INFINITY))));
  r = f.sel(one, f.c(1.0), r);
  return b.CreateFPTrunc(r, x->getType());
}

bool is_f64(Value* x) {
  return x->getType()->getScalarType()->isDoubleTy();
}

/// A scalar call of the C library's f64 function (through the LLVM intrinsic where one
/// exists, so that LLVM knows its semantics).
Value* libm64(llvm::IRBuilder<>& b, const char* name, Value* x) {
  llvm::Module* m = b.GetInsertBlock()->getModule();
  llvm::FunctionCallee fn = m->getOrInsertFunction(name, x->getType(), x->getType());
  if (auto* decl = llvm::dyn_cast<llvm::Function>(fn.getCallee())) {
    decl->setDoesNotThrow();
    decl->setOnlyAccessesInaccessibleMemory(); // errno at most
  }
  return b.CreateCall(fn, {x});
}

} // namespace

llvm::Value* exp(llvm::IRBuilder<>& b, llvm::Value* x) {
  return exp_impl(Fp(b, x->getType()), x);
}

llvm::Value* exp_avx512(llvm::IRBuilder<>& b, llvm::Value* x) {
  return exp_scalef(Fp(b, x->getType()), x);
}

llvm::Value* expm1(llvm::IRBuilder<>& b, llvm::Value* x) {
  return expm1_impl(Fp(b, x->getType()), x);
}

llvm::Value* log(llvm::IRBuilder<>& b, llvm::Value* x) {
  return log_impl(Fp(b, x->getType()), x);
}

llvm::Value* log1p(llvm::IRBuilder<>& b, llvm::Value* x) {
  Fp f(b, x->getType());
  Value* u = f.add(x, f.c(1.0));
  Value* corr = f.sub(x, f.sub(u, f.c(1.0))); // exact rounding error of u
  // u is finite and >= 0 on the domain; the specials below replace everything else.
  Value* uc = f.sel(b.CreateFCmpOGT(u, f.c(0.0)), u, f.c(1.0));
  Value* r = f.add(log_core(f, uc), b.CreateFDiv(corr, uc));
  r = log_specials(f, x, r, f.c(-1.0));
  return f.sel(b.CreateFCmpOEQ(x, f.c(0.0)), x, r); // keeps -0
}

llvm::Value* tanh(llvm::IRBuilder<>& b, llvm::Value* x) {
  Fp f(b, x->getType());
  // tanh rounds to 1 beyond 10 (f32) / 20 (f64); the clamp keeps expm1 finite.
  Value* a = f.abs(x);
  a = f.sel(b.CreateFCmpOGT(a, f.c(f.f64 ? 20.0 : 10.0)), f.c(f.f64 ? 20.0 : 10.0), a);
  Value* t = expm1_impl(f, f.add(a, a));
  return f.copysign(b.CreateFDiv(t, f.add(t, f.c(2.0))), x);
}

llvm::Value* erf(llvm::IRBuilder<>& b, llvm::Value* x) {
  if (is_f64(x))
    return libm64(b, "erf", x);
  return erf32(Fp(b, x->getType()), x);
}

llvm::Value* sin(llvm::IRBuilder<>& b, llvm::Value* x) {
  if (is_f64(x))
    return b.CreateUnaryIntrinsic(llvm::Intrinsic::sin, x);
  return sincos32(b, x, 0);
}

llvm::Value* cos(llvm::IRBuilder<>& b, llvm::Value* x) {
  if (is_f64(x))
    return b.CreateUnaryIntrinsic(llvm::Intrinsic::cos, x);
  return sincos32(b, x, 1);
}

llvm::Value* pow(llvm::IRBuilder<>& b, llvm::Value* x, llvm::Value* y) {
  if (is_f64(x))
    return b.CreateBinaryIntrinsic(llvm::Intrinsic::pow, x, y);
  return pow32(b, x, y);
}

} // namespace tevo::cpu::math
