// aot_main.cpp: `main` of executables made by `tevo compile --emit=exe`.
//
//   MODEL IN.safetensors OUT.safetensors [--weights W.safetensors] [--threads N]
//
// Reads one tensor per model input from IN (named like the input; parameters come from
// W when --weights is given), runs the model once and writes one tensor per output to
// OUT atomically. The model is the artefact record `tevo_main_artefact`, which
// module_aot.cpp exports only from objects made for executables. Errors: one line on
// standard error, exit status 1; usage errors exit 2.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "runtime/c_api.h"
#include "runtime/json.h"
#include "runtime/safetensors.h"

extern "C" const tevo_artefact tevo_main_artefact;

namespace {

using tevo::rt::Error;

struct Args {
  std::string in, out, weights;
  int threads = 0;
};

const char* kUsage = "usage: %s IN.safetensors OUT.safetensors [--weights W.safetensors] "
                     "[--threads N]\n";

/// Parses the command line; returns false after printing usage (status `*status`).
bool parse(int argc, char** argv, Args& a, int* status) {
  std::vector<std::string> pos;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    auto value = [&](const char* flag) -> std::string {
      std::string prefix = std::string(flag) + "=";
      if (s.rfind(prefix, 0) == 0)
        return s.substr(prefix.size());
      if (i + 1 >= argc)
        throw Error(std::string("option '") + flag + "' needs a value");
      return argv[++i];
    };
    if (s == "--help" || s == "-h") {
      std::printf(kUsage, argv[0]);
      *status = 0;
      return false;
    }
    if (s == "--weights" || s.rfind("--weights=", 0) == 0) {
      a.weights = value("--weights");
    } else if (s == "--threads" || s.rfind("--threads=", 0) == 0) {
      std::string v = value("--threads");
      size_t used = 0;
      long n = -1;
      try {
        n = std::stol(v, &used);
      } catch (const std::exception&) {
      }
      if (used != v.size() || n < 0 || n > 4096)
        throw Error("--threads must be an integer in [0, 4096], got '" + v + "'");
      a.threads = static_cast<int>(n);
    } else if (s.size() > 1 && s[0] == '-') {
      throw Error("unknown option '" + s + "'");
    } else {
      pos.push_back(s);
    }
  }
  if (pos.size() != 2) {
    std::fprintf(stderr, kUsage, argv[0]);
    *status = 2;
    return false;
  }
  a.in = pos[0];
  a.out = pos[1];
  return true;
}

/// Owns a tevo_model; throws its message when a call fails.
struct Model {
  tevo_model* m;
  explicit Model(int threads) : m(tevo_model_create(&tevo_main_artefact, threads)) {
    if (!m)
      throw Error("out of memory");
    check(*tevo_model_last_error(m) == '\0' ? 0 : 1);
  }
  ~Model() {
    tevo_model_destroy(m);
  }
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  void check(int rc) const {
    if (rc != 0)
      throw Error(tevo_model_last_error(m));
  }
};

std::string type_str(const tevo_tensor_info& t) {
  std::string s = std::string(t.dtype) + "[";
  for (int32_t d = 0; d < t.rank; ++d)
    s += (d ? "," : "") + std::to_string(t.shape[d]);
  return s + "]";
}

int run(const Args& a) {
  Model model(a.threads);
  if (!a.weights.empty())
    model.check(tevo_model_load_weights(model.m, a.weights.c_str()));
  tevo::rt::TensorFile in = tevo::rt::read_safetensors(a.in);

  int n_in = tevo_model_num_inputs(model.m), n_out = tevo_model_num_outputs(model.m);
  std::vector<const void*> ins(static_cast<size_t>(n_in), nullptr);
  for (int i = 0; i < n_in; ++i) {
    tevo_tensor_info info{};
    tevo_model_input_info(model.m, i, &info);
    if (info.is_param && !a.weights.empty())
      continue; // bound from --weights
    const tevo::rt::HostTensor* t = in.find(info.name);
    if (!t)
      throw Error(a.in + ": missing input '" + info.name + "' (" + type_str(info) + ")" +
                  (info.is_param ? "; parameters may come from --weights" : ""));
    std::vector<int64_t> shape(info.shape, info.shape + info.rank);
    if (tevo::ir::dtype_name(t->dtype) != info.dtype || t->shape != shape)
      throw Error(a.in + ": input '" + info.name + "' is " + t->type_str() + ", expected " +
                  type_str(info));
    ins[static_cast<size_t>(i)] = t->data.data();
  }

  tevo::rt::TensorFile out;
  std::vector<void*> outs;
  out.tensors.reserve(static_cast<size_t>(n_out));
  for (int i = 0; i < n_out; ++i) {
    tevo_tensor_info info{};
    tevo_model_output_info(model.m, i, &info);
    auto dt = tevo::ir::dtype_from_name(info.dtype);
    tevo::rt::HostTensor t{*dt, std::vector<int64_t>(info.shape, info.shape + info.rank),
                           std::vector<uint8_t>(static_cast<size_t>(info.bytes))};
    out.tensors.emplace_back(info.name, std::move(t));
  }
  for (auto& [name, t] : out.tensors)
    outs.push_back(t.data.data());
  model.check(tevo_model_run(model.m, ins.data(), outs.data()));
  tevo::rt::write_safetensors(a.out, out);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  try {
    Args a;
    int status = 0;
    if (!parse(argc, argv, a, &status))
      return status;
    return run(a);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "error: out of memory\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
  }
  return 1;
}
