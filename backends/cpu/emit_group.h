// emit_group.h: the generator of one loop group's body function (emit_*.cpp only).
//
// GroupEmitter turns one `fused {kind = "loop"}` node into the body of its kernel (the
// kernel ABI and the entry that unpacks args[]: emit_group.cpp). Map groups loop over the
// domain D, parallel over its leading dims (emit_group.cpp). Reduce groups have two loop
// orders. Row order (emit_rows.cpp): parallel over the kept dims O and, inside, once over
// the reduced dims R per reduction, then once more to store D-shaped results; pipelined
// over rows where that pays, streamed where the results are larger than the cache
// (emit_stream.h). Column order (emit_columns.cpp), when the innermost
// (non-unit) dim of D is kept (bias and norm-weight gradients): parallel over chunks of
// that dim, each loop over R reading contiguous runs of a chunk into per-chunk
// accumulator arrays. The contract is in docs/BACKEND.md ("Loop groups"); the body's
// values come from BodyEmitter (emit_eval.h).
#pragma once

#include <map>
#include <memory>
#include <set>
#include <vector>

#include "backends/cpu/emit_eval.h"
#include "backends/cpu/emit_loops.h"
#include "backends/cpu/emit_structure.h"
#include "backends/cpu/llvm_internal.h"

namespace tevo::cpu::groupgen {

using Ints = std::vector<int64_t>;

/// Work (elements) worth one parallel iteration or one thread's share.
inline constexpr int64_t kMinWork = 32768;
/// Fewest elements worth one parallel iteration of a map group...
inline constexpr int64_t kMinInner = 256;
/// ...unless that leaves fewer than kMinMapIters iterations; then down to kMinVector.
inline constexpr int64_t kMinMapIters = 64;
inline constexpr int64_t kMinVector = 16;
/// Column-order chunks (elements of the contiguous kept dim): at most kChunk; halved down to
/// kMinChunk while there are fewer than kMinChunks chunks (parallelism); per-chunk arrays
/// (accumulators, O-shaped values) within kChunkBytes of stack unless that needs fewer than
/// kTinyChunk elements.
inline constexpr int64_t kChunk = 256;
inline constexpr int64_t kMinChunk = 64;
inline constexpr int64_t kMinChunks = 16;
inline constexpr int64_t kChunkBytes = 16384;
inline constexpr int64_t kTinyChunk = 16;
/// Row arrays (row order's cached values): at most kRowCacheBytes each and kRowCacheTotal
/// per kernel (they are stack arrays; a 512-node group could otherwise ask for megabytes).
inline constexpr int64_t kRowCacheBytes = 32 * 1024;
inline constexpr int64_t kRowCacheTotal = 256 * 1024;
/// Column order sums rows in blocks of this many (see column_order).
inline constexpr int64_t kSumBlock = 256;
/// Row order is pipelined over rows (row_pipeline) for rows of at least kPipelineRow
/// elements, in blocks of at most kPipelineBlock rows.
inline constexpr int64_t kPipelineRow = 256;
inline constexpr int64_t kPipelineBlock = 32;
/// A streaming store loop (emit_stream.h) needs rows of at least kStreamRow elements; it
/// walks them in blocks of kStreamBlock.
inline constexpr int64_t kStreamRow = 1024;
inline constexpr int64_t kStreamBlock = 64;

inline int64_t product(const Ints& d, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to; ++i)
    p *= d[i];
  return p;
}

/// Generates the body function of one group.
class GroupEmitter {
public:
  GroupEmitter(KernelModule::Impl& impl, const KernelSpec& spec, llvm::Function* f,
               KernelInfo& info);

  void run();

private:
  /// Stores result j's value at D index idx into result j's memory (dense over `dims`).
  void store(size_t j, const Index& idx, const Ints& dims);
  /// Stores result j's value at D index idx at element `flat` of `base` (result j's memory
  /// or a place in it); returns the store.
  llvm::StoreInst* store_at(size_t j, const Index& idx, llvm::Value* base, llvm::Value* flat);

  /// Loops over D: the leading dims [0, k) are flattened into the parallel index, the
  /// rest are loops inside one parallel iteration. k is the largest split that leaves
  /// kMinInner elements per iteration (amortising the index split, keeping the inner loops
  /// long enough to vectorise), moved right while that gives fewer than kMinMapIters
  /// iterations; the grain then gives each thread kMinWork elements.
  void map_group(llvm::Value* begin, llvm::Value* end);

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
  Index open_reduced(LoopNest& nest, bool all_but_last = false) {
    Index rv;
    for (size_t i = 0; i + (all_but_last ? 1 : 0) < s_.d.size(); ++i)
      if (s_.reduced[i])
        rv.push_back(nest.open_dim(s_.d[i], "r" + std::to_string(i)));
    return rv;
  }

  /// Per body value: the last reduction (position in s_.reductions) it depends on, -1: none.
  void compute_dependence();

  /// The O-shaped (O_keep or O_drop) non-reduction body values whose last reduction is j:
  /// computable once per kept element right after reduction j.
  std::vector<const ir::Value*> o_values_after(size_t j) const;

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

  void reduce_group(llvm::Value* begin, llvm::Value* end);

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
  int home_result(llvm::Type* ty, const std::vector<RowCache>& cached) const;

  /// Where element `idx` (D index; `flat`: its position in the row) of a row array lives.
  llvm::Value* row_ptr(const RowCache& c, const Index& idx, llvm::Value* flat);

  /// Whether recomputing v in a later loop repeats work worth a store and a load: a
  /// transcendental lies on its path from the group's inputs (softmax's exp(x - max);
  /// linear attention's phi(Q), summed against the normaliser and then divided by it).
  /// Cheap values that only follow a reduction (layer norm's x - mean) are recomputed.
  bool costly(const ir::Value* v, std::map<const ir::Value*, bool>& memo) const;

  /// The values of reduction operand `v`'s computation (v and its ancestors in the body)
  /// that a row array should keep for the later loops of the row: D-shaped floats, used
  /// more than once, costly to recompute, not kept already, each row within kRowCacheBytes
  /// of stack and all of them within kRowCacheTotal.
  std::vector<const ir::Value*> row_cache_candidates(const ir::Value* v, int64_t red,
                                                     const std::vector<RowCache>& cached,
                                                     int64_t slots = 1,
                                                     std::set<const ir::Value*>* cheap = nullptr);

  /// Row-major position of R loop variables `rv` within R.
  llvm::Value* flat_reduced(const Index& rv);

  /// Makes the cached operands of earlier reductions known at `idx` (loaded, not recomputed).
  void reuse_cached(const std::vector<RowCache>& cached, const Index& idx, const Index& rv);

  /// Row order: parallel over O, one loop over R per reduction inside each O element
  /// (pipelined over rows when that pays: see row_pipeline).
  void row_order(llvm::Value* begin, llvm::Value* end);

  /// Whether row order's store loop streams (emit_stream.h): the D-shaped results take at
  /// least TargetOptions::stream_bytes together and have one element size of 4 or 8 bytes,
  /// R is the trailing dims of D (a row is one contiguous run of each result), rows have at
  /// least kStreamRow elements and their innermost dim at least kStreamBlock, and no reduction
  /// reads a costly value: such a row is kept in a result (home_result), whose line fills
  /// then overlap that arithmetic; streamed instead (row array on the stack), softmax
  /// 4096² measured slower (AMD Zen 4, 1 thread: 7.7-8.3 ms against 7.1-7.3).
  bool streams(int64_t red) const;

  /// The loop storing the D-shaped results of row o, streamed where it pays (streams()).
  void store_rows(const Index& o, const std::vector<RowCache>& cached);

  /// Prefetches kStreamBlock elements at D index idx of the next row (O index + 1 in its
  /// innermost non-unit kept dim) of each operand read as D whose rows are contiguous.
  void prefetch_next_row(const Index& idx);

  llvm::Value* out_arg(size_t j) const {
    return f_->getArg(static_cast<unsigned>(group_.num_operands()) + static_cast<unsigned>(j));
  }

  /// Stores the O-shaped results (O_keep or O_drop) of the row at O_drop index `o`.
  void store_o_results(const Index& o, const Index& keep);

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
  void row_pipeline(llvm::Value* begin, llvm::Value* end, int64_t red, int64_t stages);

  /// Sets the values of reductions [0, k) for the row `rs` (read from the rings, or `vals`).
  void bind_row(const RowSlot& rs, const std::vector<llvm::Value*>& vals, size_t k);

  llvm::Value* ring_at(llvm::AllocaInst* a, llvm::Value* slot, int64_t stride,
                       llvm::Value* pos) {
    llvm::Value* i = add_nw(b_, mul_nw(b_, slot, e_->i64(stride)), pos);
    return b_.CreateInBoundsGEP(a->getAllocatedType(), a, i);
  }

  /// The slot of row `rs` in the row arrays of reduction j: written by stage j, read up to
  /// the last stage, so stages - j rows of them are in flight.
  llvm::Value* row_slot(const Rings& g, const RowSlot& rs, size_t j);

  /// One iteration of row_pipeline: stages 0..top, stage j on row rv + stages - 1 - j.
  void pipeline_step(const Rings& g, llvm::Value* rv, llvm::Value* last, int64_t top);

  /// The dim of D that column order runs contiguously, or -1 for row order: the last dim of
  /// extent != 1, when it and every (unit) dim after it are kept. Then the reduced dims lie
  /// before it, and a loop over R with an inner loop over that dim reads memory in runs
  /// instead of striding by the kept extent (bias gradients, layer-norm weight gradients).
  int column_dim() const;

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
  llvm::Type* slot_type(llvm::Type* ty);

  llvm::AllocaInst* chunk_array(llvm::Type* ty, int64_t n, const char* name);

  llvm::Value* slot_ptr(const Slot& s, llvm::Value* c);

  llvm::Value* load_slot(const Slot& s, llvm::Value* c);

  void store_slot(const Slot& s, llvm::Value* c, llvm::Value* x);

  /// Opens a loop over the chunk's elements (innermost, contiguous) and makes every slot
  /// filled so far readable at the element's canonical indices.
  Elem open_elements(LoopNest& nest, const Chunk& ch, const std::vector<Slot>& slots);

  /// Column order (column_dim() = q >= 0): the kept elements are split into chunks, runs
  /// of up to `chunk` elements along dim q, and the parallel loop runs over chunks. Per
  /// chunk and per reduction: an accumulator array, a loop over R (outer) x the chunk
  /// (inner, contiguous, vectorised), then one loop over the chunk computing the O-shaped
  /// values that depend on it into arrays (later loops read them back instead of
  /// recomputing); O-shaped results are stored after the last reduction, and a final loop
  /// over R x the chunk stores the D-shaped results that depend on a reduction (the others
  /// are stored by the first reduction's loop).
  void column_order(llvm::Value* begin, llvm::Value* end, size_t q);

  /// Elements per chunk along a column dim of `extent` with `rows` runs of it (see kChunk).
  /// Chunks of 64 f32 accumulators end up in registers after unrolling; longer ones stay in
  /// L1. A chunk is computed by one thread in a fixed order: results do not depend on the
  /// thread count.
  int64_t chunk_size(int64_t extent, int64_t rows) const;

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
  int64_t stream_bytes_;                 ///< TargetOptions::stream_bytes (resolved)
  bool stream_ = false;                  ///< row order streams its store loop (streams())
  std::vector<OperandAccess> access_;    ///< operand pointers and strides (prefetches)
};

} // namespace tevo::cpu::groupgen
