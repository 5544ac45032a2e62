// emit_group.cpp: one loop group (`fused {kind = "loop"}`) -> one kernel function.
//
// The kernel has the ABI of runtime/plan.h: `int32_t k(void* const* args, int64_t begin,
// int64_t end)`. It loads the operand and result pointers and calls an internal body
// function that takes them as noalias parameters (the inliner keeps that as alias scopes).
// Map groups loop over the domain D, parallel over its leading dims. Reduce groups have two
// loop orders. Row order: parallel over the kept dims O and, inside, once over the reduced
// dims R per reduction, then once more to store D-shaped results. Column order, when the
// innermost (non-unit) dim of D is kept (bias and norm-weight gradients): parallel over
// chunks of that dim, each loop over R reading contiguous runs of a chunk into per-chunk
// accumulator arrays (see column_order). The contract is in docs/BACKEND.md and the shared
// brief ("Loop groups"); the body's values come from BodyEmitter (emit_eval.h).
#include <llvm/ADT/STLExtras.h>
#include <llvm/ADT/SmallVector.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/Intrinsics.h>

#include "backends/cpu/emit_eval.h"
#include "backends/cpu/emit_loops.h"
#include "backends/cpu/emit_structure.h"
#include "ir/cost.h"
#include "ir/op_def.h"

#include <algorithm>
#include <set>

namespace tevo::cpu {

namespace {

using Ints = std::vector<int64_t>;

/// Work (elements) worth one parallel iteration or one thread's share.
constexpr int64_t kMinWork = 32768;
/// Fewest elements worth one parallel iteration of a map group...
constexpr int64_t kMinInner = 256;
/// ...unless that leaves fewer than kMinMapIters iterations; then down to kMinVector.
constexpr int64_t kMinMapIters = 64;
constexpr int64_t kMinVector = 16;
/// Column-order chunks (elements of the contiguous kept dim): at most kChunk; halved down to
/// kMinChunk while there are fewer than kMinChunks chunks (parallelism); per-chunk arrays
/// (accumulators, O-shaped values) within kChunkBytes of stack unless that needs fewer than
/// kTinyChunk elements.
constexpr int64_t kChunk = 256;
constexpr int64_t kMinChunk = 64;
constexpr int64_t kMinChunks = 16;
constexpr int64_t kChunkBytes = 16384;
constexpr int64_t kTinyChunk = 16;
/// Row arrays (row order's cached values): at most kRowCacheBytes each and kRowCacheTotal
/// per kernel (they are stack arrays; a 512-node group could otherwise ask for megabytes).
constexpr int64_t kRowCacheBytes = 32 * 1024;
constexpr int64_t kRowCacheTotal = 256 * 1024;
/// Column order sums rows in blocks of this many (see column_order).
constexpr int64_t kSumBlock = 256;
/// Row order is pipelined over rows (row_pipeline) for rows of at least kPipelineRow
/// elements, in blocks of at most kPipelineBlock rows.
constexpr int64_t kPipelineRow = 256;
constexpr int64_t kPipelineBlock = 32;

int64_t product(const Ints& d, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to; ++i)
    p *= d[i];
  return p;
}

/// Whether row order pipelines its rows on this target (TargetOptions::row_pipeline). By
/// default not on AMD Zen: there (Zen 4, softmax 4096², rows of 16 KB) one loop per stage
/// with the row arrays in the result's memory (home_result) took 6.6-7.2 ms at 1 thread
/// and 3.7-4.0 at 2, the pipelined order 10.0-10.6 and 5.2-5.5. Intel (Emerald Rapids)
/// measured the pipeline faster than one loop per stage with stack row arrays (see
/// row_pipeline); result-backed rows have not been measured there.
bool pipeline_rows(const TargetOptions& t) {
  if (t.row_pipeline >= 0)
    return t.row_pipeline != 0;
  return !llvm::StringRef(t.cpu).starts_with("znver");
}

/// Generates the body function of one group.
class GroupEmitter {
public:
  GroupEmitter(KernelModule::Impl& impl, const KernelSpec& spec, llvm::Function* f,
               KernelInfo& info)
      : group_(*spec.group), body_(*group_.attrs.get("body").region()),
        s_(analyse(group_, body_)), f_(f), b_(*impl.ctx), info_(info),
        pipeline_rows_(pipeline_rows(impl.target)) {
    llvm::BasicBlock* entry = llvm::BasicBlock::Create(*impl.ctx, "entry", f);
    llvm::BasicBlock* start = llvm::BasicBlock::Create(*impl.ctx, "start", f);
    b_.SetInsertPoint(entry);
    b_.CreateBr(start);
    b_.SetInsertPoint(start);
    entry_ = entry;
    std::vector<OperandAccess> ops;
    for (int i = 0; i < group_.num_operands(); ++i) {
      const ir::Shape& sh = body_.input(i)->type.shape;
      const auto& given = spec.operand_strides;
      Ints st = i < static_cast<int>(given.size()) && !given[static_cast<size_t>(i)].empty()
                    ? given[static_cast<size_t>(i)]
                    : sh.strides();
      TEVO_ASSERT(static_cast<int64_t>(st.size()) == sh.rank(),
                  "operand {} of {} has {} strides for rank {}", i, spec.symbol, st.size(),
                  sh.rank());
      ops.push_back({f->getArg(static_cast<unsigned>(i)), st});
    }
    for (auto [opnd, res] : spec.inplace)
      inplace_results_.insert(res);
    e_ = std::make_unique<BodyEmitter>(b_, *impl.mod, group_, std::move(ops), entry, info.errors);
  }

  void run() {
    int64_t nargs = group_.num_operands() + static_cast<int64_t>(body_.outputs.size());
    llvm::Value* begin = f_->getArg(static_cast<unsigned>(nargs));
    llvm::Value* end = f_->getArg(static_cast<unsigned>(nargs + 1));
    // Nothing to compute: an empty domain, or (reduce groups) no kept element. A reduce
    // group over an empty R still stores its identities.
    const Ints& par = s_.reductions.empty() ? s_.d : s_.kept;
    if (product(par, 0, par.size()) == 0) {
      info_.extent = 0;
      b_.CreateRet(b_.getInt32(0));
      return;
    }
    if (s_.reductions.empty())
      map_group(begin, end);
    else
      reduce_group(begin, end);
    b_.CreateRet(e_->error_code());
  }

private:
  void store(size_t j, const Index& idx, const Ints& dims) {
    const ir::Value* v = body_.outputs[j];
    llvm::Value* x = e_->emit(v, idx);
    llvm::Value* ptr = f_->getArg(static_cast<unsigned>(group_.num_operands()) +
                                  static_cast<unsigned>(j));
    llvm::Value* p = b_.CreateInBoundsGEP(storage_type(b_.getContext(), v->type.dtype), ptr,
                                          ravel_dense(b_, idx, dims));
    store_element(b_, v->type.dtype, x, p);
  }

  /// Loops over D: the leading dims [0, k) are flattened into the parallel index, the
  /// rest are loops inside one parallel iteration. k is the largest split that leaves
  /// kMinInner elements per iteration (amortising the index split, keeping the inner loops
  /// long enough to vectorise), moved right while that gives fewer than kMinMapIters
  /// iterations; the grain then gives each thread kMinWork elements.
  void map_group(llvm::Value* begin, llvm::Value* end) {
    const Ints& d = s_.d;
    size_t k = 0;
    for (size_t i = d.size(); i-- > 0;)
      if (product(d, i, d.size()) >= kMinInner) {
        k = i;
        break;
      }
    // Too few parallel iterations (one long row: [1, 1, N, 64]): split further while an
    // iteration keeps at least one vector's worth of elements.
    while (k < d.size() && product(d, 0, k) < kMinMapIters &&
           product(d, k + 1, d.size()) >= kMinVector)
      ++k;
    info_.extent = product(d, 0, k);
    int64_t inner = product(d, k, d.size());
    info_.grain = std::max<int64_t>(1, (kMinWork + inner - 1) / inner);
    LoopNest outer(b_, *e_);
    llvm::Value* r = outer.open(begin, end, "par");
    Index idx = unravel(b_, r, Ints(d.begin(), d.begin() + static_cast<ptrdiff_t>(k)));
    LoopNest nest(b_, *e_);
    for (size_t i = k; i < d.size(); ++i)
      idx.push_back(nest.open_dim(d[i], "i" + std::to_string(i)));
    for (size_t j = 0; j < body_.outputs.size(); ++j)
      store(j, idx, d);
    nest.close_all();
    outer.close_all();
  }

  /// The D index from the outer (O_drop) index and the R loop variables.
  Index domain_index(const Index& o, const Index& rv) const {
    Index idx;
    size_t io = 0, ir_ = 0;
    for (size_t i = 0; i < s_.d.size(); ++i)
      idx.push_back(s_.reduced[i] ? rv[ir_++] : o[io++]);
    return idx;
  }

  /// Opens loops over the R dims (in order: the last one innermost) and returns their
  /// variables (constant 0 for an extent-1 dim).
  Index open_reduced(LoopNest& nest) {
    Index rv;
    for (size_t i = 0; i < s_.d.size(); ++i)
      if (s_.reduced[i])
        rv.push_back(nest.open_dim(s_.d[i], "r" + std::to_string(i)));
    return rv;
  }

  /// Per body value: the last reduction (position in s_.reductions) it depends on, -1: none.
  void compute_dependence() {
    for (size_t j = 0; j < s_.reductions.size(); ++j)
      last_[s_.reductions[j]->result()] = static_cast<int>(j);
    for (const auto& np : body_.nodes()) {
      int m = last_.count(np->result()) ? last_[np->result()] : -1;
      for (const ir::Value* x : np->operands)
        if (auto it = last_.find(x); it != last_.end())
          m = std::max(m, it->second);
      last_[np->result()] = m;
    }
  }

  /// The O-shaped (O_keep or O_drop) non-reduction body values whose last reduction is j:
  /// computable once per kept element right after reduction j.
  std::vector<const ir::Value*> o_values_after(size_t j) const {
    std::vector<const ir::Value*> out;
    for (const auto& np : body_.nodes()) {
      const ir::Value* v = np->result();
      if (last_.at(v) != static_cast<int>(j) || is_loop_reduction(np->op))
        continue;
      Ints sh = v->type.shape.to_vector();
      if (sh == s_.keep_dims || sh == s_.kept)
        out.push_back(v);
    }
    return out;
  }

  bool is_keep_shaped(const ir::Value* v) const {
    return v->type.shape.to_vector() == s_.keep_dims;
  }

  /// The O_keep index (R dims 0) of O_drop index o.
  Index keep_index(const Index& o) const {
    Index keep;
    for (size_t i = 0, io = 0; i < s_.d.size(); ++i)
      keep.push_back(s_.reduced[i] ? e_->i64(0) : o[io++]);
    return keep;
  }

  void reduce_group(llvm::Value* begin, llvm::Value* end) {
    compute_dependence();
    if (int q = column_dim(); q >= 0)
      column_order(begin, end, static_cast<size_t>(q));
    else
      row_order(begin, end);
  }

  /// A reduction operand stored per R element of the current row, so that later loops
  /// load it instead of recomputing it (softmax: exp(x - max) is summed, then divided).
  struct RowCache {
    const ir::Value* v;
    llvm::AllocaInst* row; ///< a stack row array, or null: the row lives in result `home`
    int home = -1;
  };

  /// A D-shaped result whose memory can hold the row array of a value of type `ty` until
  /// the store loop overwrites it, or -1. Its storage type is `ty` (no rounding), it shares
  /// no operand's memory (in-place: a later loop may still read the operand), and it holds
  /// no other row. Each element is read back and then overwritten at the same index by the
  /// same thread. Besides saving the stack array, the row's cache-line fills (the store
  /// writes into lines it must first read) then overlap the arithmetic of the loop that
  /// fills it instead of stalling the store loop (softmax 4096², 1 thread, AMD Zen 4:
  /// 9.2-9.5 -> 6.9-7.1 ms in a hand-written model).
  int home_result(llvm::Type* ty, const std::vector<RowCache>& cached) const {
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

  /// Where element `idx` (D index; `flat`: its position in the row) of a row array lives.
  llvm::Value* row_ptr(const RowCache& c, const Index& idx, llvm::Value* flat) {
    if (c.home < 0)
      return b_.CreateInBoundsGEP(c.row->getAllocatedType(), c.row, flat);
    auto k = static_cast<unsigned>(c.home);
    llvm::Value* out = f_->getArg(static_cast<unsigned>(group_.num_operands()) + k);
    llvm::Type* ty = storage_type(b_.getContext(), body_.outputs[k]->type.dtype);
    return b_.CreateInBoundsGEP(ty, out, ravel_dense(b_, idx, s_.d));
  }

  /// Whether recomputing v in a later loop repeats work worth a store and a load: a
  /// transcendental lies on its path from the group's inputs (softmax's exp(x - max);
  /// linear attention's phi(Q), summed against the normaliser and then divided by it).
  /// Cheap values that only follow a reduction (layer norm's x - mean) are recomputed.
  bool costly(const ir::Value* v, std::map<const ir::Value*, bool>& memo) const {
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

  /// The values of reduction operand `v`'s computation (v and its ancestors in the body)
  /// that a row array should keep for the later loops of the row: D-shaped floats, used
  /// more than once, costly to recompute, not kept already, each row within kRowCacheBytes
  /// of stack and all of them within kRowCacheTotal.
  std::vector<const ir::Value*> row_cache_candidates(const ir::Value* v, int64_t red,
                                                     const std::vector<RowCache>& cached,
                                                     int64_t slots = 1,
                                                     std::set<const ir::Value*>* cheap = nullptr) {
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

  /// Row-major position of R loop variables `rv` within R.
  llvm::Value* flat_reduced(const Index& rv) {
    llvm::Value* f = e_->i64(0);
    for (size_t i = 0, k = 0; i < s_.d.size(); ++i)
      if (s_.reduced[i])
        f = b_.CreateAdd(b_.CreateMul(f, e_->i64(s_.d[i]), "", true, true), rv[k++], "", true,
                         true);
    return f;
  }

  /// Makes the cached operands of earlier reductions known at `idx` (loaded, not recomputed).
  void reuse_cached(const std::vector<RowCache>& cached, const Index& idx, const Index& rv) {
    if (cached.empty())
      return;
    llvm::Value* f = flat_reduced(rv);
    for (const RowCache& c : cached) {
      llvm::Type* ty = compute_type(b_.getContext(), c.v->type.dtype);
      e_->define(c.v, idx, b_.CreateLoad(ty, row_ptr(c, idx, f)));
    }
  }

  /// Row order: parallel over O, one loop over R per reduction inside each O element
  /// (pipelined over rows when that pays: see row_pipeline).
  void row_order(llvm::Value* begin, llvm::Value* end) {
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
    if (any_d) {
      LoopNest nest(b_, *e_);
      Index rv = open_reduced(nest);
      Index idx = domain_index(o, rv);
      reuse_cached(cached, idx, rv);
      for (size_t j = 0; j < body_.outputs.size(); ++j)
        if (body_.outputs[j]->type.shape.to_vector() == s_.d)
          store(j, idx, s_.d);
      nest.close_all();
    }
    outer.close_all();
  }

  /// Stores the O-shaped results (O_keep or O_drop) of the row at O_drop index `o`.
  void store_o_results(const Index& o, const Index& keep) {
    for (size_t j = 0; j < body_.outputs.size(); ++j) {
      Ints sh = body_.outputs[j]->type.shape.to_vector();
      if (sh == s_.keep_dims)
        store(j, keep, s_.keep_dims);
      else if (sh != s_.d)
        store(j, o, s_.kept);
    }
  }

  /// A row in flight in row_pipeline: its O_drop and O_keep index (rows past the block's
  /// last are clamped to it), the unclamped row and its slot in the value rings (the row
  /// modulo stages).
  struct RowSlot {
    Index o, keep;
    llvm::Value* row = nullptr;
    llvm::Value* slot = nullptr;
  };

  /// Ring arrays of row_pipeline: reduction values (one per row in flight) and row arrays.
  struct Rings {
    std::vector<llvm::AllocaInst*> acc;             ///< per reduction: accumulator
    std::vector<llvm::AllocaInst*> value;           ///< per reduction: [stages] values
    std::vector<std::vector<RowCache>> rows; ///< per reduction j: [(stages - j) * red] arrays
    int64_t stages = 0, red = 0;
  };

  /// Row order pipelined over rows. Its loops over R (one per reduction, then one storing
  /// the D-shaped results: `stages` in all) run for different rows in one loop: in the
  /// iteration of row r, stage j works on row r + stages - 1 - j (softmax: the max of row
  /// r + 2, exp(x - max) summed for row r + 1, row r divided and stored), so reading a row
  /// from memory overlaps the arithmetic of the others instead of waiting for it. Rows are
  /// taken in blocks of a size fixed by the shape; each block begins with a prologue (the
  /// stages its first rows need before the full loop), and rows past its end are clamped
  /// to its last (recomputed into slots of their own, stored with the same values). A
  /// row's arithmetic thus depends on its index alone, never on the thread count.
  void row_pipeline(llvm::Value* begin, llvm::Value* end, int64_t red, int64_t stages) {
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

  /// Sets the values of reductions [0, k) for the row `rs` (read from the rings, or `vals`).
  void bind_row(const RowSlot& rs, const std::vector<llvm::Value*>& vals, size_t k) {
    for (size_t i = 0; i < k; ++i) {
      const ir::Node* rn = s_.reductions[i];
      e_->set_reduced(rn, vals[i], is_keep_shaped(rn->result()) ? rs.keep : rs.o);
    }
  }

  llvm::Value* ring_at(llvm::AllocaInst* a, llvm::Value* slot, int64_t stride,
                       llvm::Value* pos) {
    llvm::Value* i = add_nw(b_, mul_nw(b_, slot, e_->i64(stride)), pos);
    return b_.CreateInBoundsGEP(a->getAllocatedType(), a, i);
  }

  /// The slot of row `rs` in the row arrays of reduction j: written by stage j, read up to
  /// the last stage, so stages - j rows of them are in flight.
  llvm::Value* row_slot(const Rings& g, const RowSlot& rs, size_t j) {
    return b_.CreateURem(rs.row, e_->i64(g.stages - static_cast<int64_t>(j)));
  }

  /// One iteration of row_pipeline: stages 0..top, stage j on row rv + stages - 1 - j.
  void pipeline_step(const Rings& g, llvm::Value* rv, llvm::Value* last, int64_t top) {
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

  /// The dim of D that column order runs contiguously, or -1 for row order: the last dim of
  /// extent != 1, when it and every (unit) dim after it are kept. Then the reduced dims lie
  /// before it, and a loop over R with an inner loop over that dim reads memory in runs
  /// instead of striding by the kept extent (bias gradients, layer-norm weight gradients).
  int column_dim() const {
    for (size_t i = s_.d.size(); i-- > 0;) {
      if (s_.reduced[i])
        return -1;
      if (s_.d[i] != 1)
        return static_cast<int>(i);
    }
    return -1;
  }

  /// One chunk of column order: the O_drop index of its elements but the chunk dim's
  /// entry, where the chunk dim's run [c0, c0 + len) begins, and its length.
  struct Chunk {
    Index o;       ///< O_drop index; the entry at `at` is replaced per element
    size_t at = 0; ///< position of the chunk dim in O_drop
    llvm::Value* c0 = nullptr;
    llvm::Value* len = nullptr;
  };
  /// One element of a chunk: loop variable (array position), O_drop and O_keep index.
  struct Elem {
    llvm::Value* c = nullptr;
    Index o, keep;
  };
  /// A per-chunk array holding a reduction's accumulators or an O-shaped value.
  struct Slot {
    const ir::Value* v;
    const ir::Node* reduction; ///< set for accumulators (read through set_reduced)
    llvm::Type* ty;            ///< compute type
    llvm::AllocaInst* arr;
  };

  /// Memory type of a slot's elements (bool as i8).
  llvm::Type* slot_type(llvm::Type* ty) {
    return ty->isIntegerTy(1) ? b_.getInt8Ty() : ty;
  }

  llvm::AllocaInst* chunk_array(llvm::Type* ty, int64_t n, const char* name) {
    llvm::IRBuilder<> ab(entry_->getTerminator());
    llvm::AllocaInst* a =
        ab.CreateAlloca(slot_type(ty), ab.getInt64(static_cast<uint64_t>(n)), name);
    a->setAlignment(llvm::Align(64));
    return a;
  }

  llvm::Value* slot_ptr(const Slot& s, llvm::Value* c) {
    return b_.CreateInBoundsGEP(slot_type(s.ty), s.arr, c);
  }

  llvm::Value* load_slot(const Slot& s, llvm::Value* c) {
    llvm::Value* x = b_.CreateLoad(slot_type(s.ty), slot_ptr(s, c));
    return s.ty->isIntegerTy(1) ? b_.CreateTrunc(x, s.ty) : x;
  }

  void store_slot(const Slot& s, llvm::Value* c, llvm::Value* x) {
    b_.CreateStore(s.ty->isIntegerTy(1) ? b_.CreateZExt(x, b_.getInt8Ty()) : x, slot_ptr(s, c));
  }

  /// Opens a loop over the chunk's elements (innermost, contiguous) and makes every slot
  /// filled so far readable at the element's canonical indices.
  Elem open_elements(LoopNest& nest, const Chunk& ch, const std::vector<Slot>& slots) {
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

  /// Column order (column_dim() = q >= 0): the kept elements are split into chunks, runs
  /// of up to `chunk` elements along dim q, and the parallel loop runs over chunks. Per
  /// chunk and per reduction: an accumulator array, a loop over R (outer) x the chunk
  /// (inner, contiguous, vectorised), then one loop over the chunk computing the O-shaped
  /// values that depend on it into arrays (later loops read them back instead of
  /// recomputing); O-shaped results are stored after the last reduction, and a final loop
  /// over R x the chunk stores the D-shaped results that depend on a reduction (the others
  /// are stored by the first reduction's loop).
  void column_order(llvm::Value* begin, llvm::Value* end, size_t q) {
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

  /// Elements per chunk along a column dim of `extent` with `rows` runs of it (see kChunk).
  /// Chunks of 64 f32 accumulators end up in registers after unrolling; longer ones stay in
  /// L1. A chunk is computed by one thread in a fixed order: results do not depend on the
  /// thread count.
  int64_t chunk_size(int64_t extent, int64_t rows) const {
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

  const ir::Node& group_;
  const ir::Graph& body_;
  Structure s_;
  llvm::Function* f_;
  llvm::IRBuilder<> b_;
  KernelInfo& info_;
  llvm::BasicBlock* entry_ = nullptr;
  std::unique_ptr<BodyEmitter> e_;
  std::map<const ir::Value*, int> last_; ///< see compute_dependence()
  int64_t row_cache_bytes_ = 0;          ///< stack taken by row arrays so far
  std::map<const ir::Value*, int> uses_; ///< body uses per value (row_cache_candidates)
  std::set<int> inplace_results_;        ///< results sharing an operand's memory
  bool pipeline_rows_;                   ///< see pipeline_rows()
};

/// Adds the target's CPU and features so that cost models see the real machine.
void set_target_attrs(const KernelModule::Impl& impl, llvm::Function* f) {
  f->addFnAttr(llvm::Attribute::NoUnwind);
  if (!impl.tm)
    return;
  f->addFnAttr("target-cpu", impl.tm->getTargetCPU());
  f->addFnAttr("target-features", impl.tm->getTargetFeatureString());
  // LLVM prefers 256-bit vectors even on AVX-512 CPUs (a frequency concern of early
  // AVX-512 parts); for these kernels (exp/erf polynomials, streaming) 512 bits measured
  // faster: exp over 1M f32 0.57 -> 0.38 ms, elu 0.78 -> 0.54 ms, softmax rows 28 -> 24 ms.
  llvm::SmallVector<llvm::StringRef, 64> features;
  impl.tm->getTargetFeatureString().split(features, ',');
  if (llvm::is_contained(features, "+avx512f"))
    f->addFnAttr("prefer-vector-width", "512");
}

} // namespace

KernelInfo emit_group(KernelModule::Impl& impl, const KernelSpec& spec) {
  TEVO_ASSERT(impl.mod, "KernelModule::add after jit()");
  TEVO_ASSERT(spec.group && spec.group->op == ir::OpKind::Fused, "kernel spec without a group");
  const ir::Node& group = *spec.group;
  if (group.attrs.get("kind").str() != "loop")
    fail_at(group, fmt::format("cpu codegen: fused group of kind \"{}\" is not a loop group",
                               group.attrs.get("kind").str()));
  const ir::Graph& body = *group.attrs.get("body").region();
  check_body(group, body);
  TEVO_ASSERT(!impl.mod->getNamedValue(spec.symbol), "kernel symbol {} defined twice",
              spec.symbol);

  llvm::LLVMContext& c = *impl.ctx;
  unsigned nops = static_cast<unsigned>(group.num_operands());
  unsigned nargs = nops + static_cast<unsigned>(body.outputs.size());
  std::vector<llvm::Type*> params(nargs, llvm::PointerType::getUnqual(c));
  params.push_back(llvm::Type::getInt64Ty(c));
  params.push_back(llvm::Type::getInt64Ty(c));
  auto* body_ty = llvm::FunctionType::get(llvm::Type::getInt32Ty(c), params, false);
  llvm::Function* bf = llvm::Function::Create(body_ty, llvm::GlobalValue::InternalLinkage,
                                              spec.symbol + ".body", *impl.mod);
  set_target_attrs(impl, bf);
  std::vector<bool> shared(nargs, false);
  for (auto [opnd, res] : spec.inplace) {
    shared[static_cast<size_t>(opnd)] = true;
    shared[nops + static_cast<size_t>(res)] = true;
  }
  for (unsigned i = 0; i < nargs; ++i) {
    bf->addParamAttr(i, llvm::Attribute::NoCapture);
    if (!shared[i])
      bf->addParamAttr(i, llvm::Attribute::NoAlias);
    if (i < nops && !shared[i])
      bf->addParamAttr(i, llvm::Attribute::ReadOnly);
  }

  KernelInfo info;
  try {
    GroupEmitter(impl, spec, bf, info).run();
  } catch (...) {
    bf->eraseFromParent();
    throw;
  }

  // The ABI entry: unpack args[] and call the body.
  auto* ptr = llvm::PointerType::getUnqual(c);
  auto* i64 = llvm::Type::getInt64Ty(c);
  auto* kty = llvm::FunctionType::get(llvm::Type::getInt32Ty(c), {ptr, i64, i64}, false);
  llvm::Function* kf = llvm::Function::Create(kty, llvm::GlobalValue::ExternalLinkage,
                                              spec.symbol, *impl.mod);
  set_target_attrs(impl, kf);
  kf->addParamAttr(0, llvm::Attribute::NoCapture);
  kf->addParamAttr(0, llvm::Attribute::ReadOnly);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(c, "entry", kf));
  std::vector<llvm::Value*> args;
  for (unsigned i = 0; i < nargs; ++i)
    args.push_back(b.CreateLoad(ptr, b.CreateConstInBoundsGEP1_64(ptr, kf->getArg(0), i)));
  // An in-place result is written through its operand's pointer (the executor passes the
  // same address for both): with one pointer, LLVM sees each element read before it is
  // written at the same index and vectorises; two unrelated pointers would need run-time
  // overlap checks, which fail for in-place buffers and fall back to scalar code (10x).
  for (auto [opnd, res] : spec.inplace)
    args[nops + static_cast<size_t>(res)] = args[static_cast<size_t>(opnd)];
  args.push_back(kf->getArg(1));
  args.push_back(kf->getArg(2));
  b.CreateRet(b.CreateCall(bf, args));
  impl.optimized = false;
  return info;
}

KernelInfo KernelModule::add(const KernelSpec& spec) {
  return emit_group(*impl_, spec);
}

} // namespace tevo::cpu
