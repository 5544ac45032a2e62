// safetensors.cpp: validated safetensors I/O.
#include "runtime/safetensors.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <string_view>

#include "runtime/file_io.h"
#include "runtime/json.h"

namespace tevo::rt {

std::string HostTensor::type_str() const {
  std::string s(ir::dtype_name(dtype));
  s += "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

const HostTensor* TensorFile::find(const std::string& name) const {
  for (const auto& [k, t] : tensors)
    if (k == name)
      return &t;
  return nullptr;
}

const std::string* TensorFile::meta(const std::string& key) const {
  for (const auto& [k, v] : metadata)
    if (k == key)
      return &v;
  return nullptr;
}

namespace {

constexpr uint64_t kMaxHeader = 100u << 20; // 100 MB, as the reference implementation

[[noreturn]] void bad(const std::string& what, const std::string& msg) {
  throw Error(what + ": invalid safetensors: " + msg);
}

} // namespace

TensorFile parse_safetensors(std::span<const uint8_t> bytes, const std::string& what) {
  if (bytes.size() < 8)
    bad(what, "file shorter than the 8-byte header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = (n << 8) | bytes[static_cast<size_t>(i)];
  if (n > kMaxHeader)
    bad(what, "header length " + std::to_string(n) + " exceeds 100 MB");
  if (n > bytes.size() - 8)
    bad(what, "header length " + std::to_string(n) + " runs past the end of the file");
  std::string_view header(reinterpret_cast<const char*>(bytes.data() + 8), n);
  Json j = parse_json(header, what + ": header");
  if (!j.is_object())
    bad(what, "header is not a JSON object");
  std::span<const uint8_t> buf = bytes.subspan(8 + n);
  TensorFile f;
  struct Range {
    uint64_t begin, end;
    size_t index; // into f.tensors
    bool operator<(const Range& o) const {
      return begin != o.begin ? begin < o.begin : end < o.end;
    }
  };
  std::vector<Range> ranges;
  std::set<std::string_view> names;
  for (const auto& [name, e] : j.object()) {
    if (name == "__metadata__") {
      if (!e.is_object())
        bad(what, "__metadata__ is not an object");
      for (const auto& [k, v] : e.object()) {
        if (!v.is_string())
          bad(what, "metadata value for '" + k + "' is not a string");
        f.metadata.emplace_back(k, v.string());
      }
      continue;
    }
    if (!names.insert(name).second) // a set: a linear search per entry is quadratic
      bad(what, "duplicate tensor '" + name + "'");
    if (!e.is_object())
      bad(what, "entry '" + name + "' is not an object");
    const Json* dt = e.find("dtype");
    const Json* sh = e.find("shape");
    const Json* off = e.find("data_offsets");
    if (!dt || !dt->is_string() || !sh || !sh->is_array() || !off || !off->is_array())
      bad(what, "tensor '" + name + "' needs dtype, shape and data_offsets");
    auto dtype = ir::dtype_from_safetensors_name(dt->string());
    if (!dtype)
      bad(what, "tensor '" + name + "' has unsupported dtype '" + dt->string() + "'");
    HostTensor t;
    t.dtype = *dtype;
    if (sh->array().size() > 16)
      bad(what, "tensor '" + name + "' has rank above 16");
    uint64_t numel = 1;
    for (const Json& d : sh->array()) {
      if (!d.is_int || d.int_value < 0)
        bad(what, "tensor '" + name + "' has a shape entry that is not a non-negative integer");
      uint64_t v = static_cast<uint64_t>(d.int_value);
      if (v != 0 && numel > (uint64_t{1} << 62) / v)
        bad(what, "tensor '" + name + "' is too large");
      numel *= v;
      t.shape.push_back(d.int_value);
    }
    // numel * element size must not wrap (c128[2^60] would "need" 0 bytes).
    uint64_t elem = static_cast<uint64_t>(ir::dtype_size(t.dtype));
    if (numel > (uint64_t{1} << 62) / elem)
      bad(what, "tensor '" + name + "' is too large");
    if (off->array().size() != 2 || !off->array()[0].is_int || !off->array()[1].is_int ||
        off->array()[0].int_value < 0 || off->array()[1].int_value < off->array()[0].int_value)
      bad(what, "tensor '" + name + "' has malformed data_offsets");
    uint64_t b = static_cast<uint64_t>(off->array()[0].int_value);
    uint64_t en = static_cast<uint64_t>(off->array()[1].int_value);
    if (en > buf.size())
      bad(what, "tensor '" + name + "' data runs past the end of the file");
    uint64_t need = numel * elem;
    if (en - b != need)
      bad(what, "tensor '" + name + "' has " + std::to_string(en - b) + " bytes but " +
                    t.type_str() + " needs " + std::to_string(need));
    ranges.push_back({b, en, f.tensors.size()});
    f.tensors.emplace_back(name, std::move(t));
  }
  // Copy only once no two ranges overlap: then the copies total at most the file size
  // (many entries naming one large range would otherwise multiply it).
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].begin < ranges[i - 1].end)
      bad(what, "tensor data ranges overlap");
  for (const Range& r : ranges)
    f.tensors[r.index].second.data.assign(buf.begin() + static_cast<std::ptrdiff_t>(r.begin),
                                          buf.begin() + static_cast<std::ptrdiff_t>(r.end));
  std::sort(f.tensors.begin(), f.tensors.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return f;
}

TensorFile read_safetensors(const std::string& path) {
  return parse_safetensors(read_file(path), path);
}

std::vector<uint8_t> serialize_safetensors(const TensorFile& f) {
  std::string h = "{";
  bool first = true;
  if (!f.metadata.empty()) {
    h += "\"__metadata__\":{";
    for (size_t i = 0; i < f.metadata.size(); ++i)
      h += (i ? "," : "") + json_quote(f.metadata[i].first) + ":" +
           json_quote(f.metadata[i].second);
    h += "}";
    first = false;
  }
  uint64_t off = 0;
  for (const auto& [name, t] : f.tensors) {
    // Checked like the reader does, so that what is written can be read back.
    uint64_t need = static_cast<uint64_t>(ir::dtype_size(t.dtype));
    if (t.shape.size() > 16)
      throw Error("safetensors: tensor '" + name + "' has rank above 16");
    for (int64_t d : t.shape) {
      if (d < 0)
        throw Error("safetensors: tensor '" + name + "' has a negative dimension: " +
                    t.type_str());
      if (d != 0 && need > (uint64_t{1} << 62) / static_cast<uint64_t>(d))
        throw Error("safetensors: tensor '" + name + "' is too large: " + t.type_str());
      need *= static_cast<uint64_t>(d);
    }
    if (t.data.size() != need)
      throw Error("safetensors: tensor '" + name + "' has " + std::to_string(t.data.size()) +
                  " bytes but " + t.type_str() + " needs " + std::to_string(need));
    h += (first ? "" : ",") + json_quote(name) + ":{\"dtype\":\"" +
         std::string(ir::dtype_safetensors_name(t.dtype)) + "\",\"shape\":[";
    for (size_t i = 0; i < t.shape.size(); ++i)
      h += (i ? "," : "") + std::to_string(t.shape[i]);
    h += "],\"data_offsets\":[" + std::to_string(off) + "," +
         std::to_string(off + t.data.size()) + "]}";
    off += t.data.size();
    first = false;
  }
  h += "}";
  while (h.size() % 8)
    h += ' ';
  std::vector<uint8_t> out(8 + h.size() + off);
  uint64_t n = h.size();
  for (int i = 0; i < 8; ++i)
    out[static_cast<size_t>(i)] = static_cast<uint8_t>(n >> (8 * i));
  std::memcpy(out.data() + 8, h.data(), h.size());
  size_t p = 8 + h.size();
  for (const auto& [name, t] : f.tensors) {
    if (!t.data.empty())
      std::memcpy(out.data() + p, t.data.data(), t.data.size());
    p += t.data.size();
  }
  return out;
}

void write_safetensors(const std::string& path, const TensorFile& f) {
  write_file_atomic(path, serialize_safetensors(f));
}

} // namespace tevo::rt
