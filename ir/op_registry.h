// op_registry.h: the frozen table OpKind -> OpDef.
//
// Built once on first use from ops.def (each line calls its def_<Enum>() function) and
// never changed afterwards: no registration side effects, no mutable global state.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "ir/op_def.h"

namespace tevo::ir {

/// The definition of op k.
const OpDef& op_def(OpKind k);
/// Looks an op up by its text name.
std::optional<OpKind> op_from_name(std::string_view name);
/// Every op, in ops.def order.
std::span<const OpDef> all_ops();

// One definition function per op, each in its family file (ir/ops/<family>.cpp).
#define TEVO_OP(e, name, family) OpDef def_##e();
#include "ir/ops.def"
#undef TEVO_OP

} // namespace tevo::ir
