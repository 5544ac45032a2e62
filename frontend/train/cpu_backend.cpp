// cpu_backend.cpp: adapts cpu::Executable (raw tensor bytes) to train::Executable
// (interpreter arrays). The conversion costs one pass over each input and output.
#include "frontend/train/cpu_backend.h"

namespace tevo::train {

namespace {

class CpuExe final : public Executable {
public:
  explicit CpuExe(std::unique_ptr<cpu::Executable> exe, std::vector<ir::TensorType> outs)
      : exe_(std::move(exe)), out_types_(std::move(outs)) {}

  std::vector<Array> run(const std::vector<Array>& inputs) override {
    in_bytes_.resize(inputs.size());
    in_ptrs_.resize(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      in_bytes_[i] = inputs[i].to_bytes();
      in_ptrs_[i] = in_bytes_[i].data();
    }
    out_bytes_.resize(out_types_.size());
    out_ptrs_.resize(out_types_.size());
    for (size_t i = 0; i < out_types_.size(); ++i) {
      out_bytes_[i].resize(static_cast<size_t>(out_types_[i].bytes()));
      out_ptrs_[i] = out_bytes_[i].data();
    }
    exe_->run(in_ptrs_.data(), out_ptrs_.data());
    std::vector<Array> outs;
    outs.reserve(out_types_.size());
    for (size_t i = 0; i < out_types_.size(); ++i)
      outs.push_back(Array::from_bytes(out_types_[i], out_bytes_[i].data()));
    return outs;
  }

private:
  std::unique_ptr<cpu::Executable> exe_;
  std::vector<ir::TensorType> out_types_;
  std::vector<std::vector<uint8_t>> in_bytes_, out_bytes_;
  std::vector<const void*> in_ptrs_;
  std::vector<void*> out_ptrs_;
};

class CpuBackend final : public Backend {
public:
  explicit CpuBackend(cpu::CompileOptions o) : opts_(std::move(o)) {}
  std::string name() const override {
    return "cpu";
  }
  std::unique_ptr<Executable> compile(const ir::Graph& g) override {
    std::vector<ir::TensorType> outs;
    for (const ir::Value* v : g.outputs)
      outs.push_back(v->type);
    return std::make_unique<CpuExe>(cpu::compile(g, opts_), std::move(outs));
  }

private:
  cpu::CompileOptions opts_;
};

} // namespace

std::shared_ptr<Backend> cpu_backend(cpu::CompileOptions opts) {
  return std::make_shared<CpuBackend>(std::move(opts));
}

} // namespace tevo::train
