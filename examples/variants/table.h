// table.h: the text the `variants` example prints: aligned tables and the summary of the
// naive-vs-rewritten comparison (rewrites fired, step times, peak memory, loss agreement).
#pragma once

#include "examples/variants/compare.h"

#include <string>
#include <vector>

namespace tevo::examples::variants {

/// A Markdown table with every column padded to its widest cell.
std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows);

/// "fuse-attention.sdpa=2, reassociate-matmul.right-product=2", or "none".
std::string rewrites_cell(const ForwardReport& r);

/// variant | N | rewrites fired | step time naive | step time rewritten | peak memory
/// naive | peak memory rewritten | max loss rel diff: one row per comparison.
std::string summary_table(const std::vector<Comparison>& results);

/// Notes under the table: rewrites expected but not fired (with the passes' remarks),
/// rewrites fired where none was expected, and variants that failed. `mixers[i]` is the
/// registry entry of results[i].
std::string summary_notes(const std::vector<Comparison>& results,
                          const std::vector<MixerInfo>& mixers,
                          const Options& o);

} // namespace tevo::examples::variants
