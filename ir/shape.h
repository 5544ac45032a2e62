// shape.h: dimensions, shapes and tensor types.
//
// A Dim is a static extent today. It is a class (not a bare int) so that a symbolic
// sequence length can be added later without touching every user of shapes.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "ir/dtype.h"

namespace tevo::ir {

/// One extent of a shape. Static only for now; symbols are planned (see docs/IR.md).
class Dim {
public:
  constexpr Dim(int64_t v = 0) : value_(v) {} // NOLINT: implicit from an integer
  constexpr int64_t value() const {
    return value_;
  }
  constexpr bool is_static() const {
    return true;
  }
  friend constexpr bool operator==(Dim a, Dim b) {
    return a.value_ == b.value_;
  }

private:
  int64_t value_;
};

/// An ordered list of dims; rank 0 is a scalar.
class Shape {
public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(const std::vector<int64_t>& dims);

  int64_t rank() const {
    return static_cast<int64_t>(dims_.size());
  }
  Dim operator[](int64_t i) const {
    return dims_[static_cast<size_t>(i)];
  }
  int64_t dim(int64_t i) const {
    return dims_[static_cast<size_t>(i)].value();
  }
  /// Product of all extents (1 for a scalar).
  int64_t numel() const;
  /// Extents as plain integers.
  std::vector<int64_t> to_vector() const;
  /// Row-major strides in elements.
  std::vector<int64_t> strides() const;
  void push_back(Dim d) {
    dims_.push_back(d);
  }
  const std::vector<Dim>& dims() const {
    return dims_;
  }
  friend bool operator==(const Shape& a, const Shape& b) {
    return a.dims_ == b.dims_;
  }
  /// "[2,3]" (no spaces; this is the text-format spelling).
  std::string str() const;

private:
  std::vector<Dim> dims_;
};

/// Limits every tensor type in a valid graph respects (checked by the parser and by type
/// inference), so size arithmetic on verified IR can never overflow int64.
inline constexpr int64_t kMaxRank = 16;
inline constexpr int64_t kMaxDim = int64_t{1} << 40;
inline constexpr int64_t kMaxElements = int64_t{1} << 50;

/// Product of `dims`, or nullopt when a dim is negative or above kMaxDim, the rank is above
/// kMaxRank, or the product exceeds kMaxElements. Never overflows.
std::optional<int64_t> checked_numel(const std::vector<int64_t>& dims);
std::optional<int64_t> checked_numel(const Shape& s);

/// Normalises a possibly negative axis against a rank; nullopt when out of range.
std::optional<int64_t> normalize_axis(int64_t axis, int64_t rank);

/// The transpose permutation of a rank-`rank` tensor (>= 2) that swaps its last two axes.
std::vector<int64_t> swap_last_two_perm(int64_t rank);

/// NumPy broadcasting of two shapes; nullopt when incompatible.
std::optional<Shape> broadcast_shapes(const Shape& a, const Shape& b);

/// Element type plus shape: the type of every SSA value.
struct TensorType {
  DType dtype = DType::F32;
  Shape shape;

  friend bool operator==(const TensorType& a, const TensorType& b) {
    return a.dtype == b.dtype && a.shape == b.shape;
  }
  int64_t numel() const {
    return shape.numel();
  }
  int64_t bytes() const {
    return shape.numel() * dtype_size(dtype);
  }
  /// "f32[2,3]".
  std::string str() const;
};

} // namespace tevo::ir

template <> struct fmt::formatter<tevo::ir::Shape> : fmt::formatter<std::string> {
  auto format(const tevo::ir::Shape& s, format_context& ctx) const {
    return fmt::formatter<std::string>::format(s.str(), ctx);
  }
};
template <> struct fmt::formatter<tevo::ir::TensorType> : fmt::formatter<std::string> {
  auto format(const tevo::ir::TensorType& t, format_context& ctx) const {
    return fmt::formatter<std::string>::format(t.str(), ctx);
  }
};
