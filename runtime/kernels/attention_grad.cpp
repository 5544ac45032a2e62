// attention_grad.cpp: the backward kernel of the runtime op "attention_grad".
//
// The standard flash backward: one work unit is a (batch, key/value head, tile of
// kAttnBlockK keys). For each query head of the group and each query tile the mask lets
// see those keys, it recomputes s and p = exp(s - lse) (no stored probabilities), then
//   dV += P^T dO,  dP = dO V^T,  dS = P * (dP - D + dlse)  (D_i = <do_i, o_i>),
//   dK += scale dS^T Q,  dQ += scale dS K,  dbias += dS (at bias's broadcast offsets).
// dK and dV of a key tile belong to one unit, so they need no synchronisation. dQ and
// dbias rows are shared between units: each thread adds into its own copy (thread 0 into
// the result itself) and the copies are summed in thread order afterwards, so results are
// deterministic for a given thread count (units are dealt round-robin, statically).
#include "runtime/kernels/attention.h"
#include "runtime/kernels/attention_gemm.h"
#include "runtime/kernels/attention_tile.h"

#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <omp.h>
#include <type_traits>

namespace tevo::rt::kernels {

namespace {

/// Element counts of the backward's per-thread tiles, in carving order: K, V, Q, dO, S/P/dS,
/// dP, the dK and dV accumulators, D, and K^T and V^T packed for the micro-kernels.
std::array<int64_t, 11> backward_tiles(const AttnGeo& g) {
  int64_t bq = attn::tile_q(g), bk = attn::tile_k(g);
  return {bk * g.d,  bk * g.dv, bq * g.d, bq * g.dv, bq * bk, bq * bk, bk * g.d, bk * g.dv, bq,
          attn::packed_kt_floats(bk, g.d), attn::packed_kt_floats(bk, g.dv)};
}

} // namespace

int64_t attn::backward_thread_bytes(const AttnGeo& g, int64_t elem) {
  return Carver{nullptr, elem}.bytes(backward_tiles(g));
}

namespace {

/// The operands of one call, typed.
template <class T> struct GradArgs {
  attn::HeadView qv, kv, vv, ov, dov, bv, keepv, dbv;
  const T *q, *k, *v, *o, *lse, *dout, *dlse = nullptr, *bias = nullptr;
  const uint8_t* keep = nullptr;
  std::vector<int64_t> lse_st, dlse_st; ///< [*B, Hq, N] strides (lse, dlse may be views)

  GradArgs(const OpArgs& a, const AttnGeo& g) {
    const RuntimeOpStep& s = a.step;
    qv = attn::HeadView::of(s.operands[0]);
    kv = attn::HeadView::of(s.operands[1]);
    vv = attn::HeadView::of(s.operands[2]);
    q = static_cast<const T*>(a.in[0]);
    k = static_cast<const T*>(a.in[1]);
    v = static_cast<const T*>(a.in[2]);
    size_t i = 3;
    if (g.has_bias) {
      bv = attn::HeadView::scores(s.operands[i], g, g.bias_toeplitz);
      dbv = attn::HeadView::scores_dense(s.operands[i], g, g.bias_toeplitz);
      bias = static_cast<const T*>(a.in[i++]);
    }
    if (g.has_keep) {
      keepv = attn::HeadView::scores(s.operands[i], g);
      keep = static_cast<const uint8_t*>(a.in[i++]);
    }
    ov = attn::HeadView::of(s.operands[i]);
    o = static_cast<const T*>(a.in[i++]);
    lse_st = s.operands[i].strides;
    lse = static_cast<const T*>(a.in[i++]);
    dov = attn::HeadView::of(s.operands[i]);
    dout = static_cast<const T*>(a.in[i++]);
    if (g.has_dlse) {
      dlse_st = s.operands[i].strides;
      dlse = static_cast<const T*>(a.in[i++]);
    }
  }
  /// Element offset of row (b, h, i) in an [*B, Hq, N] view with strides st.
  static int64_t
  row_at(const std::vector<int64_t>& st, const AttnGeo& g, int64_t b, int64_t h, int64_t i) {
    size_t r = st.size();
    int64_t off = h * st[r - 2] + i * st[r - 1];
    for (size_t t = g.batch.size(); t-- > 0;) {
      off += (b % g.batch[t]) * st[t];
      b /= g.batch[t];
    }
    return off;
  }
};

template <class T> void backward(const OpArgs& a, const AttnGeo& g) {
  const GradArgs<T> A(a, g);
  T* dq = static_cast<T*>(a.out[0]);
  T* dk = static_cast<T*>(a.out[1]);
  T* dv = static_cast<T*>(a.out[2]);
  T* dbias = g.has_bias ? static_cast<T*>(a.out[3]) : nullptr;
  const int64_t nq_all = attn::numel(a.step.results[0].dims);
  const int64_t nb_all = g.has_bias ? attn::numel(a.step.results[3].dims) : 0;
  const int64_t bq = attn::tile_q(g), bk = attn::tile_k(g), ktiles = (g.m + bk - 1) / bk;
  const int64_t units = g.nb * g.hkv * ktiles;
  const int team = attn::team_size(a.threads, units);
  const int64_t per_thread = attn::backward_thread_bytes(g, sizeof(T));
  // The keep map first (scanned once per distinct mask), then tiles and private copies.
  std::optional<attn::KeepMap> km;
  if (A.keep)
    km.emplace(A.keep, A.keepv, g, bq, bk, a.workspace, a.threads);
  uint8_t* ws = a.workspace + (A.keep ? attn::KeepMap::bytes(g, bq, bk) : 0);
  uint8_t* partials = ws + per_thread * team;
  const int64_t partial_bytes =
      align64(nq_all * static_cast<int64_t>(sizeof(T))) +
      (g.has_bias ? align64(nb_all * static_cast<int64_t>(sizeof(T))) : 0);
  const T ninf = -std::numeric_limits<T>::infinity();
  const T scale = static_cast<T>(g.scale);
  // f32 on an AVX-512 CPU: the tile products run the register-blocked kernels.
  const bool micro = attn::use_tile_gemm<T>();
#pragma omp parallel num_threads(team)
  {
    omp_set_num_threads(1); // this thread's nested regions (inside dnnl_sgemm) stay serial
    const attn::FlushDenormals ftz(std::is_same_v<T, float>);
    const int tid = omp_get_thread_num();
    T* my_dq = dq;
    T* my_dbias = dbias;
    if (tid > 0) {
      attn::Carver p{partials + partial_bytes * (tid - 1), sizeof(T)};
      my_dq = p.take<T>(nq_all);
      my_dbias = g.has_bias ? p.take<T>(nb_all) : nullptr;
    }
    std::fill(my_dq, my_dq + nq_all, T(0));
    if (my_dbias)
      std::fill(my_dbias, my_dbias + nb_all, T(0));
    attn::Carver w{ws + per_thread * tid, sizeof(T)};
    const std::array<int64_t, 11> n = backward_tiles(g);
    T* kp = w.take<T>(n[0]);
    T* vp = w.take<T>(n[1]);
    T* qp = w.take<T>(n[2]);
    T* dop = w.take<T>(n[3]);
    T* st = w.take<T>(n[4]);
    T* dpt = w.take<T>(n[5]);
    T* dk_acc = w.take<T>(n[6]);
    T* dv_acc = w.take<T>(n[7]);
    T* drow = w.take<T>(n[8]);
    T* ktp = w.take<T>(n[9]);
    T* vtp = w.take<T>(n[10]);
    const int64_t ldd = std::max<int64_t>(g.d, 1), lddv = std::max<int64_t>(g.dv, 1);
#pragma omp for schedule(static, 1)
    for (int64_t u = 0; u < units; ++u) {
      const int64_t bk_i = u / ktiles, b = bk_i / g.hkv, kh = bk_i % g.hkv;
      const int64_t j0 = (u % ktiles) * bk, nk = std::min(bk, g.m - j0);
      int64_t ldk = 0, ldv = 0, ldq = 0, lddo = 0;
      const T* kt = attn::fetch(A.k + A.kv.base(b, kh), A.kv, j0, nk, g.d, kp, ldk);
      const T* vt = attn::fetch(A.v + A.vv.base(b, kh), A.vv, j0, nk, g.dv, vp, ldv);
      std::fill(dk_acc, dk_acc + nk * g.d, T(0));
      std::fill(dv_acc, dv_acc + nk * g.dv, T(0));
      if constexpr (std::is_same_v<T, float>) {
        if (micro) { // K^T and V^T once per key tile, for every query tile it meets
          attn::pack_kt(kt, ldk, 1, nk, g.d, ktp);
          attn::pack_kt(vt, ldv, 1, nk, g.dv, vtp);
        }
      }
      int64_t lo = 0, hi = 0;
      g.query_range(j0, j0 + nk, lo, hi);
      for (int64_t h = kh * g.group(); h < (kh + 1) * g.group(); ++h) {
        const int64_t bh = b * g.hq + h;
        const int64_t bb = g.has_bias ? A.bv.base(b, h) : 0, db = g.has_bias ? A.dbv.base(b, h) : 0;
        const int64_t kb = g.has_keep ? A.keepv.base(b, h) : 0;
        const T* obase = A.o + A.ov.base(b, h);
        const T* dobase = A.dout + A.dov.base(b, h);
        for (int64_t i0 = lo; i0 < hi; i0 += bq) {
          const int64_t nq = std::min(bq, hi - i0);
          const int kept = km ? km->state(b, h, i0, nq, j0, nk) : 2;
          if (kept == 0)
            continue;
          const T* qt = attn::fetch(A.q + A.qv.base(b, h), A.qv, i0, nq, g.d, qp, ldq);
          const T* dot = attn::fetch(dobase, A.dov, i0, nq, g.dv, dop, lddo);
          const bool bias_in_store = micro && A.bias && A.bv.cs == 1;
          if constexpr (std::is_same_v<T, float>) {
            if (micro)
              attn::scores_tile(qt, ldq, nq, g.d, ktp, nk, scale,
                                bias_in_store ? A.bias + bb + i0 * A.bv.rs + j0 : nullptr,
                                A.bv.rs, st, bk);
          }
          if (!micro)
            attn::gemm('N', 'T', nq, nk, g.d, scale, qt, ldq, kt, ldk, T(0), st, bk);
          if (A.bias && !bias_in_store)
            attn::add_bias(st, bk, A.bias, bb, A.bv, i0, nq, j0, nk);
          if (kept == 1)
            attn::mask_tile(st, bk, A.keep, kb, A.keepv, i0, nq, j0, nk);
          if (!g.tile_full(i0, i0 + nq, j0, j0 + nk))
            attn::mask_attr(st, bk, g, i0, nq, j0, nk);
          // P = exp(S - lse) (0 for masked keys and for rows without any allowed key), and
          // drow = D - dlse.
          for (int64_t r = 0; r < nq; ++r) {
            const int64_t i = i0 + r;
            const T l = A.lse[GradArgs<T>::row_at(A.lse_st, g, b, h, i)];
            T* x = st + r * bk;
            if (l == ninf) {
              std::fill(x, x + nk, T(0));
              drow[r] = 0;
              continue;
            }
            attn::row_exp_sum(x, nk, l);
            T dd = 0;
            for (int64_t t = 0; t < g.dv; ++t)
              dd += dobase[i * A.dov.rs + t * A.dov.cs] * obase[i * A.ov.rs + t * A.ov.cs];
            drow[r] = dd - (A.dlse ? A.dlse[GradArgs<T>::row_at(A.dlse_st, g, b, h, i)] : T(0));
          }
          T* dq_rows = my_dq + (bh * g.n + i0) * g.d;
          if constexpr (std::is_same_v<T, float>) {
            if (micro) {
              attn::product_tile(nk, g.dv, nq, 1.0f, st, 1, bk, dot, lddo, nullptr, true, dv_acc,
                                 lddv);
              attn::scores_tile(dot, lddo, nq, g.dv, vtp, nk, 1.0f, nullptr, 0, dpt, bk);
            }
          }
          if (!micro) {
            attn::gemm('T', 'N', nk, g.dv, nq, T(1), st, bk, dot, lddo, T(1), dv_acc, lddv);
            attn::gemm('N', 'T', nq, nk, g.dv, T(1), dot, lddo, vt, ldv, T(0), dpt, bk);
          }
          for (int64_t r = 0; r < nq; ++r)
            for (int64_t c = 0; c < nk; ++c)
              st[r * bk + c] *= dpt[r * bk + c] - drow[r];
          if constexpr (std::is_same_v<T, float>) {
            if (micro) {
              attn::product_tile(nk, g.d, nq, scale, st, 1, bk, qt, ldq, nullptr, true, dk_acc,
                                 ldd);
              attn::product_tile(nq, g.d, nk, scale, st, bk, 1, kt, ldk, nullptr, true, dq_rows,
                                 ldd);
            }
          }
          if (!micro) {
            attn::gemm('T', 'N', nk, g.d, nq, scale, st, bk, qt, ldq, T(1), dk_acc, ldd);
            attn::gemm('N', 'N', nq, g.d, nk, scale, st, bk, kt, ldk, T(1), dq_rows, ldd);
          }
          if (my_dbias)
            for (int64_t r = 0; r < nq; ++r)
              for (int64_t c = 0; c < nk; ++c)
                my_dbias[db + (i0 + r) * A.dbv.rs + (j0 + c) * A.dbv.cs] += st[r * bk + c];
        }
      }
      const int64_t kvrow = (b * g.hkv + kh) * g.m + j0;
      std::memcpy(dk + kvrow * g.d, dk_acc, static_cast<size_t>(nk * g.d) * sizeof(T));
      std::memcpy(dv + kvrow * g.dv, dv_acc, static_cast<size_t>(nk * g.dv) * sizeof(T));
    }
    // Sum the private copies into the results, in thread order (the implicit barrier of
    // the loop above has passed: every copy is complete).
    if (team > 1) {
#pragma omp for schedule(static)
      for (int64_t e = 0; e < nq_all; ++e)
        for (int t = 1; t < team; ++t)
          dq[e] += reinterpret_cast<const T*>(partials + partial_bytes * (t - 1))[e];
      if (dbias) {
        const int64_t dq_bytes = align64(nq_all * static_cast<int64_t>(sizeof(T)));
#pragma omp for schedule(static)
        for (int64_t e = 0; e < nb_all; ++e)
          for (int t = 1; t < team; ++t)
            dbias[e] +=
                reinterpret_cast<const T*>(partials + partial_bytes * (t - 1) + dq_bytes)[e];
      }
    }
  }
}

} // namespace

void attention_backward(const OpArgs& a) {
  AttnGeo g = attn_geo(a.step);
  if (a.step.operands[0].dtype == DType::F32)
    backward<float>(a, g);
  else
    backward<double>(a, g);
}

} // namespace tevo::rt::kernels
