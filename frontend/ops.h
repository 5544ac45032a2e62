// ops.h: the DSL's free functions and operators, mirroring the op registry.
//
// Each function records its caller's source location (the trailing `loc` default
// argument) and the current module scope, so IR dumps and error messages point at the
// user's line. Conveniences the IR does not have (negative indices, -1 in reshape,
// Python-style slices, scalars mixed with tensors) are resolved here, so the IR stays
// explicit.
#pragma once

#include <utility>
#include <vector>

#include "frontend/tensor.h"

namespace tevo {

using ir::DType;
using ir::Loc;
using Ints = std::vector<int64_t>;

/// Builds a node of op `k` in the operands' trace; throws ir::Error located at `loc`.
std::vector<Tensor> emit(ir::OpKind k, const std::vector<Tensor>& operands,
                         const ir::AttrList& attrs, Loc loc, Trace* trace = nullptr);
Tensor emit1(ir::OpKind k, const std::vector<Tensor>& operands, const ir::AttrList& attrs, Loc loc,
             Trace* trace = nullptr);

// Elementwise, unary.
Tensor neg(Tensor x, Loc loc = Loc::here());
Tensor abs(Tensor x, Loc loc = Loc::here());
Tensor exp(Tensor x, Loc loc = Loc::here());
Tensor expm1(Tensor x, Loc loc = Loc::here());
Tensor log(Tensor x, Loc loc = Loc::here());
Tensor log1p(Tensor x, Loc loc = Loc::here());
Tensor sqrt(Tensor x, Loc loc = Loc::here());
Tensor rsqrt(Tensor x, Loc loc = Loc::here());
Tensor reciprocal(Tensor x, Loc loc = Loc::here());
Tensor square(Tensor x, Loc loc = Loc::here());
Tensor tanh(Tensor x, Loc loc = Loc::here());
Tensor sigmoid(Tensor x, Loc loc = Loc::here());
Tensor relu(Tensor x, Loc loc = Loc::here());
/// GELU; `tanh_approximation` selects the tanh form (GPT-2's "gelu_new").
Tensor gelu(Tensor x, bool tanh_approximation = false, Loc loc = Loc::here());
Tensor silu(Tensor x, Loc loc = Loc::here());
Tensor elu(Tensor x, double alpha = 1.0, Loc loc = Loc::here());
Tensor softplus(Tensor x, Loc loc = Loc::here());
Tensor sin(Tensor x, Loc loc = Loc::here());
Tensor cos(Tensor x, Loc loc = Loc::here());
Tensor sign(Tensor x, Loc loc = Loc::here());
Tensor erf(Tensor x, Loc loc = Loc::here());
Tensor stop_gradient(Tensor x, Loc loc = Loc::here());

// Elementwise, binary (NumPy broadcasting; scalars take the tensor's dtype).
Tensor add(Tensor a, Tensor b, Loc loc = Loc::here());
Tensor sub(Tensor a, Tensor b, Loc loc = Loc::here());
Tensor mul(Tensor a, Tensor b, Loc loc = Loc::here());
Tensor div(Tensor a, Tensor b, Loc loc = Loc::here());
Tensor pow(Tensor a, Tensor b, Loc loc = Loc::here());
Tensor pow(Tensor a, double b, Loc loc = Loc::here());
Tensor maximum(Tensor a, Tensor b, Loc loc = Loc::here());
Tensor minimum(Tensor a, Tensor b, Loc loc = Loc::here());

Tensor operator+(At a, Tensor b);
Tensor operator-(At a, Tensor b);
Tensor operator*(At a, Tensor b);
Tensor operator/(At a, Tensor b);
Tensor operator+(At a, double b);
Tensor operator-(At a, double b);
Tensor operator*(At a, double b);
Tensor operator/(At a, double b);
Tensor operator+(double a, At b);
Tensor operator-(double a, At b);
Tensor operator*(double a, At b);
Tensor operator/(double a, At b);
Tensor operator-(At a);

// Comparisons, logic, select, casts.
Tensor eq(Tensor a, Tensor b, Loc loc = Loc::here());
Tensor ne(Tensor a, Tensor b, Loc loc = Loc::here());
Tensor lt(Tensor a, Tensor b, Loc loc = Loc::here());
Tensor le(Tensor a, Tensor b, Loc loc = Loc::here());
Tensor gt(Tensor a, Tensor b, Loc loc = Loc::here());
Tensor ge(Tensor a, Tensor b, Loc loc = Loc::here());
Tensor logical_and(Tensor a, Tensor b, Loc loc = Loc::here());
Tensor logical_or(Tensor a, Tensor b, Loc loc = Loc::here());
Tensor logical_not(Tensor a, Loc loc = Loc::here());
/// cond ? a : b, elementwise with broadcasting.
Tensor where(Tensor cond, Tensor a, Tensor b, Loc loc = Loc::here());
Tensor where(Tensor cond, Tensor a, double b, Loc loc = Loc::here());
Tensor cast(Tensor x, DType to, Loc loc = Loc::here());
Tensor real(Tensor x, Loc loc = Loc::here());
Tensor imag(Tensor x, Loc loc = Loc::here());
Tensor complex(Tensor re, Tensor im, Loc loc = Loc::here());

// Reductions (axes may be negative; empty = all axes).
Tensor sum(Tensor x, Ints axes = {}, bool keepdims = false, Loc loc = Loc::here());
Tensor mean(Tensor x, Ints axes = {}, bool keepdims = false, Loc loc = Loc::here());
Tensor max(Tensor x, Ints axes = {}, bool keepdims = false, Loc loc = Loc::here());
Tensor min(Tensor x, Ints axes = {}, bool keepdims = false, Loc loc = Loc::here());
Tensor prod(Tensor x, Ints axes = {}, bool keepdims = false, Loc loc = Loc::here());
Tensor logsumexp(Tensor x, Ints axes = {}, bool keepdims = false, Loc loc = Loc::here());
Tensor argmax(Tensor x, int64_t axis = -1, bool keepdims = false, Loc loc = Loc::here());
Tensor softmax(Tensor x, int64_t axis = -1, Loc loc = Loc::here());
Tensor log_softmax(Tensor x, int64_t axis = -1, Loc loc = Loc::here());

// Linear algebra.
/// a[..., M, K] @ b[..., K, N]; a rank-1 operand is treated as a row (a) or column (b)
/// vector and its axis removed from the result, as in NumPy.
Tensor matmul(Tensor a, Tensor b, Loc loc = Loc::here());

// Shapes.
/// Swaps two axes (negative counts from the end).
Tensor transpose(Tensor x, int64_t a = -2, int64_t b = -1, Loc loc = Loc::here());
Tensor permute(Tensor x, Ints perm, Loc loc = Loc::here());
/// One entry may be -1 (inferred).
Tensor reshape(Tensor x, Ints shape, Loc loc = Loc::here());
Tensor broadcast_to(Tensor x, Ints shape, Loc loc = Loc::here());
/// x[start:end:step] along `axis`; negative start/end count from the end and are clamped,
/// as in Python.
Tensor slice(Tensor x, int64_t axis, int64_t start, int64_t end, int64_t step = 1,
             Loc loc = Loc::here());
Tensor concat(const std::vector<Tensor>& xs, int64_t axis, Loc loc = Loc::here());
Tensor pad(Tensor x, Ints low, Ints high, double value = 0.0, Loc loc = Loc::here());
Tensor tril(Tensor x, int64_t k = 0, Loc loc = Loc::here());
Tensor triu(Tensor x, int64_t k = 0, Loc loc = Loc::here());
/// Inserts / removes an axis of extent 1.
Tensor unsqueeze(Tensor x, int64_t axis, Loc loc = Loc::here());
Tensor squeeze(Tensor x, int64_t axis, Loc loc = Loc::here());

// Indexing.
Tensor gather(Tensor x, Tensor idx, int64_t axis, Loc loc = Loc::here());
Tensor take(Tensor x, Tensor idx, int64_t axis, Loc loc = Loc::here());
Tensor embedding(Tensor table, Tensor ids, Loc loc = Loc::here());
Tensor one_hot(Tensor ids, int64_t depth, DType dtype = DType::F32, Loc loc = Loc::here());
/// (values, indices) of the k largest (or smallest) along `axis`.
std::pair<Tensor, Tensor> topk(Tensor x, int64_t k, int64_t axis = -1, bool largest = true,
                               Loc loc = Loc::here());
Tensor cumsum(Tensor x, int64_t axis, bool reverse = false, bool exclusive = false,
              Loc loc = Loc::here());
/// The linear recurrence h_t = a_t * h_{t-1} + b_t along `axis` (h_{-1} = 0; reverse runs
/// from the end). `a` broadcasts to b: a per-channel decay has a size-1 axis. O(N) work.
Tensor linear_scan(Tensor a, Tensor b, int64_t axis, bool reverse = false,
                   Loc loc = Loc::here());

// Sources (made in a given trace).
Tensor full(Trace& t, Ints shape, double value, DType dtype = DType::F32, Loc loc = Loc::here());
/// A rank-0 tensor of x's dtype in x's trace.
Tensor scalar_like(Tensor x, double value, Loc loc = Loc::here());
Tensor zeros_like(Tensor x, Loc loc = Loc::here());
Tensor ones_like(Tensor x, Loc loc = Loc::here());
Tensor constant(Trace& t, Ints shape, const std::vector<double>& values, DType dtype = DType::F32,
                Loc loc = Loc::here());
Tensor iota(Trace& t, Ints shape, int64_t axis, DType dtype = DType::I64, Loc loc = Loc::here());
Tensor arange(Trace& t, double start, double limit, double step = 1.0, DType dtype = DType::I64,
              Loc loc = Loc::here());
Tensor random_uniform(Trace& t, Ints shape, int64_t seed, double low = 0.0, double high = 1.0,
                      DType dtype = DType::F32, Loc loc = Loc::here());
Tensor random_normal(Trace& t, Ints shape, int64_t seed, double mean = 0.0, double std = 1.0,
                     DType dtype = DType::F32, Loc loc = Loc::here());

// Signal processing and convolution.
Tensor rfft(Tensor x, int64_t axis = -1, Loc loc = Loc::here());
Tensor irfft(Tensor x, int64_t n, int64_t axis = -1, Loc loc = Loc::here());
struct Conv1dOptions {
  int64_t stride = 1;
  int64_t padding_left = 0;
  int64_t padding_right = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
};
Tensor conv1d(Tensor x, Tensor w, Conv1dOptions o = {}, Loc loc = Loc::here());

// Normalisation (composite ops over the last axis).
Tensor layer_norm(Tensor x, Tensor gamma, Tensor beta, double eps = 1e-5, Loc loc = Loc::here());
Tensor rms_norm(Tensor x, Tensor gamma, double eps = 1e-6, Loc loc = Loc::here());

} // namespace tevo
