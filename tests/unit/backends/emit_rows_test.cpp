// emit_rows_test.cpp: row order pipelined over rows (emit_group.cpp row_pipeline): rows of
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
      Outcome o = run_case(c);
      CHECK(o.info.extent == r.extent);
    }
  }
}

TEST_CASE("emit rows: short rows and few rows keep one row per iteration") {
  Outcome few = run_case(softmax_case("f32", 7, 1000)); // 7 < 2 x (3 stages + 1)
  CHECK(few.info.extent == 7);
  Outcome narrow = run_case(softmax_case("f32", 100, 255)); // rows below 256 elements
  CHECK(narrow.info.extent == 100);
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
  Outcome o = run_case(c);
  CHECK(o.info.extent == 12); // 45 rows in blocks of 4
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
  Outcome o = run_case(c);
  CHECK(o.info.extent == 17); // 50 rows in blocks of 3
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
  Outcome o = run_case(c);
  CHECK(o.info.extent == 7); // 20 rows of 600 in blocks of 3
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
  CHECK(run_case(ints).info.extent == 10);
  Case half = softmax_case("f16", 66, 260);
  half.lo = -4;
  half.hi = 4;
  half.tol = {2e-3, 1e-4};
  CHECK(run_case(half).info.extent == 17);
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
