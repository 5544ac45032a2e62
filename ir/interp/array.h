// array.h: the reference interpreter's tensor: a TensorType plus elements held as double.
//
// Every dtype is held as double (complex as two arrays) so that each reference kernel is
// written once. After each op the interpreter rounds results to the declared dtype
// (round_to_dtype), so f32 graphs behave like f32 storage and f64 graphs keep f64.
// Integers up to 2^53 are exact, which covers every index and shape.
#pragma once

#include <cstdint>
#include <vector>

#include "ir/shape.h"

namespace tevo::ir::interp {

/// A dense row-major tensor for the interpreter.
struct Array {
  TensorType type;
  std::vector<double> data; ///< element values (real part for complex)
  std::vector<double> imag; ///< imaginary parts; empty unless complex

  Array() = default;
  /// A zero-filled array of type t.
  explicit Array(const TensorType& t);
  int64_t numel() const {
    return static_cast<int64_t>(data.size());
  }
  const Shape& shape() const {
    return type.shape;
  }
  DType dtype() const {
    return type.dtype;
  }
  double& operator[](int64_t i) {
    return data[static_cast<size_t>(i)];
  }
  double operator[](int64_t i) const {
    return data[static_cast<size_t>(i)];
  }
  /// Rounds every element to what the dtype can hold (f32 rounding, int truncation...).
  void round_to_dtype();
  /// From raw little-endian bytes of the array's dtype (size must match).
  static Array from_bytes(const TensorType& t, const uint8_t* bytes);
  /// To raw little-endian bytes.
  std::vector<uint8_t> to_bytes() const;
};

/// Row-major multi-index helpers.
std::vector<int64_t> unravel(int64_t flat, const std::vector<int64_t>& dims);
int64_t ravel(const std::vector<int64_t>& idx, const std::vector<int64_t>& strides);

/// Broadcasts `a` to shape `to` (NumPy rules; the caller checked compatibility).
Array broadcast_array(const Array& a, const Shape& to);

} // namespace tevo::ir::interp
