// aot_model.h: a small C++ owner of an AOT-compiled model (runtime/c_api.h) for the apps of
// examples/aot: its inputs and outputs by name, runs that throw on failure, and the
// buffers of safetensors tensors. Links only the AOT runtime (no LLVM, no IR library).
#pragma once

#include "runtime/c_api.h"
#include "runtime/tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tevo::examples {

/// A model made by NAME_create. Errors are std::runtime_error with one-line messages.
class AotModel {
public:
  /// Takes ownership of `m` (from NAME_create); throws when it is null or failed.
  explicit AotModel(tevo_model* m);
  ~AotModel();
  AotModel(const AotModel&) = delete;
  AotModel& operator=(const AotModel&) = delete;

  const std::vector<tevo_tensor_info>& inputs() const {
    return inputs_;
  }
  const std::vector<tevo_tensor_info>& outputs() const {
    return outputs_;
  }
  /// Index of the input named `name`, or -1.
  int input_index(const std::string& name) const;
  /// Index of the input named `name`; throws when there is none or its dtype is not
  /// `dtype`.
  int require_input(const std::string& name, const std::string& dtype) const;

  /// Binds every parameter input from a safetensors file (a checkpoint works: other
  /// tensors are ignored).
  void load_weights(const std::string& path);
  /// Runs once; `inputs` and `outputs` hold one buffer per input / output.
  void run(const std::vector<const void*>& inputs, const std::vector<void*>& outputs);
  int threads() const;

private:
  tevo_model* m_;
  std::vector<tevo_tensor_info> inputs_, outputs_;
};

/// "f32[1,16]" for an input or output.
std::string type_str(const tevo_tensor_info& t);
/// The runtime's description of a tensor (dtype from its name).
rt::TensorSpec spec_of(const tevo_tensor_info& t);
/// `t` checked against `info` (same dtype and shape); `what` names the source in errors.
void check_type(const rt::HostTensor& t, const tevo_tensor_info& info, const std::string& what);
/// Element `i` of a float or integer buffer of `info`'s dtype, as a double.
double element(const tevo_tensor_info& info, const void* data, int64_t i);

} // namespace tevo::examples
