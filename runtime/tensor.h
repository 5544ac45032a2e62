// tensor.h: HostTensor, a dense tensor in host memory as the runtime sees it (raw bytes).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/dtype.h"

namespace tevo::rt {

using ir::DType;

/// Row-major, little-endian tensor bytes with their dtype and shape.
struct HostTensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
  /// "f32[2,3]".
  std::string type_str() const;
};

/// A named tensor's type: a plan's input or output, a checkpoint entry.
struct TensorSpec {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  /// Element count and byte size (the caller keeps shapes small enough not to overflow;
  /// validate_plan checks plans).
  int64_t numel() const;
  int64_t bytes() const;
  /// "f32[2,3]".
  std::string type_str() const;
  bool operator==(const TensorSpec&) const = default;
};

} // namespace tevo::rt
