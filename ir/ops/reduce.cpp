// reduce.cpp: PLACEHOLDER definitions, to be replaced by the real family.
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

OpDef def_Sum() {
  return pending("sum");
}
OpDef def_Mean() {
  return pending("mean");
}
OpDef def_Max() {
  return pending("max");
}
OpDef def_Min() {
  return pending("min");
}
OpDef def_Prod() {
  return pending("prod");
}
OpDef def_Logsumexp() {
  return pending("logsumexp");
}
OpDef def_Argmax() {
  return pending("argmax");
}
OpDef def_Softmax() {
  return pending("softmax");
}
OpDef def_LogSoftmax() {
  return pending("log_softmax");
}

} // namespace tevo::ir
