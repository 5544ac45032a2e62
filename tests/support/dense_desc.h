// dense_desc.h: helpers for tests that build runtime-op steps by hand (the check() tests of
// runtime kernels): a dense row-major StridedDesc, and the message check() throws.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/json.h"
#include "runtime/kernels/kernels.h"
#include "runtime/plan.h"

namespace tevo::test {

inline rt::StridedDesc dense_desc(ir::DType t, std::vector<int64_t> dims) {
  rt::StridedDesc s;
  s.dtype = t;
  s.dims = std::move(dims);
  s.strides.assign(s.dims.size(), 1);
  for (size_t i = s.dims.size(); i-- > 1;)
    s.strides[i - 1] = s.strides[i] * s.dims[i];
  return s;
}

/// What rt::kernels::check(s) throws, or "no error".
inline std::string check_message(const rt::RuntimeOpStep& s) {
  try {
    rt::kernels::check(s);
  } catch (const rt::Error& e) {
    return e.what();
  }
  return "no error";
}

} // namespace tevo::test
