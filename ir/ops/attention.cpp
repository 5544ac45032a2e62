// attention.cpp: the fused attention op and its gradient op (flash-style contract).
//
//   attention(q, k, v [, bias] [, keep]) -> (o, lse)
//   attention_grad(q, k, v [, bias] [, keep], o, lse, do [, dlse]) -> (dq, dk, dv [, dbias])
//
// q [*B, Hq, N, d], k [*B, Hkv, M, d], v [*B, Hkv, M, dv]; query head h reads key/value
// head h / (Hq / Hkv) (grouped- and multi-query attention without broadcast copies).
// Queries are the last N of M positions (off = M - N): "causal" allows key j for query i
// iff j <= i + off, "sliding" iff 0 <= i + off - j < window. `bias` (q's dtype) and `keep`
// (bool) broadcast NumPy-style to [*B, Hq, N, M]; keep = false masks. With bias_toeplitz the
// bias is a table T broadcasting to [*B, Hq, N + M - 1] and bias_ij = T[j - i + N - 1] (a
// bias of the relative position only: ALiBi, KERPLE, T5 buckets; O(N + M) per head, and
// dbias sums the diagonals). With s_ij = scale
// <q_i, k_j> + bias_ij over the allowed keys: o_i = softmax(s_i) v, lse_i = logsumexp(s_i);
// a row without allowed keys gives o = 0 and lse = -inf.
// attention_grad recomputes p_ij = exp(s_ij - lse_i) (no stored N x M probabilities):
// D_i = <do_i, o_i>, ds_ij = p_ij (<do_i, v_j> - D_i + dlse_i), dq = scale ds k,
// dk = scale ds^T q, dv = p^T do (both summed over a group's query heads), dbias = ds
// summed to bias's shape. The reference kernels below materialise one row of scores at a
// time; backends run the ops as tiled kernels (runtime/kernels/attention.cpp).
#include "ir/ops/common.h"
#include "ir/vjp.h"

#include <cmath>
#include <limits>

namespace tevo::ir::ops {

namespace {

enum class Mask { None, Causal, Sliding };

/// Dimensions of one attention call, from q, k, v.
struct Geo {
  std::vector<int64_t> batch; ///< *B
  int64_t nb = 1;             ///< product of *B
  int64_t hq = 0, hkv = 0, n = 0, m = 0, d = 0, dv = 0;
  Mask mask = Mask::None;
  int64_t window = 0;
  double scale = 1;
  bool toeplitz = false; ///< bias is a relative-position table (bias_toeplitz)

  int64_t off() const {
    return m - n;
  }
  /// Whether `mask` lets query i see key j.
  bool allowed(int64_t i, int64_t j) const {
    int64_t t = i + off() - j;
    switch (mask) {
    case Mask::None:
      return true;
    case Mask::Causal:
      return t >= 0;
    case Mask::Sliding:
      return t >= 0 && t < window;
    }
    return false;
  }
  /// The shape bias and keep broadcast to: [*B, Hq, N, M].
  std::vector<int64_t> score_dims() const {
    std::vector<int64_t> s = batch;
    s.insert(s.end(), {hq, n, m});
    return s;
  }
  /// The shape the bias broadcasts to: the scores, or [*B, Hq, N + M - 1] for a table.
  std::vector<int64_t> bias_dims() const {
    if (!toeplitz)
      return score_dims();
    std::vector<int64_t> s = batch;
    s.insert(s.end(), {hq, std::max<int64_t>(0, n + m - 1)});
    return s;
  }
};

std::optional<Mask> parse_mask(const std::string& s) {
  if (s == "none")
    return Mask::None;
  if (s == "causal")
    return Mask::Causal;
  if (s == "sliding")
    return Mask::Sliding;
  return std::nullopt;
}

/// Geometry of a verified node (or of a call being verified, once shapes are checked).
Geo geo_of(const Shape& q, const Shape& k, const Shape& v, const AttrDict& a) {
  Geo g;
  int64_t r = q.rank();
  for (int64_t i = 0; i + 3 < r; ++i) {
    g.batch.push_back(q.dim(i));
    g.nb *= q.dim(i);
  }
  g.hq = q.dim(r - 3);
  g.n = q.dim(r - 2);
  g.d = q.dim(r - 1);
  g.hkv = k.dim(r - 3);
  g.m = k.dim(r - 2);
  g.dv = v.dim(r - 1);
  g.mask = parse_mask(a.get("mask").str()).value_or(Mask::None);
  g.window = a.i64("window");
  g.scale = a.f64("scale");
  g.toeplitz = a.boolean("bias_toeplitz");
  return g;
}

/// Number of (query, key) pairs the mask allows, per (batch, head); keep is not counted.
double allowed_pairs(const Geo& g) {
  if (g.mask == Mask::None)
    return static_cast<double>(g.n) * static_cast<double>(g.m);
  double total = 0;
  for (int64_t i = 0; i < g.n; ++i) {
    int64_t hi = std::min(g.m - 1, i + g.off()); // last allowed key
    int64_t lo = g.mask == Mask::Causal ? 0 : std::max<int64_t>(0, i + g.off() - g.window + 1);
    if (hi >= lo)
      total += static_cast<double>(hi - lo + 1);
  }
  return total;
}

/// How many optional operands the flags announce, and their names in order.
struct Optionals {
  bool bias = false, keep = false;
  int64_t count() const {
    return (bias ? 1 : 0) + (keep ? 1 : 0);
  }
};

/// Checks q, k, v, the optional bias/keep at operands [3, 3 + opt.count()) and the
/// attributes; returns the geometry or the one-line diagnostic.
Expected<Geo> check_inputs(const InferCtx& c, Optionals opt) {
  const TensorType &q = c.operands[0], &k = c.operands[1], &v = c.operands[2];
  if (q.dtype != DType::F32 && q.dtype != DType::F64)
    return make_diag("q must be f32 or f64, got {} (cast f16/bf16 inputs to f32)", q.str());
  if (k.dtype != q.dtype || v.dtype != q.dtype)
    return make_diag("q, k and v dtypes differ: {}, {}, {} (insert a cast)", q.str(), k.str(),
                     v.str());
  int64_t r = q.shape.rank();
  if (r < 3)
    return make_diag("q must be [*B, Hq, N, d] (rank >= 3), got {}", q.str());
  if (k.shape.rank() != r || v.shape.rank() != r)
    return make_diag("q, k and v ranks differ: {}, {}, {}", q.str(), k.str(), v.str());
  for (int64_t i = 0; i + 3 < r; ++i)
    if (k.shape.dim(i) != q.shape.dim(i) || v.shape.dim(i) != q.shape.dim(i))
      return make_diag("batch dims of q, k and v differ (no broadcasting): {}, {}, {}", q.str(),
                       k.str(), v.str());
  int64_t hq = q.shape.dim(r - 3), hkv = k.shape.dim(r - 3);
  if (v.shape.dim(r - 3) != hkv || v.shape.dim(r - 2) != k.shape.dim(r - 2))
    return make_diag("k and v must agree on heads and keys ([*B, Hkv, M, _]), got {} and {}",
                     k.str(), v.str());
  if (hkv == 0 ? hq != 0 : hq % hkv != 0)
    return make_diag("query heads {} must be a multiple of key/value heads {}: {} vs {}", hq, hkv,
                     q.str(), k.str());
  if (k.shape.dim(r - 1) != q.shape.dim(r - 1))
    return make_diag("q and k head sizes differ: {} vs {}", q.str(), k.str());
  double scale = c.attrs.f64("scale");
  if (!std::isfinite(scale))
    return make_diag("scale must be finite, got {}", scale);
  const std::string& mask = c.attrs.get("mask").str();
  if (!parse_mask(mask))
    return make_diag("mask must be \"none\", \"causal\" or \"sliding\", got \"{}\"", mask);
  int64_t window = c.attrs.i64("window");
  if (mask == "sliding" ? window < 1 : window < 0)
    return make_diag("window must be {} with mask \"{}\", got {}",
                     mask == "sliding" ? ">= 1" : ">= 0", mask, window);
  Geo g = geo_of(q.shape, k.shape, v.shape, c.attrs);
  Shape scores(g.score_dims());
  size_t i = 3;
  auto check_opt = [&](const char* what, bool boolean) -> std::optional<Diag> {
    const TensorType& t = c.operands[i++];
    if (boolean ? t.dtype != DType::Bool : t.dtype != q.dtype)
      return make_diag("{} must be {}, got {}", what,
                       boolean ? "bool" : fmt::format("{} (q's dtype)", dtype_name(q.dtype)),
                       t.str());
    bool table = !boolean && g.toeplitz;
    Shape want = table ? Shape(g.bias_dims()) : scores;
    auto b = broadcast_shapes(t.shape, want);
    if (t.shape.rank() > want.rank() || !b || !(*b == want))
      return make_diag("{} {} does not broadcast to {} = {}", what, t.str(),
                       table ? "the relative-position table [*B, Hq, N + M - 1]"
                             : "the scores [*B, Hq, N, M]",
                       want.str());
    return std::nullopt;
  };
  if (g.toeplitz && !opt.bias)
    return make_diag("bias_toeplitz needs a bias operand (has_bias = true)");
  if (opt.bias)
    if (auto d = check_opt("bias", false))
      return *d;
  if (opt.keep)
    if (auto d = check_opt("keep", true))
      return *d;
  return g;
}

/// Operand count the flags imply: 3 + optionals + `tail`.
std::optional<Diag> check_count(const InferCtx& c, Optionals opt, int64_t tail, const char* names) {
  int64_t want = 3 + opt.count() + tail;
  if (static_cast<int64_t>(c.operands.size()) != want)
    return make_diag("expected {} operands {} for has_bias = {}, has_keep = {}, got {}", want,
                     names, opt.bias, opt.keep, c.operands.size());
  return std::nullopt;
}

Optionals optionals(const AttrDict& a) {
  return Optionals{a.boolean("has_bias"), a.boolean("has_keep")};
}

TensorType o_type(const Geo& g, DType t) {
  std::vector<int64_t> s = g.batch;
  s.insert(s.end(), {g.hq, g.n, g.dv});
  return TensorType{t, Shape(s)};
}
TensorType lse_type(const Geo& g, DType t) {
  std::vector<int64_t> s = g.batch;
  s.insert(s.end(), {g.hq, g.n});
  return TensorType{t, Shape(s)};
}

Expected<std::vector<TensorType>> infer_attention(const InferCtx& c) {
  Optionals opt = optionals(c.attrs);
  if (auto d = check_count(c, opt, 0, "(q, k, v [, bias] [, keep])"))
    return *d;
  auto g = check_inputs(c, opt);
  if (!g)
    return g.error();
  DType t = c.operands[0].dtype;
  return std::vector<TensorType>{o_type(*g, t), lse_type(*g, t)};
}

Expected<std::vector<TensorType>> infer_attention_grad(const InferCtx& c) {
  Optionals opt = optionals(c.attrs);
  bool has_dlse = c.attrs.boolean("has_dlse");
  if (auto d =
          check_count(c, opt, has_dlse ? 4 : 3, "(q, k, v [, bias] [, keep], o, lse, do [, dlse])"))
    return *d;
  auto g = check_inputs(c, opt);
  if (!g)
    return g.error();
  DType t = c.operands[0].dtype;
  size_t i = at(3 + opt.count());
  const TensorType ot = o_type(*g, t), lt = lse_type(*g, t);
  const char* names[] = {"o", "lse", "do", "dlse"};
  const TensorType* want[] = {&ot, &lt, &ot, &lt};
  for (size_t j = 0; j < (has_dlse ? 4u : 3u); ++j)
    if (!(c.operands[i + j] == *want[j]))
      return make_diag("{} must be {}, got {}", names[j], want[j]->str(), c.operands[i + j].str());
  std::vector<TensorType> out{c.operands[0], c.operands[1], c.operands[2]};
  if (opt.bias)
    out.push_back(c.operands[3]);
  return out;
}

/// Element strides of a tensor of shape `s` seen broadcast to `full` (0 on broadcast dims).
std::vector<int64_t> bcast_strides(const Shape& s, const std::vector<int64_t>& full) {
  std::vector<int64_t> st(full.size(), 0), own = s.strides();
  size_t lead = full.size() - static_cast<size_t>(s.rank());
  for (size_t i = 0; i < own.size(); ++i)
    if (s.dim(static_cast<int64_t>(i)) != 1)
      st[lead + i] = own[i];
  return st;
}

/// Indexing of the operands of one call: q/k/v/o rows and the broadcast bias/keep.
struct Layout {
  Geo g;
  const interp::Array *q, *k, *v, *bias = nullptr, *keep = nullptr;
  std::vector<int64_t> bias_st, keep_st; ///< strides over [*B, Hq, N, M]

  Layout(const EvalCtx& c)
      : g(geo_of(c.in(0).shape(), c.in(1).shape(), c.in(2).shape(), c.attrs)), q(&c.in(0)),
        k(&c.in(1)), v(&c.in(2)) {
    Optionals opt = optionals(c.attrs);
    int i = 3;
    std::vector<int64_t> full = g.score_dims();
    if (opt.bias) {
      bias = &c.in(i++);
      bias_st = bcast_strides(bias->shape(), g.bias_dims());
    }
    if (opt.keep) {
      keep = &c.in(i++);
      keep_st = bcast_strides(keep->shape(), full);
    }
  }
  /// Offset of score (b, h, i, j) in an operand with broadcast strides st.
  static int64_t at_score(const std::vector<int64_t>& st,
                          const std::vector<int64_t>& bidx,
                          int64_t h,
                          int64_t i,
                          int64_t j) {
    size_t r = st.size();
    int64_t o = h * st[r - 3] + i * st[r - 2] + j * st[r - 1];
    for (size_t t = 0; t < bidx.size(); ++t)
      o += bidx[t] * st[t];
    return o;
  }
  /// Offset of bias element (b, h, i, j) in an operand with broadcast strides st (over
  /// bias_dims()).
  int64_t at_bias(const std::vector<int64_t>& st,
                  const std::vector<int64_t>& bidx,
                  int64_t h,
                  int64_t i,
                  int64_t j) const {
    if (!g.toeplitz)
      return at_score(st, bidx, h, i, j);
    size_t r = st.size();
    int64_t o = h * st[r - 2] + (j - i + g.n - 1) * st[r - 1];
    for (size_t t = 0; t < bidx.size(); ++t)
      o += bidx[t] * st[t];
    return o;
  }
  /// Scores s_ij of query row (b, h, i) over all keys; -inf where not allowed.
  void scores(int64_t b,
              const std::vector<int64_t>& bidx,
              int64_t h,
              int64_t i,
              std::vector<double>& s) const {
    int64_t kh = h / (g.hq / g.hkv);
    int64_t qo = ((b * g.hq + h) * g.n + i) * g.d, ko = (b * g.hkv + kh) * g.m * g.d;
    for (int64_t j = 0; j < g.m; ++j) {
      bool ok = g.allowed(i, j) && (!keep || (*keep)[at_score(keep_st, bidx, h, i, j)] != 0);
      if (!ok) {
        s[at(j)] = -std::numeric_limits<double>::infinity();
        continue;
      }
      double dot = 0;
      for (int64_t t = 0; t < g.d; ++t)
        dot += (*q)[qo + t] * (*k)[ko + j * g.d + t];
      s[at(j)] = g.scale * dot + (bias ? (*bias)[at_bias(bias_st, bidx, h, i, j)] : 0.0);
    }
  }
  /// Row offset of key/value j of head h (a query head) in v.
  int64_t v_row(int64_t b, int64_t h, int64_t j) const {
    return ((b * g.hkv + h / (g.hq / g.hkv)) * g.m + j) * g.dv;
  }
  int64_t k_row(int64_t b, int64_t h, int64_t j) const {
    return ((b * g.hkv + h / (g.hq / g.hkv)) * g.m + j) * g.d;
  }
};

std::vector<interp::Array> eval_attention(const EvalCtx& c) {
  Layout L(c);
  const Geo& g = L.g;
  interp::Array o(c.results[0]), lse(c.results[1]);
  std::vector<double> s(at(g.m));
  for (int64_t b = 0; b < g.nb; ++b) {
    std::vector<int64_t> bidx = interp::unravel(b, g.batch);
    for (int64_t h = 0; h < g.hq; ++h)
      for (int64_t i = 0; i < g.n; ++i) {
        int64_t row = (b * g.hq + h) * g.n + i;
        L.scores(b, bidx, h, i, s);
        double mx = -std::numeric_limits<double>::infinity();
        for (double x : s)
          mx = std::max(mx, x);
        if (mx == -std::numeric_limits<double>::infinity()) { // no allowed key: o stays 0
          lse[row] = mx;
          continue;
        }
        double sum = 0;
        for (double& x : s) {
          x = std::exp(x - mx); // 0 for masked keys
          sum += x;
        }
        for (int64_t j = 0; j < g.m; ++j)
          if (s[at(j)] != 0)
            for (int64_t t = 0; t < g.dv; ++t)
              o[row * g.dv + t] += s[at(j)] / sum * (*L.v)[L.v_row(b, h, j) + t];
        lse[row] = mx + std::log(sum);
      }
  }
  return {std::move(o), std::move(lse)};
}

std::vector<interp::Array> eval_attention_grad(const EvalCtx& c) {
  Layout L(c);
  const Geo& g = L.g;
  Optionals opt = optionals(c.attrs);
  int tail = 3 + static_cast<int>(opt.count());
  const interp::Array &o = c.in(tail), &lse = c.in(tail + 1), &dout = c.in(tail + 2);
  const interp::Array* dlse = c.attrs.boolean("has_dlse") ? &c.in(tail + 3) : nullptr;
  interp::Array dq(c.results[0]), dk(c.results[1]), dv(c.results[2]);
  interp::Array dbias = opt.bias ? interp::Array(c.results[3]) : interp::Array();
  std::vector<int64_t> dbias_st;
  if (opt.bias)
    dbias_st = bcast_strides(L.bias->shape(), g.bias_dims());
  std::vector<double> s(at(g.m));
  for (int64_t b = 0; b < g.nb; ++b) {
    std::vector<int64_t> bidx = interp::unravel(b, g.batch);
    for (int64_t h = 0; h < g.hq; ++h)
      for (int64_t i = 0; i < g.n; ++i) {
        int64_t row = (b * g.hq + h) * g.n + i;
        double l = lse[row];
        if (l == -std::numeric_limits<double>::infinity())
          continue; // no allowed key: p = 0, every gradient term is 0
        L.scores(b, bidx, h, i, s);
        double big_d = 0;
        for (int64_t t = 0; t < g.dv; ++t)
          big_d += dout[row * g.dv + t] * o[row * g.dv + t];
        double extra = dlse ? (*dlse)[row] : 0.0;
        for (int64_t j = 0; j < g.m; ++j) {
          double p = std::exp(s[at(j)] - l);
          if (p == 0)
            continue;
          int64_t vo = L.v_row(b, h, j), ko = L.k_row(b, h, j);
          double dp = 0;
          for (int64_t t = 0; t < g.dv; ++t) {
            dp += dout[row * g.dv + t] * (*L.v)[vo + t];
            dv[vo + t] += p * dout[row * g.dv + t];
          }
          double ds = p * (dp - big_d + extra);
          for (int64_t t = 0; t < g.d; ++t) {
            dq[row * g.d + t] += g.scale * ds * (*L.k)[ko + t];
            dk[ko + t] += g.scale * ds * (*L.q)[row * g.d + t];
          }
          if (opt.bias)
            dbias[L.at_bias(dbias_st, bidx, h, i, j)] += ds;
        }
      }
  }
  std::vector<interp::Array> out{std::move(dq), std::move(dk), std::move(dv)};
  if (opt.bias)
    out.push_back(std::move(dbias));
  return out;
}

/// Forward: two GEMM-like products per allowed pair (2 d + 2 dv flops), ~4 flops of
/// online softmax per pair (+1 with a bias), one exp per pair, dv per row to normalise.
/// Bytes are the operands and results only: the N x M scores never reach memory.
Cost cost_attention(const CostCtx& c) {
  Cost k = default_cost(c);
  Geo g = geo_of(c.operands[0].shape, c.operands[1].shape, c.operands[2].shape, c.attrs);
  double pairs = allowed_pairs(g), heads = static_cast<double>(g.nb * g.hq);
  double per_pair =
      2.0 * static_cast<double>(g.d + g.dv) + 4 + (c.attrs.boolean("has_bias") ? 1 : 0);
  k.flops = heads * (pairs * per_pair + static_cast<double>(g.n * g.dv));
  k.transcendentals = heads * pairs;
  return k;
}

/// Backward: five products per allowed pair (recomputed scores, dP, dV, dK, dQ: 6 d + 4 dv
/// flops), ~5 flops for p and ds, one exp per pair, D_i per row.
Cost cost_attention_grad(const CostCtx& c) {
  Cost k = default_cost(c);
  Geo g = geo_of(c.operands[0].shape, c.operands[1].shape, c.operands[2].shape, c.attrs);
  double pairs = allowed_pairs(g), heads = static_cast<double>(g.nb * g.hq);
  double per_pair = 6.0 * static_cast<double>(g.d) + 4.0 * static_cast<double>(g.dv) + 5;
  k.flops = heads * (pairs * per_pair + 2.0 * static_cast<double>(g.n * g.dv));
  k.transcendentals = heads * pairs;
  return k;
}

/// attention's VJP: one attention_grad node; keep gets no gradient.
std::vector<Value*> vjp_attention(VjpCtx& c) {
  Optionals opt = optionals(c.attrs());
  size_t nops = at(3 + opt.count());
  std::vector<Value*> out(nops, nullptr);
  bool any = c.needs(0) || c.needs(1) || c.needs(2) || (opt.bias && c.needs(3));
  if (!any || (!c.dy(0) && !c.dy(1)))
    return out;
  std::vector<Value*> ops;
  for (size_t i = 0; i < nops; ++i)
    ops.push_back(c.x(static_cast<int>(i)));
  ops.push_back(c.y(0));
  ops.push_back(c.y(1));
  ops.push_back(c.dy(0) ? c.dy(0) : c.fill(0.0, c.y(0)->type));
  if (c.dy(1))
    ops.push_back(c.dy(1));
  const AttrDict& a = c.attrs();
  AttrList attrs{{"scale", a.f64("scale")},   {"mask", a.get("mask")},
                 {"window", a.i64("window")}, {"has_bias", opt.bias},
                 {"has_keep", opt.keep},      {"has_dlse", c.dy(1) != nullptr},
                 {"bias_toeplitz", a.boolean("bias_toeplitz")}};
  std::string name = c.node.scoped_name().empty() ? "" : c.node.scoped_name() + ".grad";
  Node* n = c.b.create(OpKind::AttentionGrad, std::move(ops), attrs, c.node.loc, name);
  for (int i = 0; i < 3; ++i)
    if (c.needs(i))
      out[at(i)] = n->result(i);
  if (opt.bias && c.needs(3))
    out[3] = n->result(3);
  return out;
}

std::vector<AttrSpec> common_attrs() {
  return {required("scale", AttrKind::F64, "multiplies <q_i, k_j>"),
          attr("mask", AttrKind::Str, Attr(std::string("none")),
               "\"none\", \"causal\" (key j <= i + M - N) or \"sliding\" (also > i + M - N - "
               "window)"),
          attr("window", AttrKind::I64, Attr(int64_t{0}), "keys per query for \"sliding\" (>= 1)"),
          attr("has_bias", AttrKind::Bool, Attr(false), "a bias operand follows v"),
          attr("has_keep", AttrKind::Bool, Attr(false), "a bool keep operand follows (bias)"),
          attr("bias_toeplitz", AttrKind::Bool, Attr(false),
               "bias is a table [*B, Hq, N + M - 1]: bias_ij = T[j - i + N - 1]")};
}

} // namespace

/// attention_grad's VJP (attention_grad_vjp.cpp).
std::vector<Value*> vjp_attention_grad(VjpCtx& c);

} // namespace tevo::ir::ops

namespace tevo::ir {
using namespace ops; // NOLINT: definitions below read like a table

OpDef def_Attention() {
  OpDef o;
  o.name = "attention";
  o.summary = "softmax(scale q k^T + bias, masked) v over [*B, H, N, d] heads (GQA/MQA), "
              "with the row logsumexp; never materialises N x M. The CPU kernel computes f32 "
              "with denormals flushed to zero (values below 1.2e-38, in and out)";
  o.signature = "(q, k, v [, bias] [, keep]) -> (o, lse)";
  o.min_operands = 3;
  o.max_operands = 5;
  o.attrs = common_attrs();
  o.infer = infer_attention;
  o.eval = eval_attention;
  o.cost = cost_attention;
  o.vjp = vjp_attention;
  return o;
}

OpDef def_AttentionGrad() {
  OpDef o;
  o.name = "attention_grad";
  o.summary = "gradients of attention from (o, lse, do [, dlse]); recomputes p from lse "
              "(f32 on CPU: denormals flushed, as the forward)";
  o.signature = "(q, k, v [, bias] [, keep], o, lse, do [, dlse]) -> (dq, dk, dv [, dbias])";
  o.min_operands = 6;
  o.max_operands = 9;
  o.attrs = common_attrs();
  o.attrs.push_back(attr("has_dlse", AttrKind::Bool, Attr(false), "a cotangent of lse follows do"));
  o.infer = infer_attention_grad;
  o.eval = eval_attention_grad;
  o.cost = cost_attention_grad;
  o.vjp = vjp_attention_grad;
  return o;
}

} // namespace tevo::ir
