// losses.cpp: cross-entropy and mean squared error built from DSL ops.
#include "frontend/train/losses.h"

namespace tevo::train {

namespace {
[[noreturn]] void fail(const Loc& loc, std::string msg) {
  throw ir::Error(ir::Diag{loc, std::move(msg), {}});
}
} // namespace

Tensor cross_entropy(Tensor logits, Tensor targets, std::optional<int64_t> ignore_index, Loc loc) {
  if (!logits.valid() || !targets.valid())
    fail(loc, "[cross_entropy] operand is an empty Tensor handle");
  if (&logits.trace() != &targets.trace())
    fail(loc, "[cross_entropy] logits and targets come from different traces");
  if (!ir::is_float(logits.dtype()) || logits.rank() < 1)
    fail(loc, fmt::format("[cross_entropy] logits must be a float tensor [..., classes], got {}",
                          logits.type().str()));
  if (targets.dtype() != DType::I32 && targets.dtype() != DType::I64)
    fail(loc,
         fmt::format("[cross_entropy] targets must be i32 or i64, got {}", targets.type().str()));
  Ints expect = logits.shape();
  expect.pop_back();
  if (targets.shape() != expect)
    fail(loc, fmt::format("[cross_entropy] targets {} must have the shape of logits {} without "
                          "the class axis",
                          targets.type().str(), logits.type().str()));
  Trace& t = logits.trace();
  auto scope = t.scope("cross_entropy");
  // log_softmax is max-shifted, so huge logits stay finite; gather picks the target's
  // log-probability without materialising a one-hot [..., V] tensor.
  Tensor logp = log_softmax(logits, -1, loc);
  Tensor idx = targets;
  Tensor keep;
  if (ignore_index) {
    keep = ne(targets, full(t, {}, static_cast<double>(*ignore_index), targets.dtype(), loc), loc);
    // Ignored positions may hold an out-of-range index (-100): point them at class 0.
    idx = where(keep, targets, 0.0, loc);
  }
  Tensor picked = squeeze(gather(logp, unsqueeze(idx, -1, loc), -1, loc), -1, loc);
  if (!ignore_index)
    return neg(mean(picked, {}, false, loc), loc);
  Tensor w = cast(keep, logits.dtype(), loc);
  Tensor total = sum(mul(picked, w, loc), {}, false, loc);
  Tensor count = maximum(sum(w, {}, false, loc), scalar_like(total, 1.0, loc), loc);
  return neg(div(total, count, loc), loc);
}

Tensor mse(Tensor a, Tensor b, Loc loc) {
  if (!a.valid() || !b.valid())
    fail(loc, "[mse] operand is an empty Tensor handle");
  auto scope = a.trace().scope("mse");
  return mean(square(sub(a, b, loc), loc), {}, false, loc);
}

} // namespace tevo::train
