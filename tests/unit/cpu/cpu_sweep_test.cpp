// cpu_sweep_test.cpp: every golden op case through the compiled CPU backend.
//
// Each function in tests/ops/golden/*.tir is compiled with cpu::compile (decompose, fuse,
// lower, LLVM, oneDNN) and run on the golden inputs; outputs must match NumPy's within the
// case tolerance widened to what generated code promises: f64 1e-9 relative, f32 1e-4
// relative (+ the case's atol, at least 1e-5 for f32). Complex elementwise arithmetic has
// no generated code (FFTs run as runtime kernels): such cases must fail with a one-line
// error, and are counted. Also: results that must not depend on the thread count.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "backends/cpu/compile.h"
#include "ir/interp/interpreter.h"
#include "ir/parser.h"
#include "runtime/file_io.h"
#include "runtime/safetensors.h"

using namespace tevo;
using namespace tevo::ir;

namespace {

const std::string kGolden = std::string(TEVO_SOURCE_DIR) + "/tests/ops/golden";

bool has_complex(const Graph& g) {
  auto cx = [](const Value* v) { return is_complex(v->type.dtype); };
  for (const Value* v : g.inputs())
    if (cx(v))
      return true;
  for (const auto& n : g.nodes())
    for (int i = 0; i < n->num_results(); ++i)
      if (cx(n->result(i)))
        return true;
  return false;
}

std::string compare(const interp::Array& got, const interp::Array& want, double rtol,
                    double atol) {
  if (!(got.type == want.type))
    return fmt::format("type {} but expected {}", got.type.str(), want.type.str());
  for (int64_t i = 0; i < got.numel(); ++i) {
    double a = got[i], b = want[i];
    bool ok = std::isnan(b) ? std::isnan(a)
                            : (std::isinf(b) ? a == b : std::fabs(a - b) <= atol + rtol * std::fabs(b));
    if (!ok)
      return fmt::format("element {}: got {} expected {}", i, a, b);
  }
  return "";
}

std::vector<interp::Array> run_cpu(const Graph& g, const std::vector<interp::Array>& ins,
                                   int threads) {
  cpu::CompileOptions o;
  o.threads = threads;
  auto exe = cpu::compile(g, o);
  cpu::run_arrays(*exe, ins);
  return cpu::run_arrays(*exe, ins); // a second run on the same executable: no state kept
}

} // namespace

TEST_CASE("cpu backend: every golden case compiles and matches NumPy (1 and 2 threads)") {
  int matched = 0, complex_refused = 0;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(kGolden))
    if (e.path().extension() == ".tir")
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::string fam = path.stem().string();
    auto bytes = rt::read_file(path.string());
    Module m = parse_module(std::string(bytes.begin(), bytes.end()), fam + ".tir");
    auto data = rt::read_safetensors(kGolden + "/" + fam + ".safetensors");
    for (const auto& g : m.funcs) {
      INFO("case " << g->name << " (" << fam << ".tir)");
      std::vector<interp::Array> ins;
      for (size_t i = 0; i < g->inputs().size(); ++i) {
        const rt::HostTensor* t = data.find(fmt::format("{}.in{}", g->name, i));
        REQUIRE(t != nullptr);
        ins.push_back(interp::Array::from_bytes(TensorType{t->dtype, Shape(t->shape)},
                                                t->data.data()));
      }
      double rtol = std::stod(*data.meta(g->name + ".rtol"));
      double atol = std::stod(*data.meta(g->name + ".atol"));
      for (int threads : {1, 2}) {
        std::vector<interp::Array> outs;
        try {
          outs = run_cpu(*g, ins, threads);
        } catch (const std::exception& e) {
          // Complex elementwise arithmetic has no generated code; everything else must run.
          std::string msg = e.what();
          if (has_complex(*g) && msg.find('\n') == std::string::npos && threads == 1) {
            ++complex_refused;
            break;
          }
          FAIL_CHECK("cpu backend failed: " << msg);
          break;
        }
        for (size_t i = 0; i < outs.size(); ++i) {
          const rt::HostTensor* t = data.find(fmt::format("{}.out{}", g->name, i));
          interp::Array want = interp::Array::from_bytes(TensorType{t->dtype, Shape(t->shape)},
                                                         t->data.data());
          bool f32 = is_float(want.dtype()) && want.dtype() != DType::F64;
          double r = std::max(rtol, f32 ? 1e-4 : 1e-9);
          double a = std::max(atol, f32 ? 1e-5 : 1e-12);
          std::string diff = compare(outs[i], want, r, a);
          CHECK_MESSAGE(diff.empty(), "threads " << threads << " output " << i << ": " << diff);
        }
      }
      ++matched;
    }
  }
  MESSAGE(matched << " golden cases compiled and matched; " << complex_refused
                  << " complex cases refused with a one-line error");
  CHECK(matched > 300);
}

TEST_CASE("cpu backend: divisions give the same bits at 1, 2, 3 and 8 threads") {
  // By a value varying along the row (an exact division) and by a row constant or a scalar
  // (x * (1 / y) written out): every element takes one formula, whatever part of an
  // unrolled loop (prologue or body, moving with each thread's chunk) computes it.
  Module m = parse_module(R"(
func @f(%a: f32[5000,64], %b: f32[1,64], %r: f32[5000,1], %s: f32[]) -> (f32[5000,64], f32[5000,64]) {
  %x = div %a, %b : f32[5000,64]
  %y = div %a, %r : f32[5000,64]
  %z = div %y, %s : f32[5000,64]
  return %x, %z
}
)",
                          "div.tir");
  const Graph& g = *m.funcs[0];
  std::vector<interp::Array> ins;
  uint32_t state = 12345;
  for (const Value* v : g.inputs()) {
    interp::Array a(v->type);
    for (int64_t i = 0; i < a.numel(); ++i) {
      state = state * 1664525u + 1013904223u;
      a[i] = 0.5 + static_cast<double>(state >> 8) / static_cast<double>(1u << 24);
    }
    a.round_to_dtype();
    ins.push_back(std::move(a));
  }
  std::vector<interp::Array> one = run_cpu(g, ins, 1);
  for (int threads : {2, 3, 8}) {
    std::vector<interp::Array> got = run_cpu(g, ins, threads);
    for (size_t j = 0; j < one.size(); ++j) {
      CAPTURE(threads);
      CAPTURE(j);
      CHECK(got[j].to_bytes() == one[j].to_bytes());
    }
  }
}
