// cpu_backend.cpp: adapts cpu::Executable (raw tensor bytes) to train::Executable
// (interpreter arrays). The conversion costs one pass over each input and output.
#include "frontend/train/cpu_backend.h"

namespace tevo::train {

namespace {

class CpuExe final : public Executable {
public:
  explicit CpuExe(std::unique_ptr<cpu::Executable> exe) : exe_(std::move(exe)) {}
  std::vector<Array> run(const std::vector<Array>& inputs) override {
    return cpu::run_arrays(*exe_, inputs);
  }

private:
  std::unique_ptr<cpu::Executable> exe_;
};

class CpuBackend final : public Backend {
public:
  explicit CpuBackend(cpu::CompileOptions o) : opts_(std::move(o)) {}
  std::string name() const override {
    return "cpu";
  }
  std::unique_ptr<Executable> compile(const ir::Graph& g) override {
    return std::make_unique<CpuExe>(cpu::compile(g, opts_));
  }

private:
  cpu::CompileOptions opts_;
};

} // namespace

std::shared_ptr<Backend> cpu_backend(cpu::CompileOptions opts) {
  return std::make_shared<CpuBackend>(std::move(opts));
}

} // namespace tevo::train
