// emit_test_util.h: harness of the loop-group code generator tests (emit_*_test.cpp).
//
// A case is a .tir function holding one `fused {kind = "loop"}` node whose operands are the
// function's inputs. The harness fills the inputs with seeded random data (or given data),
// lays them out in memory through the operand strides under test, JIT-compiles the group
// with cpu::KernelModule, runs it over [0, extent) in one call and again split in two
// chunks, and compares every result with the f64 interpreter running the body.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/codegen.h"
#include "ir/interp/interpreter.h"
#include "ir/parser.h"

namespace tevo::emit_test {

using Ints = std::vector<int64_t>;

/// Tolerances: |got - want| <= atol + rtol * |want| (floats); integers and bools exact.
struct Tol {
  double rtol = 1e-5;
  double atol = 1e-6;
};
/// f32 arithmetic-only chains; f32 with transcendentals; f64 (any).
inline constexpr Tol kF32{1e-5, 1e-6};
inline constexpr Tol kF32Math{1e-4, 1e-5};
inline constexpr Tol kF64{1e-12, 1e-12};

struct Case {
  std::string text;                      ///< module with one func, one fused node
  std::map<int, std::vector<double>> data; ///< explicit physical data per input
  std::map<int, Ints> strides;           ///< operand strides (default dense)
  Tol tol = kF32;
  double lo = -2, hi = 2;                ///< random float range
  int64_t ilo = -5, ihi = 5;             ///< random integer range
  uint32_t seed = 1;
  bool same_bits = false; ///< every split of the range must give bitwise-equal results
  cpu::TargetOptions target; ///< row_pipeline among others
  /// (operand, result) pairs sharing memory (KernelSpec::inplace): the result is written
  /// into the operand's buffer, whose layout must then be dense.
  std::vector<std::pair<int, int>> inplace;
  /// Per result: its buffer starts this many bytes past a 64-byte boundary (default 0).
  std::map<int, int64_t> result_offset;
};

/// What a run produced.
struct Outcome {
  cpu::KernelInfo info;
  int32_t code = 0;              ///< the kernel's return code of the whole-range call
  std::string error;             ///< the interpreter's error (data errors), "" if none
  std::string ir;                ///< optimised LLVM IR (when asked for)
};

/// The fused node of g (the first one).
inline const ir::Node& fused_node(const ir::Graph& g) {
  for (const auto& n : g.nodes())
    if (n->op == ir::OpKind::Fused)
      return *n;
  FAIL("no fused node");
  return *g.nodes()[0];
}

/// A module text: func @f(args) -> results { fused ... }, the region binding the same
/// names as the function. `args` as "%x: f32[2,3]" items; `body` ends with `return`.
inline std::string loop_func(const std::vector<std::string>& args,
                             const std::vector<std::string>& results, const std::string& body) {
  std::string a, names, r, outs;
  for (size_t i = 0; i < args.size(); ++i) {
    a += (i ? ", " : "") + args[i];
    names += (i ? ", " : "") + args[i].substr(0, args[i].find(':'));
  }
  for (size_t i = 0; i < results.size(); ++i) {
    r += (i ? ", " : "") + results[i];
    outs += (i ? ", " : "") + std::string("%o") + std::to_string(i);
  }
  return "func @f(" + a + ") -> (" + r + ") {\n  " + outs + " = fused " + names +
         " {kind = \"loop\", body = region(" + a + ") -> (" + r + ") {\n" + body + "\n  }} : " +
         r + "\n  return " + outs + "\n}\n";
}

/// Physical extent (elements) of a strided tensor.
inline int64_t span_of(const Ints& dims, const Ints& st) {
  int64_t s = 1;
  for (size_t d = 0; d < dims.size(); ++d) {
    if (dims[d] == 0)
      return 0;
    s += (dims[d] - 1) * st[d];
  }
  return s;
}

inline double random_value(std::mt19937_64& rng, ir::DType t, const Case& c) {
  if (ir::is_bool(t))
    return static_cast<double>(rng() & 1);
  if (ir::is_int(t))
    return static_cast<double>(
        std::uniform_int_distribution<int64_t>(c.ilo, c.ihi)(rng));
  return std::uniform_real_distribution<double>(c.lo, c.hi)(rng);
}

inline bool close(double got, double want, ir::DType t, Tol tol) {
  if (std::isnan(want))
    return std::isnan(got);
  if (std::isinf(want) || !ir::is_float(t))
    return got == want;
  return std::fabs(got - want) <= tol.atol + tol.rtol * std::fabs(want);
}

/// Runs a case; checks results against the interpreter unless it raised a data error.
inline Outcome run_case(const Case& c, bool want_ir = false) {
  ir::Module m = ir::parse_module(c.text, "case.tir");
  const ir::Graph& g = *m.funcs.at(0);
  const ir::Node& group = fused_node(g);
  const ir::Graph& body = *group.attrs.get("body").region();
  std::mt19937_64 rng(c.seed);
  std::vector<ir::interp::Array> logical;
  std::vector<std::vector<uint8_t>> buffers;
  cpu::KernelSpec spec;
  spec.symbol = "kernel";
  spec.group = &group;
  for (int i = 0; i < group.num_operands(); ++i) {
    const ir::TensorType& t = body.input(i)->type;
    Ints dims = t.shape.to_vector();
    Ints st = c.strides.count(i) ? c.strides.at(i) : t.shape.strides();
    spec.operand_strides.push_back(c.strides.count(i) ? st : Ints{});
    ir::interp::Array phys(ir::TensorType{t.dtype, ir::Shape{span_of(dims, st)}});
    if (c.data.count(i)) {
      REQUIRE(static_cast<int64_t>(c.data.at(i).size()) == phys.numel());
      phys.data = c.data.at(i);
    } else {
      for (auto& x : phys.data)
        x = random_value(rng, t.dtype, c);
    }
    phys.round_to_dtype();
    ir::interp::Array a(t);
    for (int64_t f = 0; f < a.numel(); ++f)
      a[f] = phys[ir::interp::ravel(ir::interp::unravel(f, dims), st)];
    logical.push_back(std::move(a));
    buffers.push_back(phys.to_bytes());
  }
  Outcome out;
  std::vector<ir::interp::Array> want;
  try {
    want = ir::interp::run(body, logical);
  } catch (const ir::Error& e) {
    out.error = e.what();
  }
  spec.inplace = c.inplace;
  cpu::KernelModule km("emit_test", c.target);
  out.info = km.add(spec);
  if (want_ir) {
    km.optimize();
    out.ir = km.llvm_ir();
  }
  auto code = km.jit();
  rt::KernelFn fn = code->lookup("kernel");
  std::vector<std::vector<uint8_t>> results(body.outputs.size());
  std::vector<std::vector<uint8_t>> placed(results.size()); // with room to place a result
  auto at = [&](size_t j) {
    auto p = reinterpret_cast<uintptr_t>(placed[j].data());
    auto k = static_cast<int>(j);
    int64_t off = c.result_offset.count(k) ? c.result_offset.at(k) : 0;
    return placed[j].data() + ((64 - p % 64) % 64) + static_cast<size_t>(off);
  };
  auto call = [&](std::vector<std::pair<int64_t, int64_t>> ranges) {
    std::vector<std::vector<uint8_t>> in = buffers; // in-place results overwrite them
    std::vector<void*> args;
    for (auto& b : in)
      args.push_back(b.data());
    for (size_t j = 0; j < results.size(); ++j) {
      placed[j].assign(static_cast<size_t>(body.outputs[j]->type.bytes()) + 128, 0xA5);
      args.push_back(at(j));
    }
    for (auto [opnd, res] : c.inplace) {
      REQUIRE(static_cast<int64_t>(in[static_cast<size_t>(opnd)].size()) ==
              body.outputs[static_cast<size_t>(res)]->type.bytes());
      args[in.size() + static_cast<size_t>(res)] = args[static_cast<size_t>(opnd)];
    }
    int32_t rc = 0;
    for (auto [b, e] : ranges)
      if (int32_t r = fn(args.data(), b, e); r != 0 && rc == 0)
        rc = r;
    for (size_t j = 0; j < results.size(); ++j) {
      uint8_t* p = at(j);
      results[j].assign(p, p + body.outputs[j]->type.bytes());
      bool outside = std::all_of(placed[j].data(), p, [](uint8_t x) { return x == 0xA5; }) &&
                     std::all_of(p + results[j].size(), placed[j].data() + placed[j].size(),
                                 [](uint8_t x) { return x == 0xA5; });
      CHECK_MESSAGE(outside, "result ", j, " written outside its buffer");
    }
    for (auto [opnd, res] : c.inplace)
      results[static_cast<size_t>(res)] = in[static_cast<size_t>(opnd)];
    return rc;
  };
  int64_t n = out.info.extent;
  std::vector<std::vector<std::pair<int64_t, int64_t>>> splits = {{{0, n}}};
  if (n >= 2)
    splits.push_back({{0, n / 2}, {n / 2, n}});
  if (n >= 3) {
    splits.push_back({{0, 1}, {1, n - 1}, {n - 1, n}});
    splits.push_back({{0, n / 3}, {n / 3, 2 * n / 3}, {2 * n / 3, n}}); // three threads
  }
  std::vector<std::vector<uint8_t>> first;
  for (size_t s = 0; s < splits.size(); ++s) {
    int32_t rc = call(splits[s]);
    if (s == 0)
      out.code = rc;
    if (c.same_bits) {
      if (s == 0)
        first = results;
      else
        CHECK_MESSAGE(first == results, "split ", s, " gives other bits than the whole range");
    }
    if (!out.error.empty()) {
      CHECK_MESSAGE(rc != 0, "the interpreter failed (", out.error, ") but the kernel did not");
      continue;
    }
    REQUIRE_MESSAGE(rc == 0, "kernel returned ", rc);
    for (size_t j = 0; j < results.size(); ++j) {
      const ir::TensorType& t = body.outputs[j]->type;
      ir::interp::Array got = ir::interp::Array::from_bytes(t, results[j].data());
      int bad = 0;
      for (int64_t f = 0; f < got.numel() && bad < 5; ++f)
        if (!close(got[f], want[j][f], t.dtype, c.tol)) {
          ++bad;
          CHECK_MESSAGE(false, "result ", j, " element ", f, ": got ", got[f], " want ",
                        want[j][f], " (split ", s, ")");
        }
    }
  }
  return out;
}

} // namespace tevo::emit_test
