// aot_testtool.cpp: helper of the AOT script tests (tests/aot/aot_test.sh).
//
//   aot_testtool compare REF.safetensors GOT.safetensors [TOL]
//       every tensor of REF is in GOT with the same dtype and shape, and its values agree
//       within |got - ref| <= TOL * (1 + |ref|) (default 1e-4: f32 against the f64
//       interpreter); NaN must meet NaN
//   aot_testtool extract FILE.safetensors NAME OUT.bin     raw bytes of one tensor
//   aot_testtool pack OUT.safetensors NAME DTYPE D0,D1,.. RAW.bin   one tensor from raw
// Exit 0 on success, 1 with a one-line message on a mismatch or error.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "runtime/file_io.h"
#include "runtime/json.h"
#include "runtime/safetensors.h"

namespace {

using tevo::rt::Error;
using tevo::rt::HostTensor;

double element(const HostTensor& t, int64_t i) {
  const uint8_t* p = t.data.data();
  auto at = [&](auto v) {
    std::memcpy(&v, p + i * static_cast<int64_t>(sizeof v), sizeof v);
    return static_cast<double>(v);
  };
  switch (t.dtype) {
  case tevo::ir::DType::F32:
    return at(float{});
  case tevo::ir::DType::F64:
    return at(double{});
  case tevo::ir::DType::I32:
    return at(int32_t{});
  case tevo::ir::DType::I64:
    return at(int64_t{});
  case tevo::ir::DType::Bool:
    return at(uint8_t{});
  default:
    throw Error("dtype " + std::string(tevo::ir::dtype_name(t.dtype)) + " is not compared");
  }
}

int compare(const std::string& ref_path, const std::string& got_path, double tol) {
  tevo::rt::TensorFile ref = tevo::rt::read_safetensors(ref_path);
  tevo::rt::TensorFile got = tevo::rt::read_safetensors(got_path);
  if (ref.tensors.empty())
    throw Error(ref_path + ": no tensors to compare");
  for (const auto& [name, r] : ref.tensors) {
    const HostTensor* g = got.find(name);
    if (!g)
      throw Error(got_path + ": no tensor '" + name + "'");
    if (g->dtype != r.dtype || g->shape != r.shape)
      throw Error("'" + name + "': " + g->type_str() + " vs reference " + r.type_str());
    for (int64_t i = 0; i < r.numel(); ++i) {
      double a = element(r, i), b = element(*g, i);
      bool ok = std::isnan(a) ? std::isnan(b) : std::fabs(a - b) <= tol * (1 + std::fabs(a));
      if (!ok)
        throw Error("'" + name + "'[" + std::to_string(i) + "]: got " + std::to_string(b) +
                    ", reference " + std::to_string(a));
    }
  }
  std::printf("%zu tensors match\n", ref.tensors.size());
  return 0;
}

int extract(const std::string& path, const std::string& name, const std::string& out) {
  tevo::rt::TensorFile f = tevo::rt::read_safetensors(path);
  const HostTensor* t = f.find(name);
  if (!t)
    throw Error(path + ": no tensor '" + name + "'");
  tevo::rt::write_file_atomic(out, t->data);
  return 0;
}

int pack(const std::string& out, const std::string& name, const std::string& dtype,
         const std::string& dims, const std::string& raw) {
  auto dt = tevo::ir::dtype_from_name(dtype);
  if (!dt)
    throw Error("unknown dtype '" + dtype + "'");
  HostTensor t{*dt, {}, tevo::rt::read_file(raw)};
  size_t pos = 0;
  while (pos < dims.size()) {
    size_t comma = dims.find(',', pos);
    t.shape.push_back(std::stoll(dims.substr(pos, comma - pos)));
    pos = comma == std::string::npos ? dims.size() : comma + 1;
  }
  if (t.numel() * tevo::ir::dtype_size(*dt) != static_cast<int64_t>(t.data.size()))
    throw Error(raw + ": " + std::to_string(t.data.size()) + " bytes, " + t.type_str() +
                " needs " + std::to_string(t.numel() * tevo::ir::dtype_size(*dt)));
  tevo::rt::TensorFile f;
  f.tensors.push_back({name, std::move(t)});
  tevo::rt::write_safetensors(out, f);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  try {
    std::vector<std::string> a(argv + 1, argv + argc);
    if (a.size() >= 3 && a[0] == "compare")
      return compare(a[1], a[2], a.size() > 3 ? std::stod(a[3]) : 1e-4);
    if (a.size() == 4 && a[0] == "extract")
      return extract(a[1], a[2], a[3]);
    if (a.size() == 6 && a[0] == "pack")
      return pack(a[1], a[2], a[3], a[4], a[5]);
    std::fprintf(stderr, "usage: aot_testtool compare|extract|pack ... (see the source)\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
  }
  return 1;
}
