// fuzz_safetensors.cpp: libFuzzer target for the safetensors reader: parse, and on
// success serialise and parse again; the two must hold the same tensors and metadata.
//
// A well-formed failure is an rt::Error; anything else is a finding and aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <span>
#include <string>

#include "runtime/json.h"
#include "runtime/safetensors.h"

namespace {

using namespace tevo::rt;

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz_safetensors finding: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

void check_equal(const TensorFile& a, const TensorFile& b) {
  if (a.tensors.size() != b.tensors.size())
    finding("round trip changed the tensor count");
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    const auto& [na, ta] = a.tensors[i];
    const auto& [nb, tb] = b.tensors[i];
    if (na != nb)
      finding("round trip renamed tensor '" + na + "' to '" + nb + "'");
    if (ta.dtype != tb.dtype || ta.shape != tb.shape)
      finding("round trip changed '" + na + "' from " + ta.type_str() + " to " + tb.type_str());
    if (ta.data != tb.data)
      finding("round trip changed the bytes of '" + na + "'");
  }
  if (a.metadata != b.metadata)
    finding("round trip changed the metadata");
}

void check(std::span<const uint8_t> bytes) {
  TensorFile f;
  try {
    f = parse_safetensors(bytes, "fuzz.safetensors");
  } catch (const Error&) {
    return;
  }
  std::vector<uint8_t> out;
  TensorFile g;
  try {
    out = serialize_safetensors(f);
    g = parse_safetensors(out, "reserialized.safetensors");
  } catch (const Error& e) {
    finding(std::string("a parsed file does not round-trip: ") + e.what());
  }
  check_equal(f, g);
  // Serialising is deterministic, so a second round trip gives the same bytes.
  if (serialize_safetensors(g) != out)
    finding("reserialising is not byte-identical");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    check(std::span<const uint8_t>(data, size));
  } catch (const std::exception& e) {
    finding(std::string("unexpected exception: ") + e.what());
  }
  return 0;
}
