// layout.h: strided tensor layouts and how view ops compose onto them.
//
// A Layout says where the elements of a tensor live inside a buffer: element (i0, i1, ...)
// is at `offset + sum(i_k * strides[k])` elements from the buffer's start. The lowering
// turns standalone views (transpose, reshape, broadcast_to, slice) into layouts over their
// operand's buffer, so a view costs nothing at run time. Every composition returns
// nullopt when the result cannot be written as strides (say, a reshape that merges a
// transposed pair of dims); the caller then materialises the view with a copy kernel.
// No LLVM, no runtime: plain integers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace tevo::cpu {

struct Layout {
  std::vector<int64_t> dims;
  std::vector<int64_t> strides; ///< elements per step along each dim (0 = broadcast)
  int64_t offset = 0;           ///< elements from the buffer's start

  /// Row-major layout of `dims` at offset 0.
  static Layout dense(const std::vector<int64_t>& dims);
  int64_t rank() const {
    return static_cast<int64_t>(dims.size());
  }
  int64_t numel() const;
  /// True when the elements occupy numel() consecutive slots in row-major order (strides of
  /// extent-1 dims do not matter; an empty tensor is contiguous). The offset may be anything.
  bool contiguous() const;
  /// contiguous() and offset 0.
  bool dense_at_origin() const {
    return contiguous() && offset == 0;
  }
  /// One past the farthest element reached, in elements from the buffer's start (offset for
  /// an empty tensor); strides are never negative, so this bounds every access.
  int64_t extent_end() const;
  /// "[4,3]/[1,4]+2" (dims / strides + offset), for messages and plan listings.
  std::string str() const;
  friend bool operator==(const Layout&, const Layout&) = default;
};

/// x.transpose(perm): result dim i is x's dim perm[i]. Always expressible.
std::optional<Layout> layout_transpose(const Layout& x, const std::vector<int64_t>& perm);
/// x.reshape(shape) (same element count, row-major order): expressible when every group of
/// x's dims that maps onto a group of result dims is itself laid out row-major.
std::optional<Layout> layout_reshape(const Layout& x, const std::vector<int64_t>& shape);
/// x broadcast NumPy-style to `shape`: new leading dims and expanded extent-1 dims get
/// stride 0. Always expressible (for a shape the op's inference accepted).
std::optional<Layout> layout_broadcast_to(const Layout& x, const std::vector<int64_t>& shape);
/// x[starts : ends : steps] per dim (steps empty = all 1). Always expressible.
std::optional<Layout> layout_slice(const Layout& x, const std::vector<int64_t>& starts,
                                   const std::vector<int64_t>& ends,
                                   const std::vector<int64_t>& steps);

/// True for the view ops that layouts can express: transpose, reshape, broadcast_to, slice.
bool is_layout_view(ir::OpKind k);
/// Applies view node `n` (one of is_layout_view's ops, attributes as verified by the IR) to
/// the layout of its operand; nullopt when strides cannot express the result.
std::optional<Layout> apply_view(const Layout& operand, const ir::Node& n);

} // namespace tevo::cpu
