// shape.cpp: PLACEHOLDER definitions, to be replaced by the real family.
#include "ir/ops/common.h"

namespace tevo::ir {

namespace {
OpDef pending(std::string_view name) {
  OpDef o;
  o.name = name;
  o.summary = "not implemented yet";
  o.traits = kVariadic;
  o.infer = [](const InferCtx&) -> Expected<std::vector<TensorType>> {
    return make_diag("not implemented yet");
  };
  return o;
}
} // namespace

OpDef def_Transpose() {
  return pending("transpose");
}
OpDef def_Reshape() {
  return pending("reshape");
}
OpDef def_BroadcastTo() {
  return pending("broadcast_to");
}
OpDef def_Slice() {
  return pending("slice");
}
OpDef def_Concat() {
  return pending("concat");
}
OpDef def_Pad() {
  return pending("pad");
}
OpDef def_Tril() {
  return pending("tril");
}
OpDef def_Triu() {
  return pending("triu");
}

} // namespace tevo::ir
