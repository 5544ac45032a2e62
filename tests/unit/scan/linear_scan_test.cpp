// linear_scan_test.cpp: the linear_scan op. Type rules as one-line diagnostics, f64
// gradient checks (both directions, broadcast and time-varying decays), the CPU runtime
// kernel against the interpreter through cpu::compile (1 and 2 threads; a strided b; a
// broadcast a; a long axis; a lane count that splits into blocks), a compiled training
// graph, and check() errors.
#include "runtime/kernels/kernels.h"
#include "runtime/json.h"
#include "tests/support/dense_desc.h"
#include "tests/support/compiled_check.h"
#include "tests/support/gradcheck.h"
#include "tests/support/op_infer.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace tevo;
using namespace tevo::ir;
using testing::infer;
using testing::tt;

namespace {

constexpr DType F32 = DType::F32, F64 = DType::F64;

std::string dims(const std::vector<int64_t>& d) {
  return fmt::format("[{}]", fmt::join(d, ","));
}

/// h = linear_scan(a, b) with a in (0, 1) (a = sigmoid of the input: a stable recurrence).
std::string scan_text(const char* t, const std::vector<int64_t>& ad, const std::vector<int64_t>& bd,
                      int64_t axis, bool reverse) {
  std::string at = fmt::format("{}{}", t, dims(ad)), bt = fmt::format("{}{}", t, dims(bd));
  return fmt::format("func @f(%x: {0}, %b: {1}) -> {1} {{\n"
                     "  %a = sigmoid %x : {0}\n"
                     "  %h = linear_scan %a, %b {{axis = {2}{3}}} : {1}\n"
                     "  return %h\n}}\n",
                     at, bt, axis, reverse ? ", reverse = true" : "");
}

} // namespace

TEST_CASE("linear_scan: type rules in one line") {
  CHECK_EQ(infer(OpKind::LinearScan, {tt(F32, {4, 1, 1}), tt(F32, {2, 4, 16, 3})}, {{"axis", 2}}),
           "f32[2,4,16,3]");
  CHECK_EQ(infer(OpKind::LinearScan, {tt(F64, {}), tt(F64, {7})}, {{"axis", -1}}), "f64[7]");
  CHECK_EQ(infer(OpKind::LinearScan, {tt(F32, {3, 2}), tt(F32, {2, 3})}, {{"axis", 0}}),
           "[linear_scan] a f32[3,2] does not broadcast to b f32[2,3] (a may only have size-1 "
           "dims b lacks)");
  CHECK_EQ(infer(OpKind::LinearScan, {tt(F32, {2, 1, 3}), tt(F32, {1, 3})}, {{"axis", 0}}),
           "[linear_scan] a f32[2,1,3] does not broadcast to b f32[1,3] (a may only have size-1 "
           "dims b lacks)");
  CHECK_EQ(infer(OpKind::LinearScan, {tt(F32, {3}), tt(F64, {3})}, {{"axis", 0}}),
           "[linear_scan] operand dtypes differ: f32[3] vs f64[3] (insert a cast)");
  CHECK_EQ(infer(OpKind::LinearScan, {tt(DType::I32, {3}), tt(DType::I32, {3})}, {{"axis", 0}}),
           "[linear_scan] b must be f32 or f64, got i32[3]");
  CHECK_EQ(infer(OpKind::LinearScan, {tt(F32, {3}), tt(F32, {3})}, {{"axis", 1}}),
           "[linear_scan] axis 1 out of range for f32[3]");
  CHECK_EQ(infer(OpKind::LinearScan, {tt(F32, {3}), tt(F32, {3})}),
           "[linear_scan] missing required attribute 'axis' (i64)");
}

TEST_CASE("linear_scan: f64 gradients (forward and reverse, full, channel and scalar decays)") {
  uint64_t seed = 1;
  for (bool reverse : {false, true}) {
    for (const auto& ad : std::vector<std::vector<int64_t>>{{2, 9, 3}, {2, 1, 3}, {3}, {}}) {
      CAPTURE(reverse);
      CAPTURE(dims(ad));
      Module m = parse_module(scan_text("f64", ad, {2, 9, 3}, 1, reverse), "g.tir");
      auto r = testing::gradcheck(*m.funcs[0], test::random_inputs(*m.funcs[0], seed++));
      CHECK_MESSAGE(r.ok, r.report);
      CHECK(r.checked > 0);
    }
  }
}

TEST_CASE("linear_scan kernel: matches the interpreter (axes, directions, broadcasts, threads)") {
  uint64_t seed = 10;
  struct Case {
    std::vector<int64_t> a, b;
    int64_t axis;
  };
  const std::vector<Case> cases = {
      {{2, 37, 5}, {2, 37, 5}, 1},     // time-varying decay
      {{2, 1, 5}, {2, 37, 5}, 1},      // per-channel decay (stride-0 axis)
      {{}, {300}, 0},                  // a scalar decay, one lane
      {{4, 1, 1}, {3, 4, 50, 1}, 2},   // S5's layout: [B, P, N, 1], a [P, 1, 1]
      {{1, 130}, {3, 41, 130}, 1},     // 130 inner lanes: blocks of 64, 64 and 2
      {{7, 1}, {7, 1}, 0},             // a length-1 axis
      {{3, 6}, {3, 6}, -1},            // the last axis (inner = 1, strided rows)
  };
  for (const char* t : {"f64", "f32"})
    for (const Case& c : cases)
      for (bool reverse : {false, true})
        test::check_compiled(scan_text(t, c.a, c.b, c.axis, reverse), seed++);
}

TEST_CASE("linear_scan kernel: a strided b (a transposed view) and a long axis") {
  const char* text = R"(func @f(%x: f32[6,1], %bt: f32[6,4000]) -> f32[4000,6] {
  %a = sigmoid %x : f32[6,1]
  %at = transpose %a {perm = [1, 0]} : f32[1,6]
  %b = transpose %bt {perm = [1, 0]} : f32[4000,6]
  %h = linear_scan %at, %b {axis = 0} : f32[4000,6]
  return %h
}
)";
  test::check_compiled(text, 41);
}

TEST_CASE("linear_scan kernel: a training graph (autodiff through linear_scan) compiles") {
  const char* text = R"(func @loss(%x: f32[2,1,4], %b: f32[2,60,4]) -> f32[] {
  %a = sigmoid %x : f32[2,1,4]
  %h = linear_scan %a, %b {axis = 1} : f32[2,60,4]
  %t = tanh %h : f32[2,60,4]
  %s = sum %t {axes = []} : f32[]
  return %s
}
)";
  test::check_gradients(text, 43);
}

TEST_CASE("linear_scan kernel: check() rejects malformed steps in one line") {
  const auto desc = test::dense_desc;
  rt::RuntimeOpStep ok{"linear_scan", {desc(F32, {3, 1}), desc(F32, {3, 8})},
                       {desc(F32, {3, 8})}, {1, 0}, {}};
  CHECK_NOTHROW(rt::kernels::check(ok));
  auto bad = [&](auto edit, const char* msg) {
    rt::RuntimeOpStep s = ok;
    edit(s);
    CHECK_THROWS_WITH_AS(rt::kernels::check(s), msg, rt::Error);
  };
  bad([](rt::RuntimeOpStep& s) { s.iattrs = {1}; },
      "runtime op 'linear_scan': expected 2 operands, 1 result, 2 iattrs, 0 fattrs; got 2, 1, 1, 0");
  bad([&](rt::RuntimeOpStep& s) { s.operands[0] = desc(F32, {2, 8}); },
      "runtime op 'linear_scan': a f32[2,8] does not broadcast to b f32[3,8]");
  bad([&](rt::RuntimeOpStep& s) { s.operands[0] = desc(F64, {3, 1}); },
      "runtime op 'linear_scan': a f64[3,1] and b f32[3,8] differ in dtype");
  bad([&](rt::RuntimeOpStep& s) { s.operands = {desc(DType::I32, {3, 1}), desc(DType::I32, {3, 8})}; },
      "runtime op 'linear_scan': b must be f32 or f64, got i32[3,8]");
  bad([](rt::RuntimeOpStep& s) { s.iattrs = {2, 0}; },
      "runtime op 'linear_scan': axis 2 out of range for f32[3,8]");
  bad([](rt::RuntimeOpStep& s) { s.iattrs = {1, 2}; },
      "runtime op 'linear_scan': iattr 1 (reverse) must be 0 or 1, got 2");
  bad([&](rt::RuntimeOpStep& s) { s.results[0] = desc(F32, {3, 7}); },
      "runtime op 'linear_scan': result is f32[3,7], expected f32[3,8]");
}
