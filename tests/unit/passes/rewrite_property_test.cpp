// rewrite_property_test.cpp: every rewrite pass keeps what the interpreter computes.
//
// Each registered rewrite names its lit test file (tests/lit/passes/<pass>.tir). Every
// function of that file is run through the interpreter before and after the pass, on
// random positive inputs (normalisers stay away from 0; masks 3/4 true), once as written in f64 (all
// f32 types become f64: relative error <= 1e-9) and once in f32 (<= 1e-4). The pass must
// rewrite at least `min_rewritten` of the functions, so a pattern that silently stops
// firing fails here as well as in its lit test.
#include <doctest/doctest.h>

#include "tests/support/random_inputs.h"

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ir/interp/interpreter.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "passes/pass_manager.h"

using namespace tevo;

namespace {

/// A rewrite under test: the pipeline to run and its lit file.
struct RegisteredRewrite {
  const char* pipeline;
  const char* file; ///< relative to the source tree
  int min_rewritten;
  const char* option = ""; ///< a pass option NAME=VALUE, when the lit file's RUN lines set one
};

const RegisteredRewrite kRewrites[] = {
    {"canonicalize,dce", "tests/lit/passes/canonicalize_reduce.tir", 1},
    {"canonicalize,dce", "tests/lit/passes/canonicalize_pad_reshape.tir", 2},
    {"reassociate-matmul,dce", "tests/lit/passes/reassociate_matmul.tir", 4},
    {"fuse-attention,dce", "tests/lit/passes/fuse_attention.tir", 5},
    {"long-conv,dce", "tests/lit/passes/long_conv.tir", 3},
    {"split-k,dce", "tests/lit/passes/split_k.tir", 2},
    {"split-reduce,dce", "tests/lit/passes/split_reduce.tir", 3},
    {"decay-scan,dce", "tests/lit/passes/decay_scan.tir", 13},
    {"toeplitz-bias,dce", "tests/lit/passes/toeplitz_bias.tir", 8},
    {"dft-matmul,cse,dce", "tests/lit/passes/dft_matmul.tir", 4, "dft-matmul.force=1"},
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The file's functions as independent texts (split at "// -----" lines).
std::vector<std::string> split_cases(const std::string& text) {
  std::vector<std::string> out(1);
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("// -----", 0) == 0) {
      out.emplace_back();
      continue;
    }
    out.back() += line + "\n";
  }
  return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
  return s;
}

double max_rel_error(const ir::interp::Array& want, const ir::interp::Array& got) {
  double scale = 0, err = 0;
  for (int64_t i = 0; i < want.numel(); ++i)
    scale = std::max(scale, std::abs(want[i]));
  for (int64_t i = 0; i < want.numel(); ++i)
    err = std::max(err, std::abs(want[i] - got[i]));
  return scale > 0 ? err / scale : err;
}

/// Runs one function before and after the pipeline; returns whether the pass changed it.
bool check_case(const std::string& text, const RegisteredRewrite& r, bool f64, uint64_t seed) {
  ir::Module m = ir::parse_module(text, r.file);
  bool changed = false;
  for (auto& f : m.funcs) {
    auto before = f->clone();
    passes::PipelineOptions po;
    if (std::string opt = r.option; !opt.empty())
      po.pass_options[opt.substr(0, opt.find('='))] = opt.substr(opt.find('=') + 1);
    auto pm = passes::PassManager::parse(r.pipeline, po).take();
    pm.run(*f);
    changed = changed || ir::print_graph(*f) != ir::print_graph(*before);
    // Positive values keep normalisers away from 0; masks are 3/4 true.
    std::vector<ir::interp::Array> inputs = test::random_inputs(*before, seed, 0.05, 1.0);
    auto want = ir::interp::run(*before, inputs);
    auto got = ir::interp::run(*f, inputs);
    REQUIRE(want.size() == got.size());
    for (size_t i = 0; i < want.size(); ++i) {
      double e = max_rel_error(want[i], got[i]);
      INFO("function @" << f->name << " output " << i << (f64 ? " (f64)" : " (f32)"));
      CHECK(e <= (f64 ? 1e-9 : 1e-4));
    }
  }
  return changed;
}

} // namespace

TEST_CASE("rewrites keep what the interpreter computes (f64 and f32)") {
  for (const RegisteredRewrite& r : kRewrites) {
    std::string pipeline = r.pipeline;
    CAPTURE(pipeline);
    auto cases = split_cases(read_file(std::string(TEVO_SOURCE_DIR) + "/" + r.file));
    int rewritten = 0;
    uint64_t seed = 1;
    for (const std::string& c : cases) {
      if (c.find("func @") == std::string::npos)
        continue;
      bool changed = check_case(c, r, false, seed);
      check_case(replace_all(c, "f32", "f64"), r, true, seed);
      rewritten += changed ? 1 : 0;
      ++seed;
    }
    CHECK(rewritten >= r.min_rewritten);
  }
}
