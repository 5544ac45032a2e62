// emit_stream.h: the loop shapes of a streaming store loop (emit_*.cpp only).
//
// Row order streams the stores of a row whose results are too large to stay in cache
// (TargetOptions::stream_bytes; the non-temporal stores themselves: llvm_stream.h). Where
// the streamed results of a row start at one common offset within a cache line, the
// store loop stores the elements before the first line boundary plainly and the rest from
// line-aligned bases, tagged; elsewhere it stores everything plainly. The tagged part
// walks the row in blocks and prefetches into L2, at the top of each block, the same block
// of the next row's operands: the next row's first loop reads them from memory, and
// without the prefetch that read overlaps nothing (layer norm 4096², AMD Zen 4, 1 thread,
// in a hand-written model: plain stores 8.6-9.4 ms, non-temporal 8.1-8.7, non-temporal
// with the prefetch 7.6-7.9; in tevo, prefetching into L1 instead of L2: 7.6-8.8 against
// 6.0-6.7, as the next row then evicts the current row's operands from L1).
#pragma once

#include <functional>
#include <vector>

#include "backends/cpu/emit_eval.h"

namespace tevo::cpu {

/// Bytes per cache line: the alignment of streamed stores and the prefetch unit.
constexpr int64_t kLineBytes = 64;

/// For a row segment of n elements of elem_bytes each, whose streamed results start at
/// the non-null pointers of `starts`: emits `if (they share their offset within a line,
/// a multiple of elem_bytes) streamed(h, aligned) else plain()`. h (i64) is the number of
/// elements before the first line boundary (at most n); aligned[j] = starts[j] + h
/// elements, line-aligned, which an llvm.assume tells LLVM's analyses. Each branch has
/// its own memo scope; the insertion point ends after both.
void if_common_line_offset(
    BodyEmitter& e, const std::vector<llvm::Value*>& starts, llvm::Type* elem, int64_t n,
    const std::function<void(llvm::Value* h, const std::vector<llvm::Value*>& aligned)>&
        streamed,
    const std::function<void()>& plain);

/// Emits `for (k = 0; k < n; ++k) body(k)` (n: i64) as n / block full blocks, each
/// starting with at_block(its first k), and a loop of its own over the last n % block.
void blocked_loop(BodyEmitter& e, llvm::Value* n, int64_t block,
                  const std::function<void(llvm::Value*)>& at_block,
                  const std::function<void(llvm::Value*)>& body);

/// Prefetches every cache line of [p, p + bytes) into L2 for reading (p: any address; a
/// prefetch never faults).
void prefetch_lines(llvm::IRBuilder<>& b, llvm::Value* p, int64_t bytes);

} // namespace tevo::cpu
