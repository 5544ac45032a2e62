// library_ref.h: plain loop nests for library steps oneDNN cannot run on a CPU (f64, views
// it cannot describe): matmul with the same post-ops, and grouped conv1d.
//
// Accumulation is in double; post-ops follow oneDNN's definitions (eltwise result scaled
// by `scale`; binary with broadcast src1; sum adds scale * the old destination value).
#pragma once

#include "runtime/onednn_ops.h"
#include "runtime/plan.h"

namespace tevo::rt::kernels {

/// Whether the reference path implements post-op `p` (its algorithm is one it knows).
bool ref_post_op_supported(const PostOp& p);

/// C = post_ops(A x B) over the broadcast batch dims, reading and writing through the
/// descriptors' strides. Allocates nothing. Runs on up to `threads` OpenMP threads.
void matmul_ref(const MatmulStep& m, const LibraryArgs& args, int threads);

/// y = conv1d(x, w) (PyTorch cross-correlation, zero padding, groups).
void conv1d_ref(const Conv1dStep& c, const LibraryArgs& args, int threads);

} // namespace tevo::rt::kernels
