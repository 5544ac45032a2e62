// emit_columns.cpp: column order of reduce groups, when the innermost dim is kept (bias and
// norm-weight gradients; see emit_group.h).
#include "backends/cpu/emit_group.h"

#include <algorithm>

namespace tevo::cpu::groupgen {

int GroupEmitter::column_dim() const {
  for (size_t i = s_.d.size(); i-- > 0;) {
    if (s_.reduced[i])
      return -1;
    if (s_.d[i] != 1)
      return static_cast<int>(i);
  }
  return -1;
}

llvm::Type* GroupEmitter::slot_type(llvm::Type* ty) {
  return ty->isIntegerTy(1) ? b_.getInt8Ty() : ty;
}

llvm::AllocaInst* GroupEmitter::chunk_array(llvm::Type* ty, int64_t n, const char* name) {
  llvm::IRBuilder<> ab(entry_->getTerminator());
  llvm::AllocaInst* a =
      ab.CreateAlloca(slot_type(ty), ab.getInt64(static_cast<uint64_t>(n)), name);
  a->setAlignment(llvm::Align(64));
  return a;
}

llvm::Value* GroupEmitter::slot_ptr(const Slot& s, llvm::Value* c) {
  return b_.CreateInBoundsGEP(slot_type(s.ty), s.arr, c);
}

llvm::Value* GroupEmitter::load_slot(const Slot& s, llvm::Value* c) {
  llvm::Value* x = b_.CreateLoad(slot_type(s.ty), slot_ptr(s, c));
  return s.ty->isIntegerTy(1) ? b_.CreateTrunc(x, s.ty) : x;
}

void GroupEmitter::store_slot(const Slot& s, llvm::Value* c, llvm::Value* x) {
  b_.CreateStore(s.ty->isIntegerTy(1) ? b_.CreateZExt(x, b_.getInt8Ty()) : x, slot_ptr(s, c));
}

GroupEmitter::Elem GroupEmitter::open_elements(LoopNest& nest, const Chunk& ch,
                                               const std::vector<Slot>& slots) {
  Elem e;
  e.c = nest.open(e_->i64(0), ch.len, "c");
  e.o = ch.o;
  e.o[ch.at] = add_nw(b_, ch.c0, e.c);
  e.keep = keep_index(e.o);
  for (const Slot& s : slots) {
    const Index& canon = is_keep_shaped(s.v) ? e.keep : e.o;
    if (s.reduction)
      e_->set_reduced(s.reduction, load_slot(s, e.c), canon);
    else
      e_->define(s.v, canon, load_slot(s, e.c));
  }
  return e;
}

void GroupEmitter::column_order(llvm::Value* begin, llvm::Value* end, size_t q) {
  int64_t extent_q = s_.d[q];
  size_t at = 0;
  for (size_t i = 0; i < q; ++i)
    at += s_.reduced[i] ? 0 : 1;
  Ints rows_dims = s_.kept;
  rows_dims.erase(rows_dims.begin() + static_cast<ptrdiff_t>(at));
  int64_t rows = product(rows_dims, 0, rows_dims.size());
  int64_t red = 1;
  for (size_t i = 0; i < s_.d.size(); ++i)
    red *= s_.reduced[i] ? s_.d[i] : 1;
  int64_t chunk = chunk_size(extent_q, rows);
  int64_t per_row = (extent_q + chunk - 1) / chunk;
  info_.extent = rows * per_row;
  info_.grain = std::max<int64_t>(1, kMinWork / std::max<int64_t>(1, chunk * red));

  LoopNest outer(b_, *e_);
  llvm::Value* p = outer.open(begin, end, "par");
  Chunk ch;
  ch.at = at;
  llvm::Value* row = p;
  ch.c0 = e_->i64(0);
  if (per_row > 1) {
    row = b_.CreateUDiv(p, e_->i64(per_row));
    ch.c0 = mul_nw(b_, b_.CreateURem(p, e_->i64(per_row)), e_->i64(chunk));
  }
  ch.o = unravel(b_, row, rows_dims);
  ch.o.insert(ch.o.begin() + static_cast<ptrdiff_t>(at), nullptr);
  ch.len = extent_q % chunk == 0
               ? e_->i64(chunk)
               : b_.CreateBinaryIntrinsic(llvm::Intrinsic::umin, e_->i64(chunk),
                                          b_.CreateSub(e_->i64(extent_q), ch.c0));
  // D-shaped results that depend on no reduction are stored by the first reduction's
  // loop over R, which computes them anyway (a column sum next to the values it sums:
  // one pass over memory, not two); the others need the final loop.
  bool any_o = false, any_late_d = false;
  std::vector<bool> early_d(body_.outputs.size(), false);
  for (size_t k = 0; k < body_.outputs.size(); ++k) {
    const ir::Value* v = body_.outputs[k];
    bool d = v->type.shape.to_vector() == s_.d;
    early_d[k] = d && !v->is_input() && last_.count(v) && last_.at(v) < 0;
    any_late_d = any_late_d || (d && !early_d[k]);
    any_o = any_o || !d;
  }
  std::vector<Slot> slots;
  for (size_t j = 0; j < s_.reductions.size(); ++j) {
    const ir::Node& rn = *s_.reductions[j];
    ir::DType t = rn.result()->type.dtype;
    Slot acc{rn.result(), &rn, compute_type(b_.getContext(), t), nullptr};
    acc.arr = chunk_array(acc.ty, chunk, "acc");
    {
      LoopNest nest(b_, *e_);
      Elem e = open_elements(nest, ch, {});
      store_slot(acc, e.c, identity(b_, rn.op, t, acc.ty));
      nest.close_all();
    }
    // A float sum over many rows adds them in blocks of kSumBlock into a partial array,
    // folded into the accumulators after each block: the rounding error grows with
    // red / kSumBlock + kSumBlock instead of red (a layer-norm weight gradient over 16k
    // rows was off by 1.4e-4 relative in f32).
    bool blocked = rn.op == ir::OpKind::Sum && ir::is_float(t) && red > 2 * kSumBlock;
    Slot part = acc;
    LoopNest blocks(b_, *e_);
    llvm::Value* lo = nullptr;
    if (blocked) {
      part.arr = chunk_array(acc.ty, chunk, "part");
      llvm::Value* blk = blocks.open_dim((red + kSumBlock - 1) / kSumBlock, "blk");
      lo = mul_nw(b_, blk, e_->i64(kSumBlock));
      LoopNest nest(b_, *e_);
      Elem e = open_elements(nest, ch, {});
      store_slot(part, e.c, identity(b_, rn.op, t, acc.ty));
      nest.close_all();
    }
    {
      LoopNest nest(b_, *e_);
      Index rv;
      if (blocked) {
        llvm::Value* hi = add_nw(b_, lo, e_->i64(kSumBlock));
        hi = b_.CreateBinaryIntrinsic(llvm::Intrinsic::umin, hi, e_->i64(red));
        Ints rdims;
        for (size_t i = 0; i < s_.d.size(); ++i)
          if (s_.reduced[i])
            rdims.push_back(s_.d[i]);
        rv = unravel(b_, nest.open(lo, hi, "rf"), rdims);
      } else {
        rv = open_reduced(nest);
      }
      Elem e = open_elements(nest, ch, slots);
      Index idx = domain_index(e.o, rv);
      llvm::Value* v = e_->emit(rn.operand(0), idx);
      store_slot(part, e.c, combine(b_, rn.op, t, load_slot(part, e.c), v));
      for (size_t k = 0; j == 0 && k < body_.outputs.size(); ++k)
        if (early_d[k])
          store(k, idx, s_.d);
      nest.close_all();
    }
    if (blocked) {
      LoopNest nest(b_, *e_);
      Elem e = open_elements(nest, ch, {});
      store_slot(acc, e.c, combine(b_, rn.op, t, load_slot(acc, e.c), load_slot(part, e.c)));
      nest.close_all();
      blocks.close_all();
    }
    slots.push_back(acc);
    std::vector<const ir::Value*> ovals = o_values_after(j);
    bool final = j + 1 == s_.reductions.size();
    if (ovals.empty() && !(final && any_o))
      continue;
    LoopNest nest(b_, *e_);
    Elem e = open_elements(nest, ch, slots);
    for (const ir::Value* v : ovals) {
      Slot s{v, nullptr, compute_type(b_.getContext(), v->type.dtype), nullptr};
      s.arr = chunk_array(s.ty, chunk, "oval");
      store_slot(s, e.c, e_->emit(v, is_keep_shaped(v) ? e.keep : e.o));
      slots.push_back(s);
    }
    if (final)
      for (size_t k = 0; k < body_.outputs.size(); ++k) {
        Ints sh = body_.outputs[k]->type.shape.to_vector();
        if (sh == s_.keep_dims)
          store(k, e.keep, s_.keep_dims);
        else if (sh == s_.kept)
          store(k, e.o, s_.kept);
      }
    nest.close_all();
  }
  if (any_late_d) {
    LoopNest nest(b_, *e_);
    Index rv = open_reduced(nest);
    Elem e = open_elements(nest, ch, slots);
    Index idx = domain_index(e.o, rv);
    for (size_t k = 0; k < body_.outputs.size(); ++k)
      if (body_.outputs[k]->type.shape.to_vector() == s_.d && !early_d[k])
        store(k, idx, s_.d);
    nest.close_all();
  }
  outer.close_all();
}

int64_t GroupEmitter::chunk_size(int64_t extent, int64_t rows) const {
  int64_t bytes = 0; // per chunk element, over every array column order allocates
  for (size_t j = 0; j < s_.reductions.size(); ++j) {
    bytes += s_.reductions[j]->op == ir::OpKind::Sum ? 16 : 8; // a sum's block partials
    bytes += 8 * static_cast<int64_t>(o_values_after(j).size());
  }
  int64_t c = kChunk;
  while (c > kMinChunk && rows * ((extent + c - 1) / c) < kMinChunks)
    c /= 2;
  c = std::min(c, std::max<int64_t>(kTinyChunk, kChunkBytes / std::max<int64_t>(1, bytes)));
  return std::min(c, extent);
}

} // namespace tevo::cpu::groupgen
