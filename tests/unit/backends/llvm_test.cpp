// llvm_test.cpp: the CPU code generator's LLVM layer: scalar intrinsics, casts, element
// loads/stores, the inline math functions, the O3 pipeline, the JIT and object files.
//
// Kernels are built by hand (IRBuilder + LlvmScalarBuilder: out[i] = f(in...[i]) over
// [begin, end)) from the same ScalarFn the interpreter evaluates, JIT-compiled, and
// compared with the interpreter (ir/interp) over many inputs including special values.
#include <doctest/doctest.h>


#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/llvm_internal.h"
#include "ir/attr.h"
#include "ir/interp/interpreter.h"
#include "runtime/json.h"

using namespace tevo;
using ir::DType;
using ir::ScalarOp;

// Test-only access to KernelModule's Impl (an explicit instantiation may name a private
// member): the tests add hand-written kernels where the emitter would add loop groups.
namespace llvm_test {
using ImplPtr = std::unique_ptr<cpu::KernelModule::Impl> cpu::KernelModule::*;
ImplPtr impl_member();
template <ImplPtr M> struct ImplAccess {
  friend ImplPtr impl_member() {
    return M;
  }
};
} // namespace llvm_test
template struct llvm_test::ImplAccess<&cpu::KernelModule::impl_>;
using llvm_test::impl_member;

namespace {

cpu::KernelModule::Impl& impl_of(cpu::KernelModule& km) {
  return *(km.*impl_member());
}

template <ScalarOp Op>
ir::SVal apply_op(ir::ScalarBuilder& b, std::span<const ir::SVal> a, const ir::AttrDict&) {
  return b.apply(Op, a);
}
template <DType To>
ir::SVal cast_op(ir::ScalarBuilder& b, std::span<const ir::SVal> a, const ir::AttrDict&) {
  return b.cast(a[0], To);
}
ir::SVal select_op(ir::ScalarBuilder& b, std::span<const ir::SVal> a, const ir::AttrDict&) {
  return b.select(a[0], a[1], a[2]);
}

/// Adds `int32_t sym(void* const* args, int64_t begin, int64_t end)` computing
/// args[n][i] = fn(args[0][i], ..., args[n-1][i]) for i in [begin, end).
void add_kernel(cpu::KernelModule& km, const std::string& sym, ir::ScalarFn fn,
                const std::vector<DType>& in, DType out) {
  auto& m = impl_of(km);
  llvm::LLVMContext& c = *m.ctx;
  llvm::IRBuilder<> b(c);
  auto* ptr = llvm::PointerType::get(c, 0);
  auto* i64 = b.getInt64Ty();
  auto* fty = llvm::FunctionType::get(b.getInt32Ty(), {ptr, i64, i64}, false);
  auto* f = llvm::Function::Create(fty, llvm::Function::ExternalLinkage, sym, *m.mod);
  auto* entry = llvm::BasicBlock::Create(c, "entry", f);
  auto* loop = llvm::BasicBlock::Create(c, "loop", f);
  auto* exit = llvm::BasicBlock::Create(c, "exit", f);
  b.SetInsertPoint(entry);
  std::vector<llvm::Value*> bases;
  for (size_t k = 0; k <= in.size(); ++k)
    bases.push_back(b.CreateLoad(ptr, b.CreateConstGEP1_64(ptr, f->getArg(0), k)));
  b.CreateCondBr(b.CreateICmpSLT(f->getArg(1), f->getArg(2)), loop, exit);
  b.SetInsertPoint(loop);
  auto* i = b.CreatePHI(i64, 2);
  i->addIncoming(f->getArg(1), entry);
  cpu::LlvmScalarBuilder sb(b, *m.mod);
  std::vector<ir::SVal> args;
  for (size_t k = 0; k < in.size(); ++k) {
    auto* p = b.CreateGEP(cpu::storage_type(c, in[k]), bases[k], i);
    args.push_back(sb.wrap(cpu::load_element(b, in[k], p), in[k]));
  }
  ir::AttrDict attrs;
  ir::SVal r = fn(sb, args, attrs);
  if (r.type != out)
    r = sb.cast(r, out);
  cpu::store_element(b, out, sb.get(r),
                     b.CreateGEP(cpu::storage_type(c, out), bases[in.size()], i));
  auto* next = b.CreateAdd(i, b.getInt64(1));
  i->addIncoming(next, loop);
  b.CreateCondBr(b.CreateICmpSLT(next, f->getArg(2)), loop, exit);
  b.SetInsertPoint(exit);
  b.CreateRet(b.getInt32(0));
}

ir::interp::Array make_array(DType t, const std::vector<double>& v) {
  ir::interp::Array a(ir::TensorType{t, ir::Shape{static_cast<int64_t>(v.size())}});
  a.data = v;
  a.round_to_dtype();
  return a;
}

/// Runs kernel `k` (in two halves, to exercise begin/end) and returns its result.
std::vector<double> run_kernel(rt::KernelFn k, const std::vector<ir::interp::Array>& ins,
                               DType out) {
  int64_t n = ins[0].numel();
  std::vector<std::vector<uint8_t>> bytes;
  for (const auto& a : ins)
    bytes.push_back(a.to_bytes());
  ir::TensorType rt_type{out, ir::Shape{n}};
  std::vector<uint8_t> res(static_cast<size_t>(n * ir::dtype_size(out)));
  std::vector<void*> args;
  for (auto& b : bytes)
    args.push_back(b.data());
  args.push_back(res.data());
  REQUIRE(k(args.data(), 0, n / 2) == 0);
  REQUIRE(k(args.data(), n / 2, n) == 0);
  return ir::interp::Array::from_bytes(rt_type, res.data()).data;
}

/// The interpreter's result of `fn`, rounded to `out`.
std::vector<double> oracle(ir::ScalarFn fn, const std::vector<ir::interp::Array>& ins,
                           DType out) {
  std::vector<const ir::interp::Array*> ops;
  for (const auto& a : ins)
    ops.push_back(&a);
  ir::AttrDict attrs;
  std::vector<ir::TensorType> rts{ir::TensorType{out, ins[0].shape()}};
  ir::EvalCtx ctx{ops, attrs, rts};
  auto r = ir::interp::eval_elementwise(ctx, fn);
  r[0].round_to_dtype();
  return r[0].data;
}

/// Distance in units in the last place of `want` (in dtype t's precision).
double ulps(double got, double want, DType t) {
  if (std::isnan(got) && std::isnan(want))
    return 0;
  if (got == want) // and zeros must agree in sign
    return std::signbit(got) == std::signbit(want) ? 0 : INFINITY;
  if (std::isnan(got) || std::isnan(want) || std::isinf(got) || std::isinf(want))
    return INFINITY;
  int mant = t == DType::F64 ? 52 : t == DType::F16 ? 10 : t == DType::BF16 ? 7 : 23;
  int emin = t == DType::F64 ? -1022 : t == DType::F16 ? -14 : -126;
  int e = want == 0 ? emin : std::max(std::ilogb(want), emin);
  return std::fabs(got - want) / std::ldexp(1.0, e - mant);
}

/// Special and random inputs for dtype t (deterministic).
std::vector<double> sample(DType t, double lo, double hi, int n, uint64_t seed) {
  std::vector<double> v;
  if (ir::is_float(t)) {
    bool f = t != DType::F64;
    double big = f ? std::numeric_limits<float>::max() : std::numeric_limits<double>::max();
    double tiny = f ? std::numeric_limits<float>::denorm_min() : 4.9406564584124654e-324;
    double minn = f ? std::numeric_limits<float>::min() : std::numeric_limits<double>::min();
    for (double s : {1.0, -1.0})
      for (double x : {0.0, tiny, 3 * tiny, minn, minn * 0.5, 1e-30, 1e-8, 1e-4, 0.1, 0.5, 1.0,
                       1.5, 2.0, 3.0, 10.0, 88.7, 89.0, 103.9, 104.0, 709.7, 710.0, 745.2, 1e5,
                       1e10, 1e30, big, static_cast<double>(INFINITY)})
        v.push_back(s * x);
    v.push_back(NAN);
    for (int k = 1; k < 30; ++k) { // near 1: where log/log1p cancel
      v.push_back(1 + std::ldexp(1.0, -k));
      v.push_back(1 - std::ldexp(1.0, -k));
    }
  } else if (ir::is_int(t)) {
    for (double x : {0.0, 1.0, -1.0, 2.0, -2.0, 7.0, -7.0, 100.0, -100.0})
      v.push_back(x);
  } else {
    v = {0, 1};
  }
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi), e(-40, 40), s(0, 1);
  for (int k = 0; k < n; ++k) {
    double x = u(rng);
    if (ir::is_float(t) && k % 4 == 3) // magnitudes spread over many binades
      x = std::pow(10.0, e(rng)) * (s(rng) < 0.5 ? -1 : 1);
    v.push_back(ir::is_int(t) ? std::round(x) : ir::is_bool(t) ? (x > (lo + hi) / 2) : x);
  }
  return v;
}

struct Measured {
  double max_ulps = 0;
  double worst_input = 0;
  int64_t mismatches = 0; ///< beyond the tolerance
};

/// Compiles `fn` for the inputs and compares the JIT result with the interpreter.
Measured check(ir::ScalarFn fn, const std::vector<ir::interp::Array>& ins, DType out,
               double tol_ulps, cpu::TargetOptions target = {}) {
  cpu::KernelModule km("t", target);
  std::vector<DType> in;
  for (const auto& a : ins)
    in.push_back(a.dtype());
  add_kernel(km, "k", fn, in, out);
  auto code = km.jit();
  std::vector<double> got = run_kernel(code->lookup("k"), ins, out);
  std::vector<double> want = oracle(fn, ins, out);
  Measured m;
  for (size_t i = 0; i < got.size(); ++i) {
    double d = ir::is_float(out) ? ulps(got[i], want[i], out)
                                 : (got[i] == want[i] ? 0.0 : INFINITY);
    // Generated exp flushes results below the smallest normal number to 0 (no subnormal
    // arithmetic in loops): a subnormal reference value may come back as 0.
    double min_normal = out == DType::F64 ? std::numeric_limits<double>::min()
                                          : std::numeric_limits<float>::min();
    if (ir::is_float(out) && got[i] == 0 && std::fabs(want[i]) < min_normal)
      d = 0;
    if (d > m.max_ulps) {
      m.max_ulps = d;
      m.worst_input = ins[0][static_cast<int64_t>(i)];
    }
    if (d > tol_ulps) {
      if (m.mismatches < 5)
        MESSAGE(fmt::format("input {:.9g}{}: got {:.9g} want {:.9g}",
                            ins[0][static_cast<int64_t>(i)],
                            ins.size() > 1 ? fmt::format(", {:.9g}", ins[1][static_cast<int64_t>(i)])
                                           : std::string(),
                            got[i], want[i]));
      ++m.mismatches;
    }
  }
  return m;
}

} // namespace

TEST_CASE("llvm: float arithmetic, comparisons and Max/Min match the interpreter exactly") {
  for (DType t : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
    auto x = make_array(t, sample(t, -100, 100, 300, 1));
    auto y = make_array(t, sample(t, -100, 100, 300, 2));
    std::reverse(y.data.begin(), y.data.end()); // pair specials with other values
    struct Op {
      ir::ScalarFn fn;
      DType out;
    };
    DType B = DType::Bool;
    for (Op op : {Op{apply_op<ScalarOp::Add>, t}, Op{apply_op<ScalarOp::Sub>, t},
                  Op{apply_op<ScalarOp::Mul>, t}, Op{apply_op<ScalarOp::Div>, t},
                  Op{apply_op<ScalarOp::Max>, t}, Op{apply_op<ScalarOp::Min>, t},
                  Op{apply_op<ScalarOp::Eq>, B}, Op{apply_op<ScalarOp::Ne>, B},
                  Op{apply_op<ScalarOp::Lt>, B}, Op{apply_op<ScalarOp::Le>, B},
                  Op{apply_op<ScalarOp::Gt>, B}, Op{apply_op<ScalarOp::Ge>, B},
                  Op{apply_op<ScalarOp::And>, B}, Op{apply_op<ScalarOp::Or>, B}}) {
      CAPTURE(t);
      CHECK(check(op.fn, {x, y}, op.out, 0).mismatches == 0);
    }
    for (Op op : {Op{apply_op<ScalarOp::Neg>, t}, Op{apply_op<ScalarOp::Abs>, t},
                  Op{apply_op<ScalarOp::Floor>, t}, Op{apply_op<ScalarOp::Sqrt>, t},
                  Op{apply_op<ScalarOp::Not>, B}}) {
      CAPTURE(t);
      CHECK(check(op.fn, {x}, op.out, 0).mismatches == 0);
    }
  }
}

TEST_CASE("llvm: integer and bool intrinsics match the interpreter") {
  for (DType t : {DType::I32, DType::I64, DType::Bool}) {
    auto x = make_array(t, sample(t, -1000, 1000, 500, 3));
    auto y = make_array(t, sample(t, -1000, 1000, 500, 4));
    std::reverse(y.data.begin(), y.data.end()); // zeros as divisors, too
    DType B = DType::Bool;
    using P = std::pair<ir::ScalarFn, DType>;
    for (auto [fn, out] : {P{apply_op<ScalarOp::Add>, t},
                           {apply_op<ScalarOp::Sub>, t},
                           {apply_op<ScalarOp::Mul>, t},
                           {apply_op<ScalarOp::Div>, t},
                           {apply_op<ScalarOp::Max>, t},
                           {apply_op<ScalarOp::Min>, t},
                           {apply_op<ScalarOp::Pow>, t},
                           {apply_op<ScalarOp::Eq>, B},
                           {apply_op<ScalarOp::Ne>, B},
                           {apply_op<ScalarOp::Lt>, B},
                           {apply_op<ScalarOp::Le>, B},
                           {apply_op<ScalarOp::Gt>, B},
                           {apply_op<ScalarOp::Ge>, B},
                           {apply_op<ScalarOp::And>, B},
                           {apply_op<ScalarOp::Or>, B}}) {
      CAPTURE(t);
      CHECK(check(fn, {x, y}, out, 0).mismatches == 0);
    }
    for (auto fn : {apply_op<ScalarOp::Neg>, apply_op<ScalarOp::Abs>}) {
      CAPTURE(t);
      CHECK(check(fn, {x}, t, 0).mismatches == 0);
    }
    CHECK(check(apply_op<ScalarOp::Not>, {x}, B, 0).mismatches == 0);
  }
}

TEST_CASE("llvm: integer division by zero is 0 and MIN / -1 does not trap") {
  auto x = make_array(DType::I32, {7, -7, 7, -7, 0, -2147483648.0, -2147483648.0});
  auto y = make_array(DType::I32, {2, 2, -2, 0, 0, 1, -1});
  cpu::KernelModule km("div");
  add_kernel(km, "k", apply_op<ScalarOp::Div>, {DType::I32, DType::I32}, DType::I32);
  auto code = km.jit();
  auto got = run_kernel(code->lookup("k"), {x, y}, DType::I32);
  CHECK(got == std::vector<double>{3, -3, -3, 0, 0, -2147483648.0, -2147483648.0});
}

TEST_CASE("llvm: casts between all dtypes match the interpreter exactly") {
  std::vector<DType> all{DType::F32, DType::F64, DType::F16, DType::BF16,
                         DType::I32, DType::I64, DType::Bool};
  std::vector<ir::ScalarFn> to{cast_op<DType::F32>, cast_op<DType::F64>, cast_op<DType::F16>,
                               cast_op<DType::BF16>, cast_op<DType::I32>, cast_op<DType::I64>,
                               cast_op<DType::Bool>};
  for (DType from : all) {
    std::vector<double> v = sample(from, -1e4, 1e4, 400, 5);
    if (ir::is_float(from)) // out-of-range values for the integer targets
      for (double x : {3e9, -3e9, 9.3e18, -9.3e18, 2147483647.5, -2147483648.7, 0.999, -0.999})
        v.push_back(x);
    if (from == DType::I64)
      for (double x : {3e9, -3e9, 9007199254740993.0, -4611686018427387904.0})
        v.push_back(x);
    auto x = make_array(from, v);
    for (size_t k = 0; k < all.size(); ++k) {
      CAPTURE(from);
      CAPTURE(all[k]);
      CHECK(check(to[k], {x}, all[k], 0).mismatches == 0);
    }
  }
}

TEST_CASE("llvm: select takes a bool condition") {
  auto c = make_array(DType::Bool, {1, 0, 1, 0});
  auto a = make_array(DType::F32, {1, 2, NAN, 4});
  auto b = make_array(DType::F32, {-1, -2, -3, NAN});
  CHECK(check(select_op, {c, a, b}, DType::F32, 0).mismatches == 0);
}

TEST_CASE("llvm: complex dtypes are a user error, not a crash") {
  llvm::LLVMContext c;
  CHECK_THROWS_AS(cpu::compute_type(c, DType::C64), ir::Error);
}

namespace {

struct MathCase {
  const char* name;
  ir::ScalarFn fn;
  double lo, hi; ///< range of the uniform random inputs
  bool trig = false;
};

const MathCase kMath[] = {
    {"exp", apply_op<ScalarOp::Exp>, -110, 110},
    {"expm1", apply_op<ScalarOp::Expm1>, -30, 30},
    {"log", apply_op<ScalarOp::Log>, 0, 100},
    {"log1p", apply_op<ScalarOp::Log1p>, -1, 10},
    {"tanh", apply_op<ScalarOp::Tanh>, -12, 12},
    {"erf", apply_op<ScalarOp::Erf>, -6, 6},
    {"sin", apply_op<ScalarOp::Sin>, -1e4, 1e4, true},
    {"cos", apply_op<ScalarOp::Cos>, -1e4, 1e4, true},
};

} // namespace

TEST_CASE("llvm: math intrinsics are accurate and handle special values (f32, f64)") {
  // f32: <= 3 ulp against glibc in f64 rounded to f32; f64: <= 1e-14 relative (45 ulp).
  // Also for a CPU without FMA or AVX (x86-64 baseline: SSE2 only).
  for (const char* cpu_name : {"", "x86-64"}) {
    cpu::TargetOptions target;
    target.cpu = cpu_name;
    if (*cpu_name)
      target.features = "+sse2";
    for (DType t : {DType::F32, DType::F64}) {
      double tol = t == DType::F32 ? 3.0 : 1e-14 / std::ldexp(1.0, -52);
      for (const MathCase& mc : kMath) {
        std::vector<double> v = sample(t, mc.lo, mc.hi, 20000, 11);
        if (mc.trig && t == DType::F32) // documented limit of the f32 argument reduction
          std::erase_if(v, [](double a) { return std::fabs(a) >= 0x1p30; });
        auto x = make_array(t, v);
        Measured m = check(mc.fn, {x}, t, tol, target);
        MESSAGE(fmt::format("{} {} cpu={}: max {:.3g} ulp at x={:.9g}", mc.name, t,
                            *cpu_name ? cpu_name : "host", m.max_ulps, m.worst_input));
        CAPTURE(mc.name);
        CAPTURE(t);
        CHECK(m.mismatches == 0);
      }
      // pow: every x against integral, half-integral, random and special exponents.
      std::vector<double> xs = sample(t, -10, 10, 300, 12), ys;
      for (double y : {0.0, -0.0, 1.0, -1.0, 2.0, 3.0, -3.0, 0.5, -0.5, 2.5, 1e10, -1e10,
                       static_cast<double>(INFINITY), -static_cast<double>(INFINITY),
                       static_cast<double>(NAN)})
        ys.push_back(y);
      std::mt19937_64 rng(13);
      std::uniform_real_distribution<double> u(-40, 40);
      for (int k = 0; k < 20; ++k)
        ys.push_back(u(rng));
      std::vector<double> px, py;
      for (double a : xs)
        for (double b : ys) {
          px.push_back(a);
          py.push_back(b);
        }
      Measured m = check(apply_op<ScalarOp::Pow>, {make_array(t, px), make_array(t, py)}, t,
                         tol, target);
      MESSAGE(fmt::format("pow {} cpu={}: max {:.3g} ulp at x={:.9g}", t,
                          *cpu_name ? cpu_name : "host", m.max_ulps, m.worst_input));
      CHECK(m.mismatches == 0);
    }
  }
}

TEST_CASE("llvm: f16 and bf16 values compute in f32 and round on store") {
  // Within one ulp of t: f32's exp is within 2 f32 ulps, so a result a hair from a
  // midpoint of t (exp(6.84375) = 938.00005, bf16's 936 | 940 midpoint 938) may round
  // either way. And correctly rounded almost everywhere, which computing in t would not be.
  for (DType t : {DType::F16, DType::BF16}) {
    auto x = make_array(t, sample(t, -10, 10, 2000, 14));
    CAPTURE(t);
    for (ir::ScalarFn fn : {apply_op<ScalarOp::Exp>, apply_op<ScalarOp::Tanh>}) {
      CHECK(check(fn, {x}, t, 1.0).mismatches == 0);
      CHECK(check(fn, {x}, t, 0.0).mismatches <= 10);
    }
  }
}

namespace {

/// Lines of `ir` declaring functions other than LLVM intrinsics (library calls).
std::vector<std::string> external_calls(const std::string& ir) {
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = ir.find("\ndeclare ", pos)) != std::string::npos) {
    size_t end = ir.find('\n', pos + 1);
    std::string line = ir.substr(pos + 1, end - pos - 1);
    if (line.find("@llvm.") == std::string::npos)
      out.push_back(line);
    pos = end;
  }
  return out;
}

} // namespace

TEST_CASE("llvm: optimize() vectorises f32 math loops and leaves no library calls") {
  cpu::KernelModule km("vec");
  add_kernel(km, "exp", apply_op<ScalarOp::Exp>, {DType::F32}, DType::F32);
  for (const MathCase& mc : kMath)
    if (std::string(mc.name) != "exp")
      add_kernel(km, mc.name, mc.fn, {DType::F32}, DType::F32);
  add_kernel(km, "pow", apply_op<ScalarOp::Pow>, {DType::F32, DType::F32}, DType::F32);
  km.optimize();
  std::string ir = km.llvm_ir();
  CHECK(ir.find(" @exp(") != std::string::npos);
  bool wide = ir.find("<16 x float>") != std::string::npos ||
              ir.find("<8 x float>") != std::string::npos;
  CHECK(wide);
  CHECK(ir.find("@expf") == std::string::npos);
  CHECK(external_calls(ir).empty());
  for (const auto& line : external_calls(ir))
    MESSAGE(line);
  // The exp kernel alone: its loop body is vector code.
  size_t at = ir.find(" @exp(");
  std::string body = ir.substr(at, ir.find("\n}\n", at) - at);
  CHECK((body.find("<16 x float>") != std::string::npos ||
         body.find("<8 x float>") != std::string::npos));
}

TEST_CASE("llvm: the module verifies, prints and JITs several kernels") {
  cpu::KernelModule km("two");
  add_kernel(km, "add", apply_op<ScalarOp::Add>, {DType::F64, DType::F64}, DType::F64);
  add_kernel(km, "neg", apply_op<ScalarOp::Neg>, {DType::I64}, DType::I64);
  std::string before = km.llvm_ir();
  CHECK(before.find("define i32 @add(") != std::string::npos);
  CHECK(before.find("target triple") != std::string::npos);
  CHECK(before.find("target datalayout") != std::string::npos);
  auto code = km.jit();
  auto x = make_array(DType::F64, {1, 2, 3});
  CHECK(run_kernel(code->lookup("add"), {x, x}, DType::F64) == std::vector<double>{2, 4, 6});
  auto n = make_array(DType::I64, {1, -2, 0});
  CHECK(run_kernel(code->lookup("neg"), {n}, DType::I64) == std::vector<double>{-1, 2, 0});
}

TEST_CASE("llvm: emit_object writes an ELF object atomically, nothing on failure") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("tevo-llvm-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  cpu::KernelModule km("obj");
  add_kernel(km, "k", apply_op<ScalarOp::Exp>, {DType::F32}, DType::F32);
  std::string path = (dir / "k.o").string();
  km.emit_object(path);
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  CHECK(std::string(magic, 4) == "\x7f" "ELF");
  CHECK(fs::file_size(path) > 64);
  // The module is still usable after emitting (emission works on a copy).
  CHECK(km.llvm_ir().find(" @k(") != std::string::npos);
  // A directory that does not exist, and a "directory" that is a file: an error, and
  // no temp file left anywhere.
  CHECK_THROWS_AS(km.emit_object((dir / "missing" / "k.o").string()), rt::Error);
  CHECK_THROWS_AS(km.emit_object((dir / "k.o" / "x.o").string()), rt::Error);
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir))
    left.push_back(e.path().filename().string());
  CHECK(left == std::vector<std::string>{"k.o"});
  fs::remove_all(dir);
}

TEST_CASE("llvm: unknown CPUs and features are user errors") {
  cpu::TargetOptions bad_cpu;
  bad_cpu.cpu = "not-a-cpu";
  CHECK_THROWS_WITH_AS(cpu::KernelModule("m", bad_cpu), doctest::Contains("unknown CPU 'not-a-cpu'"),
                       ir::Error);
  cpu::TargetOptions bad_feature;
  bad_feature.features = "+avx2,+warp-drive";
  CHECK_THROWS_WITH_AS(cpu::KernelModule("m", bad_feature),
                       doctest::Contains("unknown CPU feature 'warp-drive'"), ir::Error);
  bad_feature.features = "avx2";
  CHECK_THROWS_AS(cpu::KernelModule("m", bad_feature), ir::Error);
  CHECK(!cpu::host_cpu().empty());
  CHECK(cpu::host_features().find("+sse2") != std::string::npos);
}

TEST_CASE("llvm: f32 exp through vscalefps (AVX-512) has the generic exp's bits, and no "
          "widenable call is left after optimize()") {
  // The same reduction and polynomial: only 2^k is applied differently (vscalefps vs an
  // exponent-field add and range selects), so every result must agree bit for bit.
  std::string host = cpu::host_features();
  if (host.find("+avx512f") == std::string::npos) {
    MESSAGE("skipped: the host has no AVX-512");
    return;
  }
  std::vector<double> v = sample(DType::F32, -105, 95, 60000, 21);
  for (float edge : {88.72283172607422f, -87.33654022216797f, -103.97f, 0.0f}) // hi, lo
    for (int k = -3; k <= 3; ++k) {
      float x = edge;
      for (int s = 0; s < std::abs(k); ++s)
        x = std::nextafter(x, k < 0 ? -INFINITY : INFINITY);
      v.push_back(x);
    }
  auto x = make_array(DType::F32, v);
  std::vector<std::vector<double>> got;
  for (bool avx512 : {true, false}) {
    cpu::TargetOptions t;
    if (!avx512)
      t.features = host + ",-avx512f";
    cpu::KernelModule km("exp", t);
    add_kernel(km, "k", apply_op<ScalarOp::Exp>, {DType::F32}, DType::F32);
    km.optimize();
    std::string ir = km.llvm_ir();
    CHECK(ir.find("tevo_vm") == std::string::npos);
    CHECK((ir.find("scalef") != std::string::npos) == avx512);
    got.push_back(run_kernel(km.jit()->lookup("k"), {x}, DType::F32));
  }
  int64_t differ = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    bool same = std::isnan(got[0][i]) ? std::isnan(got[1][i])
                                      : std::bit_cast<uint64_t>(got[0][i]) ==
                                            std::bit_cast<uint64_t>(got[1][i]);
    if (!same && differ++ < 5)
      MESSAGE(fmt::format("exp({:.9g}): {:.9g} (vscalefps) vs {:.9g}", v[i], got[0][i],
                          got[1][i]));
  }
  CHECK(differ == 0);
}
