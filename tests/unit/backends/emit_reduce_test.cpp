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
