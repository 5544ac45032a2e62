// ops_shape_test.cpp: verifier messages and data errors of the matmul, shape, index and
// scan op families (what the golden sweep, which only runs valid graphs, cannot express),
// and the backward graphs their VJP rules build.
#include <doctest/doctest.h>

#include <cstdint>

#include "ir/builder.h"
#include "ir/interp/interpreter.h"
#include "ir/op_registry.h"
#include "ir/parser.h"
#include "ir/vjp.h"

using namespace tevo::ir;

namespace {

TensorType t(DType d, std::initializer_list<int64_t> dims) {
  return TensorType{d, Shape(dims)};
}
TensorType f32(std::initializer_list<int64_t> dims) {
  return t(DType::F32, dims);
}
TensorType i64(std::initializer_list<int64_t> dims) {
  return t(DType::I64, dims);
}

/// The type-inference message for op k on operand types and attributes, or "<ok: types>".
std::string infer(OpKind k, std::vector<TensorType> operands, const AttrList& attrs = {}) {
  const OpDef& def = op_def(k);
  auto full = complete_attrs(def, attrs);
  if (!full.ok())
    return full.error().message;
  auto r = infer_result_types(def, operands, *full);
  if (!r.ok())
    return r.error().message;
  std::string s = "<ok:";
  for (const auto& ty : *r)
    s += " " + ty.str();
  return s + ">";
}

using I = std::vector<int64_t>;

/// Runs a one-function module on f64/i64 inputs given as flat values; returns the error
/// message of the interpreter, or "<ok>".
std::string run_error(const std::string& text, const std::vector<std::vector<double>>& values) {
  auto g = parse_graph(text, "t.tir");
  std::vector<interp::Array> ins;
  for (size_t i = 0; i < g->inputs().size(); ++i) {
    interp::Array a(g->inputs()[i]->type);
    a.data = values[i];
    ins.push_back(a);
  }
  try {
    interp::run(*g, ins);
  } catch (const Error& e) {
    return e.diag().message;
  }
  return "<ok>";
}

/// An array of type `ty` with the given real (and imaginary) parts.
interp::Array arr(const TensorType& ty, std::vector<double> re, std::vector<double> im = {}) {
  interp::Array a(ty);
  a.data = std::move(re);
  if (!im.empty())
    a.imag = std::move(im);
  return a;
}

/// The backward graph of a one-node function: the op names the VJP rule built and the
/// evaluated gradient of every operand that gets one.
struct Backward {
  std::vector<std::string> ops;
  std::vector<interp::Array> grads;
};

/// Runs the VJP rule of the only node of `text` with cotangent `seed` on result 0 (the
/// other results get none), every float or complex operand needing a gradient.
Backward backward(const std::string& text, std::vector<interp::Array> ins,
                  const interp::Array& seed) {
  auto g = parse_graph(text, "t.tir");
  const Node& n = *g->nodes().at(0);
  size_t before = g->nodes().size();
  Builder b(*g);
  VjpCtx ctx{b, n, {g->add_input(seed.type, "seed")}, {}};
  for (int r = 1; r < n.num_results(); ++r)
    ctx.cotangents.push_back(nullptr);
  for (const Value* v : n.operands)
    ctx.needs_grad.push_back(is_float(v->type.dtype) || is_complex(v->type.dtype));
  Backward out;
  g->outputs.clear();
  for (Value* gv : n.def().vjp(ctx))
    if (gv)
      g->outputs.push_back(gv);
  for (size_t i = before; i < g->nodes().size(); ++i)
    out.ops.emplace_back(g->nodes()[i]->def().name);
  ins.push_back(seed);
  out.grads = interp::run(*g, ins);
  return out;
}

using Names = std::vector<std::string>;
using D = std::vector<double>;

} // namespace

TEST_CASE("matmul: type rules") {
  CHECK_EQ(infer(OpKind::Matmul, {f32({2, 3}), f32({4, 5})}),
           "[matmul] inner dimensions differ: f32[2,3] x f32[4,5]");
  CHECK_EQ(infer(OpKind::Matmul, {f32({3}), f32({3, 4})}),
           "[matmul] operands must have rank >= 2, got f32[3] x f32[3,4]");
  CHECK_EQ(infer(OpKind::Matmul, {f32({2, 3}), t(DType::F64, {3, 4})}),
           "[matmul] operand dtypes differ: f32[2,3] vs f64[3,4] (insert a cast)");
  CHECK_EQ(infer(OpKind::Matmul, {t(DType::Bool, {2, 2}), t(DType::Bool, {2, 2})}),
           "[matmul] operand 0 must be a float or integer tensor, got bool[2,2]");
  CHECK_EQ(infer(OpKind::Matmul, {f32({2, 2, 3}), f32({3, 3, 4})}),
           "[matmul] batch dimensions do not broadcast: f32[2,2,3] x f32[3,3,4]");
  CHECK_EQ(infer(OpKind::Matmul, {f32({2, 1, 3, 4}), f32({5, 4, 2})}), "<ok: f32[2,5,3,2]>");
  CHECK_EQ(infer(OpKind::Matmul, {i64({4, 3}), i64({7, 3, 2})}), "<ok: i64[7,4,2]>");
  // Operands of 2^40 elements whose broadcast product would overflow int64.
  int64_t big = int64_t{1} << 40;
  CHECK_EQ(infer(OpKind::Matmul, {f32({big, 1, 1, 1}), f32({1, big, 1, 1})}),
           "[matmul] result f32[1099511627776,1099511627776,1,1] is too large (limits: rank 16, "
           "dims 2^40, 2^50 elements)");
  CHECK_EQ(infer(OpKind::Matmul, {f32({big, 0}), f32({0, big})}),
           "[matmul] result f32[1099511627776,1099511627776] is too large (limits: rank 16, "
           "dims 2^40, 2^50 elements)");
}

TEST_CASE("matmul: cost is 2 M N K per batch") {
  const OpDef& def = op_def(OpKind::Matmul);
  std::vector<TensorType> ops = {f32({2, 1, 3, 4}), f32({5, 4, 2})};
  std::vector<TensorType> res = {f32({2, 5, 3, 2})};
  AttrDict attrs;
  Cost c = def.cost(CostCtx{ops, res, attrs});
  CHECK_EQ(c.flops, 2.0 * 3 * 2 * 4 * 10);
  CHECK_EQ(c.bytes_written, 60.0 * 4);
}

TEST_CASE("transpose and reshape: attribute checks") {
  CHECK_EQ(infer(OpKind::Transpose, {f32({2, 3})}, {{"perm", I{0}}}),
           "[transpose] perm [0] has 1 entries but f32[2,3] has rank 2");
  CHECK_EQ(infer(OpKind::Transpose, {f32({2, 3})}, {{"perm", I{0, 0}}}),
           "[transpose] perm [0, 0] is not a permutation of 0..1 for f32[2,3]");
  CHECK_EQ(infer(OpKind::Transpose, {f32({2, 3})}, {{"perm", I{-1, 0}}}),
           "[transpose] perm [-1, 0] is not a permutation of 0..1 for f32[2,3]");
  CHECK_EQ(infer(OpKind::Transpose, {f32({2, 3})}, {{"perm", I{1, 2}}}),
           "[transpose] perm [1, 2] is not a permutation of 0..1 for f32[2,3]");
  CHECK_EQ(infer(OpKind::Transpose, {f32({2, 3})}),
           "[transpose] missing required attribute 'perm' (i64 list)");
  CHECK_EQ(infer(OpKind::Transpose, {f32({2, 3, 4})}, {{"perm", I{2, 0, 1}}}),
           "<ok: f32[4,2,3]>");
  CHECK_EQ(infer(OpKind::Reshape, {f32({2, 3})}, {{"shape", I{4, 2}}}),
           "[reshape] cannot reshape f32[2,3] (6 elements) to [4, 2]");
  CHECK_EQ(infer(OpKind::Reshape, {f32({2, 3})}, {{"shape", I{-1, 3}}}),
           "[reshape] shape [-1, 3] has a negative entry");
  CHECK_EQ(infer(OpKind::Reshape, {f32({2, 3})}, {{"shape", I{int64_t{1} << 41}}}),
           "[reshape] shape [2199023255552] has an entry above 2^40");
  // The product would overflow int64: rejected without computing it.
  int64_t big = int64_t{1} << 40;
  CHECK_EQ(infer(OpKind::Reshape, {f32({2, 3})}, {{"shape", I{big, big, big}}}),
           "[reshape] cannot reshape f32[2,3] (6 elements) to [1099511627776, 1099511627776, "
           "1099511627776]");
  CHECK_EQ(infer(OpKind::Reshape, {f32({2, 3})}, {{"shape", I{3, 1, 2}}}), "<ok: f32[3,1,2]>");
  CHECK_EQ(infer(OpKind::Reshape, {f32({1, 1})}, {{"shape", I{}}}), "<ok: f32[]>");
}

TEST_CASE("broadcast_to, slice, concat, pad, tril: attribute checks") {
  CHECK_EQ(infer(OpKind::BroadcastTo, {f32({2, 3})}, {{"shape", I{4, 3, 2}}}),
           "[broadcast_to] cannot broadcast f32[2,3] to [4, 3, 2]");
  CHECK_EQ(infer(OpKind::BroadcastTo, {f32({2, 3})}, {{"shape", I{3}}}),
           "[broadcast_to] cannot broadcast f32[2,3] to [3]");
  int64_t big = int64_t{1} << 40;
  CHECK_EQ(infer(OpKind::BroadcastTo, {f32({1})}, {{"shape", I{big, big}}}),
           "[broadcast_to] result f32[1099511627776,1099511627776] is too large (limits: "
           "rank 16, dims 2^40, 2^50 elements)");
  CHECK_EQ(infer(OpKind::BroadcastTo, {f32({3, 1})}, {{"shape", I{2, 3, 4}}}),
           "<ok: f32[2,3,4]>");

  CHECK_EQ(infer(OpKind::Slice, {f32({5, 7})}, {{"starts", I{0}}, {"ends", I{5, 7}}}),
           "[slice] starts [0] has 1 entries but f32[5,7] has rank 2");
  CHECK_EQ(infer(OpKind::Slice, {f32({5, 7})},
                 {{"starts", I{0, 0}}, {"ends", I{5, 7}}, {"steps", I{1, 0}}}),
           "[slice] step 0 on axis 1 must be >= 1");
  CHECK_EQ(infer(OpKind::Slice, {f32({5, 7})}, {{"starts", I{0, 3}}, {"ends", I{5, 8}}}),
           "[slice] slice 3:8 on axis 1 out of range for f32[5,7] (need 0 <= start <= end <= 7)");
  CHECK_EQ(infer(OpKind::Slice, {f32({5, 7})}, {{"starts", I{-1, 0}}, {"ends", I{5, 7}}}),
           "[slice] slice -1:5 on axis 0 out of range for f32[5,7] (need 0 <= start <= end <= 5)");
  CHECK_EQ(infer(OpKind::Slice, {f32({5, 7})}, {{"starts", I{3, 0}}, {"ends", I{2, 7}}}),
           "[slice] slice 3:2 on axis 0 out of range for f32[5,7] (need 0 <= start <= end <= 5)");
  CHECK_EQ(infer(OpKind::Slice, {f32({5, 7})},
                 {{"starts", I{1, 0}}, {"ends", I{5, 7}}, {"steps", I{2, INT64_MAX}}}),
           "<ok: f32[2,1]>");

  CHECK_EQ(infer(OpKind::Concat, {f32({2, 3}), f32({2, 4})}, {{"axis", 0}}),
           "[concat] operand 1 does not match operand 0 except on axis 0: f32[2,4] vs f32[2,3]");
  CHECK_EQ(infer(OpKind::Concat, {f32({2, 3}), f32({2, 3, 1})}, {{"axis", 1}}),
           "[concat] operand 1 does not match operand 0 except on axis 1: f32[2,3,1] vs f32[2,3]");
  CHECK_EQ(infer(OpKind::Concat, {f32({2, 3}), i64({2, 3})}, {{"axis", 1}}),
           "[concat] operand dtypes differ: f32[2,3] vs i64[2,3] (insert a cast)");
  CHECK_EQ(infer(OpKind::Concat, {f32({2, 3})}, {{"axis", -3}}),
           "[concat] axis -3 out of range for f32[2,3]");
  CHECK_EQ(infer(OpKind::Concat, {f32({})}, {{"axis", 0}}),
           "[concat] axis 0 out of range for f32[]");
  CHECK_EQ(infer(OpKind::Concat, {}, {{"axis", 0}}),
           "[concat] expects at least 1 operands, got 0");
  CHECK_EQ(infer(OpKind::Concat, {f32({2, 1}), f32({2, 4}), f32({2, 2})}, {{"axis", -1}}),
           "<ok: f32[2,7]>");

  CHECK_EQ(infer(OpKind::Pad, {f32({2, 3})}, {{"low", I{1, -1}}, {"high", I{0, 0}}}),
           "[pad] low [1, -1] has a negative entry");
  CHECK_EQ(infer(OpKind::Pad, {f32({2, 3})}, {{"low", I{1, 1}}, {"high", I{0}}}),
           "[pad] high [0] has 1 entries but f32[2,3] has rank 2");
  CHECK_EQ(infer(OpKind::Pad, {f32({2, 3})}, {{"low", I{big, 0}}, {"high", I{1, 0}}}),
           "[pad] padded axis 0 of f32[2,3] is longer than 2^40");
  CHECK_EQ(infer(OpKind::Pad, {f32({2, 3})},
                 {{"low", I{1, 0}}, {"high", I{0, 2}}, {"value", 1.5}}),
           "<ok: f32[3,5]>");

  CHECK_EQ(infer(OpKind::Tril, {f32({3})}), "[tril] operand must have rank >= 2, got f32[3]");
  CHECK_EQ(infer(OpKind::Triu, {f32({3, 4})}, {{"k", INT64_MIN}}), "<ok: f32[3,4]>");
}

TEST_CASE("gather, take, embedding, one_hot, topk: type rules") {
  CHECK_EQ(infer(OpKind::Gather, {f32({3, 4}), f32({3, 4})}, {{"axis", 0}}),
           "[gather] operand 1 must be an i32 or i64 tensor, got f32[3,4]");
  CHECK_EQ(infer(OpKind::Gather, {f32({3, 4}), i64({3, 2})}, {{"axis", 0}}),
           "[gather] indices i64[3,2] must match f32[3,4] except on axis 0");
  CHECK_EQ(infer(OpKind::Gather, {f32({3, 4}), i64({3})}, {{"axis", 0}}),
           "[gather] indices i64[3] must match f32[3,4] except on axis 0");
  CHECK_EQ(infer(OpKind::Gather, {f32({3, 4}), i64({3, 4})}, {{"axis", 2}}),
           "[gather] axis 2 out of range for f32[3,4]");
  CHECK_EQ(infer(OpKind::Gather, {f32({3, 4}), i64({3, 9})}, {{"axis", -1}}),
           "<ok: f32[3,9]>");

  CHECK_EQ(infer(OpKind::Take, {f32({3, 4, 5}), t(DType::I32, {2, 6})}, {{"axis", 1}}),
           "<ok: f32[3,2,6,5]>");
  CHECK_EQ(infer(OpKind::Take, {f32({}), i64({2})}, {{"axis", 0}}),
           "[take] axis 0 out of range for f32[]");
  int64_t big = int64_t{1} << 40;
  CHECK_EQ(infer(OpKind::Take, {f32({big, 2}), i64({big})}, {{"axis", 1}}),
           "[take] result f32[1099511627776,1099511627776] is too large (limits: rank 16, "
           "dims 2^40, 2^50 elements)");

  CHECK_EQ(infer(OpKind::Embedding, {i64({6, 4}), i64({2})}),
           "[embedding] table must be a rank-2 float tensor [V, C], got i64[6,4]");
  CHECK_EQ(infer(OpKind::Embedding, {f32({6}), i64({2})}),
           "[embedding] table must be a rank-2 float tensor [V, C], got f32[6]");
  CHECK_EQ(infer(OpKind::Embedding, {f32({6, 4}), f32({2})}),
           "[embedding] operand 1 must be an i32 or i64 tensor, got f32[2]");
  CHECK_EQ(infer(OpKind::Embedding, {f32({6, 4}), t(DType::I32, {2, 3})}), "<ok: f32[2,3,4]>");

  CHECK_EQ(infer(OpKind::OneHot, {i64({3})}, {{"depth", 0}}),
           "[one_hot] depth 0 must be in [1, 2^40]");
  CHECK_EQ(infer(OpKind::OneHot, {f32({3})}, {{"depth", 2}}),
           "[one_hot] operand 0 must be an i32 or i64 tensor, got f32[3]");
  CHECK_EQ(infer(OpKind::OneHot, {i64({big})}, {{"depth", big}}),
           "[one_hot] result f32[1099511627776,1099511627776] is too large (limits: rank 16, "
           "dims 2^40, 2^50 elements)");
  CHECK_EQ(infer(OpKind::OneHot, {i64({2, 3})}, {{"depth", 5}, {"dtype", DType::Bool}}),
           "<ok: bool[2,3,5]>");

  CHECK_EQ(infer(OpKind::Topk, {f32({3, 4})}, {{"k", 5}}),
           "[topk] k 5 out of range [0, 4] for axis -1 of f32[3,4]");
  CHECK_EQ(infer(OpKind::Topk, {f32({3, 4})}, {{"k", -1}, {"axis", 0}}),
           "[topk] k -1 out of range [0, 3] for axis 0 of f32[3,4]");
  CHECK_EQ(infer(OpKind::Topk, {f32({3, 4})}, {{"k", 1}, {"axis", 2}}),
           "[topk] axis 2 out of range for f32[3,4]");
  CHECK_EQ(infer(OpKind::Topk, {t(DType::Bool, {3})}, {{"k", 1}}),
           "[topk] operand 0 must be a float or integer tensor, got bool[3]");
  CHECK_EQ(infer(OpKind::Topk, {f32({3, 4})}, {{"k", 2}, {"axis", 0}}),
           "<ok: f32[2,4] i64[2,4]>");
}

TEST_CASE("cumsum: type rules") {
  CHECK_EQ(infer(OpKind::Cumsum, {f32({3, 4})}, {{"axis", 2}}),
           "[cumsum] axis 2 out of range for f32[3,4]");
  CHECK_EQ(infer(OpKind::Cumsum, {t(DType::Bool, {3})}, {{"axis", 0}}),
           "[cumsum] operand 0 must be a float or integer tensor, got bool[3]");
  CHECK_EQ(infer(OpKind::Cumsum, {f32({3, 4})}),
           "[cumsum] missing required attribute 'axis' (i64)");
  CHECK_EQ(infer(OpKind::Cumsum, {t(DType::I32, {3, 4})}, {{"axis", -2}}), "<ok: i32[3,4]>");
}

TEST_CASE("index ops: out-of-range indices are data errors, without wraparound") {
  CHECK_EQ(run_error("func @f(%x: f64[2,3], %i: i64[2,1]) -> f64[2,1] {\n"
                     "  %y = gather %x, %i {axis = 1} : f64[2,1]\n  return %y\n}\n",
                     {{1, 2, 3, 4, 5, 6}, {0, 3}}),
           "index 3 out of range [0, 3) on axis 1 of f64[2,3]");
  CHECK_EQ(run_error("func @f(%x: f64[2,3], %i: i64[1]) -> f64[1,3] {\n"
                     "  %y = take %x, %i {axis = 0} : f64[1,3]\n  return %y\n}\n",
                     {{1, 2, 3, 4, 5, 6}, {-1}}),
           "index -1 out of range [0, 2) on axis 0 of f64[2,3]");
  CHECK_EQ(run_error("func @f(%t: f64[5,2], %i: i32[3]) -> f64[3,2] {\n"
                     "  %y = embedding %t, %i : f64[3,2]\n  return %y\n}\n",
                     {std::vector<double>(10, 1.0), {0, 7, 1}}),
           "id 7 out of range for a table of 5 rows");
  CHECK_EQ(run_error("func @f(%i: i64[2]) -> f32[2,3] {\n"
                     "  %y = one_hot %i {depth = 3} : f32[2,3]\n  return %y\n}\n",
                     {{2, 3}}),
           "id 3 out of range for depth 3");
  CHECK_EQ(run_error("func @f(%x: f64[2,3], %i: i64[2,1]) -> f64[2,1] {\n"
                     "  %y = gather %x, %i {axis = -1} : f64[2,1]\n  return %y\n}\n",
                     {{1, 2, 3, 4, 5, 6}, {2, 0}}),
           "<ok>");
}

TEST_CASE("empty results with a long dim evaluate without a long loop") {
  // 2^40 iterations of an empty inner loop would hang the interpreter (and a fuzzer).
  CHECK_EQ(run_error("func @f(%x: f32[1099511627776,0]) -> (f32[1099511627776,0], "
                     "i64[1099511627776,0]) {\n"
                     "  %v, %i = topk %x {k = 0} : f32[1099511627776,0], i64[1099511627776,0]\n"
                     "  return %v, %i\n}\n",
                     {{}}),
           "<ok>");
  CHECK_EQ(run_error("func @f(%x: f32[0,1099511627776]) -> f32[0,1099511627776] {\n"
                     "  %y = cumsum %x {axis = 0} : f32[0,1099511627776]\n  return %y\n}\n",
                     {{}}),
           "<ok>");
  CHECK_EQ(run_error("func @f(%a: f32[1099511627776,0,1], %b: f32[1,1]) -> "
                     "f32[1099511627776,0,1] {\n"
                     "  %y = matmul %a, %b : f32[1099511627776,0,1]\n  return %y\n}\n",
                     {{}, {2}}),
           "<ok>");
}

TEST_CASE("scatter_add: type rules and data errors") {
  CHECK_EQ(infer(OpKind::ScatterAdd, {f32({3, 4}), f32({3, 2}), f32({3, 2})}, {{"axis", 1}}),
           "[scatter_add] operand 1 must be an i32 or i64 tensor, got f32[3,2]");
  CHECK_EQ(infer(OpKind::ScatterAdd,
                 {t(DType::Bool, {3, 4}), i64({3, 2}), t(DType::Bool, {3, 2})}, {{"axis", 1}}),
           "[scatter_add] operand 0 must be a float, integer or complex tensor, got bool[3,4]");
  CHECK_EQ(infer(OpKind::ScatterAdd, {f32({3, 4}), i64({3, 2}), t(DType::F64, {3, 2})},
                 {{"axis", 1}}),
           "[scatter_add] operand dtypes differ: f32[3,4] vs f64[3,2] (insert a cast)");
  CHECK_EQ(infer(OpKind::ScatterAdd, {f32({3, 4}), i64({3, 2}), f32({3, 2})}, {{"axis", 2}}),
           "[scatter_add] axis 2 out of range for f32[3,4]");
  CHECK_EQ(infer(OpKind::ScatterAdd, {f32({3, 4}), i64({3, 2}), f32({3, 3})}, {{"axis", 1}}),
           "[scatter_add] indices i64[3,2] and updates f32[3,3] must have the same shape");
  CHECK_EQ(infer(OpKind::ScatterAdd, {f32({3, 4}), i64({2, 2}), f32({2, 2})}, {{"axis", 1}}),
           "[scatter_add] indices i64[2,2] must match f32[3,4] except on axis 1");
  CHECK_EQ(infer(OpKind::ScatterAdd, {f32({3, 4}), i64({3}), f32({3})}, {{"axis", 0}}),
           "[scatter_add] indices i64[3] must match f32[3,4] except on axis 0");
  CHECK_EQ(infer(OpKind::ScatterAdd, {f32({3, 4}), i64({3, 2}), f32({3, 2})}),
           "[scatter_add] missing required attribute 'axis' (i64)");
  CHECK_EQ(infer(OpKind::ScatterAdd, {f32({3, 4}), t(DType::I32, {3, 9}), f32({3, 9})},
                 {{"axis", -1}}),
           "<ok: f32[3,4]>");
  CHECK_EQ(infer(OpKind::ScatterAdd, {t(DType::C64, {2}), i64({0}), t(DType::C64, {0})},
                 {{"axis", 0}}),
           "<ok: c64[2]>");

  const char* f = "func @f(%b: f64[2,4], %i: i64[2,1], %u: f64[2,1]) -> f64[2,4] {\n"
                  "  %y = scatter_add %b, %i, %u {axis = 1} : f64[2,4]\n  return %y\n}\n";
  CHECK_EQ(run_error(f, {D(8, 0.0), {0, 4}, {1, 1}}),
           "index 4 out of range [0, 4) on axis 1 of f64[2,4]");
  CHECK_EQ(run_error(f, {D(8, 0.0), {-1, 0}, {1, 1}}),
           "index -1 out of range [0, 4) on axis 1 of f64[2,4]");
  CHECK_EQ(run_error(f, {D(8, 0.0), {3, 0}, {1, 1}}), "<ok>");
}

TEST_CASE("shape ops: VJP rules build the adjoint movement") {
  // Unit steps: one pad places the cotangent box.
  auto r = backward("func @f(%x: f64[3,4]) -> f64[2,2] {\n"
                    "  %y = slice %x {starts = [1, 2], ends = [3, 4]} : f64[2,2]\n"
                    "  return %y\n}\n",
                    {arr(t(DType::F64, {3, 4}), D(12, 0.0))},
                    arr(t(DType::F64, {2, 2}), {1, 2, 3, 4}));
  CHECK_EQ(r.ops, Names{"pad"});
  CHECK_EQ(r.grads.at(0).data, D{0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4});
  // A strided axis is interleaved with zeros; the last block's tail is trimmed.
  r = backward("func @f(%x: f64[6]) -> f64[2] {\n"
               "  %y = slice %x {starts = [1], ends = [5], steps = [3]} : f64[2]\n"
               "  return %y\n}\n",
               {arr(t(DType::F64, {6}), D(6, 0.0))}, arr(t(DType::F64, {2}), {7, 8}));
  CHECK_EQ(r.ops, Names{"reshape", "pad", "reshape", "slice", "pad"});
  CHECK_EQ(r.grads.at(0).data, D{0, 7, 0, 0, 8, 0});
  // A step on an axis with one result is ignored (n * step would overflow).
  r = backward("func @f(%x: f64[3]) -> f64[1] {\n"
               "  %y = slice %x {starts = [2], ends = [3], steps = [4611686018427387904]} : "
               "f64[1]\n  return %y\n}\n",
               {arr(t(DType::F64, {3}), D(3, 0.0))}, arr(t(DType::F64, {1}), {5}));
  CHECK_EQ(r.ops, Names{"pad"});
  CHECK_EQ(r.grads.at(0).data, D{0, 0, 5});
  // The whole array: no node at all.
  r = backward("func @f(%x: f64[2]) -> f64[2] {\n"
               "  %y = slice %x {starts = [0], ends = [2]} : f64[2]\n  return %y\n}\n",
               {arr(t(DType::F64, {2}), D(2, 0.0))}, arr(t(DType::F64, {2}), {1, 2}));
  CHECK(r.ops.empty());

  // Complex broadcast: the parts are reduced separately (sum has no complex kernel).
  r = backward("func @f(%x: c128[2,1]) -> c128[2,2,3] {\n"
               "  %y = broadcast_to %x {shape = [2, 2, 3]} : c128[2,2,3]\n  return %y\n}\n",
               {arr(t(DType::C128, {2, 1}), D(2, 0.0), D(2, 0.0))},
               arr(t(DType::C128, {2, 2, 3}), {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
                   {0, 0, 0, 1, 1, 1, 0, 0, 0, 2, 2, 2}));
  CHECK_EQ(r.grads.at(0).data, D{1 + 2 + 3 + 7 + 8 + 9, 4 + 5 + 6 + 10 + 11 + 12});
  CHECK_EQ(r.grads.at(0).imag, D{0, 9});

  r = backward("func @f(%a: f64[2,1], %b: f64[2,2]) -> f64[2,3] {\n"
               "  %y = concat %a, %b {axis = -1} : f64[2,3]\n  return %y\n}\n",
               {arr(t(DType::F64, {2, 1}), D(2, 0.0)), arr(t(DType::F64, {2, 2}), D(4, 0.0))},
               arr(t(DType::F64, {2, 3}), {1, 2, 3, 4, 5, 6}));
  CHECK_EQ(r.ops, Names{"slice", "slice"});
  CHECK_EQ(r.grads.at(0).data, D{1, 4});
  CHECK_EQ(r.grads.at(1).data, D{2, 3, 5, 6});

  r = backward("func @f(%x: f64[2,3]) -> f64[3,2] {\n"
               "  %y = transpose %x {perm = [1, 0]} : f64[3,2]\n  return %y\n}\n",
               {arr(t(DType::F64, {2, 3}), D(6, 0.0))},
               arr(t(DType::F64, {3, 2}), {1, 2, 3, 4, 5, 6}));
  CHECK_EQ(r.grads.at(0).data, D{1, 3, 5, 2, 4, 6});
}

TEST_CASE("index ops: VJP rules scatter-add the cotangent") {
  // Repeated indices accumulate.
  auto r = backward("func @f(%x: f64[2,3], %i: i64[2,2]) -> f64[2,2] {\n"
                    "  %y = gather %x, %i {axis = 1} : f64[2,2]\n  return %y\n}\n",
                    {arr(t(DType::F64, {2, 3}), D(6, 0.0)), arr(i64({2, 2}), {0, 0, 2, 0})},
                    arr(t(DType::F64, {2, 2}), {1, 2, 3, 4}));
  CHECK_EQ(r.ops, Names{"full", "scatter_add"});
  CHECK_EQ(r.grads.at(0).data, D{3, 0, 0, 4, 0, 3});

  r = backward("func @f(%b: f64[2,3], %i: i64[2,2], %u: f64[2,2]) -> f64[2,3] {\n"
               "  %y = scatter_add %b, %i, %u {axis = 1} : f64[2,3]\n  return %y\n}\n",
               {arr(t(DType::F64, {2, 3}), D(6, 0.0)), arr(i64({2, 2}), {2, 2, 1, 0}),
                arr(t(DType::F64, {2, 2}), D(4, 0.0))},
               arr(t(DType::F64, {2, 3}), {1, 2, 3, 4, 5, 6}));
  CHECK_EQ(r.ops, Names{"gather"});
  CHECK_EQ(r.grads.at(0).data, D{1, 2, 3, 4, 5, 6});
  CHECK_EQ(r.grads.at(1).data, D{3, 3, 5, 4});

  // take: the [2,2] index is flattened and broadcast into gather form.
  r = backward("func @f(%x: f64[3,2], %i: i64[2,2]) -> f64[2,2,2] {\n"
               "  %y = take %x, %i {axis = 0} : f64[2,2,2]\n  return %y\n}\n",
               {arr(t(DType::F64, {3, 2}), D(6, 0.0)), arr(i64({2, 2}), {2, 0, 2, 2})},
               arr(t(DType::F64, {2, 2, 2}), {1, 2, 3, 4, 5, 6, 7, 8}));
  CHECK_EQ(r.grads.at(0).data, D{3, 4, 0, 0, 1 + 5 + 7, 2 + 6 + 8});
  // A rank-0 index drops the axis.
  r = backward("func @f(%x: f64[2,3], %i: i32[]) -> f64[2] {\n"
               "  %y = take %x, %i {axis = 1} : f64[2]\n  return %y\n}\n",
               {arr(t(DType::F64, {2, 3}), D(6, 0.0)), arr(t(DType::I32, {}), {1})},
               arr(t(DType::F64, {2}), {5, 6}));
  CHECK_EQ(r.grads.at(0).data, D{0, 5, 0, 0, 6, 0});

  r = backward("func @f(%t: f64[3,2], %i: i32[3]) -> f64[3,2] {\n"
               "  %y = embedding %t, %i : f64[3,2]\n  return %y\n}\n",
               {arr(t(DType::F64, {3, 2}), D(6, 0.0)), arr(t(DType::I32, {3}), {1, 1, 0})},
               arr(t(DType::F64, {3, 2}), {1, 2, 3, 4, 5, 6}));
  CHECK_EQ(r.grads.at(0).data, D{5, 6, 4, 6, 0, 0});

  // topk: the values' cotangent returns to where each value came from.
  r = backward("func @f(%x: f64[2,3]) -> (f64[2,2], i64[2,2]) {\n"
               "  %v, %i = topk %x {k = 2} : f64[2,2], i64[2,2]\n  return %v, %i\n}\n",
               {arr(t(DType::F64, {2, 3}), {3, 1, 2, -1, 5, 0})},
               arr(t(DType::F64, {2, 2}), {10, 20, 30, 40}));
  CHECK_EQ(r.grads.at(0).data, D{10, 0, 20, 0, 30, 40});
}
