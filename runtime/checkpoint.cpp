// checkpoint.cpp: checkpoint save/load over safetensors, with validation against a model.
#include "runtime/checkpoint.h"

#include "runtime/json.h"
#include "runtime/safetensors.h"

#include <cerrno>
#include <filesystem>
#include <set>
#include <signal.h>
#include <sys/types.h>

namespace tevo::rt {

namespace {

const HostTensor* find_in(const std::vector<std::pair<std::string, HostTensor>>& v,
                          const std::string& name) {
  for (const auto& [k, t] : v)
    if (k == name)
      return &t;
  return nullptr;
}

std::string type_str(DType d, const std::vector<int64_t>& shape) {
  return HostTensor{d, shape, {}}.type_str();
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

/// Removes "<path>.tmp.<pid>.<n>" files (write_file_atomic's temp names) whose writer
/// process no longer exists: what a crash mid-save leaves behind. Best effort.
void remove_stale_temps(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path p(path);
  fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  std::string prefix = p.filename().string() + ".tmp.";
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!starts_with(name, prefix))
      continue;
    std::string rest = name.substr(prefix.size());
    size_t dot = rest.find('.');
    if (dot == 0 || dot == std::string::npos || dot > 9)
      continue;
    bool digits = true;
    for (size_t i = 0; i < dot; ++i)
      digits = digits && rest[i] >= '0' && rest[i] <= '9';
    if (!digits)
      continue;
    pid_t pid = static_cast<pid_t>(std::stol(rest.substr(0, dot)));
    if (pid <= 0 || ::kill(pid, 0) == 0 || errno != ESRCH)
      continue; // a live (or unknowable) writer: leave its file alone
    std::error_code rm;
    fs::remove(it->path(), rm);
  }
}

} // namespace

const HostTensor* Checkpoint::param(const std::string& name) const {
  return find_in(params, name);
}
const HostTensor* Checkpoint::state(const std::string& name) const {
  return find_in(optimizer, name);
}
const std::string* Checkpoint::meta(const std::string& key) const {
  for (const auto& [k, v] : metadata)
    if (k == key)
      return &v;
  return nullptr;
}

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  TensorFile f;
  f.metadata = {{"format", "tevo.checkpoint"}, {"version", "1"}};
  for (const auto& [k, v] : c.metadata)
    if (k != "format" && k != "version")
      f.metadata.emplace_back(k, v);
  std::set<std::string> names;
  auto add = [&](const std::string& name, const HostTensor& t) {
    if (name.empty() || name == "__metadata__")
      throw Error(path + ": invalid tensor name '" + name + "'");
    if (!names.insert(name).second)
      throw Error(path + ": tensor '" + name + "' appears twice");
    if (static_cast<int64_t>(t.data.size()) != t.numel() * ir::dtype_size(t.dtype))
      throw Error(path + ": tensor '" + name + "' (" + t.type_str() + ") holds " +
                  std::to_string(t.data.size()) + " bytes");
    f.tensors.emplace_back(name, t);
  };
  for (const auto& [k, t] : c.params) {
    if (starts_with(k, kOptimizerPrefix))
      throw Error(path + ": parameter '" + k + "' clashes with the optimizer-state prefix '" +
                  kOptimizerPrefix + "'");
    add(k, t);
  }
  for (const auto& [k, t] : c.optimizer)
    add(kOptimizerPrefix + k, t);
  remove_stale_temps(path);
  write_safetensors(path, f);
}

Checkpoint load_checkpoint(const std::string& path) {
  TensorFile f = read_safetensors(path);
  Checkpoint c;
  c.metadata = std::move(f.metadata);
  std::string prefix = kOptimizerPrefix;
  for (auto& [k, t] : f.tensors) {
    if (starts_with(k, prefix))
      c.optimizer.emplace_back(k.substr(prefix.size()), std::move(t));
    else
      c.params.emplace_back(k, std::move(t));
  }
  return c;
}

Checkpoint load_checkpoint(const std::string& path, const CheckpointSpec& expect) {
  Checkpoint all = load_checkpoint(path);
  Checkpoint out;
  out.metadata = all.metadata;
  auto take = [&](const std::vector<std::pair<std::string, HostTensor>>& have,
                  const std::vector<TensorSpec>& want, const std::string& prefix,
                  std::vector<std::pair<std::string, HostTensor>>& into) {
    std::set<std::string> wanted;
    for (const TensorSpec& s : want) {
      wanted.insert(s.name);
      const HostTensor* t = find_in(have, s.name);
      std::string shown = prefix + s.name;
      if (!t)
        throw Error(path + ": missing tensor '" + shown + "' (the model expects " +
                    type_str(s.dtype, s.shape) + ")");
      if (t->dtype != s.dtype || t->shape != s.shape)
        throw Error(path + ": tensor '" + shown + "' is " + t->type_str() + ", the model expects " +
                    type_str(s.dtype, s.shape));
      into.emplace_back(s.name, *t);
    }
    for (const auto& [k, t] : have)
      if (!wanted.count(k))
        throw Error(path + ": unexpected tensor '" + prefix + k + "' (not in the model)");
  };
  take(all.params, expect.params, "", out.params);
  if (expect.load_optimizer)
    take(all.optimizer, expect.optimizer, kOptimizerPrefix, out.optimizer);
  return out;
}

} // namespace tevo::rt
