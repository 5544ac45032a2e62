// shape.cpp: shape arithmetic and broadcasting.
#include "ir/shape.h"

#include <algorithm>

namespace tevo::ir {

Shape::Shape(std::initializer_list<int64_t> dims) {
  for (int64_t d : dims)
    dims_.emplace_back(d);
}

Shape::Shape(const std::vector<int64_t>& dims) {
  for (int64_t d : dims)
    dims_.emplace_back(d);
}

int64_t Shape::numel() const {
  // A zero extent anywhere means no elements, whatever the others multiply to.
  for (Dim d : dims_)
    if (d.value() == 0)
      return 0;
  int64_t n = 1;
  for (Dim d : dims_)
    n *= d.value();
  return n;
}

std::vector<int64_t> Shape::to_vector() const {
  std::vector<int64_t> out;
  out.reserve(dims_.size());
  for (Dim d : dims_)
    out.push_back(d.value());
  return out;
}

std::vector<int64_t> Shape::strides() const {
  std::vector<int64_t> s(dims_.size(), 1);
  for (int64_t i = rank() - 2; i >= 0; --i)
    s[static_cast<size_t>(i)] = s[static_cast<size_t>(i + 1)] * dim(i + 1);
  return s;
}

std::string Shape::str() const {
  std::string s = "[";
  for (size_t i = 0; i < dims_.size(); ++i) {
    if (i)
      s += ",";
    s += std::to_string(dims_[i].value());
  }
  return s + "]";
}

std::optional<int64_t> checked_numel(const std::vector<int64_t>& dims) {
  if (static_cast<int64_t>(dims.size()) > kMaxRank)
    return std::nullopt;
  int64_t n = 1;
  bool zero = false;
  for (int64_t d : dims) {
    if (d < 0 || d > kMaxDim)
      return std::nullopt;
    zero |= d == 0;
  }
  if (zero)
    return 0;
  for (int64_t d : dims) {
    if (n > kMaxElements / d)
      return std::nullopt;
    n *= d;
  }
  return n;
}

std::optional<int64_t> checked_numel(const Shape& s) {
  return checked_numel(s.to_vector());
}

std::optional<int64_t> normalize_axis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

std::vector<int64_t> swap_last_two_perm(int64_t rank) {
  std::vector<int64_t> perm(static_cast<size_t>(rank));
  for (int64_t i = 0; i < rank; ++i)
    perm[static_cast<size_t>(i)] = i;
  std::swap(perm[static_cast<size_t>(rank - 2)], perm[static_cast<size_t>(rank - 1)]);
  return perm;
}

std::optional<Shape> broadcast_shapes(const Shape& a, const Shape& b) {
  int64_t r = std::max(a.rank(), b.rank());
  std::vector<int64_t> out(static_cast<size_t>(r));
  for (int64_t i = 0; i < r; ++i) {
    int64_t ia = a.rank() - r + i, ib = b.rank() - r + i;
    int64_t da = ia >= 0 ? a.dim(ia) : 1;
    int64_t db = ib >= 0 ? b.dim(ib) : 1;
    if (da != db && da != 1 && db != 1)
      return std::nullopt;
    out[static_cast<size_t>(i)] = da == 1 ? db : da;
  }
  return Shape(out);
}

std::string TensorType::str() const {
  return fmt::format("{}{}", dtype, shape.str());
}

} // namespace tevo::ir
