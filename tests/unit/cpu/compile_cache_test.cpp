// compile_cache_test.cpp: CompileCache reuses executables by graph text + options.
#include <doctest/doctest.h>

#include <cstring>

#include "backends/cpu/compile_cache.h"
#include "ir/parser.h"

using namespace tevo;

namespace {

const char* kText = R"(
func @f(%x: f32[4,8]) -> f32[4,8] {
  %e = exp %x : f32[4,8]
  %s = softmax %e {axis = -1} : f32[4,8]
  return %s
}
)";

std::vector<float> run(cpu::Executable& exe, const std::vector<float>& x) {
  std::vector<float> y(x.size());
  const void* in[] = {x.data()};
  void* out[] = {y.data()};
  exe.run(in, out);
  return y;
}

} // namespace

TEST_CASE("compile cache: the same graph and options compile once") {
  ir::Module a = ir::parse_module(kText, "a.tir");
  ir::Module b = ir::parse_module(kText, "a.tir"); // a separate but identical graph
  cpu::CompileCache cache;
  auto e1 = cache.get(*a.funcs[0]);
  auto e2 = cache.get(*b.funcs[0]);
  CHECK(e1.get() == e2.get());
  CHECK(cache.hits() == 1);
  CHECK(cache.misses() == 1);

  cpu::CompileOptions one;
  one.threads = 1;
  auto e3 = cache.get(*a.funcs[0], one); // options are part of the key
  CHECK(e3.get() != e1.get());

  std::string other = kText;
  other.replace(other.find("axis = -1"), 9, "axis = 0");
  ir::Module c = ir::parse_module(other, "a.tir");
  auto e4 = cache.get(*c.funcs[0]);
  CHECK(e4.get() != e1.get());
  CHECK(cache.size() == 3);
  CHECK(cache.misses() == 3);

  std::vector<float> x(32);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(i % 7) * 0.25f - 0.5f;
  std::vector<float> y1 = run(*e1, x), y3 = run(*e3, x), y4 = run(*e4, x);
  CHECK(std::memcmp(y1.data(), y3.data(), y1.size() * sizeof(float)) == 0);
  CHECK(y1 != y4);
  float row = 0;
  for (int j = 0; j < 8; ++j)
    row += y1[static_cast<size_t>(j)];
  CHECK(row == doctest::Approx(1.0f).epsilon(1e-5));
}
