// module.h: nn::Module, the base of every layer: named parameters, children, init, mode.
//
// A Module describes parameters (name, shape, initialiser) and how to compute its output;
// it holds no graph. forward() traces into a Trace: each parameter becomes a `param`
// input named by its dotted path ("blocks.3.attn.q_proj.weight", PyTorch state_dict
// style), created once per Trace however often the module is called. Parameter *values*
// live outside the module, in a ParamStore, so one model can be traced into several
// graphs (inference, training step) that share the same weights.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "frontend/ops.h"
#include "ir/interp/array.h"

namespace tevo::nn {

/// How a parameter is initialised (deterministic from a seed; PyTorch-like defaults).
struct Init {
  enum class Kind { Zeros, Ones, Constant, Uniform, Normal } kind = Kind::Zeros;
  double a = 0; ///< Constant: value; Uniform: low; Normal: mean
  double b = 0; ///< Uniform: high; Normal: std
  static Init zeros() { return {Kind::Zeros, 0, 0}; }
  static Init ones() { return {Kind::Ones, 0, 0}; }
  static Init constant(double v) { return {Kind::Constant, v, 0}; }
  static Init uniform(double lo, double hi) { return {Kind::Uniform, lo, hi}; }
  static Init normal(double mean, double std) { return {Kind::Normal, mean, std}; }
};

/// One parameter of a module tree, with its full dotted name.
struct ParamSpec {
  std::string name;
  std::vector<int64_t> shape;
  Init init;
  ir::DType dtype = ir::DType::F32; ///< set for a whole tree by Module::to()
};

/// Parameter values by full dotted name (f32 unless the model says otherwise).
using ParamStore = std::map<std::string, ir::interp::Array>;

class Module {
public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  /// Every parameter of this module and its children, in registration order, with full
  /// dotted names.
  std::vector<ParamSpec> parameters() const;
  /// Training mode (dropout active) or evaluation mode, recursively.
  void train(bool on = true);
  bool training() const {
    return training_;
  }
  /// Parameter dtype of this module and its children, recursively (f32 by default; f64
  /// for gradient checks). Constants made in forward() follow the input's dtype.
  void to(ir::DType dtype);
  ir::DType dtype() const {
    return dtype_;
  }
  /// Replaces the initialiser of a parameter declared by this module (local name), as
  /// torch.nn.init does on a parameter; returns *this.
  Module& set_init(const std::string& local, Init init);
  /// Calls fn(path, module) on this module (path "") and every descendant (path relative
  /// to this one, "h.0.attn"), parents first, like PyTorch's named_modules() / apply().
  void apply(const std::function<void(const std::string& path, Module& m)>& fn);
  /// Local name under the parent ("attn", "3"); empty for a top-level module.
  const std::string& name() const {
    return name_;
  }

protected:
  /// Declares a parameter of this module (local name, e.g. "weight").
  void register_parameter(std::string local, std::vector<int64_t> shape, Init init);
  /// Adopts a child module under a local name (e.g. "attn", or "3" inside a list).
  template <class M> M& register_module(std::string local, std::unique_ptr<M> m) {
    M& ref = *m;
    check_new_name(local);
    Module& base = ref;
    base.name_ = local;
    base.to(dtype_);
    base.train(training_);
    children_.emplace_back(std::move(local), std::move(m));
    return ref;
  }
  /// The Tensor of a parameter of this module in `t`: a `param` input named by the
  /// current scope path + local name (the caller has entered this module's scope).
  Tensor param(Trace& t, const std::string& local) const;

private:
  void collect(const std::string& prefix, std::vector<ParamSpec>& out) const;
  void check_new_name(const std::string& local) const;
  std::vector<ParamSpec> params_; // local names
  std::vector<std::pair<std::string, std::unique_ptr<Module>>> children_;
  bool training_ = true;
  ir::DType dtype_ = ir::DType::F32;
  std::string name_;
};

/// Runs fn() inside `child`'s scope (none for a top-level module), so that the
/// parameters it asks for are named "<path>.<child>.<local>".
template <class F> decltype(auto) in_scope(Trace& t, const Module& child, F&& fn) {
  std::optional<Trace::ScopeGuard> s;
  if (!child.name().empty())
    s.emplace(t.scope(child.name()));
  return std::forward<F>(fn)();
}

/// The way a parent calls a child: `x = call(t, *attn_, x, mask)` is
/// `attn_->forward(x, mask)` inside the scope "attn".
template <class M, class... A> decltype(auto) call(Trace& t, M& child, A&&... args) {
  return in_scope(t, child, [&]() -> decltype(auto) {
    return child.forward(std::forward<A>(args)...);
  });
}

/// Initial values for every parameter: a pure function of (seed, name), so adding a
/// parameter never changes the others. f32 (or the dtype set by Module::to()).
///
/// Random initialisers use ir/random.h with the per-parameter seed
///   s = int64(mix(seed ^ fnv1a64(full name)))   (FNV-1a, 64-bit, over the name's bytes)
/// so element i of a Uniform(lo, hi) parameter is random::uniform(s, i, lo, hi), exactly
/// what a random_uniform op with seed s would produce (Normal likewise).
ParamStore init_params(const Module& m, uint64_t seed);

/// FNV-1a 64-bit hash (offset 0xcbf29ce484222325, prime 0x100000001b3): the stable name
/// hash behind init_params and Dropout masks.
uint64_t fnv1a64(std::string_view s);
/// The per-parameter seed of init_params (see above).
int64_t param_seed(uint64_t seed, std::string_view full_name);

/// Graph inputs in order, from `params` (param inputs, by full name) and `data` (data
/// and state inputs, by name). Throws ir::Error naming a missing input or a type mismatch.
std::vector<ir::interp::Array> bind_inputs(const ir::Graph& g, const ParamStore& params,
                                           const std::map<std::string, ir::interp::Array>& data);

} // namespace tevo::nn
