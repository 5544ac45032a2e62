// checkpoint_test.cpp: checkpoint names, round trip, validation and crash safety.
#include "../runtime/test_util.h"
#include "frontend/train/losses.h"
#include "frontend/train/trainer.h"
#include "runtime/checkpoint.h"
#include "runtime/json.h"
#include "runtime/safetensors.h"
#include "train_test_util.h"

#include <chrono>
#include <csignal>
#include <cstring>
#include <doctest/doctest.h>
#include <filesystem>
#include <functional>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace tevo;
using namespace tevo::train;

namespace {

Tensor linreg_loss(Trace& t, const std::vector<Tensor>& b) {
  auto s = t.scope("fc");
  return mse(matmul(b[0], t.param("weight", {3, 1})) + t.param("bias", {1}), b[1]);
}

Trainer make_trainer() {
  TrainStep s = make_train_step(linreg_loss, {{"fc.weight", {3, 1}, {}}, {"fc.bias", {1}, {}}},
                                Optimizer::adamw(0.05), {{"x", {4, 3}}, {"y", {4, 1}}});
  return Trainer(std::move(s), {{"fc.weight", test::arr(DType::F32, {3, 1}, {0.1, 0.2, 0.3})},
                                {"fc.bias", test::arr(DType::F32, {1}, {0})}});
}

std::vector<ir::interp::Array> batch() {
  return {test::arr(DType::F32, {4, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1}),
          test::arr(DType::F32, {4, 1}, {1, -2, 0.5, -0.5})};
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no error>";
}

/// A checkpoint with one f32 parameter of n elements, all equal to `v`.
rt::Checkpoint big_checkpoint(int64_t n, float v) {
  rt::HostTensor t{DType::F32, {n}, std::vector<uint8_t>(static_cast<size_t>(n) * 4)};
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(t.data.data() + i * 4, &v, 4);
  rt::Checkpoint c;
  c.params.emplace_back("w", std::move(t));
  c.optimizer.emplace_back("step", rt::HostTensor{DType::F32, {}, {0, 0, 0, 0}});
  return c;
}

/// Whether every element of the loaded "w" equals v.
bool all_equal(const rt::Checkpoint& c, float v) {
  const rt::HostTensor* t = c.param("w");
  if (!t)
    return false;
  for (int64_t i = 0; i < t->numel(); ++i) {
    float x;
    std::memcpy(&x, t->data.data() + i * 4, 4);
    if (x != v)
      return false;
  }
  return true;
}

std::vector<std::string> temp_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& n : test::list_dir(dir))
    if (n.find(".tmp.") != std::string::npos)
      out.push_back(n);
  return out;
}

} // namespace

TEST_CASE("checkpoint: PyTorch-style names and metadata") {
  test::TempDir dir;
  Trainer tr = make_trainer();
  tr.step(batch());
  tr.save_checkpoint(dir.path("ckpt.safetensors"));
  rt::TensorFile f = rt::read_safetensors(dir.path("ckpt.safetensors"));
  std::vector<std::string> names;
  for (const auto& [n, t] : f.tensors)
    names.push_back(n);
  CHECK_EQ(names,
           std::vector<std::string>{"fc.bias", "fc.weight", "optimizer.fc.bias.exp_avg",
                                    "optimizer.fc.bias.exp_avg_sq", "optimizer.fc.weight.exp_avg",
                                    "optimizer.fc.weight.exp_avg_sq", "optimizer.step"});
  CHECK_EQ(*f.meta("format"), "tevo.checkpoint");
  CHECK_EQ(*f.meta("optimizer"), "adamw");
  CHECK_EQ(*f.meta("step"), "1");
  CHECK_EQ(f.find("optimizer.step")->type_str(), "f32[]");
}

TEST_CASE("checkpoint: round trip restores training exactly") {
  test::TempDir dir;
  std::string path = dir.path("ckpt.safetensors");
  Trainer a = make_trainer();
  for (int k = 0; k < 3; ++k)
    a.step(batch());
  a.save_checkpoint(path);
  Trainer b = make_trainer();
  b.load_checkpoint(path);
  CHECK_EQ(b.steps_done(), 3);
  for (int k = 0; k < 2; ++k) {
    StepStats sa = a.step(batch()), sb = b.step(batch());
    CHECK_EQ(sa.loss, sb.loss);
    CHECK_EQ(sa.lr, sb.lr);
  }
  for (const auto& [name, w] : a.params())
    CHECK(b.params().at(name).data == w.data);
  for (const auto& [name, s] : a.optimizer_state())
    CHECK(b.optimizer_state().at(name).data == s.data);
  CHECK(temp_files(dir.root()).empty());

  // A weights-only file (no optimizer entries) loads with load_params.
  rt::Checkpoint weights = a.checkpoint();
  weights.optimizer.clear();
  rt::save_checkpoint(dir.path("weights.safetensors"), weights);
  Trainer c = make_trainer();
  c.load_params(dir.path("weights.safetensors"));
  CHECK(c.params().at("fc.weight").data == a.params().at("fc.weight").data);
  CHECK_EQ(c.steps_done(), 0);
}

TEST_CASE("checkpoint: loading checks names, dtypes and shapes with one-line errors") {
  test::TempDir dir;
  std::string path = dir.path("c.safetensors");
  Trainer tr = make_trainer();
  rt::Checkpoint good = tr.checkpoint();

  rt::Checkpoint missing = good;
  missing.params.erase(missing.params.begin()); // fc.weight
  rt::save_checkpoint(path, missing);
  CHECK_EQ(error_of([&] { make_trainer().load_checkpoint(path); }),
           path + ": missing tensor 'fc.weight' (the model expects f32[3,1])");

  rt::Checkpoint shape = good;
  shape.params[0].second.shape = {1, 3};
  rt::save_checkpoint(path, shape);
  CHECK_EQ(error_of([&] { make_trainer().load_checkpoint(path); }),
           path + ": tensor 'fc.weight' is f32[1,3], the model expects f32[3,1]");

  rt::Checkpoint dtype = good;
  dtype.optimizer.back().second = rt::HostTensor{DType::I32, {}, {0, 0, 0, 0}};
  rt::save_checkpoint(path, dtype);
  CHECK_EQ(error_of([&] { make_trainer().load_checkpoint(path); }),
           path + ": tensor 'optimizer.step' is i32[], the model expects f32[]");

  rt::Checkpoint extra = good;
  extra.optimizer.emplace_back("fc.weight.momentum_buffer", good.params[0].second);
  rt::save_checkpoint(path, extra);
  CHECK_EQ(error_of([&] { make_trainer().load_checkpoint(path); }),
           path + ": unexpected tensor 'optimizer.fc.weight.momentum_buffer' (not in the model)");

  rt::Checkpoint clash = good;
  clash.params.emplace_back("optimizer.x", good.params[0].second);
  CHECK_EQ(error_of([&] { rt::save_checkpoint(path, clash); }),
           path + ": parameter 'optimizer.x' clashes with the optimizer-state prefix "
                  "'optimizer.'");
  // A failed load leaves the trainer as it was.
  Trainer kept = make_trainer();
  CHECK(error_of([&] { kept.load_checkpoint(path); }) != "<no error>");
  CHECK_EQ(kept.params().at("fc.weight")[2], doctest::Approx(0.3));
}

TEST_CASE("checkpoint: a writer killed mid-save (file size limit) leaves the old file") {
  test::TempDir dir;
  std::string path = dir.path("ckpt.safetensors");
  rt::save_checkpoint(path, big_checkpoint(1000, 1.0f));
  auto before = test::read_bytes(path);
  rt::Checkpoint next = big_checkpoint(1 << 20, 2.0f); // 4 MiB
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // The kernel kills this process with SIGXFSZ when the write crosses 1 MiB.
    rlimit core{0, 0}, fsize{1 << 20, 1 << 20};
    ::setrlimit(RLIMIT_CORE, &core);
    ::setrlimit(RLIMIT_FSIZE, &fsize);
    std::signal(SIGXFSZ, SIG_DFL);
    try {
      rt::save_checkpoint(path, next);
    } catch (...) {
      ::_exit(3);
    }
    ::_exit(0);
  }
  int status = 0;
  REQUIRE_EQ(::waitpid(pid, &status, 0), pid);
  REQUIRE(WIFSIGNALED(status));
  CHECK_EQ(WTERMSIG(status), SIGXFSZ);
  // The old checkpoint is intact; the partial write sits in a temp file beside it.
  CHECK(test::read_bytes(path) == before);
  CHECK(all_equal(rt::load_checkpoint(path), 1.0f));
  auto temps = temp_files(dir.root());
  REQUIRE_EQ(temps.size(), 1u);
  CHECK(temps[0].starts_with("ckpt.safetensors.tmp." + std::to_string(pid) + "."));
  // The next save removes the dead writer's leftovers.
  rt::save_checkpoint(path, big_checkpoint(10, 3.0f));
  CHECK(temp_files(dir.root()).empty());
  CHECK(all_equal(rt::load_checkpoint(path), 3.0f));
}

TEST_CASE("checkpoint: SIGKILL during saves always leaves a complete checkpoint") {
  test::TempDir dir;
  std::string path = dir.path("ckpt.safetensors");
  rt::save_checkpoint(path, big_checkpoint(1 << 20, 1.0f));
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Saves alternating versions until killed.
    try {
      rt::Checkpoint v2 = big_checkpoint(1 << 20, 2.0f), v3 = big_checkpoint(1 << 20, 3.0f);
      for (int k = 0;; ++k)
        rt::save_checkpoint(path, k % 2 ? v3 : v2);
    } catch (...) {
      ::_exit(3);
    }
  }
  // Kill it while a temp file is being written (or after 5 s in any case).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  bool saw_temp = false;
  while (!saw_temp && std::chrono::steady_clock::now() < deadline) {
    saw_temp = !temp_files(dir.root()).empty();
    if (!saw_temp)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  ::kill(pid, SIGKILL);
  CHECK(saw_temp);
  int status = 0;
  REQUIRE_EQ(::waitpid(pid, &status, 0), pid);
  CHECK(WIFSIGNALED(status));
  rt::Checkpoint c = rt::load_checkpoint(path);
  CHECK((all_equal(c, 1.0f) || all_equal(c, 2.0f) || all_equal(c, 3.0f)));
  CHECK(temp_files(dir.root()).size() <= 1);
  rt::save_checkpoint(path, big_checkpoint(10, 4.0f));
  CHECK(temp_files(dir.root()).empty());
}
