// plan_io.cpp: the byte form of an rt::Plan (see plan_io.h for the format).
//
// Writer and reader are written field by field in the same order, through one template
// per kind of field, so the two cannot drift apart unnoticed: the round-trip test
// compares plans structurally after serialise -> parse.
#include <bit>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "runtime/json.h"
#include "runtime/plan_io.h"

namespace tevo::rt {

namespace {

constexpr char kMagic[8] = {'T', 'E', 'V', 'O', 'P', 'L', 'A', 'N'};

class Writer {
public:
  std::vector<uint8_t> out;

  void raw(uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i)
      out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void u8(uint8_t v) {
    raw(v, 1);
  }
  void u32(uint32_t v) {
    raw(v, 4);
  }
  void i32(int32_t v) {
    raw(static_cast<uint32_t>(v), 4);
  }
  void i64(int64_t v) {
    raw(static_cast<uint64_t>(v), 8);
  }
  void f32(float v) {
    raw(std::bit_cast<uint32_t>(v), 4);
  }
  void f64(double v) {
    raw(std::bit_cast<uint64_t>(v), 8);
  }
  void count(size_t n) {
    raw(n, 8);
  }
  void str(const std::string& s) {
    count(s.size());
    out.insert(out.end(), s.begin(), s.end());
  }
  void bytes(const std::vector<uint8_t>& b) {
    count(b.size());
    out.insert(out.end(), b.begin(), b.end());
  }
  template <class T, class F> void vec(const std::vector<T>& v, F each) {
    count(v.size());
    for (const T& x : v)
      each(x);
  }
  void ints(const std::vector<int64_t>& v) {
    vec(v, [&](int64_t x) { i64(x); });
  }
};

class Reader {
public:
  explicit Reader(std::span<const uint8_t> b) : b_(b) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(fmt::format("plan bytes: {} at byte {}", what, pos_));
  }
  size_t left() const {
    return b_.size() - pos_;
  }
  uint64_t raw(int bytes) {
    if (left() < static_cast<size_t>(bytes))
      fail("unexpected end");
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
      v |= static_cast<uint64_t>(b_[pos_ + static_cast<size_t>(i)]) << (8 * i);
    pos_ += static_cast<size_t>(bytes);
    return v;
  }
  uint8_t u8() {
    return static_cast<uint8_t>(raw(1));
  }
  uint32_t u32() {
    return static_cast<uint32_t>(raw(4));
  }
  int32_t i32() {
    return static_cast<int32_t>(static_cast<uint32_t>(raw(4)));
  }
  int64_t i64() {
    return static_cast<int64_t>(raw(8));
  }
  float f32() {
    return std::bit_cast<float>(static_cast<uint32_t>(raw(4)));
  }
  double f64() {
    return std::bit_cast<double>(raw(8));
  }
  /// A count of elements of at least `min_size` bytes each, checked against what is left.
  size_t count(size_t min_size) {
    uint64_t n = raw(8);
    if (n > left() / min_size)
      fail(fmt::format("count {} exceeds the remaining {} bytes", n, left()));
    return static_cast<size_t>(n);
  }
  std::string str() {
    size_t n = count(1);
    std::string s(reinterpret_cast<const char*>(b_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  std::vector<uint8_t> bytes() {
    size_t n = count(1);
    std::vector<uint8_t> v(b_.begin() + static_cast<std::ptrdiff_t>(pos_),
                           b_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
    pos_ += n;
    return v;
  }
  template <class T, class F> std::vector<T> vec(size_t min_size, F each) {
    size_t n = count(min_size);
    std::vector<T> v;
    v.reserve(n);
    for (size_t i = 0; i < n; ++i)
      v.push_back(each());
    return v;
  }
  std::vector<int64_t> ints() {
    return vec<int64_t>(8, [&] { return i64(); });
  }
  template <class E> E enumeration(int n, const char* what) {
    uint8_t v = u8();
    if (v >= n)
      fail(fmt::format("invalid {} {}", what, v));
    return static_cast<E>(v);
  }
  DType dtype() {
    return enumeration<DType>(ir::kNumDTypes, "dtype");
  }
  void magic() {
    for (char c : kMagic)
      if (raw(1) != static_cast<uint8_t>(c))
        fail("not a tevo plan (bad magic)");
    uint32_t v = u32();
    if (v != kPlanFormatVersion)
      fail(fmt::format("format version {} (this runtime reads version {})", v,
                       kPlanFormatVersion));
  }
  void end() const {
    if (left() != 0)
      fail(fmt::format("{} trailing bytes", left()));
  }

private:
  std::span<const uint8_t> b_;
  size_t pos_ = 0;
};

// ---- the fields, once for writing and once for reading, in the same order ----

void put(Writer& w, const TensorSpec& t) {
  w.str(t.name);
  w.u8(static_cast<uint8_t>(t.dtype));
  w.ints(t.shape);
}
TensorSpec get_spec(Reader& r) {
  TensorSpec t;
  t.name = r.str();
  t.dtype = r.dtype();
  t.shape = r.ints();
  return t;
}

void put(Writer& w, const ArgRef& a) {
  w.i32(a.buffer);
  w.i64(a.offset);
}
ArgRef get_ref(Reader& r) {
  ArgRef a;
  a.buffer = r.i32();
  a.offset = r.i64();
  return a;
}

void put(Writer& w, const StridedDesc& d) {
  put(w, d.at);
  w.u8(static_cast<uint8_t>(d.dtype));
  w.ints(d.dims);
  w.ints(d.strides);
}
StridedDesc get_desc(Reader& r) {
  StridedDesc d;
  d.at = get_ref(r);
  d.dtype = r.dtype();
  d.dims = r.ints();
  d.strides = r.ints();
  return d;
}
constexpr size_t kDescMin = 4 + 8 + 1 + 8 + 8;

void put(Writer& w, const Buffer& b) {
  w.u8(static_cast<uint8_t>(b.storage));
  w.i32(b.index);
  w.i64(b.offset);
  w.i64(b.bytes);
}
Buffer get_buffer(Reader& r) {
  Buffer b;
  b.storage = r.enumeration<Storage>(4, "storage");
  b.index = r.i32();
  b.offset = r.i64();
  b.bytes = r.i64();
  return b;
}

void put(Writer& w, const KernelStep& k) {
  w.i32(k.kernel);
  w.vec(k.args, [&](const ArgRef& a) { put(w, a); });
  w.i64(k.extent);
  w.i64(k.grain);
}
KernelStep get_kernel(Reader& r) {
  KernelStep k;
  k.kernel = r.i32();
  k.args = r.vec<ArgRef>(12, [&] { return get_ref(r); });
  k.extent = r.i64();
  k.grain = r.i64();
  return k;
}

void put(Writer& w, const PostOp& p) {
  w.u8(static_cast<uint8_t>(p.kind));
  w.i32(p.alg);
  w.f32(p.alpha);
  w.f32(p.beta);
  w.f32(p.scale);
  put(w, p.src1);
}
PostOp get_post_op(Reader& r) {
  PostOp p;
  p.kind = r.enumeration<PostOp::Kind>(3, "post-op kind");
  p.alg = r.i32();
  p.alpha = r.f32();
  p.beta = r.f32();
  p.scale = r.f32();
  p.src1 = get_desc(r);
  return p;
}

void put(Writer& w, const MatmulStep& m) {
  put(w, m.a);
  put(w, m.b);
  put(w, m.c);
  w.vec(m.post_ops, [&](const PostOp& p) { put(w, p); });
}
MatmulStep get_matmul(Reader& r) {
  MatmulStep m;
  m.a = get_desc(r);
  m.b = get_desc(r);
  m.c = get_desc(r);
  m.post_ops = r.vec<PostOp>(1 + 16 + kDescMin, [&] { return get_post_op(r); });
  return m;
}

void put(Writer& w, const Conv1dStep& c) {
  put(w, c.x);
  put(w, c.w);
  put(w, c.y);
  for (int64_t v : {c.stride, c.padding_l, c.padding_r, c.dilation, c.groups})
    w.i64(v);
}
Conv1dStep get_conv(Reader& r) {
  Conv1dStep c;
  c.x = get_desc(r);
  c.w = get_desc(r);
  c.y = get_desc(r);
  c.stride = r.i64();
  c.padding_l = r.i64();
  c.padding_r = r.i64();
  c.dilation = r.i64();
  c.groups = r.i64();
  return c;
}

void put(Writer& w, const RuntimeOpStep& s) {
  w.str(s.op);
  w.vec(s.operands, [&](const StridedDesc& d) { put(w, d); });
  w.vec(s.results, [&](const StridedDesc& d) { put(w, d); });
  w.ints(s.iattrs);
  w.vec(s.fattrs, [&](double v) { w.f64(v); });
}
RuntimeOpStep get_runtime_op(Reader& r) {
  RuntimeOpStep s;
  s.op = r.str();
  s.operands = r.vec<StridedDesc>(kDescMin, [&] { return get_desc(r); });
  s.results = r.vec<StridedDesc>(kDescMin, [&] { return get_desc(r); });
  s.iattrs = r.ints();
  s.fattrs = r.vec<double>(8, [&] { return r.f64(); });
  return s;
}

void put(Writer& w, const CopyStep& c) {
  put(w, c.from);
  put(w, c.to);
  w.i64(c.bytes);
}
CopyStep get_copy(Reader& r) {
  CopyStep c;
  c.from = get_ref(r);
  c.to = get_ref(r);
  c.bytes = r.i64();
  return c;
}

void put(Writer& w, const Step& s) {
  w.u8(static_cast<uint8_t>(s.kind));
  w.i32(s.index);
  w.str(s.name);
  w.str(s.loc);
}
Step get_step(Reader& r) {
  Step s;
  s.kind = r.enumeration<Step::Kind>(5, "step kind");
  s.index = r.i32();
  s.name = r.str();
  s.loc = r.str();
  return s;
}

} // namespace

std::vector<uint8_t> serialize_plan(const Plan& p) {
  Writer w;
  for (char c : kMagic)
    w.u8(static_cast<uint8_t>(c));
  w.u32(kPlanFormatVersion);
  w.str(p.name);
  w.vec(p.inputs, [&](const TensorSpec& t) { put(w, t); });
  w.vec(p.outputs, [&](const TensorSpec& t) { put(w, t); });
  w.vec(p.constants, [&](const std::vector<uint8_t>& c) { w.bytes(c); });
  w.vec(p.buffers, [&](const Buffer& b) { put(w, b); });
  w.i64(p.arena_bytes);
  w.vec(p.kernel_names, [&](const std::string& s) { w.str(s); });
  w.vec(p.kernel_errors, [&](const std::vector<std::string>& e) {
    w.vec(e, [&](const std::string& s) { w.str(s); });
  });
  w.vec(p.kernels, [&](const KernelStep& k) { put(w, k); });
  w.vec(p.matmuls, [&](const MatmulStep& m) { put(w, m); });
  w.vec(p.convs, [&](const Conv1dStep& c) { put(w, c); });
  w.vec(p.runtime_ops, [&](const RuntimeOpStep& s) { put(w, s); });
  w.vec(p.copies, [&](const CopyStep& c) { put(w, c); });
  w.vec(p.steps, [&](const Step& s) { put(w, s); });
  return std::move(w.out);
}

Plan parse_plan(std::span<const uint8_t> bytes) {
  Reader r(bytes);
  r.magic();
  Plan p;
  p.name = r.str();
  p.inputs = r.vec<TensorSpec>(17, [&] { return get_spec(r); });
  p.outputs = r.vec<TensorSpec>(17, [&] { return get_spec(r); });
  p.constants = r.vec<std::vector<uint8_t>>(8, [&] { return r.bytes(); });
  p.buffers = r.vec<Buffer>(21, [&] { return get_buffer(r); });
  p.arena_bytes = r.i64();
  p.kernel_names = r.vec<std::string>(8, [&] { return r.str(); });
  p.kernel_errors = r.vec<std::vector<std::string>>(8, [&] {
    return r.vec<std::string>(8, [&] { return r.str(); });
  });
  p.kernels = r.vec<KernelStep>(28, [&] { return get_kernel(r); });
  p.matmuls = r.vec<MatmulStep>(3 * kDescMin + 8, [&] { return get_matmul(r); });
  p.convs = r.vec<Conv1dStep>(3 * kDescMin + 40, [&] { return get_conv(r); });
  p.runtime_ops = r.vec<RuntimeOpStep>(40, [&] { return get_runtime_op(r); });
  p.copies = r.vec<CopyStep>(32, [&] { return get_copy(r); });
  p.steps = r.vec<Step>(21, [&] { return get_step(r); });
  r.end();
  validate_plan(p);
  return p;
}

} // namespace tevo::rt
