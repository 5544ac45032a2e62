// attr.h: typed node attributes (axis lists, scalars, dtypes, dense constants, regions).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "ir/shape.h"

namespace tevo::ir {

class Graph;

/// Immutable tensor literal (the value of a `constant`). Bytes are little-endian,
/// row-major, of `type.dtype`.
struct DenseData {
  TensorType type;
  std::vector<uint8_t> bytes;

  /// Element i converted to double (complex: real part; see imag()).
  double at(int64_t i) const;
  double imag(int64_t i) const;
  /// Builds a literal from doubles (converted to `t.dtype`; complex takes pairs re,im).
  static std::shared_ptr<const DenseData> from_doubles(const TensorType& t,
                                                      const std::vector<double>& values);
  friend bool operator==(const DenseData& a, const DenseData& b) {
    return a.type == b.type && a.bytes == b.bytes;
  }
};
using DenseRef = std::shared_ptr<const DenseData>;

/// A captured subgraph (score modification, mask, ...). Its graph has no name.
using RegionRef = std::shared_ptr<Graph>;

/// Kinds of attribute value; the order matches Attr's variant.
enum class AttrKind : uint8_t { I64, F64, Bool, Str, I64List, F64List, DType, Dense, Region };

std::string_view attr_kind_name(AttrKind k);

/// One attribute value.
class Attr {
public:
  using Storage = std::variant<int64_t, double, bool, std::string, std::vector<int64_t>,
                               std::vector<double>, DType, DenseRef, RegionRef>;
  Attr() : v_(int64_t{0}) {}
  Attr(int64_t v) : v_(v) {}                       // NOLINT
  Attr(int v) : v_(int64_t{v}) {}                  // NOLINT
  Attr(double v) : v_(v) {}                        // NOLINT
  Attr(bool v) : v_(v) {}                          // NOLINT
  Attr(std::string v) : v_(std::move(v)) {}        // NOLINT
  Attr(const char* v) : v_(std::string(v)) {}      // NOLINT
  Attr(std::vector<int64_t> v) : v_(std::move(v)) {} // NOLINT
  Attr(std::vector<double> v) : v_(std::move(v)) {}  // NOLINT
  Attr(DType v) : v_(v) {}                         // NOLINT
  Attr(DenseRef v) : v_(std::move(v)) {}              // NOLINT
  Attr(RegionRef v) : v_(std::move(v)) {}             // NOLINT

  AttrKind kind() const {
    return static_cast<AttrKind>(v_.index());
  }
  int64_t i64() const {
    return std::get<int64_t>(v_);
  }
  double f64() const {
    return std::get<double>(v_);
  }
  bool boolean() const {
    return std::get<bool>(v_);
  }
  const std::string& str() const {
    return std::get<std::string>(v_);
  }
  const std::vector<int64_t>& i64_list() const {
    return std::get<std::vector<int64_t>>(v_);
  }
  const std::vector<double>& f64_list() const {
    return std::get<std::vector<double>>(v_);
  }
  DType dtype() const {
    return std::get<DType>(v_);
  }
  const DenseRef& dense() const {
    return std::get<DenseRef>(v_);
  }
  const RegionRef& region() const {
    return std::get<RegionRef>(v_);
  }
  const Storage& storage() const {
    return v_;
  }
  /// Structural equality (dense by value, regions by printed text).
  friend bool operator==(const Attr& a, const Attr& b);

private:
  Storage v_;
};

/// A node's attributes in schema order. Small, so a vector with linear lookup.
class AttrDict {
public:
  /// The attribute or nullptr.
  const Attr* find(std::string_view name) const;
  /// The attribute; internal error when absent (the builder fills in defaults).
  const Attr& get(std::string_view name) const;
  void set(std::string name, Attr value);
  bool has(std::string_view name) const {
    return find(name) != nullptr;
  }
  int64_t i64(std::string_view n) const {
    return get(n).i64();
  }
  double f64(std::string_view n) const {
    return get(n).f64();
  }
  bool boolean(std::string_view n) const {
    return get(n).boolean();
  }
  const std::vector<int64_t>& i64_list(std::string_view n) const {
    return get(n).i64_list();
  }
  const std::vector<std::pair<std::string, Attr>>& items() const {
    return items_;
  }
  friend bool operator==(const AttrDict& a, const AttrDict& b) {
    return a.items_ == b.items_;
  }

private:
  std::vector<std::pair<std::string, Attr>> items_;
};

} // namespace tevo::ir
