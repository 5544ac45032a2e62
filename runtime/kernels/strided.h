// strided.h: element access through StridedDesc views for the runtime's C++ kernels.
//
// Loads convert any dtype to double and stores round back (ir/element.h, header-only,
// the interpreter's own conversions), so kernels are written once for every dtype.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "ir/dtype.h"
#include "ir/element.h"
#include "runtime/plan.h"

namespace tevo::rt::kernels {

/// Element `i` (an element offset; complex: component `part`) of dtype `t` at `p`.
inline double load(DType t, const void* p, int64_t i, int part = 0) {
  return ir::load_element(static_cast<const uint8_t*>(p), t, i, part);
}

/// Stores `v` rounded to dtype `t` as element `i` of `p` (ints: truncation with
/// saturation, NaN -> 0; bool: != 0), exactly as the interpreter rounds.
inline void store(DType t, void* p, int64_t i, double v, int part = 0) {
  ir::store_element(static_cast<uint8_t*>(p), t, i, v, part);
}

/// Integer element `i` of an i32 / i64 tensor at `p`, exactly.
inline int64_t load_int(DType t, const void* p, int64_t i) {
  return ir::load_int_element(static_cast<const uint8_t*>(p), t, i);
}

/// Stores integer `v` as element `i` of an i32 (wrapping) / i64 tensor at `p`.
inline void store_int(DType t, void* p, int64_t i, int64_t v) {
  auto* b = static_cast<uint8_t*>(p);
  if (t == DType::I32) {
    auto x = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(v)));
    std::memcpy(b + i * 4, &x, 4);
  } else {
    std::memcpy(b + i * 8, &v, 8);
  }
}

/// Element offset of the multi-index `idx` (row-major over d.dims) in view d.
inline int64_t offset_of(const StridedDesc& d, const int64_t* idx) {
  int64_t o = 0;
  for (size_t i = 0; i < d.dims.size(); ++i)
    o += idx[i] * d.strides[i];
  return o;
}

/// Element offset of flat row-major index `flat` of view d.
inline int64_t offset_of_flat(const StridedDesc& d, int64_t flat) {
  int64_t o = 0;
  for (size_t i = d.dims.size(); i-- > 0;) {
    int64_t n = d.dims[i];
    o += (flat % n) * d.strides[i];
    flat /= n;
  }
  return o;
}

/// A tensor seen as [outer, n, inner] around `axis` (dims of a dense or strided view).
struct Lanes {
  int64_t outer = 1, n = 1, inner = 1;
};
inline Lanes lanes(const std::vector<int64_t>& dims, int64_t axis) {
  Lanes l;
  for (int64_t i = 0; i < static_cast<int64_t>(dims.size()); ++i) {
    if (i < axis)
      l.outer *= dims[static_cast<size_t>(i)];
    else if (i > axis)
      l.inner *= dims[static_cast<size_t>(i)];
  }
  l.n = dims[static_cast<size_t>(axis)];
  return l;
}

} // namespace tevo::rt::kernels
