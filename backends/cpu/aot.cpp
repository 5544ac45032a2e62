// aot.cpp: compile_aot: the CPU backend's pipeline ending in files instead of a JIT.
//
// prepare (passes) -> lower (plan + kernel specs) -> one KernelModule -> the plan, with
// parameters turned into constants when they are embedded, is serialised and added to
// the module with the entry points (module_aot.cpp) -> object file -> archive or link
// (aot_link.cpp). Then the C header and the parameter file. No LLVM headers here.
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "backends/cpu/aot.h"
#include "backends/cpu/lower.h"
#include "ir/diag.h"
#include "runtime/file_io.h"
#include "runtime/json.h"
#include "runtime/plan_io.h"
#include "runtime/safetensors.h"

namespace tevo::cpu {

namespace {

namespace fs = std::filesystem;

[[noreturn]] void user_error(std::string msg) {
  throw ir::Error(ir::Diag{ir::Loc{}, std::move(msg), {}});
}

bool is_c_identifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0])))
    return false;
  for (char ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_')
      return false;
  return true;
}

/// A temporary directory, removed with everything in it when this goes out of scope.
class TempDir {
public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "tevo-aot-XXXXXX").string();
    if (!mkdtemp(tmpl.data()))
      user_error(fmt::format("cannot create a temporary directory under {}",
                             fs::temp_directory_path().string()));
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const {
    return (fs::path(path_) / name).string();
  }

private:
  std::string path_;
};

/// Reads the weights file (rt::Error becomes a user error).
rt::TensorFile read_weights(const std::string& path) {
  try {
    return rt::read_safetensors(path);
  } catch (const rt::Error& e) {
    user_error(e.what());
  }
}

/// The parameter values in plan-input order (empty entries for data inputs), checked
/// against the plan's types.
std::vector<const rt::HostTensor*> match_params(const rt::Plan& plan,
                                                const std::vector<uint8_t>& mask,
                                                const rt::TensorFile& w, const std::string& path) {
  std::vector<const rt::HostTensor*> vals(plan.inputs.size(), nullptr);
  for (size_t i = 0; i < plan.inputs.size(); ++i) {
    if (!mask[i])
      continue;
    const rt::TensorSpec& s = plan.inputs[i];
    const rt::HostTensor* t = w.find(s.name);
    if (!t)
      user_error(fmt::format("{}: no tensor '{}' for parameter %{} ({})", path, s.name, s.name,
                             s.type_str()));
    if (t->dtype != s.dtype || t->shape != s.shape)
      user_error(fmt::format("{}: tensor '{}' is {} but parameter %{} is {}", path, s.name,
                             t->type_str(), s.name, s.type_str()));
    vals[i] = t;
  }
  return vals;
}

/// Turns the parameter inputs of `plan` into constants holding `vals`; the remaining
/// inputs keep their order. Clears the corresponding entries of `mask`.
void embed_params(rt::Plan& plan, std::vector<uint8_t>& mask,
                  const std::vector<const rt::HostTensor*>& vals) {
  std::vector<int32_t> new_input(plan.inputs.size(), -1), new_const(plan.inputs.size(), -1);
  std::vector<rt::TensorSpec> inputs;
  for (size_t i = 0; i < plan.inputs.size(); ++i) {
    if (mask[i]) {
      new_const[i] = static_cast<int32_t>(plan.constants.size());
      plan.constants.push_back(vals[i]->data);
    } else {
      new_input[i] = static_cast<int32_t>(inputs.size());
      inputs.push_back(plan.inputs[i]);
    }
  }
  for (rt::Buffer& b : plan.buffers) {
    if (b.storage != rt::Storage::Input)
      continue;
    auto i = static_cast<size_t>(b.index);
    TEVO_ASSERT(i < mask.size(), "plan buffer reads input {} of {}", i, mask.size());
    if (mask[i]) {
      b.storage = rt::Storage::Constant;
      b.index = new_const[i];
    } else {
      b.index = new_input[i];
    }
  }
  plan.inputs = std::move(inputs);
  mask.assign(plan.inputs.size(), 0);
}

/// The lowered plan with its kernels generated into `km` (as compile() does for the JIT).
Lowered lower_and_generate(const ir::Graph& fused, KernelModule& km) {
  Lowered low = lower(fused);
  generate_kernels(low, km);
  return low;
}

void write_text(const std::string& path, const std::string& text) {
  try {
    rt::write_file_atomic(path, std::span<const uint8_t>(
                                    reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  } catch (const rt::Error& e) {
    user_error(e.what());
  }
}

/// Writes the module as the artefact kind asked for.
void emit(KernelModule& km, const AotOptions& opts, const std::string& name) {
  switch (opts.emit) {
  case AotEmit::Object:
    km.emit_object(opts.output);
    return;
  case AotEmit::Library: {
    TempDir tmp;
    km.emit_object(tmp.file(name + ".o"));
    write_archive(opts.output, {tmp.file(name + ".o")});
    return;
  }
  case AotEmit::Shared:
  case AotEmit::Executable: {
    TempDir tmp;
    km.emit_object(tmp.file(name + ".o"));
    link_artefact(opts.emit, tmp.file(name + ".o"), opts.output);
    return;
  }
  }
}

} // namespace

AotEmit parse_aot_emit(const std::string& s) {
  if (s == "obj")
    return AotEmit::Object;
  if (s == "lib")
    return AotEmit::Library;
  if (s == "shared")
    return AotEmit::Shared;
  if (s == "exe")
    return AotEmit::Executable;
  user_error(fmt::format("unknown --emit '{}' (expected obj, lib, shared or exe)", s));
}

std::string aot_default_name(const std::string& output) {
  std::string base = fs::path(output).filename().string();
  if (base.rfind("lib", 0) == 0 && base.size() > 3)
    base = base.substr(3);
  base = base.substr(0, base.find('.'));
  std::string r;
  for (char ch : base)
    r += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  if (r.empty() || std::isdigit(static_cast<unsigned char>(r[0])))
    r = "model_" + r;
  return r;
}

AotFiles compile_aot(const ir::Graph& g, const AotOptions& opts) {
  if (opts.output.empty() || opts.output == "-")
    user_error("an AOT artefact needs an output file (-o FILE)");
  std::string name = opts.name.empty() ? aot_default_name(opts.output) : opts.name;
  if (!is_c_identifier(name))
    user_error(fmt::format("--name '{}' is not a C identifier", name));
  if (name.rfind("tevo_", 0) == 0)
    user_error(fmt::format("--name '{}' starts with 'tevo_', which the runtime reserves", name));
  if (opts.embed_weights && opts.weights.empty())
    user_error("--embed-weights needs --weights=FILE.safetensors");
  fs::path dir = fs::path(opts.output).parent_path();
  std::error_code ec;
  if (!dir.empty() && !fs::is_directory(dir, ec))
    user_error(fmt::format("{}: cannot write: directory '{}' does not exist", opts.output,
                           dir.string()));
  AotFiles files{opts.output, (dir / (name + ".h")).string(), ""};
  if (fs::path(files.header).lexically_normal() == fs::path(opts.output).lexically_normal())
    user_error(fmt::format("the artefact '{}' would overwrite its own header", opts.output));
  rt::TensorFile weights;
  if (!opts.weights.empty())
    weights = read_weights(opts.weights);

  std::unique_ptr<ir::Graph> fused = prepare(g, opts.compile);
  KernelModule km(name, opts.compile.target);
  Lowered low = lower_and_generate(*fused, km);
  rt::Plan& plan = low.plan;
  plan.name = name;
  TEVO_ASSERT(plan.inputs.size() == fused->inputs().size(),
              "plan has {} inputs, graph @{} has {}", plan.inputs.size(), g.name,
              fused->inputs().size());
  std::vector<uint8_t> mask(plan.inputs.size(), 0);
  bool any_param = false;
  for (size_t i = 0; i < mask.size(); ++i) {
    mask[i] = fused->inputs()[i]->input_kind == ir::InputKind::Param ? 1 : 0;
    any_param = any_param || mask[i];
  }
  std::vector<const rt::HostTensor*> vals;
  if (!opts.weights.empty())
    vals = match_params(plan, mask, weights, opts.weights);
  std::vector<std::string> param_names;
  for (size_t i = 0; i < mask.size(); ++i)
    if (mask[i] && i < vals.size())
      param_names.push_back(plan.inputs[i].name);
  if (opts.embed_weights)
    embed_params(plan, mask, vals);
  rt::validate_plan(plan);

  AotEntry entry{name, rt::serialize_plan(plan), plan.kernel_names, mask,
                 opts.emit == AotEmit::Executable};
  add_aot_entry(km, entry);
  try {
    emit(km, opts, name);
  } catch (const rt::Error& e) {
    user_error(e.what());
  }
  write_text(files.header, aot_header(name, plan, mask));

  if (any_param && !opts.weights.empty() && !opts.embed_weights) {
    files.weights = (dir / (name + ".safetensors")).string();
    if (fs::equivalent(files.weights, opts.weights, ec))
      return files; // --weights is already that file: keep it as it is
    rt::TensorFile out;
    out.metadata.push_back({"tevo_model", name});
    for (size_t i = 0, k = 0; i < vals.size(); ++i)
      if (vals[i])
        out.tensors.push_back({param_names[k++], *vals[i]});
    try {
      rt::write_safetensors(files.weights, out);
    } catch (const rt::Error& e) {
      user_error(e.what());
    }
  }
  return files;
}

} // namespace tevo::cpu
