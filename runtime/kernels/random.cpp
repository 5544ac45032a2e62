// random.cpp: random_uniform / random_normal runtime kernels.
//
// Element i is a pure function of (seed, i) through ir/random.h, the generator the
// interpreter uses, computed in double and rounded once to the result dtype, so results
// match the reference bit for bit whatever the thread split.
#include "ir/random.h"
#include "runtime/kernels/ops.h"
#include "runtime/kernels/strided.h"

namespace tevo::rt::kernels {

void random(const OpArgs& a, bool normal) {
  const StridedDesc& y = a.step.results[0];
  int64_t n = 1;
  for (int64_t d : y.dims)
    n *= d;
  const int64_t seed = a.step.iattrs[0];
  const double p = a.step.fattrs[0], q = a.step.fattrs[1];
  const DType t = y.dtype;
  void* out = a.out[0];
  const int team = n >= (1 << 15) ? a.threads : 1;
#pragma omp parallel for num_threads(team) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    auto c = static_cast<uint64_t>(i);
    store(t, out, i, normal ? ir::random::normal(seed, c, p, q) : ir::random::uniform(seed, c, p, q));
  }
}

} // namespace tevo::rt::kernels
