// emit_test.cpp: loop-group code generation (backends/cpu/emit_*.cpp) for map groups:
// every elementwise op of the registry, broadcasting, views, strided operands, index ops
// with their range errors, sources, and unsupported content. Each kernel is checked
// against the f64 interpreter (see emit_test_util.h for the harness and tolerances).
#include <regex>

#include "ir/op_def.h"
#include "ir/op_registry.h"
#include "tests/unit/backends/emit_test_util.h"

using namespace tevo;
using namespace tevo::emit_test;

namespace {

/// The result type `op` infers for `operands` with default attributes, or nullopt.
std::optional<ir::TensorType> infer(const ir::OpDef& def, const std::vector<ir::TensorType>& ops) {
  ir::AttrDict attrs;
  for (const auto& a : def.attrs) {
    if (!a.default_value)
      return std::nullopt;
    attrs.set(a.name, *a.default_value);
  }
  auto r = def.infer(ir::InferCtx{ops, attrs});
  if (!r || r->size() != 1)
    return std::nullopt;
  return (*r)[0];
}

std::string ty(ir::DType t, const std::string& dims) {
  return fmt::format("{}[{}]", t, dims);
}

} // namespace

TEST_CASE("emit: every elementwise op of the registry matches the interpreter") {
  const ir::DType kTypes[] = {ir::DType::F32, ir::DType::F64, ir::DType::I32, ir::DType::I64,
                              ir::DType::Bool};
  std::vector<std::string> untested;
  int cases = 0;
  for (const ir::OpDef& def : ir::all_ops()) {
    if (!def.scalar)
      continue;
    int tested = 0;
    for (ir::DType t : kTypes) {
      // Shapes with broadcasting on both sides and an odd inner extent.
      std::vector<std::string> names = {"%x", "%y", "%z"}, dims = {"5,33", "33", "5,1"};
      std::vector<ir::TensorType> ops;
      std::vector<std::string> args;
      for (int i = 0; i < def.min_operands; ++i) {
        bool cond = def.min_operands == 3 && i == 0; // select(cond, a, b)
        ir::DType ti = cond ? ir::DType::Bool : t;
        std::string d = cond ? "5,1" : dims[static_cast<size_t>(i)];
        ops.push_back(ir::TensorType{ti, d == "33" ? ir::Shape{33} : d == "5,1" ? ir::Shape{5, 1}
                                                                             : ir::Shape{5, 33}});
        args.push_back(names[static_cast<size_t>(i)] + ": " + ty(ti, d));
      }
      auto rt = infer(def, ops);
      if (!rt || ir::is_complex(rt->dtype))
        continue;
      std::string operands;
      for (int i = 0; i < def.min_operands; ++i)
        operands += (i ? ", " : "") + names[static_cast<size_t>(i)];
      std::string body = fmt::format("  %r = {} {} : {}\n  return %r", def.name, operands,
                                     rt->str());
      Case c;
      c.text = loop_func(args, {rt->str()}, body);
      c.tol = t == ir::DType::F64 ? kF64 : kF32Math;
      CAPTURE(c.text);
      run_case(c);
      ++tested;
      ++cases;
    }
    if (tested == 0)
      untested.push_back(std::string(def.name));
  }
  // Complex parts need complex dtypes (unsupported here); cast needs its dtype attribute
  // (tested below).
  CHECK(untested == std::vector<std::string>{"cast", "real", "imag", "complex"});
  CHECK(cases > 60);
}

TEST_CASE("emit: cast between every pair of real dtypes, with saturation and NaN") {
  const char* kTypes[] = {"f32", "f64", "i32", "i64", "bool"};
  for (const char* from : kTypes)
    for (const char* to : kTypes) {
      Case c;
      c.text = loop_func({fmt::format("%x: {}[4,17]", from)}, {fmt::format("{}[4,17]", to)},
                         fmt::format("  %r = cast %x {{dtype = {}}} : {}[4,17]\n  return %r", to,
                                     to));
      c.lo = -3e9; // beyond i32 on both sides: saturation
      c.hi = 3e9;
      std::string f = from;
      if (f == "f32" || f == "f64") {
        std::vector<double> d(68);
        std::mt19937_64 rng(3);
        for (auto& x : d)
          x = std::uniform_real_distribution<double>(-50, 50)(rng);
        d[0] = NAN;
        d[1] = INFINITY;
        d[2] = -INFINITY;
        d[3] = 3e9;
        d[4] = -3e9;
        d[5] = 0.0;
        c.data[0] = d;
      }
      CAPTURE(c.text);
      run_case(c);
    }
}

TEST_CASE("emit: broadcasting over size-1 dims and odd extents") {
  for (int64_t n : {1, 3, 17, 33, 257}) {
    Case c;
    c.text = loop_func({fmt::format("%a: f32[2,1,{}]", n), "%b: f32[3,1]", "%s: f32[]"},
                       {fmt::format("f32[2,3,{}]", n)},
                       fmt::format("  %t = mul %a, %b : f32[2,3,{0}]\n"
                                   "  %u = add %t, %s : f32[2,3,{0}]\n"
                                   "  %v = tanh %u : f32[2,3,{0}]\n"
                                   "  return %v",
                                   n));
    c.tol = kF32Math;
    CAPTURE(n);
    run_case(c);
  }
}

TEST_CASE("emit: divisions give the same bits however the range is split") {
  // By a value varying along the row: an exact division. By a row constant (a row sum) or a
  // scalar: x * (1 / y) written out. Either way every element takes one formula, so the
  // vector body and the remainder loop (a thread's chunk boundary) agree bit for bit.
  for (int64_t n : {5, 64, 67}) {
    Case c;
    c.text = loop_func({fmt::format("%a: f32[5000,{}]", n), fmt::format("%b: f32[1,{}]", n),
                        "%r: f32[5000,1]", "%s: f32[]"},
                       {fmt::format("f32[5000,{}]", n), fmt::format("f32[5000,{}]", n)},
                       fmt::format("  %x = div %a, %b : f32[5000,{0}]\n"
                                   "  %y = div %a, %r : f32[5000,{0}]\n"
                                   "  %z = div %y, %s : f32[5000,{0}]\n"
                                   "  return %x, %z",
                                   n));
    c.lo = 0.5;
    c.same_bits = true;
    CAPTURE(n);
    run_case(c);
  }
}

TEST_CASE("emit: a large map group is split over its leading dims") {
  Case c;
  c.text = loop_func({"%a: f32[64,3,128]", "%b: f32[128]"}, {"f32[64,3,128]", "f32[64,3,128]"},
                     "  %s = sub %a, %b : f32[64,3,128]\n  %e = exp %s : f32[64,3,128]\n"
                     "  return %s, %e");
  c.tol = kF32Math;
  Outcome o = run_case(c);
  // 128 elements per row are too few for one parallel iteration, 3 * 128 are enough; a
  // thread then takes at least 32768 elements (86 iterations: forking for less costs more
  // than it saves).
  CHECK(o.info.extent == 64);
  CHECK(o.info.grain == 86);
}

TEST_CASE("emit: a map group of one long row still splits over its rows") {
  // [1, 1, 4096, 64] (one head of phi(Q) in linear attention): 4096 * 64 elements per
  // iteration would leave one iteration; 64-element rows give 4096 iterations of one
  // vector row each, so two threads share the work.
  Case c;
  c.text = loop_func({"%x: f32[1,1,4096,64]"}, {"f32[1,1,4096,64]"},
                     "  %e = elu %x : f32[1,1,4096,64]\n  return %e");
  c.tol = kF32Math;
  Outcome o = run_case(c);
  CHECK(o.info.extent == 4096);
  CHECK(o.info.grain == 512);
}

TEST_CASE("emit: views are index maps") {
  struct V {
    std::vector<std::string> args;
    std::string result, body;
  };
  std::vector<V> views = {
      {{"%x: f32[3,17,5]"}, "f32[5,3,17]",
       "  %t = transpose %x {perm = [2, 0, 1]} : f32[5,3,17]\n  %r = neg %t : f32[5,3,17]"},
      {{"%x: f32[2,3,4,5]"}, "f32[2,3,20]", "  %r = reshape %x {shape = [2, 3, 20]} : f32[2,3,20]"},
      {{"%x: f32[2,3,20]"}, "f32[2,3,4,5]",
       "  %r = reshape %x {shape = [2, 3, 4, 5]} : f32[2,3,4,5]"},
      {{"%x: f32[3,1,17]"}, "f32[1,3,17,1]",
       "  %r = reshape %x {shape = [1, 3, 17, 1]} : f32[1,3,17,1]"},
      {{"%x: f32[6,4]"}, "f32[4,6]", "  %r = reshape %x {shape = [4, 6]} : f32[4,6]"},
      {{"%x: f32[6,10]"}, "f32[4,15]", "  %r = reshape %x {shape = [4, 15]} : f32[4,15]"},
      {{"%x: f32[1,17]"}, "f32[2,3,17]",
       "  %r = broadcast_to %x {shape = [2, 3, 17]} : f32[2,3,17]"},
      {{"%x: f32[9,33]"}, "f32[4,11]",
       "  %r = slice %x {starts = [1, 2], ends = [8, 33], steps = [2, 3]} : f32[4,11]"},
      {{"%x: f32[9,33]"}, "f32[3,5]",
       "  %r = slice %x {starts = [4, 7], ends = [7, 12]} : f32[3,5]"},
      {{"%x: f32[3,17]"}, "f32[6,19]",
       "  %r = pad %x {low = [1, 2], high = [2, 0], value = 1.5} : f32[6,19]"},
      {{"%x: i32[3,5]"}, "i32[3,9]",
       "  %r = pad %x {low = [0, 3], high = [0, 1], value = -2.7} : i32[3,9]"},
      {{"%a: f32[3,2]", "%b: f32[3,1]", "%c: f32[3,5]"}, "f32[3,8]",
       "  %r = concat %a, %b, %c {axis = 1} : f32[3,8]"},
      {{"%a: f32[2,4]", "%b: f32[3,4]"}, "f32[5,4]", "  %r = concat %a, %b {axis = 0} : f32[5,4]"},
      {{"%x: f32[2,5,7]"}, "f32[2,5,7]", "  %r = tril %x : f32[2,5,7]"},
      {{"%x: f32[2,5,7]"}, "f32[2,5,7]", "  %r = tril %x {k = -2} : f32[2,5,7]"},
      {{"%x: f32[2,5,7]"}, "f32[2,5,7]", "  %r = triu %x {k = 1} : f32[2,5,7]"},
      {{"%x: f32[4,6]"}, "f32[3,4]", // a chain of views: transpose, reshape, slice, pad
       "  %t = transpose %x {perm = [1, 0]} : f32[6,4]\n"
       "  %u = reshape %t {shape = [3, 2, 4]} : f32[3,2,4]\n"
       "  %v = slice %u {starts = [0, 1, 0], ends = [3, 2, 3]} : f32[3,1,3]\n"
       "  %w = reshape %v {shape = [3, 3]} : f32[3,3]\n"
       "  %r = pad %w {low = [0, 1], high = [0, 0]} : f32[3,4]"},
  };
  for (const V& v : views) {
    Case c;
    c.text = loop_func(v.args, {v.result}, v.body + "\n  return %r");
    CAPTURE(c.text);
    run_case(c);
  }
}

TEST_CASE("emit: operands read through strides (transposed and broadcast layouts)") {
  Case c;
  c.text = loop_func({"%x: f32[17,33]", "%y: f32[17,33]", "%z: f32[17,33]"}, {"f32[17,33]"},
                     "  %s = add %x, %y : f32[17,33]\n  %r = mul %s, %z : f32[17,33]\n"
                     "  return %r");
  c.strides[0] = {1, 17}; // x stored transposed
  c.strides[1] = {0, 1};  // y: one row broadcast
  c.strides[2] = {1, 0};  // z: one column broadcast
  run_case(c);
}

TEST_CASE("emit: f16 and bf16 groups load, compute in f32 and store their own dtype") {
  for (const char* t : {"f16", "bf16"}) {
    Case c;
    c.text = loop_func({fmt::format("%x: {}[3,17]", t), fmt::format("%y: {}[17]", t)},
                       {fmt::format("{}[3,17]", t)},
                       fmt::format("  %s = mul %x, %y : {0}[3,17]\n  %r = add %s, %x : {0}[3,17]\n"
                                   "  return %r",
                                   t));
    c.tol = {2e-2, 1e-2}; // the reference rounds after each op, the kernel only at the store
    CAPTURE(c.text);
    run_case(c);
  }
}

TEST_CASE("emit: sources (full, iota, arange, constant) inside a group") {
  Case c;
  c.text = loop_func(
      {"%x: f32[3,4]"}, {"f32[3,4]", "i32[3,4]"},
      "  %f = full {shape = [3, 4], dtype = f32, value = 0.25} : f32[3,4]\n"
      "  %i = iota {shape = [3, 4], dtype = f32, axis = 0} : f32[3,4]\n"
      "  %a = arange {start = 1.5, limit = 3.5, step = 0.5, dtype = f32} : f32[4]\n"
      "  %k = constant {value = dense<f32[3,1]: [1.0, -2.0, 4.0]>} : f32[3,1]\n"
      "  %s0 = add %x, %f : f32[3,4]\n  %s1 = mul %s0, %i : f32[3,4]\n"
      "  %s2 = add %s1, %a : f32[3,4]\n  %r = sub %s2, %k : f32[3,4]\n"
      "  %j = iota {shape = [3, 4], dtype = i32, axis = 1} : i32[3,4]\n"
      "  return %r, %j");
  run_case(c);
}

TEST_CASE("emit: gather, take, embedding and one_hot read through their indices") {
  Case g;
  g.text = loop_func({"%x: f32[5,7]", "%i: i64[5,3]"}, {"f32[5,3]"},
                     "  %r = gather %x, %i {axis = 1} : f32[5,3]\n  return %r");
  g.ilo = 0;
  g.ihi = 6;
  run_case(g);

  Case t;
  t.text = loop_func({"%x: f32[6,4]", "%i: i32[2,3]"}, {"f32[2,3,4]"},
                     "  %r = take %x, %i {axis = 0} : f32[2,3,4]\n  return %r");
  t.ilo = 0;
  t.ihi = 5;
  run_case(t);

  Case e;
  e.text = loop_func({"%w: f32[10,16]", "%ids: i32[3,5]"}, {"f32[3,5,16]"},
                     "  %r = embedding %w, %ids : f32[3,5,16]\n  return %r");
  e.ilo = 0;
  e.ihi = 9;
  run_case(e);

  Case h;
  h.text = loop_func({"%ids: i64[7]"}, {"f32[7,5]"},
                     "  %r = one_hot %ids {depth = 5, dtype = f32} : f32[7,5]\n  return %r");
  h.ilo = 0;
  h.ihi = 4;
  run_case(h);
}

TEST_CASE("emit: an index out of range returns the site's error code and message") {
  for (double bad : {10.0, -1.0}) {
    Case e;
    e.text = loop_func({"%w: f32[10,16]", "%ids: i32[3,5]"}, {"f32[3,5,16]"},
                       "  %h = embedding %w, %ids : f32[3,5,16]\n  %r = exp %h : f32[3,5,16]\n"
                       "  return %r");
    std::vector<double> ids(15, 2.0);
    ids[7] = bad;
    e.data[1] = ids;
    Outcome o = run_case(e);
    CHECK(!o.error.empty());
    REQUIRE(o.info.errors.size() == 1);
    CHECK(o.code == 1);
    CHECK(o.info.errors[0].find("embedding index out of range at h (case.tir:3:") == 0);
  }
  Case g;
  g.text = loop_func({"%x: f32[5,7]", "%i: i64[5,3]", "%j: i64[5,3]"}, {"f32[5,3]"},
                     "  %a = gather %x, %i {axis = 1} : f32[5,3]\n"
                     "  %b = gather %x, %j {axis = 1} : f32[5,3]\n"
                     "  %r = add %a, %b : f32[5,3]\n  return %r");
  std::vector<double> ok(15, 1.0), wrong(15, 1.0);
  wrong[14] = 7;
  g.data[1] = ok;
  g.data[2] = wrong;
  Outcome o = run_case(g);
  REQUIRE(o.info.errors.size() == 2);
  CHECK(o.code == 2); // the second gather's site
  CHECK(o.info.errors[1].find("gather index out of range at b") == 0);
}

TEST_CASE("emit: unsupported content is an error located at the group, naming the op") {
  std::string text = loop_func({"%x: f32[4,8]"}, {"f32[4,8]"},
                               "  %r = cumsum %x {axis = 1} : f32[4,8]\n  return %r");
  ir::Module m = ir::parse_module(text, "case.tir");
  cpu::KernelModule km("emit_test");
  cpu::KernelSpec spec{"k", &fused_node(*m.funcs[0]), {}, {}};
  CHECK_THROWS_WITH_AS(km.add(spec), doctest::Contains("case.tir:2:"), ir::Error);
  CHECK_THROWS_WITH_AS(km.add(spec), doctest::Contains("cumsum cannot be generated"), ir::Error);
}

TEST_CASE("emit: an elementwise f32 group vectorises") {
  Case c;
  c.text = loop_func({"%a: f32[64,1024]", "%b: f32[1024]"}, {"f32[64,1024]"},
                     "  %s = mul %a, %b : f32[64,1024]\n  %r = add %s, %a : f32[64,1024]\n"
                     "  return %r");
  Outcome o = run_case(c, /*want_ir=*/true);
  CHECK(std::regex_search(o.ir, std::regex("<[0-9]+ x float>")));
}
