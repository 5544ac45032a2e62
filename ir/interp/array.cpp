// array.cpp: interpreter arrays: conversion, rounding and broadcasting.
#include "ir/interp/array.h"

#include "ir/element.h"

namespace tevo::ir::interp {

Array::Array(const TensorType& t) : type(t) {
  data.assign(static_cast<size_t>(t.numel()), 0.0);
  if (is_complex(t.dtype))
    imag.assign(static_cast<size_t>(t.numel()), 0.0);
}

void Array::round_to_dtype() {
  uint8_t buf[16];
  bool cplx = is_complex(type.dtype);
  for (size_t i = 0; i < data.size(); ++i) {
    store_element(buf, type.dtype, 0, data[i], 0);
    data[i] = load_element(buf, type.dtype, 0, 0);
    if (cplx) {
      store_element(buf, type.dtype, 0, imag[i], 1);
      imag[i] = load_element(buf, type.dtype, 0, 1);
    }
  }
}

Array Array::from_bytes(const TensorType& t, const uint8_t* bytes) {
  Array a(t);
  for (int64_t i = 0; i < a.numel(); ++i) {
    a.data[static_cast<size_t>(i)] = load_element(bytes, t.dtype, i, 0);
    if (!a.imag.empty())
      a.imag[static_cast<size_t>(i)] = load_element(bytes, t.dtype, i, 1);
  }
  return a;
}

std::vector<uint8_t> Array::to_bytes() const {
  std::vector<uint8_t> out(static_cast<size_t>(type.bytes()), 0);
  for (int64_t i = 0; i < numel(); ++i) {
    store_element(out.data(), type.dtype, i, data[static_cast<size_t>(i)], 0);
    if (!imag.empty())
      store_element(out.data(), type.dtype, i, imag[static_cast<size_t>(i)], 1);
  }
  return out;
}

std::vector<int64_t> unravel(int64_t flat, const std::vector<int64_t>& dims) {
  std::vector<int64_t> idx(dims.size(), 0);
  for (size_t k = dims.size(); k-- > 0;) {
    if (dims[k] > 0) {
      idx[k] = flat % dims[k];
      flat /= dims[k];
    }
  }
  return idx;
}

int64_t ravel(const std::vector<int64_t>& idx, const std::vector<int64_t>& strides) {
  int64_t f = 0;
  for (size_t k = 0; k < idx.size(); ++k)
    f += idx[k] * strides[k];
  return f;
}

Array broadcast_array(const Array& a, const Shape& to) {
  Array out(TensorType{a.type.dtype, to});
  int64_t r = to.rank(), ra = a.shape().rank();
  std::vector<int64_t> astr = a.shape().strides();
  // Stride 0 along broadcast axes.
  std::vector<int64_t> bstr(static_cast<size_t>(r), 0);
  for (int64_t i = 0; i < ra; ++i) {
    int64_t oi = r - ra + i;
    bstr[static_cast<size_t>(oi)] = a.shape().dim(i) == 1 ? 0 : astr[static_cast<size_t>(i)];
  }
  std::vector<int64_t> dims = to.to_vector();
  for (int64_t f = 0; f < out.numel(); ++f) {
    int64_t src = ravel(unravel(f, dims), bstr);
    out.data[static_cast<size_t>(f)] = a.data[static_cast<size_t>(src)];
    if (!out.imag.empty())
      out.imag[static_cast<size_t>(f)] = a.imag[static_cast<size_t>(src)];
  }
  return out;
}

} // namespace tevo::ir::interp
