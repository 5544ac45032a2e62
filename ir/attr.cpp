// attr.cpp: attribute storage, dense literals and structural equality.
#include "ir/attr.h"

#include <cstring>

#include "ir/diag.h"
#include "ir/element.h"
#include "ir/printer.h"

namespace tevo::ir {

std::string_view attr_kind_name(AttrKind k) {
  switch (k) {
  case AttrKind::I64:
    return "i64";
  case AttrKind::F64:
    return "f64";
  case AttrKind::Bool:
    return "bool";
  case AttrKind::Str:
    return "string";
  case AttrKind::I64List:
    return "i64 list";
  case AttrKind::F64List:
    return "f64 list";
  case AttrKind::DType:
    return "dtype";
  case AttrKind::Dense:
    return "dense";
  case AttrKind::Region:
    return "region";
  }
  return "?";
}

double DenseData::at(int64_t i) const {
  return load_element(bytes.data(), type.dtype, i, 0);
}

double DenseData::imag(int64_t i) const {
  return is_complex(type.dtype) ? load_element(bytes.data(), type.dtype, i, 1) : 0.0;
}

std::shared_ptr<const DenseData> DenseData::from_doubles(const TensorType& t,
                                                        const std::vector<double>& values) {
  auto d = std::make_shared<DenseData>();
  d->type = t;
  int64_t n = t.numel();
  d->bytes.assign(static_cast<size_t>(t.bytes()), 0);
  bool cplx = is_complex(t.dtype);
  TEVO_ASSERT(static_cast<int64_t>(values.size()) == (cplx ? 2 * n : n), "dense literal size");
  for (int64_t i = 0; i < n; ++i) {
    if (cplx) {
      store_element(d->bytes.data(), t.dtype, i, values[static_cast<size_t>(2 * i)], 0);
      store_element(d->bytes.data(), t.dtype, i, values[static_cast<size_t>(2 * i + 1)], 1);
    } else {
      store_element(d->bytes.data(), t.dtype, i, values[static_cast<size_t>(i)]);
    }
  }
  return d;
}

bool operator==(const Attr& a, const Attr& b) {
  if (a.kind() != b.kind())
    return false;
  switch (a.kind()) {
  case AttrKind::Dense:
    return a.dense() == b.dense() || *a.dense() == *b.dense();
  case AttrKind::Region:
    return a.region() == b.region() || print_graph(*a.region()) == print_graph(*b.region());
  case AttrKind::F64: {
    // Bitwise for doubles so that NaN attributes compare equal to themselves (CSE).
    double x = a.f64(), y = b.f64();
    return std::memcmp(&x, &y, sizeof x) == 0;
  }
  case AttrKind::F64List: {
    const auto &x = a.f64_list(), &y = b.f64_list();
    return x.size() == y.size() &&
           (x.empty() || std::memcmp(x.data(), y.data(), x.size() * sizeof(double)) == 0);
  }
  default:
    return a.storage() == b.storage();
  }
}

const Attr* AttrDict::find(std::string_view name) const {
  for (const auto& [k, v] : items_)
    if (k == name)
      return &v;
  return nullptr;
}

const Attr& AttrDict::get(std::string_view name) const {
  const Attr* a = find(name);
  TEVO_ASSERT(a != nullptr, "missing attribute '{}'", name);
  return *a;
}

void AttrDict::set(std::string name, Attr value) {
  for (auto& [k, v] : items_)
    if (k == name) {
      v = std::move(value);
      return;
    }
  items_.emplace_back(std::move(name), std::move(value));
}

} // namespace tevo::ir
