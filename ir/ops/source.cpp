// source.cpp: PLACEHOLDER definitions, to be replaced by the real family.
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

OpDef def_Constant() {
  return pending("constant");
}
OpDef def_Full() {
  return pending("full");
}
OpDef def_Iota() {
  return pending("iota");
}
OpDef def_Arange() {
  return pending("arange");
}
OpDef def_RandomUniform() {
  return pending("random_uniform");
}
OpDef def_RandomNormal() {
  return pending("random_normal");
}

} // namespace tevo::ir
