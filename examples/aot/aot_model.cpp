// aot_model.cpp: AotModel and the tensor helpers of the examples/aot apps (aot_model.h).
#include "examples/aot/aot_model.h"

#include <cstring>
#include <stdexcept>

namespace tevo::examples {

namespace {

std::vector<tevo_tensor_info> infos(const tevo_model* m, bool in) {
  int n = in ? tevo_model_num_inputs(m) : tevo_model_num_outputs(m);
  std::vector<tevo_tensor_info> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    int rc = in ? tevo_model_input_info(m, i, &v[static_cast<size_t>(i)])
                : tevo_model_output_info(m, i, &v[static_cast<size_t>(i)]);
    if (rc != 0)
      throw std::runtime_error("the model does not describe its tensor " + std::to_string(i));
  }
  return v;
}

} // namespace

AotModel::AotModel(tevo_model* m) : m_(m) {
  if (!m_)
    throw std::runtime_error("creating the model: out of memory");
  if (tevo_model_last_error(m_)[0] != '\0') {
    std::string msg = tevo_model_last_error(m_);
    tevo_model_destroy(m_);
    throw std::runtime_error("creating the model: " + msg);
  }
  inputs_ = infos(m_, true);
  outputs_ = infos(m_, false);
}

AotModel::~AotModel() {
  tevo_model_destroy(m_);
}

int AotModel::input_index(const std::string& name) const {
  for (size_t i = 0; i < inputs_.size(); ++i)
    if (name == inputs_[i].name)
      return static_cast<int>(i);
  return -1;
}

int AotModel::require_input(const std::string& name, const std::string& dtype) const {
  int i = input_index(name);
  if (i < 0)
    throw std::runtime_error("the model has no input '" + name + "'");
  if (dtype != inputs_[static_cast<size_t>(i)].dtype)
    throw std::runtime_error("the model's input '" + name + "' is " +
                             type_str(inputs_[static_cast<size_t>(i)]) + ", not " + dtype);
  return i;
}

void AotModel::load_weights(const std::string& path) {
  if (tevo_model_load_weights(m_, path.c_str()) != 0)
    throw std::runtime_error(tevo_model_last_error(m_));
}

void AotModel::run(const std::vector<const void*>& inputs, const std::vector<void*>& outputs) {
  if (inputs.size() != inputs_.size() || outputs.size() != outputs_.size())
    throw std::runtime_error("model run: " + std::to_string(inputs.size()) + " inputs and " +
                             std::to_string(outputs.size()) + " outputs given, it takes " +
                             std::to_string(inputs_.size()) + " and " +
                             std::to_string(outputs_.size()));
  if (tevo_model_run(m_, inputs.data(), outputs.data()) != 0)
    throw std::runtime_error(tevo_model_last_error(m_));
}

int AotModel::threads() const {
  return tevo_model_threads(m_);
}

std::string type_str(const tevo_tensor_info& t) {
  std::string s = std::string(t.dtype) + "[";
  for (int32_t d = 0; d < t.rank; ++d)
    s += (d ? "," : "") + std::to_string(t.shape[d]);
  return s + "]";
}

rt::TensorSpec spec_of(const tevo_tensor_info& t) {
  auto dt = ir::dtype_from_name(t.dtype);
  if (!dt)
    throw std::runtime_error(std::string("unknown dtype '") + t.dtype + "'");
  return {t.name, *dt, std::vector<int64_t>(t.shape, t.shape + t.rank)};
}

void check_type(const rt::HostTensor& t, const tevo_tensor_info& info, const std::string& what) {
  rt::TensorSpec want = spec_of(info);
  if (t.dtype != want.dtype || t.shape != want.shape)
    throw std::runtime_error(what + ": tensor '" + info.name + "' is " + t.type_str() +
                             ", the model expects " + want.type_str());
}

double element(const tevo_tensor_info& info, const void* data, int64_t i) {
  auto at = [&](auto zero) {
    decltype(zero) v;
    std::memcpy(&v, static_cast<const char*>(data) + i * static_cast<int64_t>(sizeof v), sizeof v);
    return static_cast<double>(v);
  };
  std::string dt = info.dtype;
  if (dt == "f32")
    return at(0.0f);
  if (dt == "f64")
    return at(0.0);
  if (dt == "i32")
    return at(int32_t{0});
  if (dt == "i64")
    return at(int64_t{0});
  throw std::runtime_error("tensor '" + std::string(info.name) + "': cannot read " + dt +
                           " elements");
}

} // namespace tevo::examples
