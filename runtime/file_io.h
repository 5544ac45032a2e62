// file_io.h: whole-file reads and atomic writes (temp file + fsync + rename).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tevo::rt {

/// Reads a whole file; throws rt::Error("<path>: <reason>").
std::vector<uint8_t> read_file(const std::string& path);

/// Writes `bytes` to `path` atomically: a temp file in the same directory is written,
/// flushed and renamed over `path`, so readers see the old file or the new one, never a
/// half-written one. Throws rt::Error on failure (the temp file is removed).
void write_file_atomic(const std::string& path, std::span<const uint8_t> bytes);

} // namespace tevo::rt
