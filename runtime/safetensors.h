// safetensors.h: reading and writing the safetensors weights format.
//
// Format: 8-byte little-endian header length N, N bytes of JSON header
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//  "__metadata__": {"key": "value"}}, then the data buffer. The reader validates
// everything (dtypes, shapes, offsets in bounds, sizes matching, no overlaps) before
// touching data, so a hostile file gives an rt::Error, never a crash.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "runtime/tensor.h"

namespace tevo::rt {

/// The contents of a safetensors file.
struct TensorFile {
  /// Tensors in the order they are written (the reader returns them sorted by name).
  std::vector<std::pair<std::string, HostTensor>> tensors;
  /// String metadata ("__metadata__").
  std::vector<std::pair<std::string, std::string>> metadata;

  /// The tensor named `name` or nullptr.
  const HostTensor* find(const std::string& name) const;
  /// The metadata value or nullptr.
  const std::string* meta(const std::string& key) const;
};

/// Parses safetensors bytes; `what` names the source in errors.
TensorFile parse_safetensors(std::span<const uint8_t> bytes, const std::string& what);
/// Reads a safetensors file; throws rt::Error("<path>: <reason>").
TensorFile read_safetensors(const std::string& path);
/// Serialises to safetensors bytes (tensors laid out in the given order, 8-byte aligned
/// header).
std::vector<uint8_t> serialize_safetensors(const TensorFile& f);
/// Writes a safetensors file atomically (temp file + rename).
void write_safetensors(const std::string& path, const TensorFile& f);

} // namespace tevo::rt
