// element.h: reading and writing one element of raw little-endian tensor bytes as double.
// Shared by dense literals, the interpreter's I/O and the weights loader.
#pragma once

#include <cstdint>
#include <cstring>

#include "ir/dtype.h"
#include "ir/half.h"

namespace tevo::ir {

/// Reads element i (complex: component `part` 0=re, 1=im) of `data` as double.
inline double load_element(const uint8_t* data, DType t, int64_t i, int part = 0) {
  const uint8_t* p = data + i * dtype_size(t);
  switch (t) {
  case DType::F32: {
    float v;
    std::memcpy(&v, p, 4);
    return v;
  }
  case DType::F64: {
    double v;
    std::memcpy(&v, p, 8);
    return v;
  }
  case DType::BF16: {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return f32_from_bf16(v);
  }
  case DType::F16: {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return f32_from_f16(v);
  }
  case DType::I32: {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  case DType::I64: {
    int64_t v;
    std::memcpy(&v, p, 8);
    return static_cast<double>(v);
  }
  case DType::Bool:
    return *p ? 1.0 : 0.0;
  case DType::C64: {
    float v;
    std::memcpy(&v, p + 4 * part, 4);
    return v;
  }
  case DType::C128: {
    double v;
    std::memcpy(&v, p + 8 * part, 8);
    return v;
  }
  }
  return 0;
}

/// Truncates v toward zero and saturates into [lo, hi]; NaN becomes 0 (no UB on overflow).
inline int64_t clamp_to_int(double v, double lo, double hi) {
  if (!(v == v))
    return 0;
  if (v <= lo)
    return static_cast<int64_t>(lo);
  if (v >= hi)
    return static_cast<int64_t>(hi);
  return static_cast<int64_t>(v);
}

/// Writes v as element i (complex: component `part`) of `data`, converting to `t`.
/// Integers are truncated toward zero; bool is v != 0.
inline void store_element(uint8_t* data, DType t, int64_t i, double v, int part = 0) {
  uint8_t* p = data + i * dtype_size(t);
  switch (t) {
  case DType::F32: {
    float f = static_cast<float>(v);
    std::memcpy(p, &f, 4);
    return;
  }
  case DType::F64:
    std::memcpy(p, &v, 8);
    return;
  case DType::BF16: {
    uint16_t h = bf16_from_f32(static_cast<float>(v));
    std::memcpy(p, &h, 2);
    return;
  }
  case DType::F16: {
    uint16_t h = f16_from_f32(static_cast<float>(v));
    std::memcpy(p, &h, 2);
    return;
  }
  case DType::I32: {
    int32_t x = static_cast<int32_t>(clamp_to_int(v, -2147483648.0, 2147483647.0));
    std::memcpy(p, &x, 4);
    return;
  }
  case DType::I64: {
    int64_t x = clamp_to_int(v, -9223372036854775808.0, 9223372036854774784.0);
    std::memcpy(p, &x, 8);
    return;
  }
  case DType::Bool:
    *p = v != 0 ? 1 : 0;
    return;
  case DType::C64: {
    float f = static_cast<float>(v);
    std::memcpy(p + 4 * part, &f, 4);
    return;
  }
  case DType::C128:
    std::memcpy(p + 8 * part, &v, 8);
    return;
  }
}

/// Integer element i of `data` (dtype i32 or i64), exactly.
inline int64_t load_int_element(const uint8_t* data, DType t, int64_t i) {
  if (t == DType::I32) {
    int32_t v;
    std::memcpy(&v, data + i * 4, 4);
    return v;
  }
  int64_t v;
  std::memcpy(&v, data + i * 8, 8);
  return v;
}

/// Stores integer v as element i of `data` (dtype i32 or i64; the caller checked range).
inline void store_int_element(uint8_t* data, DType t, int64_t i, int64_t v) {
  if (t == DType::I32) {
    int32_t x = static_cast<int32_t>(v);
    std::memcpy(data + i * 4, &x, 4);
    return;
  }
  std::memcpy(data + i * 8, &v, 8);
}

} // namespace tevo::ir
