// json.h: a small, strict JSON reader/writer for safetensors headers and manifests.
//
// Bounded (nesting depth, number syntax) so that hostile headers fail cleanly. Objects
// keep their keys in file order.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace tevo::rt {

/// Error from the runtime library (weights I/O, argument checks). what() is one line.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A parsed JSON value.
struct Json {
  using Object = std::vector<std::pair<std::string, Json>>;
  using Array = std::vector<Json>;
  std::variant<std::nullptr_t, bool, double, std::string, Array, Object> v = nullptr;
  /// Integer literals are also kept exactly here (doubles lose precision above 2^53).
  bool is_int = false;
  int64_t int_value = 0;

  bool is_object() const {
    return v.index() == 5;
  }
  bool is_array() const {
    return v.index() == 4;
  }
  bool is_string() const {
    return v.index() == 3;
  }
  const Object& object() const {
    return std::get<Object>(v);
  }
  const Array& array() const {
    return std::get<Array>(v);
  }
  const std::string& string() const {
    return std::get<std::string>(v);
  }
  /// The member `key` or nullptr.
  const Json* find(std::string_view key) const;
};

/// Parses `text`; throws rt::Error("<what>: <message> at offset N").
Json parse_json(std::string_view text, std::string_view what = "json");

/// Quotes and escapes a string for JSON output.
std::string json_quote(std::string_view s);

} // namespace tevo::rt
