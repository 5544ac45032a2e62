// op_kind.h: the OpKind enum, generated from ops.def.
#pragma once

#include <cstdint>

namespace tevo::ir {

/// Identifies an op in the registry.
enum class OpKind : uint16_t {
#define TEVO_OP(e, name, family) e,
#include "ir/ops.def"
#undef TEVO_OP
};

/// Number of ops in the registry.
inline constexpr int kNumOps = 0
#define TEVO_OP(e, name, family) +1
#include "ir/ops.def"
#undef TEVO_OP
    ;

} // namespace tevo::ir
