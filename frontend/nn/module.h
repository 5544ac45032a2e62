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
#include <string>
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

protected:
  /// Declares a parameter of this module (local name, e.g. "weight").
  void register_parameter(std::string local, std::vector<int64_t> shape, Init init);
  /// Adopts a child module under a local name (e.g. "attn", or "3" inside a list).
  template <class M> M& register_module(std::string local, std::unique_ptr<M> m) {
    M& ref = *m;
    children_.emplace_back(std::move(local), std::move(m));
    return ref;
  }
  /// The Tensor of a parameter of this module in `t`: a `param` input named by the
  /// current scope path + local name (the caller has entered this module's scope).
  Tensor param(Trace& t, const std::string& local) const;

private:
  void collect(const std::string& prefix, std::vector<ParamSpec>& out) const;
  std::vector<ParamSpec> params_; // local names
  std::vector<std::pair<std::string, std::unique_ptr<Module>>> children_;
  bool training_ = true;
};

/// Initial values for every parameter: a pure function of (seed, name), so adding a
/// parameter never changes the others. f32.
ParamStore init_params(const Module& m, uint64_t seed);

} // namespace tevo::nn
