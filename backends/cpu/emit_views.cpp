// emit_views.cpp: views inside a loop group as index maps (transpose, reshape, broadcast_to,
// slice, pad, concat, tril, triu).
//
// A view never materialises: reading the view at an index reads its operand at the mapped
// index. Masks (pad, concat, tril/triu) are selects, and every read is at an in-range
// (clamped) index, so the loops stay branch-free and vectorise.
#include "backends/cpu/emit_eval.h"
#include "ir/op_def.h"

namespace tevo::cpu {

namespace {

using Ints = std::vector<int64_t>;

/// Positions of the dims of `dims` whose extent is not 1.
std::vector<size_t> non_unit(const Ints& dims) {
  std::vector<size_t> r;
  for (size_t i = 0; i < dims.size(); ++i)
    if (dims[i] != 1)
      r.push_back(i);
  return r;
}

/// Operand index of a reshape read at `idx`. Non-unit dims are split into consecutive
/// groups with equal extent products (heads split or merged, unit dims added or dropped);
/// a 1:1 group passes the index through unchanged, others go through the group's linear
/// index (multiply-adds, and div/mod by constants only where dims are really split).
Index reshape_index(llvm::IRBuilder<>& b, const Ints& xs, const Ints& ys, const Index& idx) {
  Index xi(xs.size(), b.getInt64(0));
  std::vector<size_t> xn = non_unit(xs), yn = non_unit(ys);
  size_t p = 0, q = 0;
  while (p < xn.size() && q < yn.size()) {
    std::vector<size_t> gx{xn[p]}, gy{yn[q]};
    int64_t px = xs[xn[p++]], py = ys[yn[q++]];
    while (px != py) {
      if (px < py) {
        TEVO_ASSERT(p < xn.size(), "reshape groups do not match");
        gx.push_back(xn[p]);
        px *= xs[xn[p++]];
      } else {
        TEVO_ASSERT(q < yn.size(), "reshape groups do not match");
        gy.push_back(yn[q]);
        py *= ys[yn[q++]];
      }
    }
    if (gx.size() == 1 && gy.size() == 1) {
      xi[gx[0]] = idx[gy[0]];
      continue;
    }
    Index sub;
    Ints sub_dims;
    for (size_t i : gy) {
      sub.push_back(idx[i]);
      sub_dims.push_back(ys[i]);
    }
    llvm::Value* flat = ravel_dense(b, sub, sub_dims);
    Ints gdims;
    for (size_t j : gx)
      gdims.push_back(xs[j]);
    Index parts = unravel(b, flat, gdims);
    for (size_t k = 0; k < gx.size(); ++k)
      xi[gx[k]] = parts[k];
  }
  return xi;
}

} // namespace

llvm::Value* BodyEmitter::view(const ir::Node& n, const Index& idx) {
  using K = ir::OpKind;
  const ir::Value* x = n.operand(0);
  const ir::TensorType& t = n.result()->type;
  Ints xs = x->type.shape.to_vector(), ys = t.shape.to_vector();
  switch (n.op) {
  case K::Transpose: {
    const Ints& perm = n.attrs.i64_list("perm");
    Index xi(idx.size());
    for (size_t i = 0; i < perm.size(); ++i)
      xi[static_cast<size_t>(perm[i])] = idx[i];
    return emit(x, xi);
  }
  case K::Reshape:
    if (x->type.numel() == 0) // never read: a loop over an empty domain does not run
      return zero_of(t.dtype);
    return emit(x, reshape_index(b_, xs, ys, idx));
  case K::BroadcastTo:
    return emit(x, broadcast_index(x->type.shape, idx));
  case K::Slice: {
    const Ints& starts = n.attrs.i64_list("starts");
    const Ints& steps = n.attrs.i64_list("steps");
    Index xi(idx.size());
    for (size_t d = 0; d < idx.size(); ++d) {
      if (xs[d] == 1) {
        xi[d] = i64(0);
        continue;
      }
      llvm::Value* v = add_scaled(b_, nullptr, idx[d], steps.empty() ? 1 : steps[d]);
      xi[d] = starts[d] == 0 ? v : add_nw(b_, v, i64(starts[d]));
    }
    return emit(x, xi);
  }
  case K::Pad: {
    const Ints& low = n.attrs.i64_list("low");
    const Ints& high = n.attrs.i64_list("high");
    Index xi(idx.size());
    llvm::Value* inside = nullptr;
    for (size_t d = 0; d < idx.size(); ++d) {
      if (low[d] == 0 && high[d] == 0) {
        xi[d] = idx[d];
        continue;
      }
      llvm::Value* k = low[d] == 0 ? idx[d] : b_.CreateNSWSub(idx[d], i64(low[d]));
      llvm::Value* in = b_.CreateICmpULT(k, i64(xs[d])); // negative wraps above xs[d]
      inside = inside ? b_.CreateAnd(inside, in) : in;
      xi[d] = xs[d] == 1 ? i64(0) : b_.CreateSelect(in, k, i64(0));
    }
    llvm::Value* v = emit(x, xi);
    if (!inside)
      return v;
    llvm::Value* fill = convert(sb_.get(sb_.constant(n.attrs.f64("value"), ir::DType::F64)),
                                ir::DType::F64, t.dtype);
    return b_.CreateSelect(inside, v, fill);
  }
  case K::Concat: {
    size_t axis = static_cast<size_t>(*ir::normalize_axis(n.attrs.i64("axis"), t.shape.rank()));
    struct Part {
      const ir::Value* v;
      int64_t offset, extent;
    };
    std::vector<Part> parts;
    int64_t off = 0;
    for (const ir::Value* p : n.operands) {
      int64_t e = p->type.shape.dim(static_cast<int64_t>(axis));
      if (e > 0)
        parts.push_back({p, off, e});
      off += e;
    }
    if (parts.empty()) // every operand is empty on the axis: so is the result (never read)
      return zero_of(t.dtype);
    auto read = [&](const Part& p) {
      Index pi = idx;
      if (p.extent == 1) {
        pi[axis] = i64(0);
      } else if (parts.size() > 1) {
        llvm::Value* k = p.offset == 0 ? idx[axis] : b_.CreateNSWSub(idx[axis], i64(p.offset));
        pi[axis] = b_.CreateSelect(b_.CreateICmpULT(k, i64(p.extent)), k, i64(0));
      }
      return emit(p.v, pi);
    };
    llvm::Value* v = read(parts.back());
    for (size_t i = parts.size() - 1; i-- > 0;) {
      llvm::Value* in = b_.CreateICmpULT(idx[axis], i64(parts[i].offset + parts[i].extent));
      v = b_.CreateSelect(in, read(parts[i]), v);
    }
    return v;
  }
  case K::Tril:
  case K::Triu: {
    size_t r = idx.size();
    llvm::Value* diff = b_.CreateNSWSub(idx[r - 1], idx[r - 2]);
    llvm::Value* k = i64(n.attrs.i64("k"));
    llvm::Value* keep =
        n.op == K::Tril ? b_.CreateICmpSLE(diff, k) : b_.CreateICmpSGE(diff, k);
    return b_.CreateSelect(keep, emit(x, idx), zero_of(t.dtype));
  }
  default:
    break;
  }
  fail(fmt::format("cpu codegen: {} cannot be generated in a loop group", n.def().name));
}

} // namespace tevo::cpu
