// ops_reduce_test.cpp: type-inference errors, traits and costs of the reduce and
// compare_select op families (what the golden sweep cannot express), plus a few kernel
// edge cases (saturating casts, +inf in softmax).
#include "ir/builder.h"
#include "ir/interp/interpreter.h"
#include "ir/op_registry.h"
#include "ir/parser.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <doctest/doctest.h>
#include <limits>

#include "tests/support/op_infer.h"

using namespace tevo;
using namespace tevo::ir;

namespace {

using testing::cost_of;
using testing::infer;
using testing::tt;

/// Runs a one-function module on f64 inputs given as flat vectors.
std::vector<double> run1(const std::string& text, std::vector<std::vector<double>> ins) {
  auto g = parse_graph(text, "t.tir");
  std::vector<interp::Array> arrays;
  for (size_t i = 0; i < ins.size(); ++i) {
    interp::Array a(g->inputs()[i]->type);
    a.data = ins[i];
    arrays.push_back(a);
  }
  return interp::run(*g, arrays).at(0).data;
}

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

} // namespace

TEST_CASE("reduce: result shapes for axes and keepdims") {
  auto x = tt(DType::F32, {2, 3, 4});
  CHECK_EQ(infer(OpKind::Sum, {x}), "f32[]");
  CHECK_EQ(infer(OpKind::Sum, {x}, {{"keepdims", true}}), "f32[1,1,1]");
  CHECK_EQ(infer(OpKind::Mean, {x}, {{"axes", std::vector<int64_t>{-1, 0}}}), "f32[3]");
  CHECK_EQ(infer(OpKind::Max, {x}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", true}}),
           "f32[2,1,4]");
  CHECK_EQ(infer(OpKind::Argmax, {x}), "i64[2,3]");
  CHECK_EQ(infer(OpKind::Argmax, {x}, {{"axis", int64_t{0}}, {"keepdims", true}}), "i64[1,3,4]");
  CHECK_EQ(infer(OpKind::Softmax, {x}, {{"axis", int64_t{-3}}}), "f32[2,3,4]");
  // Reducing an empty axis is defined for sum/prod/mean/logsumexp.
  CHECK_EQ(infer(OpKind::Sum, {tt(DType::I64, {0, 3})}, {{"axes", std::vector<int64_t>{0}}}),
           "i64[3]");
  CHECK_EQ(infer(OpKind::Logsumexp, {tt(DType::F64, {0})}), "f64[]");
}

TEST_CASE("reduce: bad axes, dtypes and empty axes are reported") {
  auto x = tt(DType::F32, {2, 3});
  CHECK_EQ(infer(OpKind::Sum, {x}, {{"axes", std::vector<int64_t>{2}}}),
           "[sum] axis 2 out of range for rank 2: f32[2,3]");
  CHECK_EQ(infer(OpKind::Prod, {x}, {{"axes", std::vector<int64_t>{-3}}}),
           "[prod] axis -3 out of range for rank 2: f32[2,3]");
  CHECK_EQ(infer(OpKind::Min, {x}, {{"axes", std::vector<int64_t>{1, -1}}}),
           "[min] axis -1 repeated: f32[2,3]");
  CHECK_EQ(infer(OpKind::Sum, {x}, {{"axes", std::vector<int64_t>{INT64_MIN}}}),
           "[sum] axis -9223372036854775808 out of range for rank 2: f32[2,3]");
  CHECK_EQ(infer(OpKind::Sum, {x}, {{"axes", int64_t{1}}}),
           "[sum] attribute 'axes' must be i64 list, got i64");
  CHECK_EQ(infer(OpKind::Mean, {tt(DType::I64, {2})}),
           "[mean] operand 0 must be a float tensor, got i64[2]");
  CHECK_EQ(infer(OpKind::Logsumexp, {tt(DType::I32, {2})}),
           "[logsumexp] operand 0 must be a float tensor, got i32[2]");
  CHECK_EQ(infer(OpKind::Sum, {tt(DType::Bool, {2})}),
           "[sum] operand 0 must be a float or integer tensor, got bool[2]");
  CHECK_EQ(infer(OpKind::Max, {tt(DType::C64, {2})}),
           "[max] operand 0 must be a float or integer tensor, got c64[2]");
  CHECK_EQ(infer(OpKind::Max, {tt(DType::F32, {0, 3})}, {{"axes", std::vector<int64_t>{0}}}),
           "[max] cannot reduce an empty axis with max: axis 0 of f32[0,3]");
  CHECK_EQ(infer(OpKind::Min, {tt(DType::F32, {3, 0})}),
           "[min] cannot reduce an empty axis with min: axis 1 of f32[3,0]");
  // Reducing a non-empty axis of an empty tensor is fine: the result is empty.
  CHECK_EQ(infer(OpKind::Max, {tt(DType::F32, {0, 3})}, {{"axes", std::vector<int64_t>{1}}}),
           "f32[0]");
}

TEST_CASE("reduce: argmax, softmax and log_softmax errors") {
  CHECK_EQ(infer(OpKind::Argmax, {tt(DType::F32, {2, 3})}, {{"axis", int64_t{2}}}),
           "[argmax] axis 2 out of range for rank 2: f32[2,3]");
  CHECK_EQ(infer(OpKind::Argmax, {tt(DType::F32, {})}),
           "[argmax] axis -1 out of range for rank 0: f32[]");
  CHECK_EQ(infer(OpKind::Argmax, {tt(DType::F32, {2, 0})}),
           "[argmax] cannot reduce an empty axis with argmax: axis 1 of f32[2,0]");
  CHECK_EQ(infer(OpKind::Argmax, {tt(DType::Bool, {2})}),
           "[argmax] operand 0 must be a float or integer tensor, got bool[2]");
  CHECK_EQ(infer(OpKind::Softmax, {tt(DType::I64, {2})}),
           "[softmax] operand 0 must be a float tensor, got i64[2]");
  CHECK_EQ(infer(OpKind::LogSoftmax, {tt(DType::F64, {2, 3})}, {{"axis", int64_t{-3}}}),
           "[log_softmax] axis -3 out of range for rank 2: f64[2,3]");
  CHECK_EQ(infer(OpKind::Softmax, {tt(DType::F64, {2})}, {{"axes", std::vector<int64_t>{0}}}),
           "[softmax] unknown attribute 'axes' (expected: axis)");
}

TEST_CASE("reduce: traits and costs") {
  for (OpKind k : {OpKind::Sum, OpKind::Mean, OpKind::Max, OpKind::Min, OpKind::Prod,
                   OpKind::Logsumexp, OpKind::Argmax})
    CHECK(op_def(k).has(kReduction));
  CHECK_FALSE(op_def(OpKind::Softmax).has(kReduction));
  CHECK_FALSE(op_def(OpKind::LogSoftmax).has(kReduction));
  CHECK(op_def(OpKind::Argmax).has(kNotDifferentiable));
  CHECK_FALSE(op_def(OpKind::Sum).has(kNotDifferentiable));

  Cost s = cost_of(OpKind::Sum, {tt(DType::F32, {4, 5})}, {{"axes", std::vector<int64_t>{1}}});
  CHECK_EQ(s.flops, 20);
  CHECK_EQ(s.bytes_read, 80);
  CHECK_EQ(s.bytes_written, 16);
  Cost sm = cost_of(OpKind::Softmax, {tt(DType::F32, {4, 5})});
  CHECK_EQ(sm.flops, 100);
  CHECK_EQ(sm.transcendentals, 20);
  Cost l = cost_of(OpKind::Logsumexp, {tt(DType::F64, {4, 5})});
  CHECK_EQ(l.transcendentals, 20);
}

TEST_CASE("reduce: softmax rows holding +inf or NaN give NaN, masked rows do not") {
  auto y = run1("func @f(%x: f64[3,2]) -> f64[3,2] {\n  %y = softmax %x : f64[3,2]\n"
                "  return %y\n}\n",
                {{kInf, 0.0, kNaN, 1.0, -kInf, -kInf}});
  CHECK(std::isnan(y[0]));
  CHECK(std::isnan(y[2]));
  CHECK(std::isnan(y[3]));
  CHECK_EQ(y[4], 0.0);
  CHECK_EQ(y[5], 0.0);
  auto m = run1("func @f(%x: f64[2,2]) -> f64[2] {\n  %y = max %x {axes = [0]} : f64[2]\n"
                "  return %y\n}\n",
                {{1.0, kNaN, kNaN, -kInf}});
  CHECK(std::isnan(m[0]));
  CHECK(std::isnan(m[1]));
}

TEST_CASE("compare_select: result types") {
  CHECK_EQ(infer(OpKind::Lt, {tt(DType::F32, {3, 1}), tt(DType::F32, {4})}), "bool[3,4]");
  CHECK_EQ(infer(OpKind::Eq, {tt(DType::C64, {2}), tt(DType::C64, {2})}), "bool[2]");
  CHECK_EQ(infer(OpKind::Ne, {tt(DType::Bool, {2}), tt(DType::Bool, {})}), "bool[2]");
  CHECK_EQ(infer(OpKind::Select,
                 {tt(DType::Bool, {2, 1, 1}), tt(DType::I64, {3, 1}), tt(DType::I64, {4})}),
           "i64[2,3,4]");
  CHECK_EQ(infer(OpKind::Cast, {tt(DType::F64, {2})}, {{"dtype", DType::I32}}), "i32[2]");
  CHECK_EQ(infer(OpKind::Cast, {tt(DType::F32, {2})}, {{"dtype", DType::C64}}), "c64[2]");
  CHECK_EQ(infer(OpKind::Real, {tt(DType::C64, {2})}), "f32[2]");
  CHECK_EQ(infer(OpKind::Imag, {tt(DType::C128, {2})}), "f64[2]");
  CHECK_EQ(infer(OpKind::Complex, {tt(DType::F32, {2, 1}), tt(DType::F32, {3})}), "c64[2,3]");
  CHECK_EQ(infer(OpKind::Complex, {tt(DType::F64, {}), tt(DType::F64, {})}), "c128[]");
}

TEST_CASE("compare_select: bad operands are reported") {
  CHECK_EQ(infer(OpKind::Lt, {tt(DType::Bool, {2}), tt(DType::Bool, {2})}),
           "[lt] operand 0 must be a float or integer tensor, got bool[2]");
  CHECK_EQ(infer(OpKind::Ge, {tt(DType::C64, {2}), tt(DType::C64, {2})}),
           "[ge] operand 0 must be a float or integer tensor, got c64[2]");
  CHECK_EQ(infer(OpKind::Eq, {tt(DType::F32, {2}), tt(DType::F64, {2})}),
           "[eq] operand dtypes differ: f32[2] vs f64[2] (insert a cast)");
  CHECK_EQ(infer(OpKind::Gt, {tt(DType::F32, {2}), tt(DType::F32, {3})}),
           "[gt] shapes do not broadcast: f32[2] vs f32[3]");
  CHECK_EQ(infer(OpKind::LogicalAnd, {tt(DType::F32, {2}), tt(DType::F32, {2})}),
           "[logical_and] operand 0 must be a bool tensor, got f32[2]");
  CHECK_EQ(infer(OpKind::LogicalOr, {tt(DType::Bool, {2}), tt(DType::I32, {2})}),
           "[logical_or] operand dtypes differ: bool[2] vs i32[2] (insert a cast)");
  CHECK_EQ(infer(OpKind::LogicalNot, {tt(DType::I64, {2})}),
           "[logical_not] operand 0 must be a bool tensor, got i64[2]");
  CHECK_EQ(infer(OpKind::Select, {tt(DType::F32, {2}), tt(DType::F32, {2}), tt(DType::F32, {2})}),
           "[select] condition (operand 0) must be a bool tensor, got f32[2]");
  CHECK_EQ(infer(OpKind::Select, {tt(DType::Bool, {2}), tt(DType::F32, {2}), tt(DType::F64, {2})}),
           "[select] branch dtypes differ: f32[2] vs f64[2] (insert a cast)");
  CHECK_EQ(infer(OpKind::Select, {tt(DType::Bool, {2}), tt(DType::F32, {3}), tt(DType::F32, {1})}),
           "[select] shapes do not broadcast: bool[2] vs f32[3] vs f32[1]");
  CHECK_EQ(infer(OpKind::Cast, {tt(DType::C64, {2})}, {{"dtype", DType::F32}}),
           "[cast] cannot cast c64[2] to f32: use real or imag");
  CHECK_EQ(infer(OpKind::Cast, {tt(DType::F32, {2})}),
           "[cast] missing required attribute 'dtype' (dtype)");
  CHECK_EQ(infer(OpKind::Real, {tt(DType::F32, {2})}),
           "[real] operand 0 must be a complex tensor (c64 or c128), got f32[2]");
  CHECK_EQ(infer(OpKind::Complex, {tt(DType::I32, {2}), tt(DType::I32, {2})}),
           "[complex] operand 0 must be an f32 or f64 tensor, got i32[2]");
  CHECK_EQ(infer(OpKind::Complex, {tt(DType::F32, {2}), tt(DType::F64, {2})}),
           "[complex] operand dtypes differ: f32[2] vs f64[2] (insert a cast)");
  // Broadcasting two 2^40 extents would overflow the element count.
  const int64_t big = int64_t{1} << 40;
  CHECK_EQ(infer(OpKind::Eq, {tt(DType::F32, {big, 1}), tt(DType::F32, {1, big})}),
           "[eq] result bool[1099511627776,1099511627776] is too large (limits: rank 16, "
           "dims 2^40, 2^50 elements)");
}

TEST_CASE("compare_select: traits") {
  for (OpKind k : {OpKind::Eq, OpKind::Ne, OpKind::Lt, OpKind::Le, OpKind::Gt, OpKind::Ge,
                   OpKind::LogicalAnd, OpKind::LogicalOr, OpKind::LogicalNot})
    CHECK(op_def(k).has(kNotDifferentiable));
  for (OpKind k :
       {OpKind::Eq, OpKind::Select, OpKind::Cast, OpKind::Real, OpKind::Imag, OpKind::Complex})
    CHECK(op_def(k).has(kElementwise));
  CHECK_FALSE(op_def(OpKind::Select).has(kNotDifferentiable));
  CHECK(op_def(OpKind::Eq).has(kCommutative));
  CHECK_FALSE(op_def(OpKind::Lt).has(kCommutative));
}

TEST_CASE("compare_select: casts saturate, truncate toward zero and map NaN to 0") {
  auto y = run1("func @f(%x: f64[6]) -> i32[6] {\n  %y = cast %x {dtype = i32} : i32[6]\n"
                "  return %y\n}\n",
                {{kInf, -kInf, kNaN, 3e9, -2.9, 2.9}});
  CHECK_EQ(y, std::vector<double>{2147483647.0, -2147483648.0, 0, 2147483647.0, -2, 2});
  // Later arithmetic sees the saturated value, not inf.
  auto z = run1("func @f(%x: f64[2], %o: i32[2]) -> i32[2] {\n"
                "  %c = cast %x {dtype = i32} : i32[2]\n  %y = sub %c, %o : i32[2]\n"
                "  return %y\n}\n",
                {{kInf, -1.5}, {1, 0}});
  CHECK_EQ(z, std::vector<double>{2147483646.0, -1});
}

TEST_CASE("reduce: empty operands with huge extents neither allocate nor overflow") {
  const std::string t = "f64[0,1099511627776]";
  for (const char* op : {"sum {axes = [1]}", "max {axes = [1]}", "logsumexp {axes = [-1]}",
                         "argmax", "softmax", "log_softmax {axis = 0}"}) {
    std::string s(op);
    size_t sp = std::min(s.find(' '), s.size());
    std::string name = s.substr(0, sp), attrs = s.substr(sp);
    bool same = name == "softmax" || name == "log_softmax";
    std::string rt = same ? t : (name == "argmax" ? "i64[0]" : "f64[0]");
    auto y = run1("func @f(%x: " + t + ") -> " + rt + " {\n  %y = " + name + " %x" + attrs + " : " +
                      rt + "\n  return %y\n}\n",
                  {{}});
    CHECK(y.empty());
  }
  // Reducing the empty axis would give 2^40 x 2^40 elements: rejected, not wrapped.
  CHECK_EQ(infer(OpKind::Sum, {tt(DType::F32, {0, int64_t{1} << 40, int64_t{1} << 40})},
                 {{"axes", std::vector<int64_t>{0}}}),
           "[sum] result f32[1099511627776,1099511627776] is too large (limits: rank 16, "
           "dims 2^40, 2^50 elements)");
}
