// compare_select.cpp: PLACEHOLDER definitions, to be replaced by the real family.
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

OpDef def_Eq() {
  return pending("eq");
}
OpDef def_Ne() {
  return pending("ne");
}
OpDef def_Lt() {
  return pending("lt");
}
OpDef def_Le() {
  return pending("le");
}
OpDef def_Gt() {
  return pending("gt");
}
OpDef def_Ge() {
  return pending("ge");
}
OpDef def_LogicalAnd() {
  return pending("logical_and");
}
OpDef def_LogicalOr() {
  return pending("logical_or");
}
OpDef def_LogicalNot() {
  return pending("logical_not");
}
OpDef def_Select() {
  return pending("select");
}
OpDef def_Cast() {
  return pending("cast");
}
OpDef def_Real() {
  return pending("real");
}
OpDef def_Imag() {
  return pending("imag");
}
OpDef def_Complex() {
  return pending("complex");
}

} // namespace tevo::ir
