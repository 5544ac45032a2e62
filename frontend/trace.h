// trace.h: Trace, the explicit tracing context of the C++ DSL.
//
// A Trace owns the graph being built and the current module scope. There is no hidden
// global graph: every Tensor knows its Trace, and several Traces can live side by side
// (a model and its training step, or two models) in one process.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ir/builder.h"
#include "ir/graph.h"

namespace tevo {

class Tensor;

/// Records DSL calls as IR nodes of one function.
class Trace {
public:
  explicit Trace(std::string func_name);
  Trace(const Trace&) = delete;
  Trace& operator=(const Trace&) = delete;

  /// Per-call data input, trained parameter, carried state (named inside the scope).
  /// Asking again for a parameter or state of the same name and type returns the same one.
  Tensor input(std::string_view name, std::vector<int64_t> shape, ir::DType dtype = ir::DType::F32);
  Tensor param(std::string_view name, std::vector<int64_t> shape, ir::DType dtype = ir::DType::F32);
  Tensor state(std::string_view name, std::vector<int64_t> shape, ir::DType dtype = ir::DType::F32);
  /// Appends a function result.
  void output(const Tensor& t);

  /// Enters a module scope ("blocks", then "3", then "attn" gives "blocks.3.attn"); the
  /// scope ends when the returned guard is destroyed.
  class [[nodiscard]] ScopeGuard {
  public:
    explicit ScopeGuard(Trace& t) : t_(&t) {}
    ScopeGuard(ScopeGuard&& o) noexcept : t_(o.t_) {
      o.t_ = nullptr;
    }
    ScopeGuard(const ScopeGuard&) = delete;
    ScopeGuard& operator=(const ScopeGuard&) = delete;
    ScopeGuard& operator=(ScopeGuard&&) = delete;
    ~ScopeGuard() {
      if (t_)
        t_->scopes_.pop_back();
    }

  private:
    Trace* t_;
  };
  ScopeGuard scope(std::string_view name);
  /// "blocks.3.attn" (empty at top level).
  std::string path() const;
  /// path() + "." + local, or local at top level.
  std::string scoped(std::string_view local) const;

  ir::Graph& graph() {
    return *g_;
  }
  ir::Builder& builder() {
    return b_;
  }
  /// The traced function; the Trace must not be used afterwards.
  std::unique_ptr<ir::Graph> finish();

private:
  Tensor add_input(std::string_view name, std::vector<int64_t> shape, ir::DType dtype,
                   ir::InputKind kind);
  std::unique_ptr<ir::Graph> g_;
  ir::Builder b_;
  std::vector<std::string> scopes_;
};

} // namespace tevo
