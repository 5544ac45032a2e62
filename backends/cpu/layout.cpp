// layout.cpp: strided layouts; view ops composed onto them (see layout.h).
#include "backends/cpu/layout.h"

#include <fmt/format.h>

#include "ir/diag.h"

namespace tevo::cpu {

namespace {

size_t at(int64_t i) {
  return static_cast<size_t>(i);
}

std::string join(const std::vector<int64_t>& v) {
  return fmt::format("[{}]", fmt::join(v, ","));
}

} // namespace

Layout Layout::dense(const std::vector<int64_t>& dims) {
  Layout l;
  l.dims = dims;
  l.strides.assign(dims.size(), 1);
  int64_t s = 1;
  for (size_t i = dims.size(); i-- > 0;) {
    l.strides[i] = s;
    s *= dims[i];
  }
  return l;
}

int64_t Layout::numel() const {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

bool Layout::contiguous() const {
  if (numel() == 0)
    return true;
  int64_t expected = 1;
  for (size_t i = dims.size(); i-- > 0;) {
    if (dims[i] == 1)
      continue;
    if (strides[i] != expected)
      return false;
    expected *= dims[i];
  }
  return true;
}

int64_t Layout::extent_end() const {
  if (numel() == 0)
    return offset;
  int64_t end = offset + 1;
  for (size_t i = 0; i < dims.size(); ++i)
    end += (dims[i] - 1) * strides[i];
  return end;
}

std::string Layout::str() const {
  std::string s = join(dims) + "/" + join(strides);
  return offset ? s + fmt::format("+{}", offset) : s;
}

std::optional<Layout> layout_transpose(const Layout& x, const std::vector<int64_t>& perm) {
  TEVO_ASSERT(static_cast<int64_t>(perm.size()) == x.rank(), "transpose perm of wrong rank");
  Layout r;
  r.offset = x.offset;
  for (int64_t p : perm) {
    r.dims.push_back(x.dims[at(p)]);
    r.strides.push_back(x.strides[at(p)]);
  }
  return r;
}

std::optional<Layout> layout_reshape(const Layout& x, const std::vector<int64_t>& shape) {
  Layout r;
  r.dims = shape;
  r.offset = x.offset;
  r.strides.assign(shape.size(), 0);
  if (x.numel() == 0) { // nothing is ever read: any strides will do
    Layout d = Layout::dense(shape);
    d.offset = x.offset;
    return d;
  }
  // Old dims without extent-1 dims (their strides are meaningless).
  std::vector<int64_t> od, os;
  for (size_t i = 0; i < x.dims.size(); ++i)
    if (x.dims[i] != 1) {
      od.push_back(x.dims[i]);
      os.push_back(x.strides[i]);
    }
  const std::vector<int64_t>& nd = shape;
  size_t on = od.size(), nn = nd.size();
  // Match groups of old dims with groups of new dims of equal product; each old group must
  // be row-major inside itself, and then the new group's strides follow from its last one.
  size_t oi = 0, oj = 1, ni = 0, nj = 1;
  while (ni < nn && oi < on) {
    int64_t np = nd[ni], op = od[oi];
    while (np != op) {
      if (np < op) {
        TEVO_ASSERT(nj < nn, "reshape of {} to {} changes the element count", x.str(),
                    join(shape));
        np *= nd[nj++];
      } else {
        TEVO_ASSERT(oj < on, "reshape of {} to {} changes the element count", x.str(),
                    join(shape));
        op *= od[oj++];
      }
    }
    for (size_t k = oi; k + 1 < oj; ++k)
      if (os[k] != od[k + 1] * os[k + 1])
        return std::nullopt;
    r.strides[nj - 1] = os[oj - 1];
    for (size_t k = nj - 1; k > ni; --k)
      r.strides[k - 1] = r.strides[k] * nd[k];
    ni = nj++;
    oi = oj++;
  }
  // Trailing extent-1 dims: any stride; take the one that keeps a dense result dense.
  for (size_t k = ni; k < nn; ++k)
    r.strides[k] = 1;
  return r;
}

std::optional<Layout> layout_broadcast_to(const Layout& x, const std::vector<int64_t>& shape) {
  int64_t r = static_cast<int64_t>(shape.size()), rx = x.rank();
  TEVO_ASSERT(r >= rx, "broadcast_to {} from rank {}", join(shape), rx);
  Layout out;
  out.dims = shape;
  out.offset = x.offset;
  out.strides.assign(shape.size(), 0);
  for (int64_t i = 0; i < rx; ++i) {
    int64_t o = r - rx + i;
    bool expand = x.dims[at(i)] == 1 && shape[at(o)] != 1;
    out.strides[at(o)] = expand ? 0 : x.strides[at(i)];
  }
  return out;
}

std::optional<Layout> layout_slice(const Layout& x, const std::vector<int64_t>& starts,
                                   const std::vector<int64_t>& ends,
                                   const std::vector<int64_t>& steps) {
  TEVO_ASSERT(static_cast<int64_t>(starts.size()) == x.rank() &&
                  static_cast<int64_t>(ends.size()) == x.rank(),
              "slice bounds of wrong rank");
  Layout r;
  r.offset = x.offset;
  for (size_t i = 0; i < x.dims.size(); ++i) {
    int64_t step = steps.empty() ? 1 : steps[i];
    int64_t n = ends[i] == starts[i] ? 0 : (ends[i] - starts[i] - 1) / step + 1;
    r.dims.push_back(n);
    r.strides.push_back(x.strides[i] * step);
    r.offset += starts[i] * x.strides[i];
  }
  return r;
}

bool is_layout_view(ir::OpKind k) {
  return k == ir::OpKind::Transpose || k == ir::OpKind::Reshape ||
         k == ir::OpKind::BroadcastTo || k == ir::OpKind::Slice;
}

std::optional<Layout> apply_view(const Layout& operand, const ir::Node& n) {
  const ir::AttrDict& a = n.attrs;
  switch (n.op) {
  case ir::OpKind::Transpose:
    return layout_transpose(operand, a.i64_list("perm"));
  case ir::OpKind::Reshape:
    return layout_reshape(operand, a.i64_list("shape"));
  case ir::OpKind::BroadcastTo:
    return layout_broadcast_to(operand, a.i64_list("shape"));
  case ir::OpKind::Slice:
    return layout_slice(operand, a.i64_list("starts"), a.i64_list("ends"),
                        a.i64_list("steps"));
  default:
    break;
  }
  TEVO_ASSERT(false, "apply_view on a non-view op");
  return std::nullopt;
}

} // namespace tevo::cpu
