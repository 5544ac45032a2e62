// kernels.cpp: checks and dispatch of runtime-op steps (see kernels.h for the layouts).
//
// check() is the only gate: a step from a hand-built or deserialised plan reaches an op
// function only when its attribute counts, dtypes, dims and axes fit, so the op functions
// can index freely.
#include "runtime/kernels/kernels.h"

#include <string>
#include <vector>

#include <fmt/format.h>

#include "runtime/json.h"
#include "runtime/kernels/attention.h"
#include "runtime/kernels/depthwise_conv1d.h"
#include "runtime/kernels/fft_conv.h"
#include "runtime/kernels/linear_scan.h"
#include "runtime/kernels/ops.h"

namespace tevo::rt::kernels {

[[noreturn]] void bad(const RuntimeOpStep& s, const std::string& msg) {
  throw Error(fmt::format("runtime op '{}': {}", s.op, msg));
}

std::string type_str(const StridedDesc& d) {
  return fmt::format("{}[{}]", ir::dtype_name(d.dtype), fmt::join(d.dims, ","));
}

namespace {

/// Longest transformed / sorted axis a runtime kernel accepts (keeps workspaces sane).
constexpr int64_t kMaxAxis = int64_t{1} << 36;

bool numeric(DType t) {
  return t == DType::F32 || t == DType::F64 || t == DType::I32 || t == DType::I64;
}

void counts(const RuntimeOpStep& s, size_t ops, size_t res, size_t ia, size_t fa) {
  if (s.operands.size() != ops || s.results.size() != res || s.iattrs.size() != ia ||
      s.fattrs.size() != fa)
    bad(s, fmt::format("expected {} operands, {} results, {} iattrs, {} fattrs; got {}, {}, {}, {}",
                       ops, res, ia, fa, s.operands.size(), s.results.size(), s.iattrs.size(),
                       s.fattrs.size()));
}

/// The step's axis attribute (iattrs[i]) normalised against operand 0's rank.
int64_t axis_of(const RuntimeOpStep& s, size_t i, const StridedDesc& x) {
  int64_t r = static_cast<int64_t>(x.dims.size()), a = s.iattrs[i];
  if (a < -r || a >= r)
    bad(s, fmt::format("axis {} out of range for {}", a, type_str(x)));
  return a < 0 ? a + r : a;
}

void same(const RuntimeOpStep& s, const StridedDesc& got, DType t, const std::vector<int64_t>& dims,
          const char* what) {
  if (got.dtype != t || got.dims != dims)
    bad(s, fmt::format("{} is {}, expected {}[{}]", what, type_str(got), ir::dtype_name(t),
                       fmt::join(dims, ",")));
}

void flag(const RuntimeOpStep& s, size_t i) {
  if (s.iattrs[i] != 0 && s.iattrs[i] != 1)
    bad(s, fmt::format("iattr {} must be 0 or 1, got {}", i, s.iattrs[i]));
}

/// The normalised axis of a checked step (check() has run).
int64_t step_axis(const RuntimeOpStep& s) {
  const StridedDesc& x = s.op == "irfft" ? s.results[0] : s.operands[0];
  size_t i = s.op == "topk" ? 1 : 0;
  int64_t a = s.iattrs[i];
  return a < 0 ? a + static_cast<int64_t>(x.dims.size()) : a;
}

} // namespace

void check(const RuntimeOpStep& s) {
  const std::string& op = s.op;
  if (op == "cumsum") {
    counts(s, 1, 1, 3, 0);
    const StridedDesc& x = s.operands[0];
    if (!numeric(x.dtype))
      bad(s, "operand must be f32, f64, i32 or i64, got " + type_str(x));
    axis_of(s, 0, x);
    flag(s, 1);
    flag(s, 2);
    same(s, s.results[0], x.dtype, x.dims, "result");
  } else if (op == "topk") {
    counts(s, 1, 2, 3, 0);
    const StridedDesc& x = s.operands[0];
    if (!numeric(x.dtype))
      bad(s, "operand must be f32, f64, i32 or i64, got " + type_str(x));
    int64_t axis = axis_of(s, 1, x), k = s.iattrs[0], n = x.dims[static_cast<size_t>(axis)];
    if (k < 0 || k > n)
      bad(s, fmt::format("k {} out of range [0, {}]", k, n));
    if (n > kMaxAxis)
      bad(s, fmt::format("axis of length {} is too long", n));
    flag(s, 2);
    std::vector<int64_t> dims = x.dims;
    dims[static_cast<size_t>(axis)] = k;
    same(s, s.results[0], x.dtype, dims, "values");
    same(s, s.results[1], DType::I64, dims, "indices");
  } else if (op == "argmax") {
    counts(s, 1, 1, 1, 0);
    const StridedDesc& x = s.operands[0];
    if (!numeric(x.dtype))
      bad(s, "operand must be f32, f64, i32 or i64, got " + type_str(x));
    int64_t axis = axis_of(s, 0, x);
    if (x.dims[static_cast<size_t>(axis)] == 0)
      bad(s, "cannot take argmax over an empty axis");
    std::vector<int64_t> keep = x.dims, drop = x.dims;
    keep[static_cast<size_t>(axis)] = 1;
    drop.erase(drop.begin() + axis);
    if (s.results[0].dims != keep)
      same(s, s.results[0], DType::I64, drop, "result");
    same(s, s.results[0], DType::I64, s.results[0].dims, "result");
  } else if (op == "scatter_add") {
    counts(s, 3, 1, 1, 0);
    const StridedDesc &base = s.operands[0], &idx = s.operands[1], &upd = s.operands[2];
    if (!numeric(base.dtype))
      bad(s, "base must be f32, f64, i32 or i64, got " + type_str(base));
    if (idx.dtype != DType::I32 && idx.dtype != DType::I64)
      bad(s, "indices must be i32 or i64, got " + type_str(idx));
    int64_t axis = axis_of(s, 0, base);
    same(s, upd, base.dtype, idx.dims, "updates");
    bool ok = idx.dims.size() == base.dims.size();
    for (size_t i = 0; ok && i < base.dims.size(); ++i)
      ok = static_cast<int64_t>(i) == axis || idx.dims[i] == base.dims[i];
    if (!ok)
      bad(s, fmt::format("indices {} must match base {} except on axis {}", type_str(idx),
                         type_str(base), axis));
    same(s, s.results[0], base.dtype, base.dims, "result");
  } else if (op == "rfft" || op == "dft_cs") {
    bool cs = op == "dft_cs";
    counts(s, 1, cs ? 2 : 1, 1, 0);
    const StridedDesc& x = s.operands[0];
    if (x.dtype != DType::F32 && x.dtype != DType::F64)
      bad(s, "operand must be f32 or f64, got " + type_str(x));
    int64_t axis = axis_of(s, 0, x), n = x.dims[static_cast<size_t>(axis)];
    if (n < 1 || n > kMaxAxis)
      bad(s, fmt::format("transform length {} out of range [1, 2^36]", n));
    if (cs) {
      same(s, s.results[0], x.dtype, x.dims, "cosine part");
      same(s, s.results[1], x.dtype, x.dims, "sine part");
    } else {
      std::vector<int64_t> dims = x.dims;
      dims[static_cast<size_t>(axis)] = n / 2 + 1;
      same(s, s.results[0], x.dtype == DType::F32 ? DType::C64 : DType::C128, dims, "result");
    }
  } else if (op == "irfft") {
    counts(s, 1, 1, 2, 0);
    const StridedDesc& x = s.operands[0];
    if (x.dtype != DType::C64 && x.dtype != DType::C128)
      bad(s, "operand must be c64 or c128, got " + type_str(x));
    int64_t axis = axis_of(s, 0, x), n = s.iattrs[1];
    if (n < 1 || n > kMaxAxis)
      bad(s, fmt::format("transform length {} out of range [1, 2^36]", n));
    if (x.dims[static_cast<size_t>(axis)] != n / 2 + 1)
      bad(s, fmt::format("n = {} needs {} bins on axis {} of {}", n, n / 2 + 1, axis, type_str(x)));
    std::vector<int64_t> dims = x.dims;
    dims[static_cast<size_t>(axis)] = n;
    same(s, s.results[0], x.dtype == DType::C64 ? DType::F32 : DType::F64, dims, "result");
  } else if (op == "attention" || op == "attention_grad") {
    check_attention(s, op == "attention_grad");
  } else if (op == "fft_conv" || op == "fft_conv_grad") {
    check_fft_conv(s, op == "fft_conv_grad");
  } else if (op == "depthwise_conv1d") {
    check_depthwise_conv1d(s);
  } else if (op == "linear_scan") {
    check_linear_scan(s);
  } else if (op == "random_uniform" || op == "random_normal") {
    counts(s, 0, 1, 1, 2);
    DType t = s.results[0].dtype;
    if (!is_float(t))
      bad(s, "result must be a float type, got " + type_str(s.results[0]));
  } else {
    throw Error(fmt::format("unknown runtime op '{}'", op));
  }
}

int64_t workspace_bytes(const RuntimeOpStep& s, int threads) {
  if (s.op == "topk")
    return topk_workspace(s.operands[0].dims[static_cast<size_t>(step_axis(s))], threads);
  if (s.op == "rfft" || s.op == "dft_cs")
    return fft_workspace(s.operands[0].dims[static_cast<size_t>(step_axis(s))], threads);
  if (s.op == "irfft")
    return fft_workspace(s.iattrs[1], threads);
  if (s.op == "attention" || s.op == "attention_grad")
    return attention_workspace(s, threads);
  if (s.op == "fft_conv" || s.op == "fft_conv_grad")
    return fft_conv_workspace(s, threads);
  if (s.op == "depthwise_conv1d")
    return depthwise_conv1d_workspace(s, threads);
  return 0;
}

void run(const RuntimeOpStep& s,
         std::span<const void* const> operands,
         std::span<void* const> results,
         void* workspace,
         int threads) {
  OpArgs a{s, operands, results, static_cast<uint8_t*>(workspace), threads};
  const std::string& op = s.op;
  if (op == "cumsum")
    cumsum(a, step_axis(s));
  else if (op == "topk")
    topk(a, step_axis(s));
  else if (op == "argmax")
    argmax(a, step_axis(s));
  else if (op == "scatter_add")
    scatter_add(a, step_axis(s));
  else if (op == "rfft")
    rfft(a, step_axis(s));
  else if (op == "irfft")
    irfft(a, step_axis(s));
  else if (op == "dft_cs")
    dft_cs(a, step_axis(s));
  else if (op == "random_uniform" || op == "random_normal")
    random(a, op == "random_normal");
  else if (op == "attention")
    attention_forward(a);
  else if (op == "attention_grad")
    attention_backward(a);
  else if (op == "fft_conv")
    fft_conv_forward(a);
  else if (op == "fft_conv_grad")
    fft_conv_kernel_grad(a);
  else if (op == "depthwise_conv1d")
    depthwise_conv1d(a);
  else if (op == "linear_scan")
    linear_scan(a);
  else
    throw Error(fmt::format("unknown runtime op '{}'", op));
}

} // namespace tevo::rt::kernels
