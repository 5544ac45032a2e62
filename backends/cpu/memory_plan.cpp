// memory_plan.cpp: first-fit placement of scratch buffers by liveness (see memory_plan.h).
#include "backends/cpu/memory_plan.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "ir/diag.h"

namespace tevo::cpu {

namespace {

bool overlap_in_time(const ArenaRequest& a, const ArenaRequest& b) {
  return a.first <= b.last && b.first <= a.last;
}

} // namespace

int64_t align_up(int64_t x) {
  return (x + kArenaAlign - 1) / kArenaAlign * kArenaAlign;
}

ArenaPlan plan_arena(const std::vector<ArenaRequest>& requests) {
  ArenaPlan plan;
  size_t n = requests.size();
  plan.offsets.assign(n, 0);
  for (const ArenaRequest& r : requests) {
    TEVO_ASSERT(r.bytes >= 0 && r.first <= r.last, "bad arena request");
    plan.no_reuse_bytes += align_up(r.bytes);
  }
  // Largest first: big buffers settle at low offsets and small ones fill the gaps.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const ArenaRequest& x = requests[a];
    const ArenaRequest& y = requests[b];
    if (align_up(x.bytes) != align_up(y.bytes))
      return align_up(x.bytes) > align_up(y.bytes);
    return x.first < y.first;
  });
  std::vector<size_t> placed;
  std::vector<std::pair<int64_t, int64_t>> busy; // [begin, end) of conflicting buffers
  for (size_t i : order) {
    int64_t size = align_up(requests[i].bytes);
    if (size == 0) { // an empty tensor needs an address, not bytes
      plan.offsets[i] = 0;
      placed.push_back(i);
      continue;
    }
    busy.clear();
    for (size_t j : placed)
      if (requests[j].bytes > 0 && overlap_in_time(requests[i], requests[j]))
        busy.emplace_back(plan.offsets[j], plan.offsets[j] + align_up(requests[j].bytes));
    std::sort(busy.begin(), busy.end());
    int64_t at = 0;
    for (const auto& [b, e] : busy) {
      if (b - at >= size)
        break; // the gap before this buffer is large enough
      at = std::max(at, e);
    }
    plan.offsets[i] = at;
    plan.arena_bytes = std::max(plan.arena_bytes, at + size);
    placed.push_back(i);
  }
  return plan;
}

bool arena_plan_valid(const std::vector<ArenaRequest>& requests, const ArenaPlan& plan) {
  if (plan.offsets.size() != requests.size())
    return false;
  for (size_t i = 0; i < requests.size(); ++i) {
    int64_t oi = plan.offsets[i];
    if (oi % kArenaAlign != 0 || oi < 0 || oi + requests[i].bytes > plan.arena_bytes)
      return false;
    for (size_t j = i + 1; j < requests.size(); ++j) {
      if (!overlap_in_time(requests[i], requests[j]))
        continue;
      int64_t oj = plan.offsets[j];
      bool disjoint = oi + requests[i].bytes <= oj || oj + requests[j].bytes <= oi;
      if (!disjoint && requests[i].bytes > 0 && requests[j].bytes > 0)
        return false;
    }
  }
  return true;
}

} // namespace tevo::cpu
