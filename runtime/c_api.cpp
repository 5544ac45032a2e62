// c_api.cpp: the C API of AOT artefacts (runtime/c_api.h) over rt::Executor.
//
// A tevo_model owns an executor built from the artefact's serialised plan and kernel
// table, plus the parameter values bound by tevo_model_load_weights. C++ exceptions stop
// at this boundary: each function catches them and stores the one-line message.
#include "runtime/c_api.h"

#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "runtime/executor.h"
#include "runtime/json.h"
#include "runtime/plan_io.h"
#include "runtime/safetensors.h"

struct tevo_model {
  std::unique_ptr<tevo::rt::Executor> exec; // null when creation failed
  std::vector<uint8_t> is_param;            // per plan input
  std::vector<std::vector<uint8_t>> bound;  // per plan input: bound parameter bytes
  std::vector<const void*> ins;             // run(): inputs with bound ones filled in
  std::string error;                        // last failure, "" after a success
};

namespace {

using tevo::rt::Error;

/// Runs `f`, turning exceptions into the model's error message; returns 0 or 1.
template <class F> int guarded(tevo_model* m, F&& f) {
  try {
    f();
    m->error.clear();
    return 0;
  } catch (const std::bad_alloc&) {
    m->error = "out of memory";
  } catch (const std::exception& e) {
    m->error = e.what();
  }
  if (m->error.empty())
    m->error = "unknown error";
  return 1;
}

tevo::rt::Executor& executor(tevo_model* m) {
  if (!m->exec)
    throw Error(m->error.empty() ? "the model was not created" : m->error);
  return *m->exec;
}

void create(tevo_model* m, const tevo_artefact* a, int threads) {
  if (!a)
    throw Error("tevo_model_create: no artefact");
  if (a->abi != TEVO_ARTEFACT_ABI)
    throw Error("artefact ABI " + std::to_string(a->abi) + " is not the runtime's (" +
                std::to_string(TEVO_ARTEFACT_ABI) + "): rebuild the model with this tevo");
  if (!a->plan || (a->num_kernels > 0 && !a->kernels) || (a->num_inputs > 0 && !a->param_mask))
    throw Error("artefact record has null tables");
  tevo::rt::Plan plan = tevo::rt::parse_plan(
      std::span<const uint8_t>(a->plan, static_cast<size_t>(a->plan_bytes)));
  if (plan.kernel_names.size() != a->num_kernels)
    throw Error("artefact has " + std::to_string(a->num_kernels) + " kernels but its plan " +
                std::to_string(plan.kernel_names.size()));
  if (plan.inputs.size() != a->num_inputs)
    throw Error("artefact marks " + std::to_string(a->num_inputs) + " inputs but its plan has " +
                std::to_string(plan.inputs.size()));
  std::vector<tevo::rt::KernelFn> kernels(a->kernels, a->kernels + a->num_kernels);
  for (size_t i = 0; i < kernels.size(); ++i)
    if (!kernels[i])
      throw Error("artefact kernel '" + plan.kernel_names[i] + "' is null");
  m->is_param.assign(a->param_mask, a->param_mask + a->num_inputs);
  m->bound.assign(plan.inputs.size(), {});
  m->ins.assign(plan.inputs.size(), nullptr);
  m->exec = std::make_unique<tevo::rt::Executor>(std::move(plan), std::move(kernels),
                                                 tevo::rt::ExecOptions{threads > 0 ? threads : 0});
}

void run(tevo_model* m, const void* const* inputs, void* const* outputs) {
  tevo::rt::Executor& ex = executor(m);
  const tevo::rt::Plan& plan = ex.plan();
  if ((!inputs && !plan.inputs.empty()) || (!outputs && !plan.outputs.empty()))
    throw Error("tevo_model_run: null input or output array");
  for (size_t i = 0; i < plan.inputs.size(); ++i) {
    const void* p = inputs[i];
    if (!p && !m->bound[i].empty())
      p = m->bound[i].data();
    if (!p && plan.inputs[i].bytes() > 0)
      throw Error("input '" + plan.inputs[i].name + "' is null" +
                  (m->is_param[i] ? " (bind parameters with load_weights)" : ""));
    m->ins[i] = p;
  }
  for (size_t i = 0; i < plan.outputs.size(); ++i)
    if (!outputs[i] && plan.outputs[i].bytes() > 0)
      throw Error("output '" + plan.outputs[i].name + "' is null");
  ex.run(m->ins.data(), outputs);
}

void load_weights(tevo_model* m, const char* path) {
  const tevo::rt::Plan& plan = executor(m).plan();
  if (!path)
    throw Error("load_weights: null path");
  tevo::rt::TensorFile f = tevo::rt::read_safetensors(path);
  std::vector<std::vector<uint8_t>> bound(plan.inputs.size());
  for (size_t i = 0; i < plan.inputs.size(); ++i) {
    if (!m->is_param[i])
      continue;
    const tevo::rt::TensorSpec& s = plan.inputs[i];
    const tevo::rt::HostTensor* t = f.find(s.name);
    if (!t)
      throw Error(std::string(path) + ": no tensor '" + s.name + "' for parameter '" + s.name +
                  "' (" + s.type_str() + ")");
    if (t->dtype != s.dtype || t->shape != s.shape)
      throw Error(std::string(path) + ": tensor '" + s.name + "' is " + t->type_str() +
                  " but parameter '" + s.name + "' is " + s.type_str());
    bound[i] = t->data;
  }
  m->bound = std::move(bound);
}

void fill_info(const tevo::rt::TensorSpec& s, bool param, tevo_tensor_info* info) {
  info->name = s.name.c_str();
  info->dtype = tevo::ir::dtype_name(s.dtype).data(); // names are NUL-terminated literals
  info->rank = static_cast<int32_t>(s.shape.size());
  info->shape = s.shape.data();
  info->bytes = s.bytes();
  info->is_param = param ? 1 : 0;
}

} // namespace

extern "C" {

tevo_model* tevo_model_create(const tevo_artefact* artefact, int threads) {
  auto* m = new (std::nothrow) tevo_model();
  if (!m)
    return nullptr;
  if (guarded(m, [&] { create(m, artefact, threads); }) != 0)
    m->exec.reset();
  return m;
}

int tevo_model_run(tevo_model* model, const void* const* inputs, void* const* outputs) {
  if (!model)
    return 1;
  return guarded(model, [&] { run(model, inputs, outputs); });
}

int tevo_model_load_weights(tevo_model* model, const char* path) {
  if (!model)
    return 1;
  return guarded(model, [&] { load_weights(model, path); });
}

const char* tevo_model_last_error(const tevo_model* model) {
  return model ? model->error.c_str() : "no model (out of memory?)";
}

void tevo_model_destroy(tevo_model* model) {
  delete model;
}

int tevo_model_num_inputs(const tevo_model* model) {
  return model && model->exec ? static_cast<int>(model->exec->plan().inputs.size()) : 0;
}

int tevo_model_num_outputs(const tevo_model* model) {
  return model && model->exec ? static_cast<int>(model->exec->plan().outputs.size()) : 0;
}

int tevo_model_input_info(const tevo_model* model, int index, tevo_tensor_info* info) {
  if (!info || index < 0 || index >= tevo_model_num_inputs(model))
    return 1;
  auto i = static_cast<size_t>(index);
  fill_info(model->exec->plan().inputs[i], model->is_param[i] != 0, info);
  return 0;
}

int tevo_model_output_info(const tevo_model* model, int index, tevo_tensor_info* info) {
  if (!info || index < 0 || index >= tevo_model_num_outputs(model))
    return 1;
  fill_info(model->exec->plan().outputs[static_cast<size_t>(index)], false, info);
  return 0;
}

int tevo_model_threads(const tevo_model* model) {
  return model && model->exec ? model->exec->threads() : 0;
}

} // extern "C"
