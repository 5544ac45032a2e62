// index.cpp: PLACEHOLDER definitions, to be replaced by the real family.
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

OpDef def_Gather() {
  return pending("gather");
}
OpDef def_Take() {
  return pending("take");
}
OpDef def_Embedding() {
  return pending("embedding");
}
OpDef def_OneHot() {
  return pending("one_hot");
}
OpDef def_Topk() {
  return pending("topk");
}

} // namespace tevo::ir
