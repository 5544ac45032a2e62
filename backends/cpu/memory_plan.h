// memory_plan.h: static placement of scratch buffers in one arena.
//
// The lowering knows, for every scratch buffer, its size and the steps during which it
// holds live data: from the step that writes it to the last step that reads it (directly
// or through a view). Two buffers whose step intervals intersect must not share bytes;
// buffers that are never live at the same step may. plan_arena() places them greedily,
// largest first, each at the lowest 64-byte-aligned offset that does not collide with an
// already placed buffer whose interval intersects its own (first fit). In-place reuse is
// decided by the caller, which merges the two values into one request.
#pragma once

#include <cstdint>
#include <vector>

namespace tevo::cpu {

/// Alignment of every arena offset (a cache line; enough for AVX-512 loads).
inline constexpr int64_t kArenaAlign = 64;

/// One scratch buffer: `bytes` live from step `first` to step `last`, both inclusive.
struct ArenaRequest {
  int64_t bytes = 0;
  int32_t first = 0;
  int32_t last = 0;
};

struct ArenaPlan {
  std::vector<int64_t> offsets; ///< per request, multiples of kArenaAlign
  int64_t arena_bytes = 0;      ///< end of the farthest buffer, rounded up to kArenaAlign
  int64_t no_reuse_bytes = 0;   ///< sum of all requests, each rounded up to kArenaAlign
};

/// `x` rounded up to a multiple of kArenaAlign.
int64_t align_up(int64_t x);

/// Places every request (deterministic: ties broken by earlier first step, then index).
ArenaPlan plan_arena(const std::vector<ArenaRequest>& requests);

/// True when no two requests live at a common step share a byte, and every offset is
/// aligned and inside arena_bytes. Used by tests and by debug checks of the lowering.
bool arena_plan_valid(const std::vector<ArenaRequest>& requests, const ArenaPlan& plan);

} // namespace tevo::cpu
