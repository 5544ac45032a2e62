// emit_rows.cpp: row order of reduce groups: one row per parallel iteration (its stores
// streamed where the results exceed the cache), or pipelined over rows (see emit_group.h).
#include "backends/cpu/emit_group.h"

#include "backends/cpu/emit_stream.h"
#include "backends/cpu/llvm_stream.h"
#include "ir/cost.h"

#include <algorithm>

namespace tevo::cpu::groupgen {

int GroupEmitter::home_result(llvm::Type* ty, const std::vector<RowCache>& cached) const {
  if (stream_)
    return -1; // a streamed line is not read back
  for (size_t j = 0; j < body_.outputs.size(); ++j) {
    const ir::Value* v = body_.outputs[j];
    int k = static_cast<int>(j);
    bool taken = std::any_of(cached.begin(), cached.end(),
                             [&](const RowCache& c) { return c.home == k; });
    if (v->type.shape.to_vector() == s_.d && !inplace_results_.count(k) && !taken &&
        storage_type(ty->getContext(), v->type.dtype) == ty)
      return k;
  }
  return -1;
}

llvm::Value* GroupEmitter::row_ptr(const RowCache& c, const Index& idx, llvm::Value* flat) {
  if (c.home < 0)
    return b_.CreateInBoundsGEP(c.row->getAllocatedType(), c.row, flat);
  auto k = static_cast<size_t>(c.home);
  llvm::Value* out = out_arg(k);
  llvm::Type* ty = storage_type(b_.getContext(), body_.outputs[k]->type.dtype);
  return b_.CreateInBoundsGEP(ty, out, ravel_dense(b_, idx, s_.d));
}

bool GroupEmitter::costly(const ir::Value* v, std::map<const ir::Value*, bool>& memo) const {
  if (v->is_input() || !v->producer)
    return false;
  if (auto it = memo.find(v); it != memo.end())
    return it->second;
  bool c = ir::node_cost(*v->producer).transcendentals > 0;
  for (const ir::Value* x : v->producer->operands)
    c = c || costly(x, memo);
  memo[v] = c;
  return c;
}

std::vector<const ir::Value*>
GroupEmitter::row_cache_candidates(const ir::Value* v, int64_t red,
                                   const std::vector<RowCache>& cached, int64_t slots,
                                   std::set<const ir::Value*>* cheap) {
  std::vector<const ir::Value*> out;
  if (red <= 1)
    return out;
  if (uses_.empty()) { // once per kernel: operand slots and outputs reading each value
    for (const auto& np : body_.nodes())
      for (const ir::Value* x : np->operands)
        ++uses_[x];
    for (const ir::Value* x : body_.outputs)
      ++uses_[x];
  }
  std::map<const ir::Value*, bool> memo;
  std::vector<const ir::Value*> work{v};
  std::set<const ir::Value*> seen;
  while (!work.empty()) {
    const ir::Value* x = work.back();
    work.pop_back();
    if (x->is_input() || !x->producer || !seen.insert(x).second)
      continue;
    bool kept = std::any_of(cached.begin(), cached.end(),
                            [&](const RowCache& c) { return c.v == x; });
    if (kept)
      continue; // loaded, not recomputed: nothing behind it runs again
    int64_t bytes =
        red * static_cast<int64_t>(
                  compute_type(b_.getContext(), x->type.dtype)->getPrimitiveSizeInBits() / 8);
    bool fits = bytes <= kRowCacheBytes && row_cache_bytes_ + slots * bytes <= kRowCacheTotal;
    if (ir::is_float(x->type.dtype) && x->type.shape.to_vector() == s_.d && uses_[x] >= 2) {
      if (fits && costly(x, memo)) {
        out.push_back(x);
        row_cache_bytes_ += slots * bytes;
      } else if (cheap) {
        out.push_back(x);
        cheap->insert(x);
      }
    }
    for (const ir::Value* y : x->producer->operands)
      work.push_back(y);
  }
  return out;
}

llvm::Value* GroupEmitter::flat_reduced(const Index& rv) {
  llvm::Value* f = e_->i64(0);
  for (size_t i = 0, k = 0; i < s_.d.size(); ++i)
    if (s_.reduced[i])
      f = b_.CreateAdd(b_.CreateMul(f, e_->i64(s_.d[i]), "", true, true), rv[k++], "", true,
                       true);
  return f;
}

void GroupEmitter::reuse_cached(const std::vector<RowCache>& cached, const Index& idx,
                                const Index& rv) {
  if (cached.empty())
    return;
  llvm::Value* f = flat_reduced(rv);
  for (const RowCache& c : cached) {
    llvm::Type* ty = compute_type(b_.getContext(), c.v->type.dtype);
    e_->define(c.v, idx, b_.CreateLoad(ty, row_ptr(c, idx, f)));
  }
}

void GroupEmitter::row_order(llvm::Value* begin, llvm::Value* end) {
  info_.extent = product(s_.kept, 0, s_.kept.size());
  int64_t red = product(s_.d, 0, s_.d.size()) / std::max<int64_t>(1, info_.extent);
  info_.grain = std::max<int64_t>(1, kMinWork / std::max<int64_t>(1, red));
  bool any_d = std::any_of(body_.outputs.begin(), body_.outputs.end(), [&](const ir::Value* v) {
    return v->type.shape.to_vector() == s_.d;
  });
  int64_t stages = static_cast<int64_t>(s_.reductions.size()) + (any_d ? 1 : 0);
  if (pipeline_rows_ && red >= kPipelineRow && stages >= 2 &&
      info_.extent >= 2 * (stages + 1)) {
    row_pipeline(begin, end, red, stages);
    return;
  }
  stream_ = any_d && streams(red);
  LoopNest outer(b_, *e_);
  llvm::Value* r = outer.open(begin, end, "par");
  Index o = unravel(b_, r, s_.kept);
  Index keep = keep_index(o);
  std::vector<RowCache> cached; // reduction operands kept for the later loops of this row
  for (size_t j = 0; j < s_.reductions.size(); ++j) {
    const ir::Node& rn = *s_.reductions[j];
    ir::DType t = rn.result()->type.dtype;
    llvm::Type* ty = compute_type(b_.getContext(), t);
    llvm::AllocaInst* acc;
    {
      llvm::IRBuilder<> ab(entry_->getTerminator());
      acc = ab.CreateAlloca(ty, nullptr, "acc");
    }
    b_.CreateStore(identity(b_, rn.op, t, ty), acc);
    LoopNest nest(b_, *e_);
    Index rv = open_reduced(nest);
    Index idx = domain_index(o, rv);
    reuse_cached(cached, idx, rv);
    llvm::Value* v = e_->emit(rn.operand(0), idx);
    b_.CreateStore(combine(b_, rn.op, t, b_.CreateLoad(ty, acc), v), acc);
    std::set<const ir::Value*> cheap; // kept only where a result's memory holds them
    for (const ir::Value* c : row_cache_candidates(rn.operand(0), red, cached, 1, &cheap)) {
      llvm::Value* x = e_->emit(c, idx); // memoised: computed for v above
      RowCache rc{c, nullptr, home_result(x->getType(), cached)};
      if (rc.home < 0 && cheap.count(c))
        continue;
      if (rc.home < 0)
        rc.row = chunk_array(x->getType(), red, "row");
      b_.CreateStore(x, row_ptr(rc, idx, flat_reduced(rv)));
      cached.push_back(rc);
    }
    nest.close_all();
    e_->set_reduced(&rn, b_.CreateLoad(ty, acc), is_keep_shaped(rn.result()) ? keep : o);
    // O-shaped values that now have all their reductions: once per outer iteration.
    for (const ir::Value* v2 : o_values_after(j))
      e_->emit(v2, is_keep_shaped(v2) ? keep : o);
  }
  store_o_results(o, keep);
  if (any_d)
    store_rows(o, cached);
  outer.close_all();
}

bool GroupEmitter::streams(int64_t red) const {
  if (stream_bytes_ <= 0 || red < kStreamRow || s_.d.empty() || !s_.reduced.back() ||
      s_.d.back() < kStreamBlock)
    return false;
  for (size_t i = 1; i < s_.d.size(); ++i)
    if (s_.reduced[i - 1] && !s_.reduced[i])
      return false;
  std::map<const ir::Value*, bool> memo;
  for (const ir::Node* rn : s_.reductions)
    if (costly(rn->operand(0), memo))
      return false; // its row is better kept in the result (home_result)
  int64_t bytes = 0, elem = 0; // streamed results have one element size
  for (const ir::Value* v : body_.outputs)
    if (v->type.shape.to_vector() == s_.d) {
      if ((elem && elem != ir::dtype_size(v->type.dtype)) || ir::dtype_size(v->type.dtype) < 4)
        return false; // f16/bf16 rows vectorise at 4 lanes (8 bytes): no streaming store
      elem = ir::dtype_size(v->type.dtype);
      bytes += v->type.bytes();
    }
  return bytes >= stream_bytes_;
}

void GroupEmitter::store_rows(const Index& o, const std::vector<RowCache>& cached) {
  LoopNest nest(b_, *e_);
  Index rv = open_reduced(nest, /*all_but_last=*/stream_);
  auto stores = [&](const Index& at, const std::vector<llvm::Value*>* bases, llvm::Value* k) {
    Index idx = domain_index(o, at);
    reuse_cached(cached, idx, at);
    for (size_t j = 0; j < body_.outputs.size(); ++j) {
      const ir::Value* v = body_.outputs[j];
      if (v->type.shape.to_vector() != s_.d)
        continue;
      if (bases)
        stream::tag(store_at(j, idx, (*bases)[j], k));
      else
        store(j, idx, s_.d);
    }
  };
  if (!stream_) {
    stores(rv, nullptr, nullptr);
    nest.close_all();
    return;
  }
  // The innermost R dim: plain loops over [from, to), or streamed (see emit_stream.h).
  auto with = [&](llvm::Value* j) {
    Index at = rv;
    at.push_back(j);
    return at;
  };
  auto plain = [&](llvm::Value* from, llvm::Value* to) {
    LoopNest inner(b_, *e_);
    stores(with(inner.open(from, to, "r")), nullptr, nullptr);
    inner.close_all();
  };
  const int64_t n = s_.d.back();
  std::vector<llvm::Value*> starts(body_.outputs.size(), nullptr);
  llvm::Type* elem = nullptr;
  llvm::Value* first = ravel_dense(b_, domain_index(o, with(e_->i64(0))), s_.d);
  for (size_t j = 0; j < starts.size(); ++j)
    if (const ir::Value* v = body_.outputs[j]; v->type.shape.to_vector() == s_.d) {
      elem = storage_type(b_.getContext(), v->type.dtype);
      starts[j] = b_.CreateInBoundsGEP(elem, out_arg(j), first);
    }
  if_common_line_offset(
      *e_, starts, elem, n,
      [&](llvm::Value* h, const std::vector<llvm::Value*>& aligned) {
        plain(e_->i64(0), h);
        auto at_block = [&](llvm::Value* k) {
          prefetch_next_row(domain_index(o, with(add_nw(b_, h, k))));
        };
        blocked_loop(*e_, b_.CreateSub(e_->i64(n), h), kStreamBlock, at_block,
                     [&](llvm::Value* k) { stores(with(add_nw(b_, h, k)), &aligned, k); });
      },
      [&] { plain(e_->i64(0), e_->i64(n)); });
  nest.close_all();
}

void GroupEmitter::prefetch_next_row(const Index& idx) {
  int next = -1; // the innermost non-unit kept dim
  for (size_t i = 0; i < s_.d.size(); ++i)
    if (!s_.reduced[i] && s_.d[i] > 1)
      next = static_cast<int>(i);
  if (next < 0)
    return;
  for (size_t i = 0; i < access_.size(); ++i) {
    const ir::Value* in = body_.input(static_cast<int>(i));
    const Ints& st = access_[i].strides; // one per dim of D when `in` is D-shaped
    if (in->type.shape.to_vector() != s_.d || st.back() != 1)
      continue;
    int64_t step = st[static_cast<size_t>(next)]; // elements from one row to the next
    if (step == 0)
      continue;
    llvm::Value* off = e_->i64(step);
    for (size_t k = 0; k < idx.size(); ++k)
      off = add_scaled(b_, off, idx[k], st[k]);
    int64_t bytes = ir::dtype_size(in->type.dtype);
    llvm::Value* p = b_.CreateGEP(b_.getInt8Ty(), access_[i].ptr, mul_nw(b_, off, e_->i64(bytes)));
    prefetch_lines(b_, p, kStreamBlock * bytes);
  }
}

void GroupEmitter::store_o_results(const Index& o, const Index& keep) {
  for (size_t j = 0; j < body_.outputs.size(); ++j) {
    Ints sh = body_.outputs[j]->type.shape.to_vector();
    if (sh == s_.keep_dims)
      store(j, keep, s_.keep_dims);
    else if (sh != s_.d)
      store(j, o, s_.kept);
  }
}

void GroupEmitter::row_pipeline(llvm::Value* begin, llvm::Value* end, int64_t red, int64_t stages) {
  int64_t rows = info_.extent;
  int64_t block = std::clamp<int64_t>(rows / 16, stages + 1, kPipelineBlock);
  info_.extent = (rows + block - 1) / block;
  info_.grain = std::max<int64_t>(1, kMinWork / (red * block));
  Rings g;
  g.stages = stages;
  g.red = red;
  std::vector<RowCache> all;
  for (const ir::Node* rn : s_.reductions) {
    llvm::Type* ty = compute_type(b_.getContext(), rn->result()->type.dtype);
    g.acc.push_back(chunk_array(ty, 1, "acc"));
    g.value.push_back(chunk_array(ty, stages, "ring"));
    int64_t slots = stages - static_cast<int64_t>(g.rows.size()); // see row_slot
    g.rows.emplace_back();
    for (const ir::Value* c : row_cache_candidates(rn->operand(0), red, all, slots)) {
      llvm::Type* cty = compute_type(b_.getContext(), c->type.dtype);
      all.push_back({c, chunk_array(cty, red * slots, "row")});
      g.rows.back().push_back(all.back());
    }
  }
  LoopNest outer(b_, *e_);
  llvm::Value* blk = outer.open(begin, end, "par");
  llvm::Value* r0 = mul_nw(b_, blk, e_->i64(block));
  llvm::Value* r1 = b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin,
                                             add_nw(b_, r0, e_->i64(block)), e_->i64(rows));
  llvm::Value* last = b_.CreateSub(r1, e_->i64(1));
  for (int64_t p = 0; p + 1 < stages; ++p) // the prologue: stages 0..p
    pipeline_step(g, b_.CreateAdd(r0, e_->i64(p + 1 - stages)), last, p);
  LoopNest rowloop(b_, *e_);
  llvm::Value* r = rowloop.open(r0, r1, "row");
  pipeline_step(g, r, last, stages - 1);
  rowloop.close_all();
  outer.close_all();
}

void GroupEmitter::bind_row(const RowSlot& rs, const std::vector<llvm::Value*>& vals, size_t k) {
  for (size_t i = 0; i < k; ++i) {
    const ir::Node* rn = s_.reductions[i];
    e_->set_reduced(rn, vals[i], is_keep_shaped(rn->result()) ? rs.keep : rs.o);
  }
}

llvm::Value* GroupEmitter::row_slot(const Rings& g, const RowSlot& rs, size_t j) {
  return b_.CreateURem(rs.row, e_->i64(g.stages - static_cast<int64_t>(j)));
}

void GroupEmitter::pipeline_step(const Rings& g, llvm::Value* rv, llvm::Value* last, int64_t top) {
  size_t n = s_.reductions.size();
  e_->push_scope(); // nothing computed here is reused by another iteration
  std::vector<RowSlot> rows(static_cast<size_t>(top + 1));
  std::vector<std::vector<llvm::Value*>> vals(rows.size());
  for (size_t j = 0; j < rows.size(); ++j) {
    llvm::Value* row = b_.CreateAdd(rv, e_->i64(g.stages - 1 - static_cast<int64_t>(j)));
    rows[j].row = row;
    rows[j].slot = b_.CreateURem(row, e_->i64(g.stages));
    rows[j].o = unravel(
        b_, b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, row, last), s_.kept);
    rows[j].keep = keep_index(rows[j].o);
    size_t k = std::min(j, n); // the reductions stage j reads
    for (size_t i = 0; i < k; ++i)
      vals[j].push_back(b_.CreateLoad(g.value[i]->getAllocatedType(),
                                      ring_at(g.value[i], rows[j].slot, 1, e_->i64(0))));
    bind_row(rows[j], vals[j], k);
    for (size_t i = 0; i < k; ++i)
      for (const ir::Value* v : o_values_after(i))
        e_->emit(v, is_keep_shaped(v) ? rows[j].keep : rows[j].o);
  }
  for (size_t j = 0; j < rows.size() && j < n; ++j) {
    const ir::Node& rn = *s_.reductions[j];
    llvm::Type* ty = g.acc[j]->getAllocatedType();
    b_.CreateStore(identity(b_, rn.op, rn.result()->type.dtype, ty), g.acc[j]);
  }
  LoopNest nest(b_, *e_);
  Index rvars = open_reduced(nest);
  llvm::Value* flat = flat_reduced(rvars);
  for (size_t j = 0; j < rows.size(); ++j) {
    const RowSlot& rs = rows[j];
    size_t k = std::min(j, n);
    bind_row(rs, vals[j], k);
    Index idx = domain_index(rs.o, rvars);
    for (size_t i = 0; i < k; ++i)
      for (const RowCache& c : g.rows[i]) {
        llvm::Type* ty = c.row->getAllocatedType();
        e_->define(c.v, idx, b_.CreateLoad(ty, ring_at(c.row, row_slot(g, rs, i), g.red, flat)));
      }
    if (j == n) { // the store stage
      for (size_t o = 0; o < body_.outputs.size(); ++o)
        if (body_.outputs[o]->type.shape.to_vector() == s_.d)
          store(o, idx, s_.d);
      continue;
    }
    const ir::Node& rn = *s_.reductions[j];
    llvm::Type* ty = g.acc[j]->getAllocatedType();
    llvm::Value* v = e_->emit(rn.operand(0), idx);
    b_.CreateStore(combine(b_, rn.op, rn.result()->type.dtype, b_.CreateLoad(ty, g.acc[j]), v),
                   g.acc[j]);
    for (const RowCache& c : g.rows[j])
      b_.CreateStore(e_->emit(c.v, idx), ring_at(c.row, row_slot(g, rs, j), g.red, flat));
  }
  nest.close_all();
  for (size_t j = 0; j < rows.size() && j < n; ++j) {
    llvm::Value* acc = b_.CreateLoad(g.acc[j]->getAllocatedType(), g.acc[j]);
    b_.CreateStore(acc, ring_at(g.value[j], rows[j].slot, 1, e_->i64(0)));
    if (j + 1 == n) { // the row's last reduction: its O-shaped results
      std::vector<llvm::Value*> all = vals[j];
      all.push_back(acc);
      bind_row(rows[j], all, n);
      store_o_results(rows[j].o, rows[j].keep);
    }
  }
  e_->pop_scope();
}

} // namespace tevo::cpu::groupgen
