// long_conv.cpp: long causal depthwise convolution -> fft_conv, chosen by cost (R3 of
// issue 5).
//
// Why: Hyena, H3, the simple long-conv mixer and SSMs in convolution mode mix tokens with a
// per-channel kernel as long as the sequence. Written as conv1d (groups = channels,
// padding [K-1, 0]) that is O(N K) per channel; by FFT it is O(n log n) with n the power
// of two >= N + K - 1 (no circular wrap, so causality holds). Which is cheaper depends on
// K and N, so the choice is made per node by the cost model (ir/cost.h), pricing the
// conv1d node against exactly the nodes the FFT form has.
//
// Pattern `fft`, rooted at y = conv1d(x [B, C, N], w [C, 1, K]) with groups = C, stride 1,
// dilation 1, padding [K-1, 0]:
//   y = fft_conv(x, k),  k = w reshaped to [C, K] and reversed along K (conv1d correlates,
//   fft_conv convolves: k[c, s] = w[c, 0, K-1-s]); taps s >= N never reach an output and
//   are sliced off when K > N.
// With padding [0, K-1] (anti-causal; what conv1d's VJP builds for the input gradient of
// a causal convolution) it is fft_conv(x, w as [C, K], reverse = true), taps unreversed.
// It rewrites when the FFT form's roofline estimate is lower (ties keep the conv1d);
// otherwise a missed remark gives both costs. Pass option long-conv.force=1 rewrites every
// legal node regardless of cost (for measuring the crossover). A non-causal padding, a
// stride, a dilation or a grouped convolution that is not depthwise blocks the rewrite: a
// missed remark names it, but only when the FFT form would have been cheaper (a
// near-match), so short convolutions stay silent.
#include <algorithm>

#include "ir/cost.h"
#include "ir/op_registry.h"
#include "passes/pass.h"
#include "passes/pattern_driver.h"

namespace tevo::passes {

namespace {

using ir::Node;
using ir::OpKind;
using ir::Value;
using Ints = std::vector<int64_t>;

constexpr std::string_view kPass = "long-conv";

/// What would block the rewrite of a conv1d node ("" when it is legal).
std::string blocker(const Node& conv) {
  const ir::Shape& xs = conv.operand(0)->type.shape;
  const ir::Shape& ws = conv.operand(1)->type.shape;
  int64_t cin = xs.dim(1), cout = ws.dim(0), k = ws.dim(2);
  int64_t groups = conv.attrs.i64("groups"), stride = conv.attrs.i64("stride"),
          dilation = conv.attrs.i64("dilation");
  const Ints& pad = conv.attrs.i64_list("padding");
  ir::DType dt = conv.operand(0)->type.dtype;
  if (groups != cin || cout != cin)
    return fmt::format("grouped convolution is not depthwise (groups={}, C_in={}, C_out={})",
                       groups, cin, cout);
  if (stride != 1)
    return fmt::format("stride {} is not supported by the FFT form", stride);
  if (dilation != 1)
    return fmt::format("dilation {} is not supported by the FFT form", dilation);
  bool causal = pad[0] == k - 1 && pad[1] == 0, anti = pad[0] == 0 && pad[1] == k - 1;
  if (!causal && !anti)
    return fmt::format("non-causal padding [{}, {}] (causal is [{}, 0], anti-causal [0, {}])",
                       pad[0], pad[1], k - 1, k - 1);
  if (dt != ir::DType::F32 && dt != ir::DType::F64)
    return fmt::format("dtype {} (the FFT form runs f32 and f64)", ir::dtype_name(dt));
  return "";
}

/// Cost of the FFT form for a convolution producing `y` with `taps` taps per channel, as
/// if it were depthwise: what a near-match remark compares against.
std::optional<ir::Cost> fft_form_cost(const ir::TensorType& y, int64_t taps) {
  if (y.shape.rank() != 3 || y.shape.dim(2) < 1 || y.numel() == 0)
    return std::nullopt;
  int64_t c = y.shape.dim(1), len = y.shape.dim(2);
  ir::TensorType ty{y.dtype == ir::DType::F64 ? ir::DType::F64 : ir::DType::F32, y.shape};
  ir::TensorType tk{ty.dtype, ir::Shape{c, std::min(taps, len)}};
  const ir::TensorType ops[2] = {ty, tk};
  auto cost = ir::op_cost(OpKind::FftConv, ops);
  if (!cost)
    return std::nullopt;
  return *cost;
}

std::string costs(double direct, double fft) {
  return fmt::format("cost {} (direct) vs {} (FFT)", ir::format_flops(direct),
                     ir::format_flops(fft));
}

class FftPattern final : public RewritePattern {
public:
  std::string_view name() const override {
    return "fft";
  }
  std::optional<OpKind> root() const override {
    return OpKind::Conv1d;
  }

  Outcome apply(RewriteCtx& ctx) const override {
    using namespace pat;
    static const Pattern p = op(OpKind::Conv1d, {any("x"), any("w")});
    Node& conv = ctx.root();
    Match mt;
    if (!match(p, conv.result(0), ctx.uses(), mt))
      return Outcome::no_match();
    Value* x = mt["x"];
    Value* w = mt["w"];
    const ir::TensorType& yt = conv.result(0)->type;
    if (yt.numel() == 0 || w->type.numel() == 0)
      return Outcome::no_match();
    int64_t k = w->type.shape.dim(2), len = x->type.shape.dim(2), c = x->type.shape.dim(1);
    ir::Cost direct = ir::node_cost(conv);
    double t_direct = ir::estimate_seconds(direct);
    std::string sizes = fmt::format("K={} N={}", k, yt.shape.dim(2));

    std::string why = blocker(conv);
    if (!why.empty()) {
      auto fft = fft_form_cost(yt, k);
      if (fft && ir::estimate_seconds(*fft) < t_direct)
        return Outcome::missed(fmt::format("kept direct convolution: {} ({}, {})", why, sizes,
                                           costs(direct.flops, fft->flops)));
      return Outcome::no_match();
    }

    // Anti-causal padding [0, K-1] (conv1d's own input gradient has it): y[t] = sum_j
    // w[j] x[t+j], fft_conv's reverse form with the taps as they are.
    const Ints& pad = conv.attrs.i64_list("padding");
    bool reverse = k > 1 && pad[0] == 0;
    Tentative t(ctx.graph(), conv);
    Value* kern = t.reshape(w, {c, k});
    if (k > 1 && !reverse) {
      Value* rev = t.op(OpKind::Arange, {},
                        {{"start", static_cast<double>(k - 1)},
                         {"limit", -1.0},
                         {"step", -1.0},
                         {"dtype", ir::DType::I64}});
      kern = t.op(OpKind::Take, {kern, rev}, {{"axis", int64_t{1}}});
    }
    if (k > len) // taps s >= N only ever meet the padding
      kern = t.op(OpKind::Slice, {kern}, {{"starts", Ints{0, 0}}, {"ends", Ints{c, len}}});
    Value* y = t.op(OpKind::FftConv, {x, kern}, {{"reverse", reverse}});
    if (t.failed() || !(y->type == yt)) {
      t.discard();
      return Outcome::no_match();
    }
    double t_fft = ir::estimate_seconds(t.cost());
    bool force = ctx.pass().option("long-conv.force", "0") == "1";
    if (!force && !(t_fft < t_direct)) {
      std::string msg = fmt::format("kept direct convolution: {}, {}", sizes,
                                    costs(direct.flops, t.cost().flops));
      t.discard();
      return Outcome::missed(std::move(msg));
    }
    ctx.replace(conv.result(0), y);
    return Outcome::applied(fmt::format("FFT convolution{}: {} C={}, {}",
                                        reverse ? " (anti-causal)" : "", sizes, c,
                                        costs(direct.flops, t.cost().flops)));
  }
};

} // namespace

std::unique_ptr<Pass> create_long_conv() {
  PatternList patterns;
  patterns.push_back(std::make_unique<FftPattern>());
  return make_pattern_pass(kPass, std::move(patterns));
}

} // namespace tevo::passes
