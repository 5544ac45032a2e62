// emit_stream_test.cpp: row order's streaming store loop (emit_stream.h, llvm_stream.h).
// With TargetOptions::stream_bytes at 1 every eligible row streams: results must match the
// interpreter wherever the results sit relative to a cache line (the elements before the
// first line boundary are stored plainly, the rest from line-aligned bases), with rows
// that end in a partial block, with two results at the same or at different line offsets
// (different: the plain loop), and nothing may be written outside a result (the harness
// checks the bytes around each one). The optimised IR shows whether a kernel streamed.
#include "tests/unit/backends/emit_test_util.h"

using namespace tevo;
using namespace tevo::emit_test;

namespace {

/// Layer norm over the last axis of [rows, n] (dtype t), gain and bias [n]; results y and,
/// when `twice`, 2y as a second D-shaped result.
Case layer_norm(const std::string& t, int64_t rows, int64_t n, bool twice = false) {
  std::string row = fmt::format("{}[{},{}]", t, rows, n), col = fmt::format("{}[{},1]", t, rows);
  Case c;
  c.text = loop_func(
      {"%x: " + row, fmt::format("%g: {}[{}]", t, n), fmt::format("%b: {}[{}]", t, n)},
      twice ? std::vector<std::string>{row, row} : std::vector<std::string>{row},
      fmt::format("  %s = sum %x {{axes = [1], keepdims = true}} : {1}\n"
                  "  %n = full {{shape = [], dtype = {2}, value = {3}.0}} : {2}[]\n"
                  "  %mu = div %s, %n : {1}\n"
                  "  %d = sub %x, %mu : {0}\n"
                  "  %q = mul %d, %d : {0}\n"
                  "  %v = sum %q {{axes = [1], keepdims = true}} : {1}\n"
                  "  %var = div %v, %n : {1}\n"
                  "  %eps = full {{shape = [], dtype = {2}, value = 1e-05}} : {2}[]\n"
                  "  %ve = add %var, %eps : {1}\n"
                  "  %r = rsqrt %ve : {1}\n"
                  "  %xn = mul %d, %r : {0}\n"
                  "  %xg = mul %xn, %g : {0}\n"
                  "  %y = add %xg, %b : {0}\n",
                  row, col, t, n) +
          (twice ? fmt::format("  %y2 = add %y, %y : {}\n  return %y, %y2", row)
                 : std::string("  return %y")));
  c.tol = t == "f16" ? Tol{2e-3, 2e-3} : kF32Math;
  c.same_bits = true;
  c.target.row_pipeline = 0;
  c.target.stream_bytes = 1;
  return c;
}

bool has(const std::string& ir, const std::string& what) {
  return ir.find(what) != std::string::npos;
}

/// Whether the kernel streamed: non-temporal stores, next-row prefetches and an sfence.
bool streamed(const Outcome& o) {
  return has(o.ir, "!nontemporal") && has(o.ir, "@llvm.prefetch") &&
         has(o.ir, "@llvm.x86.sse.sfence");
}

} // namespace

TEST_CASE("emit stream: layer-norm rows stream at every offset within a line") {
  for (int64_t off : {0, 4, 16, 60}) {
    Case c = layer_norm("f32", 7, 1536);
    c.result_offset[0] = off;
    CAPTURE(off);
    Outcome o = run_case(c, /*want_ir=*/true);
    CHECK(o.info.extent == 7);
    CHECK(streamed(o));
  }
}

TEST_CASE("emit stream: stream_bytes 0 or above the results' size keeps plain stores") {
  Case c = layer_norm("f32", 5, 1536);
  c.target.stream_bytes = 0;
  Outcome off = run_case(c, true);
  CHECK_FALSE(has(off.ir, "!nontemporal"));
  CHECK_FALSE(has(off.ir, "@llvm.prefetch"));
  c.target.stream_bytes = 5 * 1536 * 4 + 1; // one byte more than y
  CHECK_FALSE(has(run_case(c, true).ir, "!nontemporal"));
  c.target.stream_bytes = 5 * 1536 * 4;
  CHECK(streamed(run_case(c, true)));
}

TEST_CASE("emit stream: rows ending in a partial block, short rows not streamed") {
  for (int64_t off : {0, 8, 36}) {
    Case c = layer_norm("f32", 4, 1037); // 1037 = 16 blocks of 64 + 13
    c.result_offset[0] = off;
    CAPTURE(off);
    CHECK(streamed(run_case(c, true)));
  }
  Case small = layer_norm("f32", 4, 1000); // below kStreamRow elements
  CHECK_FALSE(has(run_case(small, true).ir, "!nontemporal"));
}

TEST_CASE("emit stream: two results at one line offset stream, at two offsets they do not") {
  Case c = layer_norm("f32", 3, 1100, /*twice=*/true);
  c.result_offset = {{0, 20}, {1, 20}};
  CHECK(streamed(run_case(c, true)));
  c.result_offset = {{0, 0}, {1, 20}}; // the plain loop at run time; same results
  run_case(c);
  c.result_offset = {{0, 6}, {1, 6}}; // not a whole number of f32 past the line
  run_case(c);
}

TEST_CASE("emit stream: a result written in place of its operand streams and is correct") {
  // The store loop reads x[j] and then streams y[j] to the same address; a thread's own
  // non-temporal stores stay visible to its later loads.
  for (int64_t n : {1536, 1037}) {
    Case c = layer_norm("f32", 5, n);
    c.inplace = {{0, 0}};
    CAPTURE(n);
    CHECK(streamed(run_case(c, true)));
  }
}

TEST_CASE("emit stream: f64 rows stream, f16 rows do not") {
  Case f64 = layer_norm("f64", 3, 2048);
  f64.result_offset[0] = 24;
  CHECK(streamed(run_case(f64, true)));
  Case f16 = layer_norm("f16", 3, 2048); // vectorised at 4 lanes: no non-temporal store
  f16.result_offset[0] = 2;
  CHECK_FALSE(has(run_case(f16, true).ir, "@llvm.prefetch"));
}

namespace {

/// x * rsqrt(sum(x²) over `axes`) for x of shape `dims`; `kept`: the sum's shape.
std::string rms_text(const std::string& dims, const std::string& axes, const std::string& kept) {
  return loop_func({"%x: f32" + dims}, {"f32" + dims},
                   "  %q = mul %x, %x : f32" + dims + "\n  %s = sum %q {axes = " + axes +
                       ", keepdims = true} : f32" + kept + "\n  %r = rsqrt %s : f32" + kept +
                       "\n  %y = mul %x, %r : f32" + dims + "\n  return %y");
}

} // namespace

TEST_CASE("emit stream: several trailing reduced dims, non-trailing ones are not streamed") {
  Case c;
  c.text = rms_text("[3,4,300]", "[1, 2]", "[3,1,1]");
  c.lo = 0.5;
  c.tol = kF32Math;
  c.same_bits = true;
  c.target.row_pipeline = 0;
  c.target.stream_bytes = 1;
  c.result_offset[0] = 12; // rows of 300 f32: each of the 4 runs at its own line offset
  CHECK(streamed(run_case(c, true)));
  c.text = rms_text("[4,3,300]", "[0, 2]", "[1,3,1]"); // a row is not one run
  CHECK_FALSE(has(run_case(c, true).ir, "!nontemporal"));
}

TEST_CASE("emit stream: softmax rows keep exp in the result instead of streaming") {
  Case c;
  c.text = loop_func({"%x: f32[4,2048]"}, {"f32[4,2048]"},
                     "  %m = max %x {axes = [-1], keepdims = true} : f32[4,1]\n"
                     "  %d = sub %x, %m : f32[4,2048]\n"
                     "  %e = exp %d : f32[4,2048]\n"
                     "  %s = sum %e {axes = [-1], keepdims = true} : f32[4,1]\n"
                     "  %y = div %e, %s : f32[4,2048]\n  return %y");
  c.tol = kF32Math;
  c.target.row_pipeline = 0;
  c.target.stream_bytes = 1;
  CHECK_FALSE(has(run_case(c, true).ir, "!nontemporal"));
}
