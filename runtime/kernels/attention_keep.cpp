// attention_keep.cpp: the per-tile summary of an attention keep operand (attn::KeepMap).
#include <algorithm>

#include <omp.h>

#include "runtime/kernels/attention_tile.h"

namespace tevo::rt::kernels::attn {

namespace {

int64_t blocks(int64_t extent, int64_t b) {
  return (extent + b - 1) / b;
}

/// OR and AND of the bools (bytes 0 / 1) of rows [i0, i0 + nq) x keys [j0, j0 + nk):
/// 0 none kept, 1 some, 2 all. Stops once the block is known to be mixed.
uint8_t scan_block(const uint8_t* keep, const HeadView& v, int64_t i0, int64_t nq, int64_t j0,
                   int64_t nk) {
  uint8_t some = 0, every = 1;
  for (int64_t r = 0; r < nq && !(some && !every); ++r) {
    const uint8_t* row = keep + (i0 + r) * v.rs + j0 * v.cs;
    uint8_t o = 0, a = 1;
    if (v.cs == 1) { // contiguous: the compiler vectorises the reductions
      for (int64_t c = 0; c < nk; ++c) {
        o |= row[c];
        a &= row[c];
      }
    } else {
      for (int64_t c = 0; c < nk; ++c) {
        o |= row[c * v.cs];
        a &= row[c * v.cs];
      }
    }
    some |= o;
    every &= a;
  }
  return some ? (every ? 2 : 1) : 0;
}

} // namespace

int64_t KeepMap::bytes(const AttnGeo& g, int64_t rb, int64_t cb) {
  int64_t heads = g.nb * g.hq;
  return align64(heads * 8) + align64(heads * 4) +
         align64(heads * blocks(g.n, rb) * blocks(g.m, cb));
}

KeepMap::KeepMap(const uint8_t* keep,
                 const HeadView& v,
                 const AttnGeo& g,
                 int64_t rb,
                 int64_t cb,
                 uint8_t* ws,
                 int threads)
    : hq_(g.hq), rb_(rb), cb_(cb), rblocks_(blocks(g.n, rb)), cblocks_(blocks(g.m, cb)) {
  const int64_t heads = g.nb * g.hq;
  auto* bases = reinterpret_cast<int64_t*>(ws);
  auto* mask_of = reinterpret_cast<int32_t*>(ws + align64(heads * 8));
  uint8_t* states = ws + align64(heads * 8) + align64(heads * 4);
  // Distinct masks: (b, h)'s coordinates along the dims the view does not broadcast
  // (stride != 0) as one mixed-radix number; a keep broadcast over heads is one mask.
  int64_t distinct = 1;
  for (int64_t bh = 0; bh < heads; ++bh) {
    int64_t b = bh / g.hq, h = bh % g.hq, at = 0, radix = 1;
    for (size_t t = v.bdims.size(); t-- > 0;) {
      if (v.bstr[t] != 0) {
        at += (b % v.bdims[t]) * radix;
        radix *= v.bdims[t];
      }
      b /= v.bdims[t];
    }
    if (v.hs != 0) {
      at += h * radix;
      radix *= g.hq;
    }
    distinct = radix;
    bases[at] = v.base(bh / g.hq, h);
    mask_of[bh] = static_cast<int32_t>(at);
  }
  const int64_t units = distinct * rblocks_;
#pragma omp parallel for schedule(static) num_threads(static_cast<int>( \
        std::max<int64_t>(1, std::min<int64_t>(threads, units))))
  for (int64_t u = 0; u < units; ++u) {
    const int64_t mask = u / rblocks_, r0 = (u % rblocks_) * rb_, nr = std::min(rb_, g.n - r0);
    for (int64_t c = 0; c < cblocks_; ++c) {
      const int64_t c0 = c * cb_, nc = std::min(cb_, g.m - c0);
      states[u * cblocks_ + c] = scan_block(keep + bases[mask], v, r0, nr, c0, nc);
    }
  }
  mask_of_ = mask_of;
  states_ = states;
}

int KeepMap::state(int64_t b, int64_t h, int64_t i0, int64_t nq, int64_t j0, int64_t nk) const {
  const uint8_t* s = states_ + static_cast<int64_t>(mask_of_[b * hq_ + h]) * rblocks_ * cblocks_;
  bool none = true, all = true;
  for (int64_t r = i0 / rb_; r <= (i0 + nq - 1) / rb_; ++r)
    for (int64_t c = j0 / cb_; c <= (j0 + nk - 1) / cb_; ++c) {
      uint8_t x = s[r * cblocks_ + c];
      none = none && x == 0;
      all = all && x == 2;
    }
  // A tile over parts of mixed blocks may be empty or full itself: masking it is correct.
  return none ? 0 : (all ? 2 : 1);
}

} // namespace tevo::rt::kernels::attn
