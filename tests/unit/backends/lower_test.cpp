// lower_test.cpp: hand-written fused graphs -> plans (backends/cpu/lower.h): names,
// in-place reuse, views as aliases or copies, output copies, library calls, runtime ops,
// errors, and a golden listing.
#include <doctest/doctest.h>

#include "backends/cpu/layout.h"
#include "backends/cpu/lower_internal.h"
#include "ir/interp/interpreter.h"
#include "ir/printer.h"
#include "lower_test_util.h"

using namespace tevo;
using Ints = std::vector<int64_t>;
using lower_test::check_memory;
using lower_test::parse;
using Kind = rt::Step::Kind;

namespace {

int count(const rt::Plan& p, Kind k) {
  return static_cast<int>(std::count_if(p.steps.begin(), p.steps.end(),
                                        [&](const rt::Step& s) { return s.kind == k; }));
}

cpu::Lowered lower_text(const std::string& text, std::unique_ptr<ir::Module>& m) {
  cpu::Lowered low = cpu::lower(parse(text, m));
  check_memory(low);
  return low;
}

/// A chain of `n` elementwise loop groups over x: f32[64,64].
const char* kChain = R"(
func @chain(%x: f32[64,64]) -> f32[64,64] {
  %a = fused %x {body = region(%i: f32[64,64]) -> f32[64,64] {
    %r = exp %i : f32[64,64]
    return %r
  }} : f32[64,64]
  %b = fused %a {body = region(%i: f32[64,64]) -> f32[64,64] {
    %r = tanh %i : f32[64,64]
    return %r
  }} : f32[64,64]
  %c = fused %b {body = region(%i: f32[64,64]) -> f32[64,64] {
    %r = neg %i : f32[64,64]
    return %r
  }} : f32[64,64]
  %d = fused %c {body = region(%i: f32[64,64]) -> f32[64,64] {
    %r = sqrt %i : f32[64,64]
    return %r
  }} : f32[64,64]
  return %d
}
)";

} // namespace

TEST_CASE("lower: input names are the printed names, outputs their value name or out<i>") {
  std::unique_ptr<ir::Module> m;
  cpu::Lowered low = lower_text(R"(
func @names(%0: f32[2], %w: f32[2] param, %1: f32[2]) -> (f32[2], f32[2], f32[2], f32[2]) {
  %y = fused %0, %w {body = region(%a: f32[2], %b: f32[2]) -> f32[2] {
    %r = add %a, %b : f32[2]
    return %r
  }} : f32[2]
  %5 = fused %y {body = region(%a: f32[2]) -> f32[2] {
    %r = exp %a : f32[2]
    return %r
  }} : f32[2]
  return %y, %5, %y, %w
}
)",
                                m);
  const rt::Plan& p = low.plan;
  REQUIRE_EQ(p.inputs.size(), 3);
  CHECK_EQ(p.inputs[0].name, "0");
  CHECK_EQ(p.inputs[1].name, "w");
  CHECK_EQ(p.inputs[2].name, "1");
  std::string printed = ir::print_graph(*m->funcs[0]);
  CHECK(printed.find("(%0: f32[2], %w: f32[2] param, %1: f32[2])") != std::string::npos);
  REQUIRE_EQ(p.outputs.size(), 4);
  CHECK_EQ(p.outputs[0].name, "y");
  CHECK_EQ(p.outputs[1].name, "out1");
  CHECK_EQ(p.outputs[2].name, "y_1"); // the same value again: a unique name and a copy
  CHECK_EQ(p.outputs[3].name, "w");
  CHECK_EQ(p.outputs[3].shape, Ints{2});
  // %y is written straight into output 0; output 2 and output 3 (an input) are copies.
  REQUIRE_EQ(p.copies.size(), 2);
  CHECK_EQ(p.arena_bytes, 0); // nothing is scratch
  for (const rt::CopyStep& c : p.copies)
    CHECK_EQ(c.bytes, 8);
  CHECK_EQ(p.buffers[static_cast<size_t>(p.copies[0].from.buffer)].storage, rt::Storage::Input);
  CHECK_EQ(p.buffers[static_cast<size_t>(p.copies[1].from.buffer)].storage, rt::Storage::Output);
  CHECK_EQ(p.buffers[static_cast<size_t>(p.copies[1].to.buffer)].index, 2);
}

TEST_CASE("lower: an elementwise chain runs in place and needs one buffer, not three") {
  std::unique_ptr<ir::Module> m;
  cpu::Lowered low = lower_text(kChain, m);
  const rt::Plan& p = low.plan;
  CHECK_EQ(count(p, Kind::Kernel), 4);
  CHECK(p.copies.empty());
  // %a, %b, %c are scratch (%d is the output); each overwrites its dying operand.
  CHECK_EQ(low.stats.scratch_values, 3);
  CHECK_EQ(low.stats.no_reuse_bytes, 3 * 64 * 64 * 4);
  CHECK_EQ(low.stats.arena_bytes, 64 * 64 * 4);
  CHECK_LT(low.stats.arena_bytes, low.stats.no_reuse_bytes);
  CHECK_EQ(low.stats.inplace_reuses, 2);
  CHECK(low.kernels[0].inplace.empty()); // reads the caller's input
  CHECK_EQ(low.kernels[1].inplace, std::vector<std::pair<int, int>>{{0, 0}});
  CHECK_EQ(low.kernels[2].inplace, std::vector<std::pair<int, int>>{{0, 0}});
  CHECK(low.kernels[3].inplace.empty()); // writes the caller's output
  CHECK_EQ(p.kernels[1].args[0].buffer != p.kernels[1].args[1].buffer, true);
  CHECK_EQ(p.buffers[static_cast<size_t>(p.kernels[1].args[0].buffer)].offset,
           p.buffers[static_cast<size_t>(p.kernels[1].args[1].buffer)].offset);
}

TEST_CASE("lower: without in-place reuse a chain still alternates two buffers") {
  // %a is read twice (by %b and by %c), so %b cannot overwrite it.
  std::unique_ptr<ir::Module> m;
  cpu::Lowered low = lower_text(R"(
func @f(%x: f32[16]) -> f32[16] {
  %a = fused %x {body = region(%i: f32[16]) -> f32[16] {
    %r = exp %i : f32[16]
    return %r
  }} : f32[16]
  %b = fused %a {body = region(%i: f32[16]) -> f32[16] {
    %r = exp %i : f32[16]
    return %r
  }} : f32[16]
  %c = fused %a, %b {body = region(%i: f32[16], %j: f32[16]) -> f32[16] {
    %r = add %i, %j : f32[16]
    return %r
  }} : f32[16]
  return %c
}
)",
                                m);
  CHECK(low.kernels[1].inplace.empty());
  CHECK_EQ(low.stats.arena_bytes, 128);
}

TEST_CASE("lower: in-place is refused when the operand is read through a view") {
  std::unique_ptr<ir::Module> m;
  cpu::Lowered low = lower_text(R"(
func @f(%x: f32[8,8]) -> f32[8,8] {
  %a = fused %x {body = region(%i: f32[8,8]) -> f32[8,8] {
    %r = exp %i : f32[8,8]
    return %r
  }} : f32[8,8]
  %t = fused %a {body = region(%i: f32[8,8]) -> f32[8,8] {
    %s = transpose %i {perm = [1, 0]} : f32[8,8]
    %r = exp %s : f32[8,8]
    return %r
  }} : f32[8,8]
  %c = fused %x {body = region(%i: f32[8,8]) -> f32[8,8] {
    %r = exp %i : f32[8,8]
    return %r
  }} : f32[8,8]
  %tv = transpose %c {perm = [1, 0]} : f32[8,8]
  %d = fused %tv {body = region(%i: f32[8,8]) -> f32[8,8] {
    %r = exp %i : f32[8,8]
    return %r
  }} : f32[8,8]
  %n = fused %x {body = region(%i: f32[8,8]) -> f32[8,8] {
    %r = exp %i : f32[8,8]
    return %r
  }} : f32[8,8]
  %sm = fused %n {body = region(%i: f32[8,8]) -> f32[8,8] {
    %m = sum %i {axes = [1], keepdims = true} : f32[8,1]
    %r = div %i, %m : f32[8,8]
    return %r
  }} : f32[8,8]
  %u = fused %t, %d, %sm {body = region(%i: f32[8,8], %j: f32[8,8], %k: f32[8,8]) -> f32[8,8] {
    %s = add %i, %j : f32[8,8]
    %r = add %s, %k : f32[8,8]
    return %r
  }} : f32[8,8]
  return %u
}
)",
                                m);
  // %t reads %a transposed inside its body.
  CHECK(low.kernels[1].inplace.empty());
  // %d reads %c through a standalone transpose (a strided operand).
  CHECK_FALSE(low.kernels[3].operand_strides[0].empty());
  CHECK(low.kernels[3].inplace.empty());
  // %sm reads %n in its reduction loop before it writes the row.
  CHECK(low.kernels[5].inplace.empty());
  CHECK_EQ(low.stats.inplace_reuses, 0);
}

TEST_CASE("lower: in-place candidates follow elementwise same-shape paths only") {
  std::unique_ptr<ir::Module> m;
  const ir::Graph& g = parse(R"(
func @f(%x: f32[4,8], %v: f32[8], %y: f32[4,8], %z: f32[4,8]) -> (f32[4,8], f32[4], f32[8], f32[4,8], f32[4,8]) {
  %a, %s, %e, %p, %q = fused %x, %v, %y, %z {body = region(%i: f32[4,8], %b: f32[8], %j: f32[4,8], %k: f32[4,8]) -> (f32[4,8], f32[4], f32[8], f32[4,8], f32[4,8]) {
    %ex = exp %i : f32[4,8]
    %r = add %ex, %b : f32[4,8]
    %m = sum %j {axes = [1]} : f32[4]
    %eb = exp %b : f32[8]
    %k1 = neg %k : f32[4,8]
    %k2 = abs %k : f32[4,8]
    return %r, %m, %eb, %k1, %k2
  }} : f32[4,8], f32[4], f32[8], f32[4,8], f32[4,8]
  return %a, %s, %e, %p, %q
}
)",
                             m);
  // x reaches only %r, elementwise; v is broadcast into %r (even though %eb has its size);
  // y is reduced; z reaches two results.
  std::vector<std::pair<int, int>> want{{0, 0}};
  CHECK_EQ(cpu::detail::inplace_candidates(*g.nodes()[0]), want);
}

TEST_CASE("lower: a transposed weight feeds the matmul as swapped strides, not a copy") {
  std::unique_ptr<ir::Module> m;
  cpu::Lowered low = lower_text(R"(
func @f(%x: f32[4,8], %w: f32[16,8]) -> f32[4,16] {
  %wt = transpose %w {perm = [1, 0]} : f32[8,16]
  %y = matmul %x, %wt : f32[4,16]
  return %y
}
)",
                                m);
  const rt::Plan& p = low.plan;
  REQUIRE_EQ(p.steps.size(), 1);
  REQUIRE_EQ(p.matmuls.size(), 1);
  const rt::MatmulStep& mm = p.matmuls[0];
  CHECK_EQ(mm.b.dims, Ints{8, 16});
  CHECK_EQ(mm.b.strides, Ints{1, 8});
  CHECK_EQ(p.buffers[static_cast<size_t>(mm.b.at.buffer)].storage, rt::Storage::Input);
  CHECK_EQ(mm.a.strides, Ints{8, 1});
  CHECK_EQ(mm.c.dims, Ints{4, 16});
  CHECK_EQ(p.buffers[static_cast<size_t>(mm.c.at.buffer)].storage, rt::Storage::Output);
  CHECK_EQ(low.stats.views_aliased, 1);
  CHECK_EQ(low.stats.views_copied, 0);
}

TEST_CASE("lower: a library group becomes one matmul with its epilogue as post-ops") {
  std::unique_ptr<ir::Module> m;
  cpu::Lowered low = lower_text(R"(
func @f(%x: f32[2,4,8], %w: f32[16,8], %bias: f32[16]) -> f32[2,4,16] {
  %y = fused %x, %w, %bias {kind = "library", body = region(%a: f32[2,4,8], %b: f32[16,8], %c: f32[16]) -> f32[2,4,16] {
    %bt = transpose %b {perm = [1, 0]} : f32[8,16]
    %m = matmul %a, %bt : f32[2,4,16]
    %s = add %m, %c : f32[2,4,16]
    %g = gelu %s {approximate = "tanh"} : f32[2,4,16]
    %k = full {shape = [], value = 0.5} : f32[]
    %o = mul %g, %k : f32[2,4,16]
    return %o
  }} : f32[2,4,16]
  return %y
}
)",
                                m);
  const rt::Plan& p = low.plan;
  REQUIRE_EQ(p.steps.size(), 1);
  const rt::MatmulStep& mm = p.matmuls[0];
  // The weight is shared by the batch: batch and rows fold into one GEMM of 8 rows.
  CHECK_EQ(mm.a.dims, Ints{8, 8});
  CHECK_EQ(mm.b.dims, Ints{8, 16});
  CHECK_EQ(mm.b.strides, Ints{1, 8}); // the transposed weight, not copied
  CHECK_EQ(mm.c.dims, Ints{8, 16});
  REQUIRE_EQ(mm.post_ops.size(), 3);
  CHECK_EQ(mm.post_ops[0].kind, rt::PostOp::Kind::Binary);
  CHECK_EQ(cpu::format_plan(p).find("add(b2+0:f32[1,16]/[16,1])") != std::string::npos, true);
  CHECK_EQ(mm.post_ops[1].kind, rt::PostOp::Kind::Eltwise);
  CHECK_EQ(mm.post_ops[2].alpha, 0.5f);
  std::string listing = cpu::format_plan(p);
  CHECK(listing.find("gelu_tanh") != std::string::npos);
  CHECK(listing.find("linear(alpha=0.5, beta=0)") != std::string::npos);
}

TEST_CASE("lower: batch dims that cannot fold into the rows stay a broadcast batch") {
  // a is transposed per batch element: its rows do not step over the batch as one dim,
  // so the product stays batched, with the shared weight as a broadcast batch.
  std::unique_ptr<ir::Module> m;
  cpu::Lowered low = lower_text(R"(
func @f(%x: f32[2,8,4], %w: f32[8,16], %r: f32[2,4,16]) -> f32[2,4,16] {
  %y = fused %x, %w, %r {kind = "library", body = region(%a: f32[2,8,4], %b: f32[8,16], %c: f32[2,4,16]) -> f32[2,4,16] {
    %at = transpose %a {perm = [0, 2, 1]} : f32[2,4,8]
    %m = matmul %at, %b : f32[2,4,16]
    %s = add %m, %c : f32[2,4,16]
    return %s
  }} : f32[2,4,16]
  return %y
}
)",
                                m);
  const rt::Plan& p = low.plan;
  REQUIRE_EQ(p.matmuls.size(), 1);
  const rt::MatmulStep& mm = p.matmuls[0];
  CHECK_EQ(mm.a.dims, Ints{2, 4, 8});
  CHECK_EQ(mm.a.strides, Ints{32, 1, 4});
  CHECK_EQ(mm.b.dims, Ints{1, 8, 16});   // a batch broadcast: extent 1, not stride 0
  CHECK_EQ(mm.b.strides, Ints{128, 16, 1}); // the extent-1 dim gets a nonzero stride
  CHECK_EQ(mm.c.dims, Ints{2, 4, 16});
}

TEST_CASE("lower: a library epilogue oneDNN cannot express is a located error") {
  std::unique_ptr<ir::Module> m;
  const ir::Graph& g = parse(R"(
func @f(%x: f32[4,8], %w: f32[8,16]) -> f32[4,16] {
  %y = fused %x, %w {kind = "library", body = region(%a: f32[4,8], %b: f32[8,16]) -> f32[4,16] {
    %m = matmul %a, %b : f32[4,16]
    %s = sin %m : f32[4,16]
    return %s
  }} : f32[4,16]
  return %y
}
)",
                             m);
  CHECK_THROWS_WITH_AS(cpu::lower(g),
                       "test.tir:3:3: error: [fused] library group: sin cannot be a oneDNN post-op",
                       ir::Error);
}

TEST_CASE("lower: a view strides cannot express becomes a synthetic copy group") {
  std::unique_ptr<ir::Module> m;
  cpu::Lowered low = lower_text(R"(
func @f(%x: f32[4,6]) -> f32[24] {
  %e = fused %x {body = region(%i: f32[4,6]) -> f32[4,6] {
    %r = exp %i : f32[4,6]
    return %r
  }} : f32[4,6]
  %t = transpose %e {perm = [1, 0]} : f32[6,4]
  %r = reshape %t {shape = [24]} : f32[24]
  %y = fused %r {body = region(%i: f32[24]) -> f32[24] {
    %o = neg %i : f32[24]
    return %o
  }} : f32[24]
  return %y
}
)",
                                m);
  const rt::Plan& p = low.plan;
  REQUIRE_EQ(p.kernels.size(), 3);
  CHECK_EQ(low.stats.views_aliased, 1); // the transpose
  CHECK_EQ(low.stats.views_copied, 1);  // the reshape of it
  const ir::Node& copy = *low.kernels[1].group;
  CHECK_EQ(copy.op, ir::OpKind::Fused);
  CHECK_EQ(copy.attrs.get("kind").str(), "loop");
  CHECK_EQ(low.synthetic->index_of(&copy), 0);
  // The copy reads %e transposed (strides), its body is the reshape.
  CHECK_EQ(low.kernels[1].operand_strides[0], Ints{1, 6});
  const ir::Graph& body = *copy.attrs.get("body").region();
  REQUIRE_EQ(body.nodes().size(), 1);
  CHECK_EQ(body.nodes()[0]->op, ir::OpKind::Reshape);
  // The synthetic group computes what the view computes.
  ir::interp::Array in(copy.operand(0)->type);
  for (int64_t i = 0; i < in.numel(); ++i)
    in[i] = static_cast<double>(i);
  const ir::interp::Array* args[] = {&in};
  ir::interp::Array got = ir::interp::eval_node(copy, args)[0];
  ir::interp::Array want = ir::interp::eval_node(*m->funcs[0]->nodes()[2], args)[0];
  for (int64_t i = 0; i < want.numel(); ++i)
    CHECK_EQ(got[i], want[i]);
}

TEST_CASE("lower: outputs that are views: contiguous ones are byte copies, others kernels") {
  std::unique_ptr<ir::Module> m;
  cpu::Lowered low = lower_text(R"(
func @f(%x: f32[4,8]) -> (f32[32], f32[8,4], f32[2,8], f32[4,8]) {
  %r = reshape %x {shape = [32]} : f32[32]
  %t = transpose %x {perm = [1, 0]} : f32[8,4]
  %s = slice %x {starts = [1, 0], ends = [3, 8]} : f32[2,8]
  return %r, %t, %s, %x
}
)",
                                m);
  const rt::Plan& p = low.plan;
  CHECK_EQ(count(p, Kind::Copy), 3);
  CHECK_EQ(count(p, Kind::Kernel), 1); // the transpose
  CHECK_EQ(p.arena_bytes, 0);
  // The slice is rows 1..2: a byte range starting 32 bytes in.
  bool slice_copy = false;
  for (const rt::CopyStep& c : p.copies)
    slice_copy = slice_copy || (c.from.offset == 32 && c.bytes == 64);
  CHECK(slice_copy);
  const rt::KernelStep& k = p.kernels[0];
  CHECK_EQ(p.buffers[static_cast<size_t>(k.args[1].buffer)].storage, rt::Storage::Output);
  CHECK_EQ(p.buffers[static_cast<size_t>(k.args[1].buffer)].index, 1);
}

TEST_CASE("lower: constants, conv1d, runtime ops and an f64 matmul") {
  std::unique_ptr<ir::Module> m;
  cpu::Lowered low = lower_text(R"(
func @f(%x: f32[2,4,16], %w: f32[6,2,3], %a: f64[3,5], %b: f64[5,2]) -> (f32[2,6,16], f32[2,4,16], f32[2,2,16], i64[2,4], f64[3,2]) {
  %k = constant {value = dense<f32[2]: [1.0, 2.0]>} : f32[2]
  %y = conv1d %x, %w {padding = [2, 0], groups = 2} : f32[2,6,16]
  %c = cumsum %x {axis = -1, exclusive = true} : f32[2,4,16]
  %v, %i = topk %x {k = 2, axis = 1} : f32[2,2,16], i64[2,2,16]
  %am = argmax %x {axis = 2} : i64[2,4]
  %mm = matmul %a, %b : f64[3,2]
  return %y, %c, %v, %am, %mm
}
)",
                                m);
  const rt::Plan& p = low.plan;
  REQUIRE_EQ(p.constants.size(), 1);
  CHECK_EQ(p.constants[0].size(), 8);
  REQUIRE_EQ(p.convs.size(), 1);
  CHECK_EQ(p.convs[0].padding_l, 2);
  CHECK_EQ(p.convs[0].groups, 2);
  CHECK_EQ(p.convs[0].w.dims, Ints{6, 2, 3});
  REQUIRE_EQ(p.runtime_ops.size(), 3);
  CHECK_EQ(p.runtime_ops[0].op, "cumsum");
  CHECK_EQ(p.runtime_ops[0].iattrs, Ints{2, 1, 0});
  CHECK_EQ(p.runtime_ops[1].op, "topk");
  CHECK_EQ(p.runtime_ops[1].iattrs, Ints{2, 1, 1});
  CHECK_EQ(p.runtime_ops[1].results.size(), 2);
  CHECK_EQ(p.runtime_ops[2].iattrs, Ints{2});
  // f64 has no oneDNN matmul: a synthetic reduce group sums a*b over K.
  REQUIRE_EQ(p.kernels.size(), 1);
  const ir::Node& g = *low.kernels[0].group;
  ir::interp::Array a(g.operand(0)->type), b(g.operand(1)->type);
  for (int64_t i = 0; i < a.numel(); ++i)
    a[i] = 0.5 * static_cast<double>(i) - 3;
  for (int64_t i = 0; i < b.numel(); ++i)
    b[i] = 1.0 / static_cast<double>(i + 1);
  const ir::interp::Array* args[] = {&a, &b};
  ir::interp::Array got = ir::interp::eval_node(g, args)[0];
  ir::interp::Array want = ir::interp::eval_node(*m->funcs[0]->nodes()[5], args)[0];
  for (int64_t i = 0; i < want.numel(); ++i)
    CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-12));
}

TEST_CASE("lower: an op outside any group that no kernel can run is a located error") {
  std::unique_ptr<ir::Module> m;
  const ir::Graph& g = parse(R"(
func @f(%x: f32[4,8]) -> f32[4,8] {
  %y = softmax %x : f32[4,8]
  return %y
}
)",
                             m);
  CHECK_THROWS_WITH_AS(cpu::lower(g),
                       "test.tir:3:3: error: [softmax] is not supported by the CPU backend "
                       "outside a fused group (run the decompose and fuse passes first)",
                       ir::Error);
}

TEST_CASE("lower: a lone elementwise op becomes a one-node synthetic group") {
  std::unique_ptr<ir::Module> m;
  cpu::Lowered low = lower_text(R"(
func @f(%x: f32[4,8]) -> f32[4,8] {
  %y = exp %x : f32[4,8]
  return %y
}
)",
                                m);
  REQUIRE_EQ(low.kernels.size(), 1);
  CHECK_EQ(low.synthetic->nodes().size(), 1);
  CHECK_EQ(low.kernels[0].symbol, "tevo_k0_y");
  CHECK_EQ(low.plan.kernel_names, std::vector<std::string>{"tevo_k0_y"});
}

TEST_CASE("lower: golden listing of a small plan") {
  std::unique_ptr<ir::Module> m;
  cpu::Lowered low = lower_text(R"(
func @small(%x: f32[4,8], %w: f32[8,8]) -> (f32[4,8], f32[8,4]) {
  %h = fused %x {body = region(%i: f32[4,8]) -> f32[4,8] {
    %r = relu %i : f32[4,8]
    return %r
  }} : f32[4,8]
  %y = matmul %h, %w : f32[4,8]
  %c = cumsum %y {axis = 0} : f32[4,8]
  %t = transpose %c {perm = [1, 0]} : f32[8,4]
  return %y, %t
}
)",
                                m);
  CHECK_EQ(cpu::format_plan(low.plan), R"(plan @small (arena 128 bytes)
  input 0 x: f32[4,8]
  input 1 w: f32[8,8]
  output 0 y: f32[4,8]
  output 1 t: f32[8,4]
  b0 = input 0 (128 bytes)
  b1 = input 1 (256 bytes)
  b2 = output 0 (128 bytes)
  b3 = output 1 (128 bytes)
  b4 = arena @0 (128 bytes)
  b5 = arena @0 (128 bytes)
  0: kernel tevo_k0_h(b0+0, b4+0)  # h @ test.tir:3:3
  1: matmul b4+0:f32[4,8]/[8,1] x b1+0:f32[8,8]/[8,1] -> b2+0:f32[4,8]/[8,1]  # y @ test.tir:7:3
  2: runtime cumsum(b2+0:f32[4,8]/[8,1]) -> (b5+0:f32[4,8]/[8,1]) i=[0,0,0] f=[]  # c @ test.tir:8:3
  3: kernel tevo_k1_t(b5+0, b3+0)  # t @ test.tir:9:3
)");
}
