// attention.cpp: checks, workspace and the forward kernel of the runtime op "attention".
//
// Forward (flash-style): one work unit is a (batch, query head, tile of query rows). It
// streams the key tiles its rows may see with an online softmax: per row a running max m,
// a running sum l and an accumulator rescaled by exp(m_old - m_new) (folded into the value
// product's first pass over the accumulator). Key tiles the mask hides entirely are never
// visited (a sliding window visits O(window) keys), tiles the mask allows entirely skip the
// mask, and the others mask each row's keys outside its interval. While a tile's rows go
// through the softmax, the next tile's K and V rows are prefetched into L2 (at N = 16k a
// head's K and V no longer fit there). Units are dealt round-robin to the OpenMP team
// (causal rows differ in cost). f32 accumulates in f32, as PyTorch does.
#include "runtime/kernels/attention.h"

#include "runtime/json.h"
#include "runtime/kernels/ops.h"
#include "runtime/kernels/attention_gemm.h"
#include "runtime/kernels/attention_tile.h"

#include <array>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <limits>
#include <optional>
#include <type_traits>
#include <omp.h>

namespace tevo::rt::kernels {

void AttnGeo::key_range(int64_t i0, int64_t i1, int64_t& lo, int64_t& hi) const {
  lo = 0;
  hi = m;
  if (mask == 0 || i1 <= i0)
    return;
  hi = std::clamp<int64_t>(i1 - 1 + off() + 1, 0, m);
  if (mask == 2)
    lo = std::clamp<int64_t>(i0 + off() - window + 1, 0, m);
}

void AttnGeo::query_range(int64_t j0, int64_t j1, int64_t& lo, int64_t& hi) const {
  lo = 0;
  hi = n;
  if (mask == 0 || j1 <= j0)
    return;
  lo = std::clamp<int64_t>(j0 - off(), 0, n); // j <= i + off
  if (mask == 2)
    hi = std::clamp<int64_t>(j1 - 1 - off() + window, 0, n); // i + off - j < window
}

bool AttnGeo::tile_full(int64_t i0, int64_t i1, int64_t j0, int64_t j1) const {
  if (mask == 0)
    return true;
  // The corners decide: the tightest pair for each bound.
  bool causal_ok = j1 - 1 <= i0 + off();
  return causal_ok && (mask == 1 || (i1 - 1) + off() - j0 < window);
}

namespace {

void expect(const RuntimeOpStep& s,
            const StridedDesc& got,
            DType t,
            const std::vector<int64_t>& dims,
            const char* what) {
  if (got.dtype != t || got.dims != dims || got.strides.size() != dims.size())
    bad(s, fmt::format("{} is {}, expected {}[{}]", what, type_str(got), ir::dtype_name(t),
                       fmt::join(dims, ",")));
}

/// bias / keep: dtype t, dims broadcastable to `scores`.
void expect_broadcast(const RuntimeOpStep& s,
                      const StridedDesc& x,
                      DType t,
                      const std::vector<int64_t>& scores,
                      const char* what) {
  bool ok = x.dtype == t && x.dims.size() <= scores.size() && x.strides.size() == x.dims.size();
  size_t lead = scores.size() - std::min(scores.size(), x.dims.size());
  for (size_t i = 0; ok && i < x.dims.size(); ++i)
    ok = x.dims[i] == 1 || x.dims[i] == scores[lead + i];
  if (!ok)
    bad(s, fmt::format("{} {} must be {} and broadcast to the scores [{}]", what, type_str(x),
                       ir::dtype_name(t), fmt::join(scores, ",")));
}

std::vector<int64_t> with(std::vector<int64_t> batch, std::initializer_list<int64_t> tail) {
  batch.insert(batch.end(), tail);
  return batch;
}

} // namespace

AttnGeo attn_geo(const RuntimeOpStep& s) {
  AttnGeo g;
  const auto &q = s.operands[0].dims, &k = s.operands[1].dims, &v = s.operands[2].dims;
  size_t r = q.size();
  g.batch.assign(q.begin(), q.end() - 3);
  for (int64_t b : g.batch)
    g.nb *= b;
  g.hq = q[r - 3];
  g.n = q[r - 2];
  g.d = q[r - 1];
  g.hkv = k[r - 3];
  g.m = k[r - 2];
  g.dv = v[r - 1];
  g.mask = static_cast<int>(s.iattrs[0]);
  g.window = s.iattrs[1];
  g.has_bias = s.iattrs[2] != 0;
  g.has_keep = s.iattrs[3] != 0;
  g.bias_toeplitz = s.iattrs[4] != 0;
  g.has_dlse = s.iattrs.size() > 5 && s.iattrs[5] != 0;
  g.scale = s.fattrs[0];
  return g;
}

void check_attention(const RuntimeOpStep& s, bool grad) {
  size_t nia = grad ? 6 : 5;
  if (s.iattrs.size() != nia || s.fattrs.size() != 1)
    bad(s, fmt::format("expected {} iattrs and 1 fattr, got {} and {}", nia, s.iattrs.size(),
                       s.fattrs.size()));
  for (size_t i = 2; i < nia; ++i)
    if (s.iattrs[i] != 0 && s.iattrs[i] != 1)
      bad(s, fmt::format("iattr {} must be 0 or 1, got {}", i, s.iattrs[i]));
  int64_t mask = s.iattrs[0], window = s.iattrs[1];
  if (mask < 0 || mask > 2)
    bad(s, fmt::format("mask must be 0 (none), 1 (causal) or 2 (sliding), got {}", mask));
  if (mask == 2 ? window < 1 : window < 0)
    bad(s, fmt::format("window {} out of range for mask {}", window, mask));
  if (!std::isfinite(s.fattrs[0]))
    bad(s, fmt::format("scale must be finite, got {}", s.fattrs[0]));
  size_t nopt = static_cast<size_t>(s.iattrs[2] + s.iattrs[3]);
  size_t nops = 3 + nopt + (grad ? 3 + static_cast<size_t>(s.iattrs[5]) : 0);
  if (s.iattrs[4] != 0 && s.iattrs[2] == 0)
    bad(s, "a relative-position bias table (iattr 4) needs a bias (iattr 2)");
  size_t nres = grad ? 3 + static_cast<size_t>(s.iattrs[2]) : 2;
  if (s.operands.size() != nops || s.results.size() != nres)
    bad(s, fmt::format("expected {} operands and {} results, got {} and {}", nops, nres,
                       s.operands.size(), s.results.size()));
  const StridedDesc &q = s.operands[0], &k = s.operands[1], &v = s.operands[2];
  if (q.dtype != DType::F32 && q.dtype != DType::F64)
    bad(s, "q must be f32 or f64, got " + type_str(q));
  size_t r = q.dims.size();
  for (const StridedDesc* x : {&q, &k, &v})
    if (x->dtype != q.dtype || x->dims.size() != r || x->strides.size() != r || r < 3)
      bad(s, fmt::format("q, k, v must be [*B, H, rows, cols] of one float dtype, got {}, {}, {}",
                         type_str(q), type_str(k), type_str(v)));
  for (const StridedDesc* x : {&q, &k, &v})
    for (int64_t e : x->dims)
      if (e < 0 || e > (int64_t{1} << 40))
        bad(s, "dims out of range: " + type_str(*x));
  bool dims_ok = std::equal(q.dims.begin(), q.dims.end() - 3, k.dims.begin()) &&
                 std::equal(q.dims.begin(), q.dims.end() - 3, v.dims.begin()) &&
                 k.dims[r - 1] == q.dims[r - 1] && v.dims[r - 3] == k.dims[r - 3] &&
                 v.dims[r - 2] == k.dims[r - 2];
  int64_t hq = q.dims[r - 3], hkv = k.dims[r - 3];
  if (!dims_ok || (hkv == 0 ? hq != 0 : hq % hkv != 0))
    bad(s, fmt::format("shapes do not fit q [*B, Hq, N, d], k [*B, Hkv, M, d], v [*B, Hkv, M, "
                       "dv] with Hq % Hkv = 0: {}, {}, {}",
                       type_str(q), type_str(k), type_str(v)));
  AttnGeo g = attn_geo(s);
  std::vector<int64_t> scores = with(g.batch, {g.hq, g.n, g.m});
  size_t i = 3;
  if (g.has_bias)
    expect_broadcast(s, s.operands[i++], q.dtype,
                     g.bias_toeplitz ? with(g.batch, {g.hq, std::max<int64_t>(0, g.n + g.m - 1)})
                                     : scores,
                     "bias");
  if (g.has_keep)
    expect_broadcast(s, s.operands[i++], DType::Bool, scores, "keep");
  std::vector<int64_t> od = with(g.batch, {g.hq, g.n, g.dv}), ld = with(g.batch, {g.hq, g.n});
  if (!grad) {
    expect(s, s.results[0], q.dtype, od, "o");
    expect(s, s.results[1], q.dtype, ld, "lse");
    return;
  }
  expect(s, s.operands[i], q.dtype, od, "o");
  expect(s, s.operands[i + 1], q.dtype, ld, "lse");
  expect(s, s.operands[i + 2], q.dtype, od, "do");
  if (g.has_dlse)
    expect(s, s.operands[i + 3], q.dtype, ld, "dlse");
  expect(s, s.results[0], q.dtype, q.dims, "dq");
  expect(s, s.results[1], q.dtype, k.dims, "dk");
  expect(s, s.results[2], q.dtype, v.dims, "dv");
  if (g.has_bias)
    expect(s, s.results[3], q.dtype, s.operands[3].dims, "dbias");
}

namespace {

/// Floats of the per-thread K^T cache: only where the micro-kernels run (f32, AVX-512) and
/// a query tile does not already cover every query (then each head's keys are packed once
/// anyway).
int64_t kt_cache_floats(const AttnGeo& g, int64_t elem) {
  if (elem != 4 || !attn::tile_gemm_available() || g.n <= attn::fwd_tile_q(g))
    return 0;
  return attn::KtCache::floats(g.m, g.d);
}

/// Element counts of the forward's per-thread tiles, in carving order: Q, K (or K^T
/// panels), V, S, accumulator, m, l, the rows' corrections, the K^T cache (f32 only,
/// counted in floats: at most KtCache::kMaxBytes), and the rows' maxima in 16 lanes.
std::array<int64_t, 10> forward_tiles(const AttnGeo& g, int64_t elem) {
  int64_t bq = attn::fwd_tile_q(g), bk = attn::fwd_tile_k(g);
  return {bq * g.d, std::max(bk * g.d, attn::packed_kt_floats(bk, g.d)), bk * g.dv, bq * bk,
          bq * g.dv, bq, bq, bq, kt_cache_floats(g, elem), 16 * bq};
}

int64_t forward_thread_bytes(const AttnGeo& g, int64_t elem) {
  return attn::Carver{nullptr, elem}.bytes(forward_tiles(g, elem));
}

template <class T> void forward(const OpArgs& a, const AttnGeo& g) {
  using attn::HeadView;
  const RuntimeOpStep& s = a.step;
  const HeadView qv = HeadView::of(s.operands[0]), kv = HeadView::of(s.operands[1]),
                 vv = HeadView::of(s.operands[2]);
  const T *q = static_cast<const T*>(a.in[0]), *k = static_cast<const T*>(a.in[1]),
          *v = static_cast<const T*>(a.in[2]);
  size_t oi = 3;
  const T* bias = nullptr;
  const uint8_t* keep = nullptr;
  HeadView bv, kpv;
  if (g.has_bias) {
    bv = HeadView::scores(s.operands[oi], g, g.bias_toeplitz);
    bias = static_cast<const T*>(a.in[oi++]);
  }
  if (g.has_keep) {
    kpv = HeadView::scores(s.operands[oi], g);
    keep = static_cast<const uint8_t*>(a.in[oi++]);
  }
  T* o = static_cast<T*>(a.out[0]);
  T* lse = static_cast<T*>(a.out[1]);
  const int64_t bq = attn::fwd_tile_q(g), bk = attn::fwd_tile_k(g), qtiles = (g.n + bq - 1) / bq;
  const int64_t units = g.nb * g.hq * qtiles;
  if (units == 0)
    return;
  const int64_t per_thread = forward_thread_bytes(g, sizeof(T));
  const T ninf = -std::numeric_limits<T>::infinity();
  const T scale = static_cast<T>(g.scale);
  // f32 on an AVX-512 CPU: the tile products run the register-blocked kernels.
  const bool micro = attn::use_tile_gemm<T>();
  // The keep map first (scanned once per distinct mask), then the per-thread tiles.
  std::optional<attn::KeepMap> km;
  if (keep)
    km.emplace(keep, kpv, g, bq, bk, a.workspace, a.threads);
  uint8_t* tiles = a.workspace + (keep ? attn::KeepMap::bytes(g, bq, bk) : 0);
#pragma omp parallel num_threads(attn::team_size(a.threads, units))
  {
    omp_set_num_threads(1); // this thread's nested regions (inside dnnl_sgemm) stay serial
    const attn::FlushDenormals ftz(std::is_same_v<T, float>);
    attn::Carver w{tiles + per_thread * omp_get_thread_num(), sizeof(T)};
    const std::array<int64_t, 10> n = forward_tiles(g, sizeof(T));
    T* qp = w.take<T>(n[0]);
    T* kp = w.take<T>(n[1]);
    T* vp = w.take<T>(n[2]);
    T* st = w.take<T>(n[3]);
    T* acc = w.take<T>(n[4]);
    T* mrow = w.take<T>(n[5]);
    T* lrow = w.take<T>(n[6]);
    T* corr = w.take<T>(n[7]);
    T* vmax = w.take<T>(n[9]);
    std::optional<attn::KtCache> ktc;
    if constexpr (std::is_same_v<T, float>)
      if (micro && n[8] > 0)
        ktc.emplace(w.take<T>(n[8]), g.m, g.d);
#pragma omp for schedule(static, 1)
    for (int64_t u = 0; u < units; ++u) {
      const int64_t bh = u / qtiles, b = bh / g.hq, h = bh % g.hq, kh = h / g.group();
      const int64_t i0 = (u % qtiles) * bq, nq = std::min(bq, g.n - i0);
      int64_t lo = 0, hi = 0;
      g.key_range(i0, i0 + nq, lo, hi);
      std::fill(mrow, mrow + nq, ninf);
      std::fill(lrow, lrow + nq, T(0));
      std::fill(acc, acc + nq * g.dv, T(0));
      int64_t ldq = 0, ldk = 0, ldv = 0;
      const T* qt = attn::fetch(q + qv.base(b, h), qv, i0, nq, g.d, qp, ldq);
      const T* kbase = k + kv.base(b, kh);
      const T* vbase = v + vv.base(b, kh);
      const int64_t bb = g.has_bias ? bv.base(b, h) : 0, kb = g.has_keep ? kpv.base(b, h) : 0;
      for (int64_t j0 = lo; j0 < hi; j0 += bk) {
        const int64_t nk = std::min(bk, hi - j0);
        const int kept = km ? km->state(b, h, i0, nq, j0, nk) : 2;
        if (kept == 0)
          continue;
        const T* vt = attn::fetch(vbase, vv, j0, nk, g.dv, vp, ldv);
        // A bias whose rows run along keys is added in the score product's store; when
        // nothing is masked after it, the store also takes the rows' maxima.
        const bool bias_in_store = micro && bias && bv.cs == 1;
        const bool full = g.tile_full(i0, i0 + nq, j0, j0 + nk);
        const bool max_in_store = micro && (!bias || bias_in_store) && kept == 2 && full;
        if constexpr (std::is_same_v<T, float>) {
          if (micro) {
            const float* ktp = kp;
            if (ktc && attn::KtCache::aligned(j0))
              ktp = ktc->panels(b * g.hkv + kh, kbase, kv.rs, kv.cs, j0, nk);
            else
              attn::pack_kt(kbase + j0 * kv.rs, kv.rs, kv.cs, nk, g.d, kp);
            attn::scores_tile(qt, ldq, nq, g.d, ktp, nk, scale,
                              bias_in_store ? bias + bb + i0 * bv.rs + j0 : nullptr, bv.rs, st,
                              bk, max_in_store ? vmax : nullptr);
          }
        }
        if (!micro) {
          const T* kt = attn::fetch(kbase, kv, j0, nk, g.d, kp, ldk);
          attn::gemm('N', 'T', nq, nk, g.d, scale, qt, ldq, kt, ldk, T(0), st, bk);
        }
        if (bias && !bias_in_store)
          attn::add_bias(st, bk, bias, bb, bv, i0, nq, j0, nk);
        if (kept == 1)
          attn::mask_tile(st, bk, keep, kb, kpv, i0, nq, j0, nk);
        if (!full)
          attn::mask_attr(st, bk, g, i0, nq, j0, nk);
        const int64_t jn = j0 + bk, nkn = std::max<int64_t>(0, std::min(bk, hi - jn));
        for (int64_t r = 0; r < nq; ++r) {
          if (nkn > 0) { // the next key tile's K and V rows, a share per query row
            const int64_t ra = r * nkn / nq, rz = (r + 1) * nkn / nq;
            attn::prefetch_rows(kbase + jn * kv.rs, kv, ra, rz, g.d);
            attn::prefetch_rows(vbase + jn * vv.rs, vv, ra, rz, g.dv);
          }
          T* x = st + r * bk;
          const T tile_max = max_in_store ? attn::row_max(vmax + 16 * r, 16) : attn::row_max(x, nk);
          const T mnew = std::max(mrow[r], tile_max);
          corr[r] = T(1);
          if (mnew == ninf) { // nothing allowed so far: p = 0, the accumulator stays 0
            std::fill(x, x + nk, T(0));
            continue;
          }
          corr[r] = std::exp(mrow[r] - mnew); // 0 on the row's first allowed tile
          lrow[r] = lrow[r] * corr[r] + attn::row_exp_sum(x, nk, mnew);
          mrow[r] = mnew;
        }
        if constexpr (std::is_same_v<T, float>) {
          if (micro)
            attn::product_tile(nq, g.dv, nk, 1.0f, st, bk, 1, vt, ldv, corr, true, acc,
                               std::max<int64_t>(g.dv, 1));
        }
        if (!micro) {
          for (int64_t r = 0; r < nq; ++r)
            if (corr[r] != T(1))
              for (int64_t t = 0; t < g.dv; ++t)
                acc[r * g.dv + t] *= corr[r];
          attn::gemm('N', 'N', nq, g.dv, nk, T(1), st, bk, vt, ldv, T(1), acc,
                     std::max<int64_t>(g.dv, 1));
        }
      }
      T* orow = o + (bh * g.n + i0) * g.dv;
      for (int64_t r = 0; r < nq; ++r) {
        const bool any = lrow[r] > 0;
        const T inv = any ? T(1) / lrow[r] : T(0);
        for (int64_t t = 0; t < g.dv; ++t)
          orow[r * g.dv + t] = any ? acc[r * g.dv + t] * inv : T(0);
        lse[bh * g.n + i0 + r] = any ? mrow[r] + std::log(lrow[r]) : ninf;
      }
    }
  }
}

} // namespace

int64_t attention_workspace(const RuntimeOpStep& s, int threads) {
  AttnGeo g = attn_geo(s);
  int64_t elem = s.operands[0].dtype == DType::F32 ? 4 : 8;
  if (s.op == "attention")
    return forward_thread_bytes(g, elem) * threads +
           (g.has_keep ? attn::KeepMap::bytes(g, attn::fwd_tile_q(g), attn::fwd_tile_k(g)) : 0);
  int64_t partial = align64(attn::numel(s.operands[0].dims) * elem);
  if (g.has_bias)
    partial += align64(attn::numel(s.operands[3].dims) * elem);
  return attn::backward_thread_bytes(g, elem) * threads + partial * (threads - 1) +
         (g.has_keep ? attn::KeepMap::bytes(g, attn::tile_q(g), attn::tile_k(g)) : 0);
}

void attention_forward(const OpArgs& a) {
  AttnGeo g = attn_geo(a.step);
  if (a.step.operands[0].dtype == DType::F32)
    forward<float>(a, g);
  else
    forward<double>(a, g);
}

} // namespace tevo::rt::kernels
