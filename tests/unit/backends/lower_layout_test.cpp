// lower_layout_test.cpp: strided layouts (backends/cpu/layout.h): every composition is
// checked element by element against the interpreter's view ops, and the reshapes that
// strides cannot express are refused.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "backends/cpu/layout.h"
#include "ir/builder.h"
#include "ir/interp/interpreter.h"

using namespace tevo;
using cpu::Layout;
using ir::OpKind;
using Ints = std::vector<int64_t>;

namespace {

/// Reads element f (row-major over l.dims) of a buffer through layout l.
double read(const std::vector<double>& buf, const Layout& l, int64_t f) {
  int64_t pos = l.offset;
  for (size_t i = l.dims.size(); i-- > 0;) {
    pos += (f % l.dims[i]) * l.strides[i];
    f /= l.dims[i];
  }
  return buf.at(static_cast<size_t>(pos));
}

/// Applies view `op` to a dense iota tensor of `dims` with the interpreter and with layouts,
/// and checks every element; returns false when the layout refused.
bool agrees(const Ints& dims, OpKind op, const ir::AttrList& attrs) {
  ir::Graph g("v");
  ir::Builder b(g);
  ir::TensorType t{ir::DType::F64, ir::Shape(dims)};
  ir::Value* x = g.add_input(t, "x");
  ir::Node* n = b.create(op, {x}, attrs);
  g.outputs = {n->result(0)};
  ir::interp::Array in(t);
  for (int64_t i = 0; i < in.numel(); ++i)
    in[i] = static_cast<double>(i);
  ir::interp::Array want = ir::interp::run(g, {in})[0];
  std::optional<Layout> l = cpu::apply_view(Layout::dense(dims), *n);
  if (!l)
    return false;
  CHECK_EQ(l->dims, n->result(0)->type.shape.to_vector());
  std::vector<double> buf(static_cast<size_t>(in.numel()));
  for (int64_t i = 0; i < in.numel(); ++i)
    buf[static_cast<size_t>(i)] = static_cast<double>(i);
  for (int64_t f = 0; f < want.numel(); ++f)
    REQUIRE_EQ(read(buf, *l, f), want[f]);
  return true;
}

} // namespace

TEST_CASE("layout: dense layouts are contiguous, strides of extent-1 dims do not matter") {
  Layout d = Layout::dense({2, 3, 4});
  CHECK_EQ(d.strides, Ints{12, 4, 1});
  CHECK(d.dense_at_origin());
  CHECK_EQ(d.extent_end(), 24);
  Layout one{{2, 1, 4}, {4, 99, 1}, 8};
  CHECK(one.contiguous());
  CHECK_FALSE(one.dense_at_origin());
  CHECK_EQ(one.str(), "[2,1,4]/[4,99,1]+8");
  Layout empty{{0, 5}, {7, 3}, 2};
  CHECK(empty.contiguous());
  CHECK_EQ(empty.extent_end(), 2);
}

TEST_CASE("layout: transpose swaps strides, slice offsets and scales them") {
  auto t = cpu::layout_transpose(Layout::dense({4, 8}), {1, 0});
  REQUIRE(t);
  CHECK_EQ(t->dims, Ints{8, 4});
  CHECK_EQ(t->strides, Ints{1, 8});
  CHECK_FALSE(t->contiguous());
  auto s = cpu::layout_slice(Layout::dense({4, 8}), {1, 2}, {3, 8}, {1, 3});
  REQUIRE(s);
  CHECK_EQ(s->dims, Ints{2, 2});
  CHECK_EQ(s->strides, Ints{8, 3});
  CHECK_EQ(s->offset, 10);
  auto rows = cpu::layout_slice(Layout::dense({4, 8}), {1, 0}, {3, 8}, {});
  REQUIRE(rows);
  CHECK(rows->contiguous()); // whole rows: a plain byte range
  CHECK_EQ(rows->offset, 8);
}

TEST_CASE("layout: broadcast_to gives stride 0 to new and expanded dims") {
  Layout x{{3, 1}, {1, 1}, 0};
  auto b = cpu::layout_broadcast_to(x, {2, 3, 5});
  REQUIRE(b);
  CHECK_EQ(b->strides, Ints{0, 1, 0});
  CHECK_EQ(b->extent_end(), 3);
}

TEST_CASE("layout: reshape splits and merges row-major groups, refuses transposed merges") {
  auto r = cpu::layout_reshape(Layout::dense({6, 4}), {2, 3, 2, 2});
  REQUIRE(r);
  CHECK_EQ(r->strides, Ints{12, 4, 2, 1});
  auto t = cpu::layout_transpose(Layout::dense({4, 6}), {1, 0}); // [6,4] / [1,6]
  REQUIRE(t);
  // Splitting a transposed dim is fine; merging the transposed pair is not.
  auto split = cpu::layout_reshape(*t, {2, 3, 4});
  REQUIRE(split);
  CHECK_EQ(split->strides, Ints{3, 1, 6});
  CHECK_FALSE(cpu::layout_reshape(*t, {24}).has_value());
  // Merging two broadcast dims keeps stride 0; merging broadcast with real data cannot.
  Layout bc{{3, 4}, {0, 0}, 0};
  auto m = cpu::layout_reshape(bc, {12});
  REQUIRE(m);
  CHECK_EQ(m->strides, Ints{0});
  CHECK_FALSE(cpu::layout_reshape(Layout{{3, 4}, {0, 1}, 0}, {12}).has_value());
  // Extent-1 dims may appear and disappear anywhere.
  auto ones = cpu::layout_reshape(*t, {1, 6, 1, 4, 1});
  REQUIRE(ones);
  CHECK_EQ(ones->dims, (Ints{1, 6, 1, 4, 1}));
  CHECK_EQ(ones->strides[1], 1);
  CHECK_EQ(ones->strides[3], 6);
}

TEST_CASE("layout: every view agrees with the interpreter element by element") {
  CHECK(agrees({2, 3, 4}, OpKind::Transpose, {{"perm", Ints{2, 0, 1}}}));
  CHECK(agrees({2, 3, 4}, OpKind::Reshape, {{"shape", Ints{6, 4}}}));
  CHECK(agrees({2, 3, 4}, OpKind::Reshape, {{"shape", Ints{2, 1, 12}}}));
  CHECK(agrees({3, 1}, OpKind::BroadcastTo, {{"shape", Ints{2, 3, 5}}}));
  CHECK(agrees({5, 6}, OpKind::Slice,
               {{"starts", Ints{1, 0}}, {"ends", Ints{5, 6}}, {"steps", Ints{2, 4}}}));
}

TEST_CASE("layout: random view chains agree with the interpreter or are refused") {
  std::mt19937 rng(7);
  int refused = 0, checked = 0;
  for (int trial = 0; trial < 200; ++trial) {
    Ints dims{2, 3, 4};
    std::shuffle(dims.begin(), dims.end(), rng);
    ir::Graph g("chain");
    ir::Builder b(g);
    ir::TensorType t{ir::DType::F64, ir::Shape(dims)};
    ir::Value* v = g.add_input(t, "x");
    std::optional<Layout> l = Layout::dense(dims);
    for (int step = 0; step < 3; ++step) {
      Ints cur = v->type.shape.to_vector();
      int kind = static_cast<int>(rng() % 3);
      ir::Node* n = nullptr;
      if (kind == 0) {
        Ints perm(cur.size());
        std::iota(perm.begin(), perm.end(), 0);
        std::shuffle(perm.begin(), perm.end(), rng);
        n = b.create(OpKind::Transpose, {v}, {{"perm", perm}});
      } else if (kind == 1) {
        Ints shapes[] = {{24}, {6, 4}, {4, 6}, {2, 12}, {3, 8}, {2, 3, 4}, {4, 3, 2}};
        n = b.create(OpKind::Reshape, {v}, {{"shape", shapes[rng() % 7]}});
      } else {
        Ints starts(cur.size(), 0), ends = cur;
        if (!cur.empty() && cur[0] > 1)
          starts[0] = 1;
        n = b.create(OpKind::Slice, {v}, {{"starts", starts}, {"ends", ends}});
      }
      v = n->result(0);
      if (l)
        l = cpu::apply_view(*l, *n);
      if (v->type.numel() != 24) // the reshapes above need all 24 elements
        break;
    }
    g.outputs = {v};
    ir::interp::Array in(t);
    std::vector<double> buf(24);
    for (int64_t i = 0; i < 24; ++i)
      buf[static_cast<size_t>(i)] = in[i] = static_cast<double>(i);
    ir::interp::Array want = ir::interp::run(g, {in})[0];
    if (!l) {
      ++refused;
      continue;
    }
    ++checked;
    for (int64_t f = 0; f < want.numel(); ++f)
      REQUIRE_EQ(read(buf, *l, f), want[f]);
  }
  CHECK_GT(refused, 0);
  CHECK_GT(checked, 50);
}
