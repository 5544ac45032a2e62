// lower_group.cpp: kernel steps for loop groups, and the synthetic groups the lowering
// makes itself (copies of views that strides cannot express, lone ops outside groups).
//
// A synthetic group is an ordinary `fused {kind = "loop"}` node, built with the Builder in
// Lowered::synthetic, so the code generator and the interpreter treat it like any other.
#include <cctype>

#include "backends/cpu/lower_internal.h"

namespace tevo::cpu::detail {

namespace {

/// A C identifier from a scoped name: [A-Za-z0-9_] kept, others '_', at most 40 chars.
std::string c_ident(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (r.size() >= 40)
      break;
    r += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  }
  return r;
}

} // namespace

void Lowerer::emit_kernel(const ir::Node& group, const std::vector<Placed>& operands,
                          const std::vector<Placed>& results, const ir::Node& origin) {
  TEVO_ASSERT(static_cast<int>(operands.size()) == group.num_operands() &&
                  static_cast<int>(results.size()) == group.num_results(),
              "kernel arguments do not match the group");
  rt::Plan& p = out.plan;
  int32_t index = static_cast<int32_t>(p.kernels.size());
  std::string name = origin.scoped_name().empty() ? std::string(origin.def().name)
                                                  : origin.scoped_name();
  KernelSpec spec;
  spec.symbol = fmt::format("tevo_k{}_{}", index, c_ident(name));
  spec.group = &group;
  rt::KernelStep ks;
  ks.kernel = index;
  std::vector<int32_t> touched;
  for (const Placed& o : operands) {
    spec.operand_strides.push_back(o.layout.contiguous() ? std::vector<int64_t>{}
                                                         : o.layout.strides);
    ks.args.push_back(arg(o));
    touched.push_back(o.buffer);
  }
  for (const Placed& r : results) {
    TEVO_ASSERT(r.layout.dense_at_origin(), "kernel results are dense");
    ks.args.push_back(arg(r));
    touched.push_back(r.buffer);
  }
  p.kernel_names.push_back(spec.symbol);
  p.kernel_errors.emplace_back();
  p.kernels.push_back(std::move(ks));
  out.kernels.push_back(std::move(spec));
  kernel_step_.push_back(static_cast<int32_t>(p.steps.size()));
  add_step(rt::Step::Kind::Kernel, index, origin, touched);
}

const ir::Node& Lowerer::make_group(const std::vector<ir::TensorType>& operand_types,
                                    const BodyFn& body, const ir::Node& origin) {
  ir::Graph& sg = *out.synthetic;
  std::vector<ir::Value*> outer;
  auto region = std::make_shared<ir::Graph>();
  std::vector<ir::Value*> inner;
  for (size_t i = 0; i < operand_types.size(); ++i) {
    outer.push_back(sg.add_input(operand_types[i], ""));
    inner.push_back(region->add_input(operand_types[i], fmt::format("x{}", i)));
  }
  ir::Builder rb(*region);
  region->outputs = body(rb, inner);
  ir::Builder b(sg);
  ir::Node* f = b.create(ir::OpKind::Fused, outer,
                         {{"body", ir::Attr(ir::RegionRef(region))}, {"kind", ir::Attr("loop")}},
                         origin.loc, origin.scoped_name());
  return *f;
}

Placed Lowerer::materialize_chain(const Placed& src, const ir::TensorType& t,
                                  const std::vector<const ir::Node*>& chain,
                                  const ir::Node& origin) {
  TEVO_ASSERT(!chain.empty(), "nothing to materialise");
  const ir::Node& g = make_group(
      {t},
      [&](ir::Builder& b, std::vector<ir::Value*> in) {
        ir::Value* v = in[0];
        for (const ir::Node* n : chain)
          v = b.create(n->op, {v}, n->attrs.items(), n->loc)->result(0);
        return std::vector<ir::Value*>{v};
      },
      origin);
  Placed dst = new_temp(g.result(0)->type);
  emit_kernel(g, {src}, {dst}, origin);
  ++out.stats.views_copied;
  return dst;
}

} // namespace tevo::cpu::detail
