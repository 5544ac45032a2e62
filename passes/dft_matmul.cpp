// dft_matmul.cpp: products with a constant DFT cosine / sine matrix become FFTs (dft_cs)
// when that is cheaper (R3 of issue 5: FNet's token mixing, GFNet-style filters written
// as real DFT matmuls).
//
// Why: without complex numbers a model writes Re(F_N X F_D) = C_N X C_D - S_N X S_D with
// constant matrices C_kj = cos(2 pi jk/n), S_kj = sin(2 pi jk/n) (frontend/nn/variants/
// fnet.cpp). Each product costs 2 n^2 per lane; dft_cs computes both C x and S x with one
// FFT in O(n log n) (Bluestein for n not a power of two).
// What it matches, rooted at matmul(A, X) or matmul(X, A): A a `constant` [n, n] equal to
// alpha C or alpha S (alpha from A_00 or A_11; every entry checked, to 1e-5 relative in f32
// and 1e-12 in f64). A on the left transforms X along its second-last axis, on the right
// (C and S are symmetric) along its last. The result is alpha * dft_cs(X).c or .s; the cos
// and sin products of one X share one dft_cs after cse. Chosen by cost: the matmul's FLOPs
// against dft_cs's registry cost (the FFT weighted as fft_conv's is); a kept product gives
// a missed remark with both figures. Pass option dft-matmul.force=1 ignores the cost.
#include <cmath>
#include <numbers>

#include "ir/cost.h"
#include "ir/op_registry.h"
#include "passes/pass.h"
#include "passes/pattern_driver.h"

namespace tevo::passes {

namespace {

using ir::Node;
using ir::OpKind;
using ir::Value;

constexpr std::string_view kPass = "dft-matmul";

/// Which DFT matrix a constant is, and its scale.
struct DftMatrix {
  int part = 0; ///< 0: cos (dft_cs result 0), 1: sin (result 1)
  double alpha = 1;
};

/// `v` as alpha C or alpha S of its size, or nullopt.
std::optional<DftMatrix> dft_matrix(const Value* v) {
  const Node* p = v->producer;
  if (!p || p->op != OpKind::Constant || v->type.shape.rank() != 2)
    return std::nullopt;
  int64_t n = v->type.shape.dim(0);
  if (n < 2 || v->type.shape.dim(1) != n)
    return std::nullopt;
  const ir::DenseData& d = *p->attrs.get("value").dense();
  double tol = v->type.dtype == ir::DType::F64 ? 1e-12 : 1e-5;
  auto angle = [n](int64_t a, int64_t b) {
    return 2.0 * std::numbers::pi * static_cast<double>((a * b) % n) / static_cast<double>(n);
  };
  auto matches = [&](int part, double alpha) {
    if (alpha == 0 || !std::isfinite(alpha))
      return false;
    for (int64_t a = 0; a < n; ++a)
      for (int64_t b = 0; b < n; ++b) {
        double want = alpha * (part == 0 ? std::cos(angle(a, b)) : std::sin(angle(a, b)));
        if (!(std::fabs(d.at(a * n + b) - want) <= tol * std::fabs(alpha))) // NaN: no match
          return false;
      }
    return true;
  };
  if (double a = d.at(0); matches(0, a))
    return DftMatrix{0, a};
  if (n >= 3) {
    double a = d.at(n + 1) / std::sin(angle(1, 1));
    if (matches(1, a))
      return DftMatrix{1, a};
  }
  return std::nullopt;
}

class DftProduct final : public RewritePattern {
public:
  std::string_view name() const override {
    return "fft";
  }
  std::optional<OpKind> root() const override {
    return OpKind::Matmul;
  }

  Outcome apply(RewriteCtx& ctx) const override {
    Node& mm = ctx.root();
    for (int side = 0; side < 2; ++side) {
      auto dm = dft_matrix(mm.operand(side));
      if (!dm)
        continue;
      Value* x = mm.operand(1 - side);
      int64_t r = x->type.shape.rank(), n = mm.operand(side)->type.shape.dim(0);
      if (!(mm.result(0)->type == x->type))
        return Outcome::missed(fmt::format("the other factor {} is broadcast against the DFT "
                                           "matrix",
                                           x->type.str()));
      int64_t axis = side == 0 ? r - 2 : r - 1;
      double mm_flops = ir::node_cost(mm).flops;
      Tentative e(ctx.graph(), mm);
      Value* t = e.op(OpKind::DftCs, {x}, {{"axis", axis}});
      if (!t) {
        std::string err = e.error();
        e.discard();
        return Outcome::missed("dft_cs rejects the operand: " + err);
      }
      double fft_flops = e.cost().flops;
      const char* part = dm->part == 0 ? "cos" : "sin";
      bool force = ctx.pass().option("dft-matmul.force", "0") == "1";
      if (!force && fft_flops >= mm_flops) {
        e.discard();
        return Outcome::missed(fmt::format(
            "kept the DFT {} matrix product: n={}, cost {} (matmul) vs {} (FFT)", part, n,
            ir::format_flops(mm_flops), ir::format_flops(fft_flops)));
      }
      Value* y = t->producer->result(dm->part);
      if (dm->alpha != 1) {
        Value* f = e.op(OpKind::Full, {}, {{"shape", std::vector<int64_t>{}},
                                          {"value", dm->alpha},
                                          {"dtype", x->type.dtype}});
        y = e.op(OpKind::Mul, {y, f});
      }
      if (!y || !(y->type == mm.result(0)->type)) {
        std::string err = e.failed() ? e.error() : "shape mismatch";
        e.discard();
        return Outcome::missed("the FFT form is rejected: " + err);
      }
      ctx.replace(mm.result(0), y);
      return Outcome::applied(fmt::format("DFT {} matrix product (n={}) as an FFT along axis "
                                          "{}: cost {} (matmul) -> {}",
                                          part, n, axis, ir::format_flops(mm_flops),
                                          ir::format_flops(fft_flops)));
    }
    return Outcome::no_match();
  }
};

} // namespace

std::unique_ptr<Pass> create_dft_matmul() {
  PatternList patterns;
  patterns.push_back(std::make_unique<DftProduct>());
  return make_pattern_pass(kPass, std::move(patterns));
}

} // namespace tevo::passes
