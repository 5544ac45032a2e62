// dtype.h: the element types of tevo tensors, defined once in dtypes.def.
//
// Header-only so that the runtime library (which AOT artefacts link) can use it without
// pulling in the rest of the IR.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <fmt/format.h>

namespace tevo::ir {

/// Broad class of a dtype: decides which ops accept it.
enum class DTypeKind : uint8_t { Float, Int, Bool, Complex };

/// Element type of a tensor.
enum class DType : uint8_t {
#define TEVO_DTYPE(e, name, st, bytes, kind) e,
#include "ir/dtypes.def"
#undef TEVO_DTYPE
};

/// Number of dtypes (for iteration and tables).
inline constexpr int kNumDTypes = 0
#define TEVO_DTYPE(e, name, st, bytes, kind) +1
#include "ir/dtypes.def"
#undef TEVO_DTYPE
    ;

/// Text-format name ("f32").
constexpr std::string_view dtype_name(DType t) {
  switch (t) {
#define TEVO_DTYPE(e, name, st, bytes, kind)                                                      \
  case DType::e:                                                                                   \
    return name;
#include "ir/dtypes.def"
#undef TEVO_DTYPE
  }
  return "?";
}

/// Safetensors dtype string ("F32").
constexpr std::string_view dtype_safetensors_name(DType t) {
  switch (t) {
#define TEVO_DTYPE(e, name, st, bytes, kind)                                                      \
  case DType::e:                                                                                   \
    return st;
#include "ir/dtypes.def"
#undef TEVO_DTYPE
  }
  return "?";
}

/// Size of one element in bytes.
constexpr int64_t dtype_size(DType t) {
  switch (t) {
#define TEVO_DTYPE(e, name, st, bytes, kind)                                                      \
  case DType::e:                                                                                   \
    return bytes;
#include "ir/dtypes.def"
#undef TEVO_DTYPE
  }
  return 0;
}

/// Class of the dtype.
constexpr DTypeKind dtype_kind(DType t) {
  switch (t) {
#define TEVO_DTYPE(e, name, st, bytes, kind)                                                      \
  case DType::e:                                                                                   \
    return DTypeKind::kind;
#include "ir/dtypes.def"
#undef TEVO_DTYPE
  }
  return DTypeKind::Float;
}

constexpr bool is_float(DType t) {
  return dtype_kind(t) == DTypeKind::Float;
}
constexpr bool is_int(DType t) {
  return dtype_kind(t) == DTypeKind::Int;
}
constexpr bool is_bool(DType t) {
  return dtype_kind(t) == DTypeKind::Bool;
}
constexpr bool is_complex(DType t) {
  return dtype_kind(t) == DTypeKind::Complex;
}

/// Looks up a dtype by its text name; nullopt when unknown.
constexpr std::optional<DType> dtype_from_name(std::string_view s) {
#define TEVO_DTYPE(e, name, st, bytes, kind)                                                      \
  if (s == name)                                                                                   \
    return DType::e;
#include "ir/dtypes.def"
#undef TEVO_DTYPE
  return std::nullopt;
}

/// Looks up a dtype by its safetensors name; nullopt when unknown.
constexpr std::optional<DType> dtype_from_safetensors_name(std::string_view s) {
#define TEVO_DTYPE(e, name, st, bytes, kind)                                                      \
  if (s == st)                                                                                     \
    return DType::e;
#include "ir/dtypes.def"
#undef TEVO_DTYPE
  return std::nullopt;
}

} // namespace tevo::ir

template <> struct fmt::formatter<tevo::ir::DType> : fmt::formatter<std::string_view> {
  auto format(tevo::ir::DType t, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(tevo::ir::dtype_name(t), ctx);
  }
};
