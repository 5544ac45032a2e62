// lower_pipeline_test.cpp: graphs through decompose + fuse + lower, then the plan is run by
// a small reference executor (below: the interpreter for loop groups, plain loops for
// matmuls, memcpy for copies, all over real byte buffers and the planned arena) and
// compared with the interpreter on the original graph. This checks the memory plan,
// aliases, strides, in-place choices and post-ops together, without LLVM or oneDNN.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "backends/cpu/lower_internal.h"
#include "ir/element.h"
#include "ir/interp/interpreter.h"
#include "lower_test_util.h"
#include "passes/pass_manager.h"

using namespace tevo;
using ir::interp::Array;

namespace {

class PlanRunner {
public:
  PlanRunner(const cpu::Lowered& low, const std::vector<Array>& inputs) : low_(low), p_(low.plan) {
    for (const Array& a : inputs) {
      std::vector<uint8_t> bytes(static_cast<size_t>(a.type.bytes()));
      for (int64_t i = 0; i < a.numel(); ++i)
        store(bytes.data(), a.type.dtype, i, a[i]);
      in_.push_back(std::move(bytes));
    }
    for (const rt::TensorSpec& t : p_.outputs)
      out_.emplace_back(static_cast<size_t>(t.bytes()), uint8_t{0xCD});
    // Garbage in the arena: a plan that reads before it writes shows up as wrong numbers.
    arena_.assign(static_cast<size_t>(p_.arena_bytes), uint8_t{0xCD});
  }

  std::vector<Array> run() {
    for (const rt::Step& s : p_.steps) {
      size_t i = static_cast<size_t>(s.index);
      switch (s.kind) {
      case rt::Step::Kind::Kernel:
        kernel(i);
        break;
      case rt::Step::Kind::Matmul:
        matmul(p_.matmuls[i]);
        break;
      case rt::Step::Kind::Copy: {
        const rt::CopyStep& c = p_.copies[i];
        std::memmove(ptr(c.to), ptr(c.from), static_cast<size_t>(c.bytes));
        break;
      }
      default:
        FAIL("the reference executor runs kernels, matmuls and copies only");
      }
    }
    std::vector<Array> res;
    for (size_t o = 0; o < p_.outputs.size(); ++o) {
      const rt::TensorSpec& t = p_.outputs[o];
      Array a(ir::TensorType{t.dtype, ir::Shape(t.shape)});
      for (int64_t i = 0; i < a.numel(); ++i)
        a[i] = load(out_[o].data(), t.dtype, i);
      res.push_back(std::move(a));
    }
    return res;
  }

private:
  static double load(const uint8_t* base, ir::DType t, int64_t i) {
    return ir::load_element(base, t, i);
  }
  static void store(uint8_t* base, ir::DType t, int64_t i, double v) {
    ir::store_element(base, t, i, v);
  }

  uint8_t* ptr(const rt::ArgRef& a) {
    const rt::Buffer& b = p_.buffers[static_cast<size_t>(a.buffer)];
    uint8_t* base = nullptr;
    switch (b.storage) {
    case rt::Storage::Input:
      base = in_[static_cast<size_t>(b.index)].data();
      break;
    case rt::Storage::Output:
      base = out_[static_cast<size_t>(b.index)].data();
      break;
    case rt::Storage::Constant:
      base = const_cast<uint8_t*>(p_.constants[static_cast<size_t>(b.index)].data());
      break;
    case rt::Storage::Arena:
      base = arena_.data() + b.offset;
      break;
    }
    return base + a.offset;
  }

  /// Element `flat` (row-major over dims) of a strided tensor.
  static int64_t position(int64_t flat, const std::vector<int64_t>& dims,
                          const std::vector<int64_t>& strides) {
    int64_t pos = 0;
    for (size_t d = dims.size(); d-- > 0;) {
      pos += (flat % dims[d]) * strides[d];
      flat /= dims[d];
    }
    return pos;
  }

  void kernel(size_t k) {
    const cpu::KernelSpec& spec = low_.kernels[k];
    const rt::KernelStep& ks = p_.kernels[k];
    const ir::Node& g = *spec.group;
    std::vector<Array> ops;
    for (int o = 0; o < g.num_operands(); ++o) {
      const ir::TensorType& t = g.operand(o)->type;
      std::vector<int64_t> dims = t.shape.to_vector();
      std::vector<int64_t> strides = spec.operand_strides[static_cast<size_t>(o)];
      if (strides.empty())
        strides = t.shape.strides();
      Array a(t);
      const uint8_t* base = ptr(ks.args[static_cast<size_t>(o)]);
      for (int64_t i = 0; i < a.numel(); ++i)
        a[i] = load(base, t.dtype, position(i, dims, strides));
      ops.push_back(std::move(a));
    }
    std::vector<const Array*> args;
    for (const Array& a : ops)
      args.push_back(&a);
    std::vector<Array> res = ir::interp::eval_node(g, args);
    for (size_t r = 0; r < res.size(); ++r) {
      uint8_t* base = ptr(ks.args[static_cast<size_t>(g.num_operands()) + r]);
      for (int64_t i = 0; i < res[r].numel(); ++i)
        store(base, res[r].type.dtype, i, res[r][i]);
    }
  }

  double at(const rt::StridedDesc& d, const std::vector<int64_t>& idx) {
    int64_t pos = 0;
    for (size_t i = 0; i < d.dims.size(); ++i)
      pos += (d.dims[i] == 1 ? 0 : idx[i]) * d.strides[i];
    return load(ptr(d.at), d.dtype, pos);
  }

  static double eltwise(const std::string& alg, double x, double alpha, double beta) {
    if (alg == "relu")
      return x > 0 ? x : alpha * x;
    if (alg == "gelu_erf")
      return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
    if (alg == "gelu_tanh")
      return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    if (alg == "swish")
      return x / (1 + std::exp(-alpha * x));
    if (alg == "tanh")
      return std::tanh(x);
    if (alg == "logistic")
      return 1 / (1 + std::exp(-x));
    if (alg == "exp")
      return std::exp(x);
    if (alg == "linear")
      return alpha * x + beta;
    FAIL("post-op ", alg, " is not simulated");
    return 0;
  }

  static double binary(const std::string& alg, double x, double y) {
    if (alg == "add")
      return x + y;
    if (alg == "mul")
      return x * y;
    if (alg == "sub")
      return x - y;
    if (alg == "div")
      return x / y;
    if (alg == "max")
      return std::max(x, y);
    if (alg == "min")
      return std::min(x, y);
    FAIL("binary post-op ", alg, " is not simulated");
    return 0;
  }

  void matmul(const rt::MatmulStep& m) {
    size_t r = m.c.dims.size();
    REQUIRE_EQ(m.a.dims.size(), r);
    REQUIRE_EQ(m.b.dims.size(), r);
    int64_t kdim = m.a.dims[r - 1];
    int64_t n = 1;
    for (int64_t d : m.c.dims)
      n *= d;
    std::vector<double> c(static_cast<size_t>(n));
    for (int64_t f = 0; f < n; ++f) {
      std::vector<int64_t> idx(r);
      for (size_t d = r, rest = static_cast<size_t>(f); d-- > 0;) {
        idx[d] = static_cast<int64_t>(rest % static_cast<size_t>(m.c.dims[d]));
        rest /= static_cast<size_t>(m.c.dims[d]);
      }
      double acc = 0;
      std::vector<int64_t> ia = idx, ib = idx;
      for (int64_t k = 0; k < kdim; ++k) {
        ia[r - 1] = k;
        ib[r - 2] = k;
        acc += at(m.a, ia) * at(m.b, ib);
      }
      acc = static_cast<double>(static_cast<float>(acc));
      for (const rt::PostOp& po : m.post_ops) {
        std::string alg = cpu::detail::dnnl_alg_name(po.alg);
        acc = po.kind == rt::PostOp::Kind::Binary ? binary(alg, acc, at(po.src1, idx))
                                                  : eltwise(alg, acc, po.alpha, po.beta);
      }
      c[static_cast<size_t>(f)] = acc;
    }
    // Store after computing everything: a library call may not read its own output.
    uint8_t* base = ptr(m.c.at);
    for (int64_t f = 0; f < n; ++f)
      store(base, m.c.dtype, position(f, m.c.dims, m.c.strides), c[static_cast<size_t>(f)]);
  }

  const cpu::Lowered& low_;
  const rt::Plan& p_;
  std::vector<std::vector<uint8_t>> in_, out_;
  std::vector<uint8_t> arena_;
};

/// Runs `text` on the interpreter and, after decompose + fuse + lower, on the plan.
void check_pipeline(const std::string& text, int64_t min_matmuls) {
  std::unique_ptr<ir::Module> m;
  const ir::Graph& g = lower_test::parse(text, m);
  std::unique_ptr<ir::Graph> fused = g.clone();
  passes::PassManager::parse("decompose,fuse").take().run(*fused);
  cpu::Lowered low = cpu::lower(*fused);
  lower_test::check_memory(low);
  CHECK_GE(static_cast<int64_t>(low.plan.matmuls.size()), min_matmuls);
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<Array> inputs;
  for (const ir::Value* v : g.inputs()) {
    Array a(v->type);
    for (int64_t i = 0; i < a.numel(); ++i)
      a[i] = static_cast<double>(static_cast<float>(u(rng)));
    inputs.push_back(std::move(a));
  }
  std::vector<Array> want = ir::interp::run(g, inputs);
  std::vector<Array> got = PlanRunner(low, inputs).run();
  REQUIRE_EQ(got.size(), want.size());
  for (size_t o = 0; o < want.size(); ++o)
    for (int64_t i = 0; i < want[o].numel(); ++i)
      REQUIRE(got[o][i] == doctest::Approx(want[o][i]).epsilon(1e-4).scale(1));
}

} // namespace

TEST_CASE("lower pipeline: a transformer block runs from its plan as the interpreter does") {
  check_pipeline(R"(
func @block(%x: f32[2,8,16], %g: f32[16] param, %bt: f32[16] param, %wq: f32[16,16] param, %wk: f32[16,16] param, %wv: f32[16,16] param, %w1: f32[64,16] param, %b1: f32[64] param, %w2: f32[16,64] param) -> (f32[2,8,16], f32[2,8,8]) {
  %h = layer_norm %x, %g, %bt : f32[2,8,16]
  %q = matmul %h, %wq : f32[2,8,16]
  %k = matmul %h, %wk : f32[2,8,16]
  %v = matmul %h, %wv : f32[2,8,16]
  %kt = transpose %k {perm = [0, 2, 1]} : f32[2,16,8]
  %s = matmul %q, %kt : f32[2,8,8]
  %c = full {shape = [], value = 0.25} : f32[]
  %ss = mul %s, %c : f32[2,8,8]
  %p = softmax %ss : f32[2,8,8]
  %o = matmul %p, %v : f32[2,8,16]
  %r = add %x, %o : f32[2,8,16]
  %w1t = transpose %w1 {perm = [1, 0]} : f32[16,64]
  %f = matmul %r, %w1t : f32[2,8,64]
  %fb = add %f, %b1 : f32[2,8,64]
  %ge = gelu %fb : f32[2,8,64]
  %w2t = transpose %w2 {perm = [1, 0]} : f32[64,16]
  %f2 = matmul %ge, %w2t : f32[2,8,16]
  %y = add %r, %f2 : f32[2,8,16]
  return %y, %p
}
)",
                 7);
}

TEST_CASE("lower pipeline: elementwise chains, reductions and views without matmuls") {
  check_pipeline(R"(
func @f(%x: f32[4,6], %y: f32[6,4]) -> (f32[24], f32[4], f32[4,6], f32[6,4]) {
  %a = exp %x : f32[4,6]
  %b = tanh %a : f32[4,6]
  %t = transpose %y {perm = [1, 0]} : f32[4,6]
  %c = mul %b, %t : f32[4,6]
  %r = reshape %c {shape = [24]} : f32[24]
  %s = sum %c {axes = [1]} : f32[4]
  %m = mean %x {axes = [1], keepdims = true} : f32[4,1]
  %d = sub %x, %m : f32[4,6]
  return %r, %s, %d, %y
}
)",
                 0);
}
