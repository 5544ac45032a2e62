// variants.h: the issue-5 variant cases (the "variants" table of bench/run.py): linear
// attention, causal softmax attention and long convolution, each in the forms the suite
// compares, as tevo graphs written with the DSL.
//
// A variant case is named FAMILY-FORM-<h|d>WIDTH-nN, e.g. "linattn-naive-h1-n4096":
//   linattn-naive-hH-nN   (phi(q) phi(k)^T / rowsum) v, phi = elu + 1, the left product
//                         as written (B=1, H heads, d = m = 64); the compiler chooses the form
//   linattn-right-hH-nN   phi(q) (phi(k)^T [v | 1]) split into numerator / denominator:
//                         the right product written by hand
//   causal-naive-hH-nN    nn::scaled_dot_product_attention(causal) (B=1, H heads, d=64)
//   causal-sdpa-hH-nN     PyTorch's fused scaled_dot_product_attention (torch side only)
//   alibi-naive-hH-nN     the same with ALiBi (o.alibi: the bias -slope_h (i - j) over N x N)
//   alibi-sdpa-hH-nN      PyTorch's scaled_dot_product_attention with the ALiBi bias and the
//                         causal mask as a precomputed float attn_mask (torch side only)
//   longconv-direct-dD-nN causal depthwise long convolution y = h * x over N steps, kernel
//                         length N (D channels): conv1d(groups=D, left padding N-1)
//   longconv-fft-dD-nN    the same through rfft / irfft with zero padding to 2N
// bench/torch_bench.py builds the same names with the same shapes. Both forms of a family
// take the same inputs (names, shapes, order), so they can be compared on equal data
// (tevo-bench --system=agree).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "bench/cases.h"

namespace tevo::bench {

/// A parsed variant case name.
struct VariantSpec {
  std::string family; ///< linattn | causal | alibi | longconv | ssm
  std::string form;   ///< naive | right | sdpa | direct | fft
  int64_t width = 0;  ///< heads (linattn, causal) or channels (longconv)
  int64_t n = 0;      ///< sequence length N
};

/// The spec of `name` when it has the variant form FAMILY-FORM-<h|d>W-nN (nullopt
/// otherwise); throws std::runtime_error for a variant name with an unknown family or form
/// or a non-positive size.
std::optional<VariantSpec> parse_variant(const std::string& name);

/// Builds the tevo graph of a variant case with deterministic inputs (uniform in [-1, 1),
/// seed 1). Case::seq is N. Throws std::runtime_error for a form tevo has no graph of
/// (causal-sdpa: PyTorch's kernel).
Case make_variant_case(const VariantSpec& spec, const std::string& name);

/// One line describing the accepted variant names (for tevo-bench --list).
std::string variant_usage();

} // namespace tevo::bench
