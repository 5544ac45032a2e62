// mask_affine.h: recognising structural attention masks from index arithmetic.
//
// A mask written with iota and comparisons — keep = (j <= i + off), or a band
// (i + off - w < j <= i + off) — is a set of half-planes over the (query i, key j) grid.
// The fused attention op carries such masks as an attribute (causal / sliding window),
// so its kernel skips whole tiles instead of reading an N x M boolean tensor. This file
// evaluates index-only subgraphs symbolically as affine functions ci*i + cj*j + c, turns
// comparisons into half-planes, and classifies a conjunction of them. Anything it cannot
// prove stays a materialised `keep` operand: never a guess.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace tevo::passes::attention {

/// ci * i + cj * j + c, with i the query index (the score's second-last axis, extent N)
/// and j the key index (last axis, extent M).
struct Affine {
  double ci = 0, cj = 0, c = 0;
};

/// `v` as an affine function of (i, j) over an [N, M] score grid, or nullopt when it
/// depends on anything else (data, batch or head indices) or is not affine.
std::optional<Affine> affine_of(const ir::Value* v, int64_t n, int64_t m);

/// A comparison of two affine index expressions as the half-plane `h <= 0` over the grid
/// (integer i, j; a strict comparison is tightened by one), or nullopt when `pred` is not
/// such a comparison (le/lt/ge/gt of affine operands with integer coefficients).
std::optional<Affine> half_plane(const ir::Value* pred, int64_t n, int64_t m);

/// What a keep predicate turned out to be.
struct MaskInfo {
  std::string kind = "none"; ///< "none" | "causal" | "sliding" (the attention op's attr)
  int64_t window = 0;        ///< sliding only
  /// Conjuncts that are not structural (padding masks, unrecognised predicates): they
  /// stay a keep operand, AND-ed together by the caller.
  std::vector<ir::Value*> residual;
};

/// Splits `keep` (bool, true = attend) into logical_and conjuncts, recognises the
/// structural ones and classifies them against the attention op's conventions (queries
/// are the last N of M positions: causal = j <= i + (M - N)). Structural conjuncts that
/// do not fit those conventions are returned as residual.
MaskInfo classify_keep(ir::Value* keep, int64_t n, int64_t m);

} // namespace tevo::passes::attention
