// scalar_eval.cpp: a ScalarBuilder over whole arrays, so an elementwise op's single
// scalar definition is also its reference kernel. Each SVal names one array of the
// result's size; every intrinsic runs over all elements at once.
#include <cmath>
#include <complex>

#include "ir/element.h"
#include "ir/interp/interpreter.h"
#include "ir/op_def.h"

namespace tevo::ir::interp {

namespace {

class ArrayBuilder final : public ScalarBuilder {
public:
  explicit ArrayBuilder(int64_t n) : n_(static_cast<size_t>(n)) {}

  SVal add_array(std::vector<double> re, std::vector<double> im, DType t) {
    vals_.push_back({std::move(re), std::move(im)});
    return SVal{static_cast<int32_t>(vals_.size() - 1), t};
  }
  const std::vector<double>& re(SVal v) const {
    return vals_[static_cast<size_t>(v.id)].re;
  }
  const std::vector<double>& im(SVal v) const {
    return vals_[static_cast<size_t>(v.id)].im;
  }

  SVal constant(double v, DType t) override {
    return add_array(std::vector<double>(n_, v),
                     is_complex(t) ? std::vector<double>(n_, 0.0) : std::vector<double>{}, t);
  }

  SVal apply(ScalarOp op, std::span<const SVal> a) override {
    // The part intrinsics change between real and complex dtypes: before the dispatch on
    // the operand's dtype.
    if (op == ScalarOp::Real || op == ScalarOp::Imag || op == ScalarOp::MakeComplex)
      return complex_parts(op, a);
    if (is_complex(a[0].type))
      return complex_apply(op, a);
    std::vector<double> r(n_);
    const auto& x = re(a[0]);
    DType out = a[0].type;
    auto un = [&](auto f) {
      for (size_t i = 0; i < n_; ++i)
        r[i] = f(x[i]);
    };
    auto bi = [&](auto f) {
      const auto& y = re(a[1]);
      for (size_t i = 0; i < n_; ++i)
        r[i] = f(x[i], y[i]);
    };
    bool integral = is_int(out) || is_bool(out);
    switch (op) {
    case ScalarOp::Neg:
      un([](double v) { return -v; });
      break;
    case ScalarOp::Abs:
      un([](double v) { return std::fabs(v); });
      break;
    case ScalarOp::Exp:
      un([](double v) { return std::exp(v); });
      break;
    case ScalarOp::Expm1:
      un([](double v) { return std::expm1(v); });
      break;
    case ScalarOp::Log:
      un([](double v) { return std::log(v); });
      break;
    case ScalarOp::Log1p:
      un([](double v) { return std::log1p(v); });
      break;
    case ScalarOp::Sqrt:
      un([](double v) { return std::sqrt(v); });
      break;
    case ScalarOp::Tanh:
      un([](double v) { return std::tanh(v); });
      break;
    case ScalarOp::Sin:
      un([](double v) { return std::sin(v); });
      break;
    case ScalarOp::Cos:
      un([](double v) { return std::cos(v); });
      break;
    case ScalarOp::Erf:
      un([](double v) { return std::erf(v); });
      break;
    case ScalarOp::Floor:
      un([](double v) { return std::floor(v); });
      break;
    case ScalarOp::Add:
      bi([](double p, double q) { return p + q; });
      break;
    case ScalarOp::Sub:
      bi([](double p, double q) { return p - q; });
      break;
    case ScalarOp::Mul:
      bi([](double p, double q) { return p * q; });
      break;
    case ScalarOp::Div:
      if (integral) // integer division truncates toward zero; x/0 is defined as 0
        bi([](double p, double q) { return q == 0 ? 0.0 : std::trunc(p / q); });
      else
        bi([](double p, double q) { return p / q; });
      break;
    case ScalarOp::Pow:
      bi([](double p, double q) { return std::pow(p, q); });
      break;
    case ScalarOp::Max: // NaN-propagating, like torch.maximum
      bi([](double p, double q) { return std::isnan(p) || std::isnan(q) ? NAN : std::max(p, q); });
      break;
    case ScalarOp::Min:
      bi([](double p, double q) { return std::isnan(p) || std::isnan(q) ? NAN : std::min(p, q); });
      break;
    case ScalarOp::Eq:
      bi([](double p, double q) { return p == q ? 1.0 : 0.0; });
      out = DType::Bool;
      break;
    case ScalarOp::Ne:
      bi([](double p, double q) { return p != q ? 1.0 : 0.0; });
      out = DType::Bool;
      break;
    case ScalarOp::Lt:
      bi([](double p, double q) { return p < q ? 1.0 : 0.0; });
      out = DType::Bool;
      break;
    case ScalarOp::Le:
      bi([](double p, double q) { return p <= q ? 1.0 : 0.0; });
      out = DType::Bool;
      break;
    case ScalarOp::Gt:
      bi([](double p, double q) { return p > q ? 1.0 : 0.0; });
      out = DType::Bool;
      break;
    case ScalarOp::Ge:
      bi([](double p, double q) { return p >= q ? 1.0 : 0.0; });
      out = DType::Bool;
      break;
    case ScalarOp::And:
      bi([](double p, double q) { return (p != 0 && q != 0) ? 1.0 : 0.0; });
      out = DType::Bool;
      break;
    case ScalarOp::Or:
      bi([](double p, double q) { return (p != 0 || q != 0) ? 1.0 : 0.0; });
      out = DType::Bool;
      break;
    case ScalarOp::Not:
      un([](double v) { return v == 0 ? 1.0 : 0.0; });
      out = DType::Bool;
      break;
    case ScalarOp::Real:
    case ScalarOp::Imag:
    case ScalarOp::MakeComplex:
      TEVO_ASSERT(false, "complex part intrinsic reached the real path");
    }
    if (is_int(out)) // integer arithmetic stays integral (e.g. after pow)
      for (auto& v : r)
        v = std::isfinite(v) ? std::trunc(v) : 0.0;
    return add_array(std::move(r), {}, out);
  }

  SVal select(SVal c, SVal a, SVal b) override {
    std::vector<double> r(n_), ri;
    bool cplx = is_complex(a.type);
    if (cplx)
      ri.resize(n_);
    const auto& cc = re(c);
    for (size_t i = 0; i < n_; ++i) {
      r[i] = cc[i] != 0 ? re(a)[i] : re(b)[i];
      if (cplx)
        ri[i] = cc[i] != 0 ? im(a)[i] : im(b)[i];
    }
    return add_array(std::move(r), std::move(ri), a.type);
  }

  SVal cast(SVal x, DType to) override {
    // Converts exactly as storing into `to` would (element.h): floats round to the target
    // precision, integers truncate toward zero and saturate (NaN -> 0), bool is x != 0.
    // Complex -> real keeps the real part (the cast op itself rejects it).
    std::vector<double> r = re(x);
    std::vector<double> ri;
    if (is_complex(to))
      ri = is_complex(x.type) ? im(x) : std::vector<double>(n_, 0.0);
    uint8_t buf[16];
    for (size_t i = 0; i < n_; ++i) {
      store_element(buf, to, 0, r[i], 0);
      r[i] = load_element(buf, to, 0, 0);
      if (!ri.empty()) {
        store_element(buf, to, 0, ri[i], 1);
        ri[i] = load_element(buf, to, 0, 1);
      }
    }
    return add_array(std::move(r), std::move(ri), to);
  }

private:
  SVal complex_parts(ScalarOp op, std::span<const SVal> a) {
    DType t = a[0].type;
    if (op == ScalarOp::MakeComplex) {
      TEVO_ASSERT(t == DType::F32 || t == DType::F64, "complex parts must be f32 or f64");
      return add_array(re(a[0]), re(a[1]), t == DType::F32 ? DType::C64 : DType::C128);
    }
    TEVO_ASSERT(is_complex(t), "real/imag of a non-complex value");
    DType out = t == DType::C64 ? DType::F32 : DType::F64;
    return add_array(op == ScalarOp::Real ? re(a[0]) : im(a[0]), {}, out);
  }

  SVal complex_apply(ScalarOp op, std::span<const SVal> a) {
    using C = std::complex<double>;
    if (op == ScalarOp::Eq || op == ScalarOp::Ne) { // both parts compared; the result is bool
      std::vector<double> r(n_);
      for (size_t i = 0; i < n_; ++i) {
        bool eq = re(a[0])[i] == re(a[1])[i] && im(a[0])[i] == im(a[1])[i];
        r[i] = eq == (op == ScalarOp::Eq) ? 1.0 : 0.0;
      }
      return add_array(std::move(r), {}, DType::Bool);
    }
    std::vector<double> r(n_), ri(n_);
    for (size_t i = 0; i < n_; ++i) {
      C x(re(a[0])[i], im(a[0])[i]);
      C y = a.size() > 1 ? C(re(a[1])[i], im(a[1])[i]) : C();
      C z;
      switch (op) {
      case ScalarOp::Neg:
        z = -x;
        break;
      case ScalarOp::Add:
        z = x + y;
        break;
      case ScalarOp::Sub:
        z = x - y;
        break;
      case ScalarOp::Mul:
        z = x * y;
        break;
      case ScalarOp::Div:
        z = x / y;
        break;
      case ScalarOp::Exp:
        z = std::exp(x);
        break;
      default:
        TEVO_ASSERT(false, "scalar intrinsic {} not defined on complex values",
                    static_cast<int>(op));
      }
      r[i] = z.real();
      ri[i] = z.imag();
    }
    return add_array(std::move(r), std::move(ri), a[0].type);
  }

  struct Val {
    std::vector<double> re, im;
  };
  size_t n_;
  std::vector<Val> vals_;
};

} // namespace

std::vector<Array> eval_elementwise(const EvalCtx& ctx, ScalarFn fn) {
  const TensorType& rt = ctx.results[0];
  ArrayBuilder b(rt.numel());
  std::vector<SVal> args;
  for (const Array* a : ctx.operands) {
    Array bc = a->shape() == rt.shape ? *a : broadcast_array(*a, rt.shape);
    args.push_back(b.add_array(std::move(bc.data), std::move(bc.imag), a->dtype()));
  }
  SVal r = fn(b, args, ctx.attrs);
  Array out(rt);
  // The scalar definition may compute in another dtype; convert as cast would.
  out.data = b.re(r);
  if (is_complex(rt.dtype))
    out.imag = is_complex(r.type) ? b.im(r) : std::vector<double>(out.data.size(), 0.0);
  return {std::move(out)};
}

} // namespace tevo::ir::interp
