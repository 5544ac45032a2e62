// plan_io.h: an rt::Plan as bytes, the form AOT artefacts embed and load at start-up.
//
// Format: the 8-byte magic "TEVOPLAN", a u32 format version (kPlanFormatVersion), then
// every field of the Plan in declaration order. Integers are little-endian two's
// complement (u8/i32/i64), floats their IEEE bits (f32/f64), enums one u8, strings and
// byte strings a u64 length then the bytes, vectors a u64 count then the elements. The
// reader trusts nothing: every count is checked against the bytes left before anything
// is allocated, enums against their ranges, and the result against validate_plan (plan.h),
// so bad bytes give an rt::Error, never a crash or an oversized allocation.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "runtime/plan.h"

namespace tevo::rt {

/// Bumped on every change of the byte layout; readers accept exactly this version.
inline constexpr uint32_t kPlanFormatVersion = 1;

/// Serialises `plan` (deterministic: equal plans give equal bytes).
std::vector<uint8_t> serialize_plan(const Plan& plan);

/// Parses and validates bytes written by serialize_plan. Throws rt::Error
/// ("plan bytes: <what> at byte <offset>") for anything malformed.
Plan parse_plan(std::span<const uint8_t> bytes);

} // namespace tevo::rt
