// plan.cpp: TensorSpec helpers and validate_plan, the structural check every Plan passes
// before an Executor runs it (plans built in memory and plans read from bytes alike).
//
// The checks are what memory safety of the executor needs: every index in range, every
// buffer inside its storage, every strided view inside its buffer, library shapes that
// agree. They never trust a size before checking it for overflow.
#include <algorithm>
#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "runtime/json.h"
#include "runtime/plan.h"

namespace tevo::rt {

namespace {

/// Largest byte size a plan may describe; far above any real tensor, far below overflow.
constexpr int64_t kMaxBytes = int64_t{1} << 56;
/// Largest rank of a tensor or view in a plan.
constexpr size_t kMaxRank = 16;

[[noreturn]] void fail(const std::string& msg) {
  throw Error("plan: " + msg);
}

bool valid_dtype(DType t) {
  return static_cast<int>(t) < ir::kNumDTypes;
}

/// Product of dims, or fail() when a dim is negative or the product leaves kMaxBytes.
int64_t checked_numel(const std::vector<int64_t>& dims, const std::string& what) {
  if (dims.size() > kMaxRank)
    fail(fmt::format("{}: rank {} above {}", what, dims.size(), kMaxRank));
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0)
      fail(fmt::format("{}: negative dim {}", what, d));
    if (d != 0 && n > kMaxBytes / d)
      fail(fmt::format("{}: too many elements", what));
    n *= d;
  }
  return n;
}

std::string dims_str(const std::vector<int64_t>& d) {
  return fmt::format("[{}]", fmt::join(d, ","));
}

struct Checker {
  const Plan& p;

  void spec(const TensorSpec& t, const std::string& what) {
    if (!valid_dtype(t.dtype))
      fail(fmt::format("{} '{}': invalid dtype {}", what, t.name, static_cast<int>(t.dtype)));
    int64_t n = checked_numel(t.shape, what + " '" + t.name + "'");
    if (n > kMaxBytes / 16)
      fail(fmt::format("{} '{}': too large", what, t.name));
  }

  void buffer(const Buffer& b, size_t i) {
    std::string what = fmt::format("buffer {}", i);
    if (b.bytes < 0 || b.bytes > kMaxBytes)
      fail(fmt::format("{}: invalid size {}", what, b.bytes));
    auto bounded = [&](int64_t have, const char* where) {
      if (b.bytes > have)
        fail(fmt::format("{}: {} bytes exceed {} {} ({} bytes)", what, b.bytes, where, b.index,
                         have));
    };
    switch (b.storage) {
    case Storage::Input:
      if (b.index < 0 || static_cast<size_t>(b.index) >= p.inputs.size())
        fail(fmt::format("{}: input index {} out of range", what, b.index));
      bounded(p.inputs[static_cast<size_t>(b.index)].bytes(), "input");
      return;
    case Storage::Output:
      if (b.index < 0 || static_cast<size_t>(b.index) >= p.outputs.size())
        fail(fmt::format("{}: output index {} out of range", what, b.index));
      bounded(p.outputs[static_cast<size_t>(b.index)].bytes(), "output");
      return;
    case Storage::Constant:
      if (b.index < 0 || static_cast<size_t>(b.index) >= p.constants.size())
        fail(fmt::format("{}: constant index {} out of range", what, b.index));
      bounded(static_cast<int64_t>(p.constants[static_cast<size_t>(b.index)].size()),
              "constant");
      return;
    case Storage::Arena:
      if (b.offset < 0 || b.offset % 64 != 0)
        fail(fmt::format("{}: arena offset {} is not 64-byte aligned", what, b.offset));
      if (b.offset > p.arena_bytes || b.bytes > p.arena_bytes - b.offset)
        fail(fmt::format("{}: [{}, {}+{}) outside the arena ({} bytes)", what, b.offset, b.offset,
                         b.bytes, p.arena_bytes));
      return;
    }
    fail(fmt::format("{}: invalid storage {}", what, static_cast<int>(b.storage)));
  }

  const Buffer& ref(const ArgRef& r, const std::string& what) {
    if (r.buffer < 0 || static_cast<size_t>(r.buffer) >= p.buffers.size())
      fail(fmt::format("{}: buffer {} out of range", what, r.buffer));
    const Buffer& b = p.buffers[static_cast<size_t>(r.buffer)];
    if (r.offset < 0 || r.offset > b.bytes)
      fail(fmt::format("{}: offset {} outside buffer {} ({} bytes)", what, r.offset, r.buffer,
                       b.bytes));
    return b;
  }

  /// A view inside its buffer: the lowest and highest element it reaches fit.
  void desc(const StridedDesc& d, const std::string& what) {
    const Buffer& b = ref(d.at, what);
    if (!valid_dtype(d.dtype))
      fail(fmt::format("{}: invalid dtype {}", what, static_cast<int>(d.dtype)));
    if (d.dims.size() != d.strides.size())
      fail(fmt::format("{}: {} dims but {} strides", what, d.dims.size(), d.strides.size()));
    if (checked_numel(d.dims, what) == 0)
      return;
    int64_t lo = 0, hi = 0; // element offsets reached, relative to d.at
    for (size_t i = 0; i < d.dims.size(); ++i) {
      int64_t s = d.strides[i], reach = 0;
      if (s < -kMaxBytes || s > kMaxBytes || __builtin_mul_overflow(d.dims[i] - 1, s, &reach) ||
          reach < -kMaxBytes || reach > kMaxBytes)
        fail(fmt::format("{}: stride {} out of range", what, s));
      (reach < 0 ? lo : hi) += reach;
      if (lo < -kMaxBytes || hi > kMaxBytes)
        fail(fmt::format("{}: view too large", what));
    }
    int64_t es = ir::dtype_size(d.dtype);
    int64_t first = d.at.offset + lo * es, end = d.at.offset + (hi + 1) * es;
    if (first < 0 || end > b.bytes)
      fail(fmt::format("{}: {}{} view reaches bytes [{}, {}) of buffer {} ({} bytes)", what,
                       ir::dtype_name(d.dtype), dims_str(d.dims), first, end, d.at.buffer,
                       b.bytes));
  }

  void dense(const StridedDesc& d, const std::string& what) {
    int64_t s = 1;
    for (size_t i = d.dims.size(); i-- > 0;) {
      if (d.dims[i] != 1 && d.strides[i] != s)
        fail(fmt::format("{}: must be dense row-major, strides are {}", what, dims_str(d.strides)));
      s *= d.dims[i];
    }
  }

  void matmul(const MatmulStep& m, size_t i) {
    std::string w = fmt::format("matmul {}", i);
    desc(m.a, w + " a");
    desc(m.b, w + " b");
    desc(m.c, w + " c");
    size_t r = m.c.dims.size();
    if (r < 2 || m.a.dims.size() != r || m.b.dims.size() != r)
      fail(fmt::format("{}: ranks {}, {}, {} must agree and be >= 2", w, m.a.dims.size(),
                       m.b.dims.size(), r));
    if (m.a.dtype != m.b.dtype || m.a.dtype != m.c.dtype)
      fail(fmt::format("{}: dtypes {}, {}, {} differ", w, m.a.dtype, m.b.dtype, m.c.dtype));
    const auto &a = m.a.dims, &b = m.b.dims, &c = m.c.dims;
    if (a[r - 2] != c[r - 2] || b[r - 1] != c[r - 1] || a[r - 1] != b[r - 2])
      fail(fmt::format("{}: {} x {} -> {} do not agree", w, dims_str(a), dims_str(b), dims_str(c)));
    for (size_t k = 0; k + 2 < r; ++k)
      if ((a[k] != c[k] && a[k] != 1) || (b[k] != c[k] && b[k] != 1))
        fail(fmt::format("{}: batch dims of {} x {} do not broadcast to {}", w, dims_str(a),
                         dims_str(b), dims_str(c)));
    for (size_t k = 0; k < m.post_ops.size(); ++k) {
      const PostOp& po = m.post_ops[k];
      std::string pw = fmt::format("{} post-op {}", w, k);
      switch (po.kind) {
      case PostOp::Kind::Eltwise:
        continue;
      case PostOp::Kind::Binary:
        desc(po.src1, pw);
        if (po.src1.dims.size() != r)
          fail(fmt::format("{}: rank {} differs from the result's {}", pw, po.src1.dims.size(), r));
        for (size_t d = 0; d < r; ++d)
          if (po.src1.dims[d] != c[d] && po.src1.dims[d] != 1)
            fail(fmt::format("{}: {} does not broadcast to {}", pw, dims_str(po.src1.dims),
                             dims_str(c)));
        continue;
      case PostOp::Kind::Sum:
        if (po.src1.dims.empty() && po.src1.strides.empty())
          continue;
        desc(po.src1, pw);
        if (po.src1.dims != c || po.src1.dtype != m.c.dtype)
          fail(fmt::format("{}: addend {}{} differs from the result {}{}", pw, po.src1.dtype,
                           dims_str(po.src1.dims), m.c.dtype, dims_str(c)));
        continue;
      }
      fail(fmt::format("{}: invalid kind {}", pw, static_cast<int>(po.kind)));
    }
  }

  void conv(const Conv1dStep& c, size_t i) {
    std::string w = fmt::format("conv1d {}", i);
    desc(c.x, w + " x");
    desc(c.w, w + " w");
    desc(c.y, w + " y");
    if (c.x.dims.size() != 3 || c.w.dims.size() != 3 || c.y.dims.size() != 3)
      fail(w + ": x, w and y must have rank 3");
    if (c.x.dtype != c.w.dtype || c.x.dtype != c.y.dtype)
      fail(fmt::format("{}: dtypes {}, {}, {} differ", w, c.x.dtype, c.w.dtype, c.y.dtype));
    constexpr int64_t kMaxAttr = int64_t{1} << 40;
    if (c.stride < 1 || c.dilation < 1 || c.groups < 1 || c.padding_l < 0 || c.padding_r < 0 ||
        c.stride > kMaxAttr || c.dilation > kMaxAttr || c.padding_l > kMaxAttr ||
        c.padding_r > kMaxAttr || c.groups > kMaxAttr)
      fail(w + ": stride, dilation and groups must be >= 1, paddings >= 0 (and < 2^40)");
    int64_t bsz = c.x.dims[0], cin = c.x.dims[1], len = c.x.dims[2];
    int64_t cout = c.w.dims[0], k = c.w.dims[2];
    bool ok = cin % c.groups == 0 && cout % c.groups == 0 && c.w.dims[1] * c.groups == cin &&
              c.y.dims[0] == bsz && c.y.dims[1] == cout && k >= 1;
    if (ok) {
      int64_t span = 0; // dilation * (k - 1) + 1; the paddings are < 2^40, len < 2^56
      ok = !__builtin_mul_overflow(c.dilation, k - 1, &span) && span < kMaxBytes;
      int64_t padded = len + c.padding_l + c.padding_r;
      ok = ok && padded >= span + 1 && c.y.dims[2] == (padded - span - 1) / c.stride + 1;
    }
    if (!ok)
      fail(fmt::format("{}: x {} w {} y {} (stride {}, padding {}+{}, dilation {}, groups {}) "
                       "do not agree",
                       w, dims_str(c.x.dims), dims_str(c.w.dims), dims_str(c.y.dims), c.stride,
                       c.padding_l, c.padding_r, c.dilation, c.groups));
  }

  void copy(const CopyStep& c, size_t i) {
    std::string w = fmt::format("copy {}", i);
    const Buffer& from = ref(c.from, w + " source");
    const Buffer& to = ref(c.to, w + " destination");
    if (c.bytes < 0 || c.bytes > from.bytes - c.from.offset || c.bytes > to.bytes - c.to.offset)
      fail(fmt::format("{}: {} bytes do not fit its buffers", w, c.bytes));
  }

  void run() {
    if (p.arena_bytes < 0 || p.arena_bytes > kMaxBytes)
      fail(fmt::format("invalid arena size {}", p.arena_bytes));
    for (const auto& t : p.inputs)
      spec(t, "input");
    for (const auto& t : p.outputs)
      spec(t, "output");
    for (size_t i = 0; i < p.buffers.size(); ++i)
      buffer(p.buffers[i], i);
    if (p.kernel_errors.size() > p.kernel_names.size())
      fail(fmt::format("{} kernel error tables for {} kernels", p.kernel_errors.size(),
                       p.kernel_names.size()));
    for (size_t i = 0; i < p.kernels.size(); ++i) {
      const KernelStep& k = p.kernels[i];
      std::string w = fmt::format("kernel step {}", i);
      if (k.kernel < 0 || static_cast<size_t>(k.kernel) >= p.kernel_names.size())
        fail(fmt::format("{}: kernel {} out of range", w, k.kernel));
      if (k.extent < 0 || k.grain < 1)
        fail(fmt::format("{}: extent {} / grain {} invalid", w, k.extent, k.grain));
      for (const ArgRef& a : k.args)
        ref(a, w);
    }
    for (size_t i = 0; i < p.matmuls.size(); ++i)
      matmul(p.matmuls[i], i);
    for (size_t i = 0; i < p.convs.size(); ++i)
      conv(p.convs[i], i);
    for (size_t i = 0; i < p.runtime_ops.size(); ++i) {
      const RuntimeOpStep& r = p.runtime_ops[i];
      std::string w = fmt::format("runtime op {} ({})", i, r.op);
      for (const auto& d : r.operands)
        desc(d, w + " operand");
      for (const auto& d : r.results) {
        desc(d, w + " result");
        dense(d, w + " result");
      }
    }
    for (size_t i = 0; i < p.copies.size(); ++i)
      copy(p.copies[i], i);
    for (size_t i = 0; i < p.steps.size(); ++i) {
      const Step& s = p.steps[i];
      size_t n = 0;
      switch (s.kind) {
      case Step::Kind::Kernel: n = p.kernels.size(); break;
      case Step::Kind::Matmul: n = p.matmuls.size(); break;
      case Step::Kind::Conv1d: n = p.convs.size(); break;
      case Step::Kind::RuntimeOp: n = p.runtime_ops.size(); break;
      case Step::Kind::Copy: n = p.copies.size(); break;
      default: fail(fmt::format("step {}: invalid kind {}", i, static_cast<int>(s.kind)));
      }
      if (s.index < 0 || static_cast<size_t>(s.index) >= n)
        fail(fmt::format("step {} ('{}'): index {} out of range", i, s.name, s.index));
    }
  }
};

} // namespace

int64_t TensorSpec::numel() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

int64_t TensorSpec::bytes() const {
  return numel() * ir::dtype_size(dtype);
}

std::string TensorSpec::type_str() const {
  return fmt::format("{}{}", ir::dtype_name(dtype), dims_str(shape));
}

void validate_plan(const Plan& plan) {
  Checker{plan}.run();
}

} // namespace tevo::rt
