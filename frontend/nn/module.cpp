// module.cpp: nn::Module bookkeeping (names, modes, dtypes), deterministic init, input binding.
#include "frontend/nn/module.h"

#include "ir/random.h"

namespace tevo::nn {

std::vector<ParamSpec> Module::parameters() const {
  std::vector<ParamSpec> out;
  collect("", out);
  return out;
}

void Module::collect(const std::string& prefix, std::vector<ParamSpec>& out) const {
  for (const ParamSpec& p : params_) {
    ParamSpec full = p;
    full.name = prefix + p.name;
    full.dtype = dtype_;
    out.push_back(std::move(full));
  }
  for (const auto& [local, child] : children_)
    child->collect(prefix + local + ".", out);
}

void Module::train(bool on) {
  training_ = on;
  for (auto& c : children_)
    c.second->train(on);
}

void Module::apply(const std::function<void(const std::string& path, Module& m)>& fn) {
  fn("", *this);
  for (auto& [local, child] : children_)
    child->apply([&](const std::string& path, Module& m) {
      fn(path.empty() ? local : local + "." + path, m);
    });
}

void Module::to(ir::DType dtype) {
  if (!ir::is_float(dtype))
    throw ir::Error(
        ir::make_diag("module parameters must be float, got {}", ir::dtype_name(dtype)));
  dtype_ = dtype;
  for (auto& c : children_)
    c.second->to(dtype);
}

void Module::check_new_name(const std::string& local) const {
  if (local.empty() || local.find('.') != std::string::npos)
    throw ir::Error(ir::make_diag("invalid module member name '{}'", local));
  for (const ParamSpec& p : params_)
    if (p.name == local)
      throw ir::Error(ir::make_diag("'{}' is already a parameter of this module", local));
  for (const auto& c : children_)
    if (c.first == local)
      throw ir::Error(ir::make_diag("'{}' is already a child of this module", local));
}

void Module::register_parameter(std::string local, std::vector<int64_t> shape, Init init) {
  check_new_name(local);
  if (!ir::checked_numel(shape))
    throw ir::Error(
        ir::make_diag("parameter '{}' has an invalid shape {}", local, ir::Shape(shape).str()));
  params_.push_back(ParamSpec{std::move(local), std::move(shape), init, dtype_});
}

Module& Module::set_init(const std::string& local, Init init) {
  for (ParamSpec& p : params_)
    if (p.name == local) {
      p.init = init;
      return *this;
    }
  throw ir::Error(ir::make_diag("no parameter '{}' in this module", local));
}

Tensor Module::param(Trace& t, const std::string& local) const {
  for (const ParamSpec& p : params_)
    if (p.name == local)
      return t.param(local, p.shape, dtype_);
  throw ir::Error(ir::make_diag("no parameter '{}' in module '{}'", local, t.path()));
}

uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

int64_t param_seed(uint64_t seed, std::string_view full_name) {
  return static_cast<int64_t>(ir::random::mix(seed ^ fnv1a64(full_name)));
}

ParamStore init_params(const Module& m, uint64_t seed) {
  ParamStore out;
  for (const ParamSpec& p : m.parameters()) {
    ir::interp::Array a(ir::TensorType{p.dtype, ir::Shape(p.shape)});
    int64_t s = param_seed(seed, p.name);
    for (int64_t i = 0; i < a.numel(); ++i) {
      auto c = static_cast<uint64_t>(i);
      switch (p.init.kind) {
      case Init::Kind::Zeros:
        a[i] = 0;
        break;
      case Init::Kind::Ones:
        a[i] = 1;
        break;
      case Init::Kind::Constant:
        a[i] = p.init.a;
        break;
      case Init::Kind::Uniform:
        a[i] = ir::random::uniform(s, c, p.init.a, p.init.b);
        break;
      case Init::Kind::Normal:
        a[i] = ir::random::normal(s, c, p.init.a, p.init.b);
        break;
      }
    }
    a.round_to_dtype();
    out.emplace(p.name, std::move(a));
  }
  return out;
}

std::vector<ir::interp::Array> bind_inputs(const ir::Graph& g,
                                           const ParamStore& params,
                                           const std::map<std::string, ir::interp::Array>& data) {
  std::vector<ir::interp::Array> out;
  for (const ir::Value* in : g.inputs()) {
    const auto& src = in->input_kind == ir::InputKind::Param ? params : data;
    auto it = src.find(in->name);
    if (it == src.end())
      throw ir::Error(ir::make_diag("no value for {} input '{}' ({})",
                                    in->input_kind == ir::InputKind::Param ? "param" : "data",
                                    in->name, in->type.str()));
    if (!(it->second.type == in->type))
      throw ir::Error(ir::make_diag("input '{}' is {} but the value is {}", in->name,
                                    in->type.str(), it->second.type.str()));
    out.push_back(it->second);
  }
  return out;
}

} // namespace tevo::nn
