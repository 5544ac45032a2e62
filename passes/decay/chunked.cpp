// chunked.cpp: the chunked scan forms of (A B ⊙ D) X for the decay-scan pass (retention
// with a constant decay, SSD with a per-step one): masked products inside chunks, chunk
// states carried across chunks by one linear_scan.
#include "passes/decay/decay_form.h"

namespace tevo::passes::decay {

/// The permutation that swaps a value's last two dims.
Ints last2_swapped(const Value* v) {
  Ints perm(static_cast<size_t>(v->type.shape.rank()));
  for (size_t k = 0; k < perm.size(); ++k)
    perm[k] = static_cast<int64_t>(k);
  std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
  return perm;
}

/// The chunk of a chunked scan over N: 64, or the largest power of two below it that
/// divides N (>= 8); 0 when none does. Intra-chunk work grows with c and the carried
/// states shrink with it; 64 keeps the [c, c] blocks and the [d, dv] states about even
/// for the head sizes transformers use.
int64_t chunk_of(int64_t n) {
  for (int64_t c = 64; c >= 8; c /= 2)
    if (n % c == 0 && n > c)
      return c;
  return 0;
}

namespace {

/// The chunked form with a per-step decay (log a_t: `log_a` shaped [.., N, 1]; Mamba-2's
/// SSD, gated linear attention with a scalar gate). With l = the cumulative log decay
/// inside each chunk (a cumsum over its c steps): inside a chunk exp(l_u - l_v) on v <= u
/// (masked before the exp, so the dropped half cannot overflow); the chunk state
/// S_C = (B_C ⊙ exp(l_last - l_v))^T X_C; across chunks h_C = a_{C-1} h_{C-1} + S_{C-1}
/// with the chunk decay a_C = exp(l_last(C)); rows read exp(l_u) h_C. Every exponent is
/// a decay within one chunk (<= 0 for decays), so nothing overflows however long N is.
Value* chunked_per_step(Builder& b, const Node& at, Value* Ac, Value* Bc, Value* Xc,
                        Value* log_a, bool strict, const ir::Shape& out, int64_t c,
                        const Ints& batch) {
  Tentative& t = b.t();
  int64_t r = out.rank(), n = out.dim(r - 2), nc = n / c;
  int64_t d = Ac->type.shape.dim(Ac->type.shape.rank() - 1);
  int64_t dv = Xc->type.shape.dim(Xc->type.shape.rank() - 1);
  auto full = [&](Ints tail) {
    Ints s2 = batch;
    s2.insert(s2.end(), tail.begin(), tail.end());
    return s2;
  };
  Value* la = log_a->type.shape.to_vector() == full({n, 1})
                  ? log_a
                  : t.op(OpKind::BroadcastTo, {log_a}, {{"shape", full({n, 1})}});
  const int64_t ax = static_cast<int64_t>(batch.size()); // the chunk axis; ax + 1: steps
  Value* ell = t.op(OpKind::Cumsum, {t.reshape(la, full({nc, c, 1}))}, {{"axis", ax + 1}});
  Value* ellt = t.op(OpKind::Transpose, {ell}, {{"perm", last2_swapped(ell)}}); // [.., 1, c]
  ir::DType dt = b.dtype();
  Value* u = t.op(OpKind::Iota, {}, {{"shape", Ints{c, c}}, {"axis", int64_t{0}}, {"dtype", dt}});
  Value* v = t.op(OpKind::Iota, {}, {{"shape", Ints{c, c}}, {"axis", int64_t{1}}, {"dtype", dt}});
  Value* keep = t.op(strict ? OpKind::Lt : OpKind::Le, {v, u});
  Value* diff = t.op(OpKind::Select, {keep, t.op(OpKind::Sub, {ell, ellt}), b.splat(0.0)});
  Value* dmask = t.op(OpKind::Select, {keep, t.op(OpKind::Exp, {diff}), b.splat(0.0)});
  Value* bct = t.op(OpKind::Transpose, {Bc}, {{"perm", last2_swapped(Bc)}});
  Value* intra = b.mul(t.op(OpKind::Matmul, {Ac, bct}), dmask);
  Value* y = t.op_before(at, OpKind::Matmul, {intra, Xc}, {}, std::string(kIntraChunk));
  Ints zeros(batch.size() + 3, 0), starts = zeros;
  starts[static_cast<size_t>(ax + 1)] = c - 1;
  Value* last = t.op(OpKind::Slice, {ell}, {{"starts", starts}, {"ends", full({nc, c, 1})}});
  Value* kw = b.mul(Bc, t.op(OpKind::Exp, {t.op(OpKind::Sub, {last, ell})}));
  Value* st = t.op(OpKind::Matmul, {t.op(OpKind::Transpose, {kw}, {{"perm", last2_swapped(kw)}}),
                                    Xc}); // [.., nc, d, dv]
  auto shift = [&](Value* x, Ints ends) { // x_C -> x_{C-1} along the chunk axis, 0 first
    Ints lo = zeros;
    lo[static_cast<size_t>(ax)] = 1;
    return t.op(OpKind::Slice, {t.op(OpKind::Pad, {x}, {{"low", lo}, {"high", zeros}})},
                {{"starts", zeros}, {"ends", ends}});
  };
  Value* prev = shift(st, full({nc, d, dv}));
  Value* a_prev = shift(t.op(OpKind::Exp, {last}), full({nc, 1, 1}));
  Value* h = t.op(OpKind::LinearScan, {a_prev, prev}, {{"axis", ax}});
  y = b.add(y, t.op(OpKind::Matmul, {b.mul(Ac, t.op(OpKind::Exp, {ell})), h}));
  return t.reshape(y, out.to_vector());
}

} // namespace

/// (A B ⊙ D) X with D the decay matrix a^(i-j) (j <= i), chunk c, as RetNet's chunkwise
/// form: inside a chunk the masked product (A_C B_C^T ⊙ D_c) X_C; across chunks the
/// states S_C = sum_v a^(c-1-v) B_v^T X_v carried by an exclusive linear_scan with decay
/// a^c and read as (A_C ⊙ a^(u+1)) H_C. `log_a` broadcasts like the matrix's batch dims.
Value* chunked_lowrank(Builder& b, const Node& at, Value* A, Value* Bt, Value* X, Value* log_a,
                       bool per_step, bool strict, const ir::Shape& out, int64_t c,
                       Why& why) {
  Tentative& t = b.t();
  int64_t r = out.rank(), n = out.dim(r - 2), dv = out.dim(r - 1);
  int64_t d = A->type.shape.dim(A->type.shape.rank() - 1);
  if (Bt->type.shape.dim(Bt->type.shape.rank() - 2) != d) {
    why.fail("low-rank factor shapes do not chain", true);
    return nullptr;
  }
  Ints batch = out.to_vector();
  batch.resize(static_cast<size_t>(r - 2));
  auto full = [&](Ints tail) {
    Ints s2 = batch;
    s2.insert(s2.end(), tail.begin(), tail.end());
    return s2;
  };
  auto bcast = [&](Value* v, Ints shape) {
    return v->type.shape.to_vector() == shape
               ? v
               : t.op(OpKind::BroadcastTo, {v}, {{"shape", shape}});
  };
  int64_t nc = n / c;
  Value* Bn = t.op(OpKind::Transpose, {Bt}, {{"perm", last2_swapped(Bt)}}); // [.., N, d]
  Value* Ac = t.reshape(bcast(A, full({n, d})), full({nc, c, d}));
  Value* Bc = t.reshape(bcast(Bn, full({n, d})), full({nc, c, d}));
  Value* Xc = t.reshape(bcast(X, full({n, dv})), full({nc, c, dv}));
  if (per_step)
    return chunked_per_step(b, at, Ac, Bc, Xc, log_a, strict, out, c, batch);
  // log a with its batch dims, then [1, 1, 1] for (chunk, row, column).
  Ints la = log_a->type.shape.to_vector();
  la.resize(la.size() >= 2 ? la.size() - 2 : 0);
  la.insert(la.end(), {1, 1, 1});
  Value* l4 = t.reshape(log_a, la);
  ir::DType dt = b.dtype();
  Value* u = t.op(OpKind::Iota, {}, {{"shape", Ints{c, c}}, {"axis", int64_t{0}}, {"dtype", dt}});
  Value* v = t.op(OpKind::Iota, {}, {{"shape", Ints{c, c}}, {"axis", int64_t{1}}, {"dtype", dt}});
  Value* col = t.op(OpKind::Iota, {}, {{"shape", Ints{c, 1}}, {"axis", int64_t{0}}, {"dtype", dt}});
  // Intra-chunk: the masked decayed product of each chunk with itself.
  Value* dc = t.op(OpKind::Exp, {b.mul(l4, t.op(OpKind::Sub, {u, v}))});
  Value* dmask =
      t.op(OpKind::Select, {t.op(strict ? OpKind::Lt : OpKind::Le, {v, u}), dc, b.splat(0.0)});
  Value* bct = t.op(OpKind::Transpose, {Bc}, {{"perm", last2_swapped(Bc)}});
  Value* intra = b.mul(t.op(OpKind::Matmul, {Ac, bct}), dmask);
  Value* y = t.op_before(at, OpKind::Matmul, {intra, Xc}, {}, std::string(kIntraChunk));
  // Chunk states S_C = (B_C ⊙ a^(c-1-v))^T X_C and their exclusive decayed prefix.
  Value* wv = t.op(OpKind::Exp, {b.mul(l4, b.add(b.mul(col, b.splat(-1.0)),
                                                   b.splat(static_cast<double>(c - 1))))});
  Value* kw = b.mul(Bc, wv);
  Value* st = t.op(OpKind::Matmul, {t.op(OpKind::Transpose, {kw}, {{"perm", last2_swapped(kw)}}),
                                    Xc}); // [.., nc, d, dv]
  int64_t ax = static_cast<int64_t>(batch.size()); // the chunk axis
  Ints lo(batch.size() + 3, 0), hi(lo), starts(lo);
  lo[static_cast<size_t>(ax)] = 1;
  Value* prev = t.op(OpKind::Slice, {t.op(OpKind::Pad, {st}, {{"low", lo}, {"high", hi}})},
                     {{"starts", starts}, {"ends", full({nc, d, dv})}});
  Value* ac = t.op(OpKind::Exp, {b.mul(l4, b.splat(static_cast<double>(c)))});
  Value* h = t.op(OpKind::LinearScan, {ac, prev}, {{"axis", ax}});
  // Inter-chunk: rows read the carried state decayed by a^(u+1).
  Value* qw = t.op(OpKind::Exp, {b.mul(l4, b.add(col, b.splat(1.0)))});
  y = b.add(y, t.op(OpKind::Matmul, {b.mul(Ac, qw), h}));
  return t.reshape(y, out.to_vector());
}

} // namespace tevo::passes::decay
