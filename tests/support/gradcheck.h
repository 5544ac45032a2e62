// gradcheck.h: finite-difference checks of autodiff gradients, in f64 on the interpreter.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/interp/array.h"

namespace tevo::testing {

struct GradcheckOptions {
  double eps = 1e-6;   ///< central-difference step, scaled by max(1, |x|)
  double rtol = 1e-5;  ///< relative tolerance against max(|numeric|, |analytic|)
  double atol = 1e-8;  ///< absolute tolerance, scaled by the largest gradient magnitude
  uint64_t seed = 7;   ///< for the random output cotangents
};

struct GradcheckResult {
  bool ok = true;
  double max_error = 0;  ///< largest |numeric - analytic| / (atol + rtol * scale)
  int64_t checked = 0;   ///< number of input elements checked
  std::string report;    ///< first failures, one per line
};

/// Checks d/dx of L = Σ_k <out_k, c_k> (random cotangents c_k) for every float/complex
/// input of `g` against central differences. Every float value in `g` should be f64 or
/// c128 (the interpreter then computes in double). Throws ir::Error when an op on the
/// path has no VJP rule.
GradcheckResult gradcheck(const ir::Graph& g,
                          const std::vector<ir::interp::Array>& inputs,
                          const GradcheckOptions& opts = {});

/// True when every floating value in g (inputs, node results) is f64 or c128.
bool is_double_precision(const ir::Graph& g);

} // namespace tevo::testing
