// tensor.h: Tensor, the DSL's cheap handle to a traced value.
#pragma once

#include <cstdint>
#include <vector>

#include "frontend/trace.h"
#include "ir/graph.h"
#include "ir/loc.h"

namespace tevo {

/// A value in a Trace. Copying a Tensor copies the handle, not data.
class Tensor {
public:
  Tensor() = default;
  Tensor(Trace* t, ir::Value* v) : trace_(t), value_(v) {}

  bool valid() const {
    return value_ != nullptr;
  }
  Trace& trace() const {
    return *trace_;
  }
  ir::Value* value() const {
    return value_;
  }
  const ir::TensorType& type() const {
    return value_->type;
  }
  ir::DType dtype() const {
    return value_->type.dtype;
  }
  int64_t rank() const {
    return value_->type.shape.rank();
  }
  /// Extent of dim i (negative counts from the end).
  int64_t dim(int64_t i) const;
  std::vector<int64_t> shape() const {
    return value_->type.shape.to_vector();
  }
  int64_t numel() const {
    return value_->type.numel();
  }
  /// Renames the value to scope + "." + local (shows in dumps and errors).
  Tensor& named(std::string_view local);

private:
  Trace* trace_ = nullptr;
  ir::Value* value_ = nullptr;
};

/// A Tensor argument that also captures the call site of the expression it appears in.
/// Operators cannot take default arguments, but a converting constructor can: the default
/// Loc::here() is evaluated where `a + b` is written.
struct At {
  Tensor t;
  ir::Loc loc;
#if defined(__cpp_lib_source_location)
  At(Tensor x, std::source_location s = std::source_location::current()) // NOLINT
      : t(x), loc(ir::Loc::here(s)) {}
#else
  At(Tensor x, const char* f = __builtin_FILE(), int l = __builtin_LINE()) // NOLINT
      : t(x), loc(ir::Loc::here(f, l)) {}
#endif
};

} // namespace tevo
