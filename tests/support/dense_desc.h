// dense_desc.h: a dense row-major StridedDesc, for tests that build runtime-op steps by hand
// (the check() tests of runtime kernels).
#pragma once

#include <cstdint>
#include <vector>

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

} // namespace tevo::test
