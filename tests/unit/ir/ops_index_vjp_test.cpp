// ops_index_vjp_test.cpp: gather's gradient rule: the scatter of the cotangent into zeros,
// and its elementwise form when each row picks one element (cross-entropy's target),
// checked against a scatter-add written out here, with repeated picks and every axis.
#include "ir/builder.h"
#include "ir/interp/interpreter.h"
#include "ir/parser.h"
#include "ir/verifier.h"
#include "ir/vjp.h"

#include <algorithm>

#include <doctest/doctest.h>

using namespace tevo;
using namespace tevo::ir;

namespace {

using Ints = std::vector<int64_t>;

/// dx of y = gather(x, idx, axis) for cotangent dy, by gather's VJP rule on the
/// interpreter; `ops` receives the op names of the rule's graph.
interp::Array rule(const std::string& text, const interp::Array& x, const interp::Array& idx,
                   const interp::Array& dy, std::vector<std::string>& ops) {
  auto g = parse_graph(text, "t.tir");
  Value* seed = g->add_input(g->outputs[0]->type, "");
  const Node& n = *g->nodes()[0];
  Builder b(*g);
  VjpCtx ctx{b, n, {seed}, {true, false}};
  std::vector<Value*> grads = n.def().vjp(ctx);
  REQUIRE(grads.at(0) != nullptr);
  g->outputs = {grads[0]};
  auto err = verify(*g);
  REQUIRE_MESSAGE(!err.has_value(), (err ? err->str() : ""));
  for (const auto& m : g->nodes())
    ops.emplace_back(m->def().name);
  return interp::run(*g, {x, idx, dy}).at(0);
}

/// Row-major position of multi-index `i` in `dims`.
int64_t flat(const Ints& i, const Ints& dims) {
  int64_t f = 0;
  for (size_t d = 0; d < dims.size(); ++d)
    f = f * dims[d] + i[d];
  return f;
}

} // namespace

TEST_CASE("gather vjp: one pick per row is a select, several picks a scatter, both add up "
          "the cotangent where the indices point") {
  struct C {
    Ints xd, id;
    int64_t axis;
    bool select;
  };
  for (C c : {C{{5, 7}, {5, 1}, 1, true}, C{{4, 3, 6}, {4, 1, 6}, 1, true},
              C{{4, 3, 6}, {1, 3, 6}, 0, true}, C{{5, 7}, {5, 3}, 1, false},
              C{{4, 3, 6}, {4, 3, 2}, -1, false}}) {
    std::string text = fmt::format(
        "func @f(%x: f64[{}], %i: i64[{}]) -> f64[{}] {{\n"
        "  %y = gather %x, %i {{axis = {}}} : f64[{}]\n  return %y\n}}\n",
        fmt::join(c.xd, ","), fmt::join(c.id, ","), fmt::join(c.id, ","), c.axis,
        fmt::join(c.id, ","));
    CAPTURE(text);
    int64_t axis = c.axis < 0 ? c.axis + static_cast<int64_t>(c.xd.size()) : c.axis;
    interp::Array x(TensorType{DType::F64, Shape(c.xd)});
    interp::Array idx(TensorType{DType::I64, Shape(c.id)});
    interp::Array dy(TensorType{DType::F64, Shape(c.id)});
    for (int64_t k = 0; k < idx.numel(); ++k) {
      idx[k] = static_cast<double>((k * 5 + 3) % c.xd[static_cast<size_t>(axis)]);
      dy[k] = 0.25 * static_cast<double>(k + 1);
    }
    // The reference: dx = zeros; dx[.., idx[.., k, ..], ..] += dy[.., k, ..].
    interp::Array want(x.type);
    for (int64_t k = 0; k < idx.numel(); ++k) {
      Ints at(c.id.size());
      for (size_t d = c.id.size(), r = static_cast<size_t>(k); d-- > 0;) {
        at[d] = static_cast<int64_t>(r % static_cast<size_t>(c.id[d]));
        r /= static_cast<size_t>(c.id[d]);
      }
      at[static_cast<size_t>(axis)] = static_cast<int64_t>(idx[k]);
      want[flat(at, c.xd)] += dy[k];
    }
    std::vector<std::string> ops;
    interp::Array got = rule(text, x, idx, dy, ops);
    for (int64_t k = 0; k < got.numel(); ++k)
      CHECK(got[k] == want[k]);
    bool scatter = std::find(ops.begin(), ops.end(), std::string("scatter_add")) != ops.end();
    CHECK(scatter == !c.select);
  }
}
