// losses.h: training losses as DSL functions (cross-entropy, mean squared error).
//
// Each loss records its nodes under a "cross_entropy" / "mse" scope (inside the
// caller's scope), so the loss and its backward nodes are easy to find in a dump.
#pragma once

#include "frontend/ops.h"

#include <cstdint>
#include <optional>

namespace tevo::train {

/// Mean over positions of -log softmax(logits)[target], as torch.nn.functional.
/// cross_entropy with reduction="mean". logits: float [..., V]; targets: i32/i64 [...]
/// (logits' shape without the class axis), each in [0, V). Computed as log_softmax then
/// a gather along the class axis, so logits of any finite size (±1e4 in f32) give a
/// finite loss and gradient. With `ignore_index`, positions whose target equals it add
/// nothing and are not counted; when every position is ignored the loss is 0 (PyTorch
/// gives NaN). Returns a rank-0 tensor of logits' dtype.
Tensor cross_entropy(Tensor logits,
                     Tensor targets,
                     std::optional<int64_t> ignore_index = {},
                     Loc loc = Loc::here());

/// mean((a - b)^2) over every element (broadcasting a against b), a rank-0 tensor.
Tensor mse(Tensor a, Tensor b, Loc loc = Loc::here());

} // namespace tevo::train
