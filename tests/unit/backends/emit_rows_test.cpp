// emit_rows_test.cpp: row order pipelined over rows (emit_rows.cpp row_pipeline): rows of
// >= 256 elements run their loops over R for different rows in one loop, in blocks of
// rows. Checked against the interpreter, for bitwise-equal results however the range is
// split between calls (threads), including blocks cut short and a one-row last block; the
// extent tells whether a group was pipelined (blocks) or not (rows).
#include "tests/unit/backends/emit_test_util.h"

using namespace tevo;
using namespace tevo::emit_test;

namespace {

std::string softmax_body(const std::string& t, int64_t rows, int64_t n) {
  return fmt::format("  %m = max %x {{axes = [-1], keepdims = true}} : {0}[{1},1]\n"
                     "  %d = sub %x, %m : {0}[{1},{2}]\n"
                     "  %e = exp %d : {0}[{1},{2}]\n"
                     "  %s = sum %e {{axes = [-1], keepdims = true}} : {0}[{1},1]\n"
                     "  %y = div %e, %s : {0}[{1},{2}]\n  return %y, %s",
                     t, rows, n);
}

Case softmax_case(const std::string& t, int64_t rows, int64_t n) {
  Case c;
  c.text = loop_func({fmt::format("%x: {}[{},{}]", t, rows, n)},
                     {fmt::format("{}[{},{}]", t, rows, n), fmt::format("{}[{},1]", t, rows)},
                     softmax_body(t, rows, n));
  c.lo = -30;
  c.hi = 30;
  c.tol = t == "f64" ? kF64 : kF32Math;
  c.same_bits = true;
  return c;
}

/// Runs c pipelined (TargetOptions::row_pipeline = 1: `blocks` parallel iterations) and
/// with one loop per stage (0: one iteration per row, `rows`); both against the interpreter.
void check_both_orders(Case c, int64_t blocks, int64_t rows) {
  c.target.row_pipeline = 1;
  CHECK(run_case(c).info.extent == blocks);
  c.target.row_pipeline = 0;
  CHECK(run_case(c).info.extent == rows);
}

} // namespace

TEST_CASE("emit rows: softmax rows are pipelined in blocks, full and cut short") {
  // rows -> block = clamp(rows / 16, stages + 1, 32): 37 -> 4 (9 blocks + one row),
  // 70 -> 4, 600 -> 32 (18 blocks + 24 rows), 1024 -> 32.
  struct R {
    int64_t rows, n, extent;
  };
  for (R r : {R{37, 300, 10}, R{70, 256, 18}, R{600, 257, 19}, R{1024, 512, 32}}) {
    for (const char* t : {"f32", "f64"}) {
      Case c = softmax_case(t, r.rows, r.n);
      CAPTURE(c.text);
      check_both_orders(c, r.extent, r.rows);
    }
  }
}

TEST_CASE("emit rows: short rows and few rows keep one row per iteration") {
  Case few = softmax_case("f32", 7, 1000); // 7 < 2 x (3 stages + 1)
  few.target.row_pipeline = 1;
  CHECK(run_case(few).info.extent == 7);
  Case narrow = softmax_case("f32", 100, 255); // rows below 256 elements
  narrow.target.row_pipeline = 1;
  CHECK(run_case(narrow).info.extent == 100);
}

TEST_CASE("emit rows: layer-norm rows: two dependent reductions, broadcast operands, "
          "O_drop and O_keep results, odd row length") {
  Case c;
  c.text = loop_func(
      {"%x: f32[3,15,333]", "%g: f32[333]", "%b: f32[333]"},
      {"f32[3,15,333]", "f32[3,15]", "f32[3,15,1]"},
      "  %s = sum %x {axes = [2], keepdims = true} : f32[3,15,1]\n"
      "  %n = full {shape = [], dtype = f32, value = 333.0} : f32[]\n"
      "  %mu = div %s, %n : f32[3,15,1]\n"
      "  %d = sub %x, %mu : f32[3,15,333]\n"
      "  %q = mul %d, %d : f32[3,15,333]\n"
      "  %v = sum %q {axes = [2], keepdims = true} : f32[3,15,1]\n"
      "  %var = div %v, %n : f32[3,15,1]\n"
      "  %eps = full {shape = [], dtype = f32, value = 1e-05} : f32[]\n"
      "  %ve = add %var, %eps : f32[3,15,1]\n"
      "  %r = rsqrt %ve : f32[3,15,1]\n"
      "  %xn = mul %d, %r : f32[3,15,333]\n"
      "  %xg = mul %xn, %g : f32[3,15,333]\n"
      "  %y = add %xg, %b : f32[3,15,333]\n"
      "  %mu2 = reshape %mu {shape = [3, 15]} : f32[3,15]\n"
      "  return %y, %mu2, %r");
  c.tol = kF32Math;
  c.same_bits = true;
  check_both_orders(c, 12, 45); // 45 rows in blocks of 4
}

TEST_CASE("emit rows: log-sum-exp rows (two reductions, no D-shaped result)") {
  Case c;
  c.text = loop_func({"%x: f32[50,400]"}, {"f32[50]"},
                     "  %m = max %x {axes = [1], keepdims = true} : f32[50,1]\n"
                     "  %d = sub %x, %m : f32[50,400]\n"
                     "  %e = exp %d : f32[50,400]\n"
                     "  %s = sum %e {axes = [1], keepdims = true} : f32[50,1]\n"
                     "  %l = log %s : f32[50,1]\n"
                     "  %z = add %l, %m : f32[50,1]\n"
                     "  %o = reshape %z {shape = [50]} : f32[50]\n  return %o");
  c.lo = -20;
  c.hi = 20;
  c.tol = kF32Math;
  c.same_bits = true;
  check_both_orders(c, 17, 50); // 50 rows in blocks of 3
}

TEST_CASE("emit rows: one reduction and a D-shaped result (RMS norm), rows over "
          "non-adjacent reduced axes, a strided operand") {
  Case c;
  c.text = loop_func({"%x: f32[4,20,5,30]"}, {"f32[4,20,5,30]"},
                     "  %q = mul %x, %x : f32[4,20,5,30]\n"
                     "  %s = sum %q {axes = [1, 3], keepdims = true} : f32[4,1,5,1]\n"
                     "  %r = rsqrt %s : f32[4,1,5,1]\n"
                     "  %y = mul %x, %r : f32[4,20,5,30]\n  return %y");
  c.strides[0] = {20 * 5 * 32, 5 * 32, 32, 1}; // rows of 30 inside runs of 32
  c.lo = 0.5;
  c.tol = kF32Math;
  c.same_bits = true;
  check_both_orders(c, 7, 20); // 20 rows of 600 in blocks of 3
}

TEST_CASE("emit rows: integer and f16 rows") {
  Case ints;
  ints.text = loop_func({"%x: i32[40,300]"}, {"i32[40,300]", "i32[40,1]"},
                        "  %m = max %x {axes = [1], keepdims = true} : i32[40,1]\n"
                        "  %d = sub %x, %m : i32[40,300]\n"
                        "  %s = sum %d {axes = [1], keepdims = true} : i32[40,1]\n"
                        "  %y = add %d, %s : i32[40,300]\n  return %y, %s");
  ints.ilo = -1000;
  ints.ihi = 1000;
  ints.same_bits = true;
  check_both_orders(ints, 10, 40);
  Case half = softmax_case("f16", 66, 260);
  half.lo = -4;
  half.hi = 4;
  half.tol = {2e-3, 1e-4};
  check_both_orders(half, 17, 66);
}

TEST_CASE("emit rows: max and min of rows holding +0 and -0 are IEEE (-0 < +0) wherever the "
          "zeros sit") {
  // 1 / max tells the zero's sign: rows of -1 with +0 and -0 (max +0: 1/max = inf), rows of
  // +1 with -0 and +0 (min -0: 1/min = -inf), the zeros at every offset in the vector loop.
  std::vector<double> data;
  const int64_t rows = 16, n = 300;
  for (int64_t r = 0; r < rows; ++r) {
    int64_t k = (r * 37 + 1) % n;
    for (int64_t c = 0; c < n; ++c) {
      double v = r < rows / 2 ? -1 : 1;
      if (c == (r % 2 ? k : 0))
        v = r < rows / 2 ? 0.0 : -0.0;
      if (c == (r % 2 ? 0 : k))
        v = r < rows / 2 ? -0.0 : 0.0;
      data.push_back(v);
    }
  }
  Case c;
  c.text = loop_func({"%x: f32[16,300]"}, {"f32[16,1]", "f32[16,1]"},
                     "  %m = max %x {axes = [-1], keepdims = true} : f32[16,1]\n"
                     "  %r = reciprocal %m : f32[16,1]\n"
                     "  %n = min %x {axes = [-1], keepdims = true} : f32[16,1]\n"
                     "  %rn = reciprocal %n : f32[16,1]\n  return %r, %rn");
  c.data[0] = data;
  c.same_bits = true;
  run_case(c);
}

TEST_CASE("emit rows: max and min of rows holding a NaN are NaN wherever it sits") {
  // One NaN per row at offsets covering every lane of the vector loop's accumulators and
  // its remainder; half the rows also hold +-inf.
  std::vector<double> data;
  const int64_t rows = 70, n = 300;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < n; ++c)
      data.push_back(c == (r * 13) % n ? std::nan("") : r % 2 && c == 5 ? -INFINITY
                                                    : r % 2 && c == 7 ? INFINITY
                                                                      : (c % 17) - 8.0);
  Case c;
  c.text = loop_func({"%x: f32[70,300]"}, {"f32[70,1]", "f32[70,1]"},
                     "  %m = max %x {axes = [-1], keepdims = true} : f32[70,1]\n"
                     "  %n = min %x {axes = [-1], keepdims = true} : f32[70,1]\n  return %m, %n");
  c.data[0] = data;
  c.same_bits = true;
  run_case(c);
}

TEST_CASE("emit rows: one loop per stage keeps a row array in a D-shaped result's memory "
          "when its storage type is the value's") {
  // softmax f32: exp(x - max) lives in %y until the store loop overwrites it (no stack
  // row array); f16 results cannot hold f32 values: a stack array.
  // (Rows long enough not to be unrolled: a fully unrolled stack array becomes registers.)
  Case f32 = softmax_case("f32", 40, 1000);
  f32.target.row_pipeline = 0;
  Outcome o = run_case(f32, /*want_ir=*/true);
  CHECK(o.info.extent == 40);
  CHECK(o.ir.find("alloca [1000 x float]") == std::string::npos);
  Case f16 = softmax_case("f16", 40, 1000);
  f16.tol = {2e-3, 1e-4};
  f16.target.row_pipeline = 0;
  CHECK(run_case(f16, true).ir.find("alloca [1000 x float]") != std::string::npos);
}

TEST_CASE("emit rows: a result sharing an operand's memory never holds a row array") {
  // exp(x - max) is kept for the third loop, which reads x again, as does the store loop:
  // had the row array lived in %y (= %x's memory), both would read exp values as x.
  Case c;
  c.text = loop_func({"%x: f32[24,1000]"}, {"f32[24,1000]"},
                     "  %m = max %x {axes = [1], keepdims = true} : f32[24,1]\n"
                     "  %d = sub %x, %m : f32[24,1000]\n"
                     "  %e = exp %d : f32[24,1000]\n"
                     "  %s = sum %e {axes = [1], keepdims = true} : f32[24,1]\n"
                     "  %p = div %e, %s : f32[24,1000]\n"
                     "  %q = mul %p, %x : f32[24,1000]\n"
                     "  %t = sum %q {axes = [1], keepdims = true} : f32[24,1]\n"
                     "  %y = sub %x, %t : f32[24,1000]\n  return %y");
  c.lo = -3;
  c.hi = 3;
  c.tol = kF32Math;
  c.same_bits = true;
  c.inplace = {{0, 0}};
  c.target.row_pipeline = 0;
  Outcome o = run_case(c, true);
  CHECK(o.info.extent == 24);
  CHECK(o.ir.find("alloca [1000 x float]") != std::string::npos);
}

TEST_CASE("emit rows: the row order follows the CPU unless set") {
  // Not pipelined on AMD Zen (znver*), pipelined elsewhere (emit_group.cpp, pipeline_rows).
  Case c = softmax_case("f32", 64, 256); // 64 rows: blocks of 4
  c.target.cpu = "znver4";
  CHECK(run_case(c).info.extent == 64);
  c.target.cpu = "sapphirerapids";
  CHECK(run_case(c).info.extent == 16);
  c.target.row_pipeline = 0;
  CHECK(run_case(c).info.extent == 64);
}
