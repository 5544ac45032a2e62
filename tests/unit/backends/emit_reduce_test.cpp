// emit_reduce_test.cpp: loop-group code generation for reduce groups: softmax- and
// layer-norm-style groups, reductions over trailing, middle, leading and all axes, O_keep
// and O_drop results, NaN/inf semantics of sum/max/min/prod, integer reductions, and
// vectorisation of a row sum. Checked against the interpreter (emit_test_util.h).
#include <regex>

#include "tests/unit/backends/emit_test_util.h"

using namespace tevo;
using namespace tevo::emit_test;

TEST_CASE("emit: softmax-style group (max, exp, sum, divide) with O_keep result") {
  for (const char* t : {"f32", "f64"}) {
    for (int64_t n : {3, 17, 257}) {
      Case c;
      c.text = loop_func({fmt::format("%x: {}[5,{}]", t, n)},
                         {fmt::format("{}[5,{}]", t, n), fmt::format("{}[5,1]", t)},
                         fmt::format("  %m = max %x {{axes = [-1], keepdims = true}} : {0}[5,1]\n"
                                     "  %d = sub %x, %m : {0}[5,{1}]\n"
                                     "  %e = exp %d : {0}[5,{1}]\n"
                                     "  %s = sum %e {{axes = [-1], keepdims = true}} : {0}[5,1]\n"
                                     "  %y = div %e, %s : {0}[5,{1}]\n  return %y, %m",
                                     t, n));
      c.lo = -30;
      c.hi = 30;
      c.tol = std::string(t) == "f64" ? kF64 : kF32Math;
      CAPTURE(c.text);
      run_case(c);
    }
  }
}

TEST_CASE("emit: layer-norm-style group: two dependent reductions, O_drop results") {
  Case c;
  c.text = loop_func(
      {"%x: f32[2,3,33]", "%g: f32[33]", "%b: f32[33]"}, {"f32[2,3,33]", "f32[2,3]", "f32[2,3]"},
      "  %s = sum %x {axes = [2], keepdims = true} : f32[2,3,1]\n"
      "  %n = full {shape = [], dtype = f32, value = 33.0} : f32[]\n"
      "  %mu = div %s, %n : f32[2,3,1]\n"
      "  %d = sub %x, %mu : f32[2,3,33]\n"
      "  %q = mul %d, %d : f32[2,3,33]\n"
      "  %v = sum %q {axes = [2], keepdims = true} : f32[2,3,1]\n"
      "  %var = div %v, %n : f32[2,3,1]\n"
      "  %eps = full {shape = [], dtype = f32, value = 1e-05} : f32[]\n"
      "  %ve = add %var, %eps : f32[2,3,1]\n"
      "  %r = rsqrt %ve : f32[2,3,1]\n"
      "  %xn = mul %d, %r : f32[2,3,33]\n"
      "  %xg = mul %xn, %g : f32[2,3,33]\n"
      "  %y = add %xg, %b : f32[2,3,33]\n"
      "  %mu2 = reshape %mu {shape = [2, 3]} : f32[2,3]\n"
      "  %r2 = reshape %r {shape = [2, 3]} : f32[2,3]\n"
      "  return %y, %mu2, %r2");
  c.tol = kF32Math;
  Outcome o = run_case(c);
  CHECK(o.info.extent == 6);
}

TEST_CASE("emit: reductions over leading, middle and all axes") {
  struct R {
    std::string arg, result, body;
  };
  std::vector<R> rs = {
      // bias gradient: sum over [B,T] of [B,T,C], O_drop result
      {"%x: f32[4,9,33]", "f32[33]", "  %r = sum %x {axes = [0, 1]} : f32[33]"},
      {"%x: f32[4,9,33]", "f32[4,1,33]",
       "  %r = max %x {axes = [1], keepdims = true} : f32[4,1,33]"},
      {"%x: f32[4,9,33]", "f32[]", "  %r = sum %x : f32[]"},
      {"%x: f64[4,9,33]", "f64[9]", "  %r = min %x {axes = [0, 2]} : f64[9]"},
      {"%x: f32[7,3]", "f32[3]", "  %r = prod %x {axes = [0]} : f32[3]"},
      // an empty reduced axis: the identity
      {"%x: f32[3,0]", "f32[3]", "  %r = sum %x {axes = [1]} : f32[3]"},
  };
  for (const R& r : rs) {
    Case c;
    c.text = loop_func({r.arg}, {r.result}, r.body + "\n  return %r");
    c.tol = {1e-5, 1e-5};
    CAPTURE(c.text);
    run_case(c);
  }
}

TEST_CASE("emit: a reduce group stores D-shaped results next to reduced ones") {
  // The group computes exp(x) (D), its row sums (O_drop) and x scaled by the row max over
  // leading axis 0 (D, through an O_keep value).
  Case c;
  c.text = loop_func({"%x: f32[6,17]"}, {"f32[6,17]", "f32[17]", "f32[6,17]"},
                     "  %m = max %x {axes = [0], keepdims = true} : f32[1,17]\n"
                     "  %s = sum %x {axes = [0]} : f32[17]\n"
                     "  %y = div %x, %m : f32[6,17]\n"
                     "  %e = exp %x : f32[6,17]\n  return %e, %s, %y");
  c.lo = 0.5;
  c.tol = kF32Math;
  run_case(c);
}

TEST_CASE("emit: sum, max, min and prod follow the interpreter on NaN and inf") {
  const double kNan = std::nan("");
  std::vector<std::vector<double>> rows = {
      {1, 2, 3, 4},           {1, kNan, 3, 4},           {-INFINITY, -INFINITY, -INFINITY, 2},
      {INFINITY, -INFINITY, 1, 1}, {-0.0, 0.0, -1, 1}, {kNan, kNan, kNan, kNan},
      {5, -7, 0.5, 2},        {-INFINITY, -INFINITY, -INFINITY, -INFINITY}};
  std::vector<double> data;
  for (const auto& r : rows)
    data.insert(data.end(), r.begin(), r.end());
  for (const char* op : {"sum", "max", "min", "prod"})
    for (const char* t : {"f32", "f64"}) {
      Case c;
      c.text = loop_func({fmt::format("%x: {}[8,4]", t)}, {fmt::format("{}[8]", t)},
                         fmt::format("  %r = {} %x {{axes = [1]}} : {}[8]\n  return %r", op, t));
      c.data[0] = data;
      CAPTURE(c.text);
      run_case(c);
    }
}

TEST_CASE("emit: integer reductions") {
  for (const char* op : {"sum", "max", "min", "prod"})
    for (const char* t : {"i32", "i64"}) {
      Case c;
      c.text = loop_func({fmt::format("%x: {}[5,9]", t)}, {fmt::format("{}[5,1]", t)},
                         fmt::format("  %r = {} %x {{axes = [1], keepdims = true}} : {}[5,1]\n"
                                     "  return %r",
                                     op, t));
      c.ilo = -3;
      c.ihi = 3;
      CAPTURE(c.text);
      run_case(c);
    }
}

TEST_CASE("emit: a row-sum group vectorises") {
  Case c;
  c.text = loop_func({"%x: f32[64,1024]"}, {"f32[64]"},
                     "  %e = exp %x : f32[64,1024]\n"
                     "  %r = sum %e {axes = [1]} : f32[64]\n  return %r");
  c.tol = kF32Math;
  Outcome o = run_case(c, /*want_ir=*/true);
  CHECK(o.info.extent == 64);
  CHECK(std::regex_search(o.ir, std::regex("<[0-9]+ x float>")));
  CHECK(o.ir.find("vector.reduce.fadd") != std::string::npos);
}

// Column order: reduce groups whose last non-unit domain dim is kept run parallel over
// chunks of that dim, with an inner contiguous loop per reduced row (emit_columns.cpp).

TEST_CASE("emit: column reductions over leading axes, odd sizes and chunk boundaries") {
  // (R extents, kept extents): the kept dims include the last one; the chunk is 256 with
  // 16 or more rows of it, else shrinks to 64, so 63/64/65 and 255/256/257 cross chunks.
  struct S {
    std::string arg_shape, axes, result_shape;
  };
  std::vector<S> shapes = {
      {"3,5", "[0]", "5"},           {"2,17", "[0]", "17"},         {"4,9,33", "[0, 1]", "33"},
      {"3,63", "[0]", "63"},         {"3,64", "[0]", "64"},         {"3,65", "[0]", "65"},
      {"2,16,255", "[0]", "16,255"}, {"2,16,256", "[0]", "16,256"}, {"2,16,257", "[0]", "16,257"},
      {"5,2,129", "[0, 1]", "129"},  {"3,1,33", "[0]", "1,33"},     {"4,33,1", "[0]", "33,1"},
  };
  for (const S& s : shapes)
    for (const char* op : {"sum", "max", "min", "prod"})
      for (const char* t : {"f32", "f64", "i32"}) {
        Case c;
        c.text = loop_func({fmt::format("%x: {}[{}]", t, s.arg_shape)},
                           {fmt::format("{}[{}]", t, s.result_shape)},
                           fmt::format("  %r = {} %x {{axes = {}}} : {}[{}]\n  return %r", op,
                                       s.axes, t, s.result_shape));
        // prod: values near 1 (floats) or in [-1, 1] (ints) so products stay in range
        if (std::string(op) == "prod") {
          c.lo = 0.8;
          c.hi = 1.2;
          c.ilo = -1;
          c.ihi = 1;
        }
        c.tol = std::string(t) == "f64" ? kF64 : Tol{1e-5, 1e-5};
        CAPTURE(c.text);
        run_case(c);
      }
}

TEST_CASE("emit: a column sum (bias gradient) runs over chunks and vectorises") {
  // sum over [B, T] of [B, T, C]: one row of 512 kept elements gives 8 chunks of 64; the
  // row-order loop would have extent 512 and a strided inner loop.
  Case c;
  c.text = loop_func({"%x: f32[4,9,512]"}, {"f32[512]"},
                     "  %r = sum %x {axes = [0, 1]} : f32[512]\n  return %r");
  c.tol = {1e-5, 1e-5};
  Outcome o = run_case(c, /*want_ir=*/true);
  CHECK(o.info.extent == 8);
  CHECK(o.info.grain >= 1);
  CHECK(std::regex_search(o.ir, std::regex("load <[0-9]+ x float>")));
  CHECK(std::regex_search(o.ir, std::regex("fadd reassoc <[0-9]+ x float>")));
}

TEST_CASE("emit: a long column sum adds its rows in blocks (error grows with blocks, not rows)") {
  // 65536 rows of values in [1, 1.001] over two reduced dims (flattened into blocks of
  // 256): one running f32 sum per column was ~1e-5 relative off; block partials keep it
  // near the f32 rounding of the result.
  Case c;
  c.text = loop_func({"%x: f32[16,4096,64]"}, {"f32[64]"},
                     "  %r = sum %x {axes = [0, 1]} : f32[64]\n  return %r");
  c.lo = 1.0;
  c.hi = 1.001;
  c.tol = {1e-6, 0};
  run_case(c);
}

TEST_CASE("emit: column reductions over leading and middle axes with D-shaped results") {
  // Reduced dims 0 and 2 of [3,4,5,N]; results: O_drop sum, O_keep max, x / max (D) and
  // exp(x) (D, independent of the reductions).
  for (int64_t n : {3, 17, 65, 257}) {
    Case c;
    std::string d = fmt::format("f32[3,4,5,{}]", n);
    c.text = loop_func(
        {"%x: " + d}, {fmt::format("f32[4,{}]", n), fmt::format("f32[1,4,1,{}]", n), d, d},
        fmt::format("  %s = sum %x {{axes = [0, 2]}} : f32[4,{0}]\n"
                    "  %m = max %x {{axes = [0, 2], keepdims = true}} : f32[1,4,1,{0}]\n"
                    "  %y = div %x, %m : {1}\n"
                    "  %e = exp %x : {1}\n  return %s, %m, %y, %e",
                    n, d));
    c.lo = 0.5;
    c.tol = kF32Math;
    CAPTURE(c.text);
    run_case(c);
  }
}

TEST_CASE("emit: a column sum of a D-shaped result stores it in the reduction's pass") {
  // phi(k) = elu(k) + 1 and its column sum (linear attention's normaliser): the D-shaped
  // result depends on no reduction, so the first loop over R stores it while summing.
  for (int64_t n : {1, 16, 64, 67}) {
    Case c;
    std::string d = fmt::format("f32[2,33,{}]", n);
    c.text = loop_func({"%k: " + d}, {d, fmt::format("f32[2,1,{}]", n)},
                       fmt::format("  %e = elu %k : {0}\n"
                                   "  %one = full {{shape = [], value = 1.0}} : f32[]\n"
                                   "  %p = add %e, %one : {0}\n"
                                   "  %z = sum %p {{axes = [1], keepdims = true}} : f32[2,1,{1}]\n"
                                   "  return %p, %z",
                                   d, n));
    c.tol = kF32Math;
    CAPTURE(c.text);
    run_case(c);
  }
}

TEST_CASE("emit: layer-norm-style column group: two dependent reductions over axis 0") {
  // Normalises every column of x[B, C]: mean, centred variance, rsqrt, scale by a
  // per-row weight; results y (D), mean (O_drop), rstd (O_keep) and a bool O_drop value
  // (column max > 0) that selects in a D-shaped result.
  for (const char* t : {"f32", "f64"})
    for (int64_t n : {1, 17, 64, 257}) {
      Case c;
      std::string d = fmt::format("{}[5,{}]", t, n), k = fmt::format("{}[1,{}]", t, n);
      std::string o = fmt::format("{}[{}]", t, n);
      c.text =
          loop_func({"%x: " + d, fmt::format("%g: {}[5,1]", t)}, {d, o, k, d},
                    fmt::format("  %s = sum %x {{axes = [0], keepdims = true}} : {2}\n"
                                "  %n = full {{shape = [], dtype = {0}, value = 5.0}} : {0}[]\n"
                                "  %mu = div %s, %n : {2}\n"
                                "  %dx = sub %x, %mu : {1}\n"
                                "  %q = mul %dx, %dx : {1}\n"
                                "  %v = sum %q {{axes = [0], keepdims = true}} : {2}\n"
                                "  %var = div %v, %n : {2}\n"
                                "  %eps = full {{shape = [], dtype = {0}, value = 1e-05}} : {0}[]\n"
                                "  %ve = add %var, %eps : {2}\n"
                                "  %r = rsqrt %ve : {2}\n"
                                "  %xn = mul %dx, %r : {1}\n"
                                "  %y = mul %xn, %g : {1}\n"
                                "  %mu2 = reshape %mu {{shape = [{4}]}} : {3}\n"
                                "  %mx = max %x {{axes = [0]}} : {3}\n"
                                "  %z = full {{shape = [], dtype = {0}, value = 0.0}} : {0}[]\n"
                                "  %pos = gt %mx, %z : bool[{4}]\n"
                                "  %w = select %pos, %x, %z : {1}\n"
                                "  return %y, %mu2, %r, %w",
                                t, d, k, o, n));
      c.tol = std::string(t) == "f64" ? kF64 : kF32Math;
      CAPTURE(c.text);
      Outcome out = run_case(c);
      if (n == 1)
        CHECK(out.info.extent == 1); // no column dim: row order over the single column
    }
}

TEST_CASE("emit: column sum, max, min and prod follow the interpreter on NaN and inf") {
  const double kNan = std::nan("");
  // Column j of x[4, 8] is the j-th pattern; every pattern also sits in column 64 + j of a
  // wider x[4, 72] so that it lands in a second chunk.
  std::vector<std::vector<double>> cols = {{1, 2, 3, 4},
                                           {1, kNan, 3, 4},
                                           {-INFINITY, -INFINITY, -INFINITY, 2},
                                           {INFINITY, -INFINITY, 1, 1},
                                           {-0.0, 0.0, -1, 1},
                                           {kNan, kNan, kNan, kNan},
                                           {5, -7, 0.5, 2},
                                           {-INFINITY, -INFINITY, -INFINITY, -INFINITY}};
  for (int64_t width : {8, 72}) {
    std::vector<double> data(static_cast<size_t>(4 * width), 0.25);
    for (size_t j = 0; j < cols.size(); ++j)
      for (size_t i = 0; i < 4; ++i) {
        data[i * static_cast<size_t>(width) + j] = cols[j][i];
        if (width > 64)
          data[i * static_cast<size_t>(width) + 64 + j] = cols[j][i];
      }
    for (const char* op : {"sum", "max", "min", "prod"})
      for (const char* t : {"f32", "f64"}) {
        Case c;
        c.text = loop_func(
            {fmt::format("%x: {}[4,{}]", t, width)}, {fmt::format("{}[{}]", t, width)},
            fmt::format("  %r = {} %x {{axes = [0]}} : {}[{}]\n  return %r", op, t, width));
        c.data[0] = data;
        CAPTURE(c.text);
        run_case(c);
      }
  }
}

TEST_CASE("emit: column reductions of i64 and of a strided operand") {
  for (const char* op : {"sum", "max", "min", "prod"}) {
    Case c;
    c.text = loop_func({"%x: i64[6,3,70]"}, {"i64[1,3,70]"},
                       fmt::format("  %r = {} %x {{axes = [0], keepdims = true}} : i64[1,3,70]\n"
                                   "  return %r",
                                   op));
    c.ilo = -3;
    c.ihi = 3;
    CAPTURE(c.text);
    run_case(c);
  }
  // x[9, 66] stored column-major (a transposed view folded into the strides).
  Case c;
  c.text = loop_func({"%x: f32[9,66]"}, {"f32[66]", "f32[9,66]"},
                     "  %s = sum %x {axes = [0], keepdims = true} : f32[1,66]\n"
                     "  %y = sub %x, %s : f32[9,66]\n"
                     "  %r = reshape %s {shape = [66]} : f32[66]\n  return %r, %y");
  c.strides[0] = {1, 9};
  c.tol = {1e-5, 1e-5};
  run_case(c);
}

TEST_CASE("emit: a column group with many O-shaped values uses shorter chunks") {
  // 40 O_drop values after the reduction: 8 + 40 * 8 bytes of per-chunk arrays per element
  // caps the chunk at 16384 / 328 = 49 elements, so 257 columns take 6 chunks (the tail
  // has 12); every value is read back in the final D-shaped loop.
  std::string body = "  %a0 = sum %x {axes = [0]} : f32[257]\n"
                     "  %h = full {shape = [], dtype = f32, value = 0.75} : f32[]\n";
  for (int i = 0; i < 40; ++i)
    body += fmt::format("  %a{} = {} %a{}, %h : f32[257]\n", i + 1, i % 2 ? "mul" : "add", i);
  body += "  %y = sub %x, %a40 : f32[3,257]\n  return %y, %a40";
  Case c;
  c.text = loop_func({"%x: f32[3,257]"}, {"f32[3,257]", "f32[257]"}, body);
  c.tol = {1e-5, 1e-5};
  Outcome o = run_case(c);
  CHECK(o.info.extent == 6);
}
