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

/// (A B ⊙ D) X in chunks of c, D the decay exp(L_i - L_j) on j <= i (j < i when strict),
/// L the cumulative log decay: a constant log a per step (retention: L_i - L_j = (i - j)
/// log a) or a per-step one (Mamba-2's SSD, scalar-gated linear attention). With l = the
/// cumulative log decay inside each chunk (l_u = (u + 1) log a, or a cumsum over the
/// chunk's steps): inside a chunk the masked product (A_C B_C^T ⊙ exp(l_u - l_v)) X_C (the
/// exponent masked before the exp, so the dropped half cannot overflow); the chunk states
/// S_C = (B_C ⊙ exp(l_last - l_v))^T X_C, carried across chunks by one linear_scan
/// h_C = a_{C-1} h_{C-1} + S_{C-1} with the chunk decay a_C = exp(l_last(C)); rows read
/// exp(l_u) h_C. Every exponent is a decay within one chunk (<= 0 for decays), so nothing
/// overflows however long N is.
Value* chunked_lowrank(Builder& b, const Node& at, Value* A, Value* Bt, Value* X, Value* log_a,
                       bool per_step, bool strict, const ir::Shape& out, int64_t c,
                       Why& why) {
  Tentative& t = b.t();
  int64_t r = out.rank(), n = out.dim(r - 2), dv = out.dim(r - 1), nc = n / c;
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
  auto chunks = [&](Value* v, int64_t cols) { // [.., N, cols] -> [.., nc, c, cols]
    return t.reshape(b.broadcast(v, full({n, cols})), full({nc, c, cols}));
  };
  Value* Ac = chunks(A, d);
  Value* Bc = chunks(t.op(OpKind::Transpose, {Bt}, {{"perm", last2_swapped(Bt)}}), d);
  Value* Xc = chunks(X, dv);
  const int64_t ax = static_cast<int64_t>(batch.size()); // the chunk axis
  ir::DType dt = b.dtype();
  Value* ell; // [.., nc or 1, c, 1]
  if (per_step) {
    ell = t.op(OpKind::Cumsum, {chunks(log_a, 1)}, {{"axis", ax + 1}});
  } else { // log a with its batch dims, then (chunk, step, 1)
    Ints la = log_a->type.shape.to_vector();
    la.resize(la.size() >= 2 ? la.size() - 2 : 0);
    la.insert(la.end(), {1, 1, 1});
    Value* step = t.op(OpKind::Iota, {}, {{"shape", Ints{c, 1}}, {"axis", int64_t{0}}, {"dtype", dt}});
    ell = b.mul(t.reshape(log_a, la), b.add(step, b.splat(1.0)));
  }
  // Intra-chunk: the masked decayed product of each chunk with itself.
  Value* ellt = t.op(OpKind::Transpose, {ell}, {{"perm", last2_swapped(ell)}}); // [.., 1, c]
  Value* u = t.op(OpKind::Iota, {}, {{"shape", Ints{c, c}}, {"axis", int64_t{0}}, {"dtype", dt}});
  Value* v = t.op(OpKind::Iota, {}, {{"shape", Ints{c, c}}, {"axis", int64_t{1}}, {"dtype", dt}});
  Value* keep = t.op(strict ? OpKind::Lt : OpKind::Le, {v, u});
  Value* diff = t.op(OpKind::Select, {keep, t.op(OpKind::Sub, {ell, ellt}), b.splat(0.0)});
  Value* dmask = t.op(OpKind::Select, {keep, t.op(OpKind::Exp, {diff}), b.splat(0.0)});
  Value* bct = t.op(OpKind::Transpose, {Bc}, {{"perm", last2_swapped(Bc)}});
  Value* intra = b.mul(t.op(OpKind::Matmul, {Ac, bct}), dmask);
  Value* y = t.op_before(at, OpKind::Matmul, {intra, Xc}, {}, std::string(kIntraChunk));
  // Chunk states and their exclusive decayed prefix over the chunk axis.
  const ir::Shape& es = ell->type.shape;
  Ints starts(static_cast<size_t>(es.rank()), 0);
  starts[starts.size() - 2] = c - 1;
  Value* last = t.op(OpKind::Slice, {ell}, {{"starts", starts}, {"ends", es.to_vector()}});
  Value* kw = b.mul(Bc, t.op(OpKind::Exp, {t.op(OpKind::Sub, {last, ell})}));
  Value* st = t.op(OpKind::Matmul, {t.op(OpKind::Transpose, {kw}, {{"perm", last2_swapped(kw)}}),
                                    Xc}); // [.., nc, d, dv]
  Value* prev = b.shift_down(st, ax);
  Value* a_chunk = t.op(OpKind::Exp, {last});
  // The state of chunk C-2 crosses chunk C-1's decay; a constant decay is every chunk's.
  Value* a_prev = es.dim(es.rank() - 3) == 1 ? a_chunk : b.shift_down(a_chunk, es.rank() - 3);
  Value* h = t.op(OpKind::LinearScan, {a_prev, prev}, {{"axis", ax}});
  // Inter-chunk: rows read the carried state decayed by exp(l_u).
  y = b.add(y, t.op(OpKind::Matmul, {b.mul(Ac, t.op(OpKind::Exp, {ell})), h}));
  return t.reshape(y, out.to_vector());
}

} // namespace tevo::passes::decay
