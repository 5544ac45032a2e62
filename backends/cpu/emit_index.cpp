// emit_index.cpp: index ops inside a loop group (gather, take, embedding, one_hot).
//
// Each reads its integer index at the result index, checks it against the indexed extent
// (an out-of-range index sets the op's error flag: the kernel then returns that site's
// code, whose message names the node and its location) and reads the data at the index,
// clamped into range so that the read itself is always valid.
#include "backends/cpu/emit_eval.h"
#include "ir/op_def.h"

namespace tevo::cpu {

llvm::Value* BodyEmitter::indexed(const ir::Node& n, const Index& idx) {
  using K = ir::OpKind;
  const ir::TensorType& t = n.result()->type;
  switch (n.op) {
  case K::Gather: { // out[o] = x[o with o[axis] = idx[o]]
    const ir::Value* x = n.operand(0);
    int64_t axis = *ir::normalize_axis(n.attrs.i64("axis"), x->type.shape.rank());
    llvm::Value* j = checked_index(n, emit(n.operand(1), idx), x->type.shape.dim(axis));
    Index xi = idx;
    xi[static_cast<size_t>(axis)] = j;
    return emit(x, xi);
  }
  case K::Take: { // out = x[:axis] + idx.shape + x[axis+1:]
    const ir::Value* x = n.operand(0);
    const ir::Value* ids = n.operand(1);
    auto axis = static_cast<size_t>(*ir::normalize_axis(n.attrs.i64("axis"), x->type.shape.rank()));
    auto ri = static_cast<size_t>(ids->type.shape.rank());
    Index ii(idx.begin() + static_cast<ptrdiff_t>(axis),
             idx.begin() + static_cast<ptrdiff_t>(axis + ri));
    llvm::Value* j =
        checked_index(n, emit(ids, ii), x->type.shape.dim(static_cast<int64_t>(axis)));
    Index xi(idx.begin(), idx.begin() + static_cast<ptrdiff_t>(axis));
    xi.push_back(j);
    xi.insert(xi.end(), idx.begin() + static_cast<ptrdiff_t>(axis + ri), idx.end());
    return emit(x, xi);
  }
  case K::Embedding: { // out[..., c] = table[ids[...], c]
    const ir::Value* table = n.operand(0);
    Index ii(idx.begin(), idx.end() - 1);
    llvm::Value* row = checked_index(n, emit(n.operand(1), ii), table->type.shape.dim(0));
    return emit(table, Index{row, idx.back()});
  }
  case K::OneHot: { // out[..., k] = ids[...] == k
    Index ii(idx.begin(), idx.end() - 1);
    llvm::Value* id = checked_index(n, emit(n.operand(0), ii), n.attrs.i64("depth"));
    llvm::Value* hit = b_.CreateICmpEQ(id, idx.back());
    return convert(hit, ir::DType::Bool, t.dtype);
  }
  default:
    break;
  }
  fail(fmt::format("cpu codegen: {} cannot be generated in a loop group", n.def().name));
}

} // namespace tevo::cpu
