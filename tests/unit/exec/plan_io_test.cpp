// plan_io_test.cpp: the byte form of plans: round trip (equal plan, equal outputs), and a
// truncation / bit-flip sweep over the bytes that must give rt::Error or a valid plan,
// never a crash.
#include <fmt/format.h>
#include <oneapi/dnnl/dnnl.hpp>

#include "exec_test_util.h"
#include "runtime/json.h"
#include "runtime/plan_io.h"

namespace tevo::test {
namespace {

using rt::Step;

int32_t twice(void* const* args, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i)
    static_cast<float*>(args[1])[i] = 2 * static_cast<const float*>(args[0])[i];
  return 0;
}

/// A plan with every kind of step and field: kernel, matmul (post-op), runtime op, copy.
rt::Plan sample_plan() {
  PlanBuilder b;
  b.p.name = "sample";
  int32_t x = b.input("x", DType::F32, {4, 3});
  int32_t y = b.output("y", DType::F32, {4, 3});
  int32_t z = b.output("z", DType::F32, {4, 4});
  int32_t c = b.constant(std::vector<uint8_t>(48, 0));
  for (int i = 0; i < 12; ++i)
    ir::store_element(b.p.constants[0].data(), DType::F32, i, 0.25 * i);
  int32_t t = b.arena(48);
  b.p.kernel_names = {"twice"};
  b.p.kernel_errors = {{"never"}};
  b.p.kernels.push_back(rt::KernelStep{0, {{x, 0}, {t, 0}}, 12, 4});
  b.step(Step::Kind::Kernel, 0, "double");
  rt::MatmulStep mm; // t [4,3] @ const^T [3,4]
  mm.a = dense(t, DType::F32, {4, 3});
  mm.b = view(c, DType::F32, {3, 4}, {1, 3});
  mm.c = dense(z, DType::F32, {4, 4});
  mm.post_ops.push_back(rt::PostOp{rt::PostOp::Kind::Eltwise,
                                   static_cast<int32_t>(dnnl::algorithm::eltwise_relu), 0.5f, 0,
                                   1, {}});
  b.p.matmuls.push_back(mm);
  b.step(Step::Kind::Matmul, 0, "proj");
  b.p.runtime_ops.push_back(rt::RuntimeOpStep{"cumsum", {view(t, DType::F32, {4, 3}, {3, 1})},
                                              {dense(y, DType::F32, {4, 3})}, {1, 0, 1}, {}});
  b.step(Step::Kind::RuntimeOp, 0, "scan");
  b.p.copies.push_back(rt::CopyStep{{t, 0}, {y, 0}, 8});
  b.step(Step::Kind::Copy, 0, "copy");
  return b.p;
}

TEST_CASE("plan_io: serialise -> parse gives the same plan and the same outputs") {
  rt::Plan p = sample_plan();
  std::vector<uint8_t> bytes = rt::serialize_plan(p);
  CHECK_EQ(std::string(bytes.begin(), bytes.begin() + 8), "TEVOPLAN");
  rt::Plan q = rt::parse_plan(bytes);
  CHECK(q == p);
  CHECK(rt::serialize_plan(q) == bytes);
  std::mt19937_64 rng(3);
  HostTensor x = random_tensor(DType::F32, {4, 3}, rng);
  rt::Executor a(p, {twice}, rt::ExecOptions{1}), b(q, {twice}, rt::ExecOptions{2});
  auto ra = a.run({x}), rb = b.run({x});
  REQUIRE_EQ(ra.size(), 2);
  for (size_t i = 0; i < ra.size(); ++i)
    CHECK(ra[i].data == rb[i].data);
}

TEST_CASE("plan_io: wrong magic, version and trailing bytes are rt::Errors") {
  std::vector<uint8_t> bytes = rt::serialize_plan(sample_plan());
  auto bad = bytes;
  bad[0] = 'X';
  CHECK_THROWS_WITH_AS(rt::parse_plan(bad), "plan bytes: not a tevo plan (bad magic) at byte 1",
                       rt::Error);
  bad = bytes;
  bad[8] = 9;
  CHECK_THROWS_WITH_AS(rt::parse_plan(bad),
                       "plan bytes: format version 9 (this runtime reads version 1) at byte 12",
                       rt::Error);
  bad = bytes;
  bad.push_back(0);
  CHECK_THROWS_WITH_AS(rt::parse_plan(bad), doctest::Contains("1 trailing bytes"), rt::Error);
  CHECK_THROWS_AS(rt::parse_plan({}), rt::Error);
}

/// Parses `bytes`; when they parse, the plan must also survive an executor (its own
/// checks) and, when that accepts it, a run on zero inputs. Returns whether it parsed.
bool parse_and_maybe_run(const std::vector<uint8_t>& bytes) {
  rt::Plan p;
  try {
    p = rt::parse_plan(bytes);
  } catch (const rt::Error&) {
    return false;
  }
  // A flipped size may ask for gigabytes; the executor would allocate them (and fail
  // cleanly or not), which says nothing about the parser: stay small.
  int64_t in_bytes = 0;
  for (const rt::TensorSpec& s : p.inputs)
    in_bytes += s.bytes();
  for (const rt::TensorSpec& s : p.outputs)
    in_bytes += s.bytes();
  if (p.arena_bytes > (1 << 24) || in_bytes > (1 << 24) || p.inputs.size() > 16)
    return true;
  try {
    std::vector<rt::KernelFn> fns(p.kernel_names.size(), twice);
    rt::Executor ex(p, fns, rt::ExecOptions{1});
    // Only plans whose kernel args still fit what `twice` touches are run.
    bool runnable = true;
    for (const rt::KernelStep& k : p.kernels) {
      runnable = runnable && k.args.size() >= 2 && k.extent <= 12;
      for (size_t i = 0; runnable && i < 2; ++i) {
        const rt::Buffer& buf = p.buffers[static_cast<size_t>(k.args[i].buffer)];
        runnable = buf.bytes - k.args[i].offset >= k.extent * 4;
      }
    }
    if (!runnable)
      return true;
    std::vector<HostTensor> in;
    for (const rt::TensorSpec& s : p.inputs)
      in.push_back(HostTensor{s.dtype, s.shape, std::vector<uint8_t>(static_cast<size_t>(s.bytes()))});
    ex.run(in);
  } catch (const rt::Error&) {
  }
  return true;
}

TEST_CASE("plan_io: every truncation and every single-bit flip gives rt::Error or a valid plan") {
  std::vector<uint8_t> bytes = rt::serialize_plan(sample_plan());
  int parsed = 0;
  for (size_t n = 0; n < bytes.size(); ++n)
    CHECK_FALSE(parse_and_maybe_run(std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n))));
  for (size_t i = 0; i < bytes.size(); ++i)
    for (int bit = 0; bit < 8; ++bit) {
      auto flipped = bytes;
      flipped[i] ^= static_cast<uint8_t>(1u << bit);
      parsed += parse_and_maybe_run(flipped);
    }
  MESSAGE(fmt::format("{} of {} bit flips still parse", parsed, bytes.size() * 8));
  CHECK(parsed > 0); // flips in names, constants and floats are valid plans
}

} // namespace
} // namespace tevo::test
