// lower_test_util.h: helpers for the lowering tests: building fused groups with the
// Builder, parsing .tir text, and an independent checker of a plan's memory safety.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backends/cpu/lower.h"
#include "backends/cpu/memory_plan.h"
#include "ir/builder.h"
#include "ir/parser.h"

namespace tevo::lower_test {

using BodyFn = std::function<std::vector<ir::Value*>(ir::Builder&, std::vector<ir::Value*>)>;

/// Appends `fused {kind}` over `ops` whose body `body` builds; returns the node.
inline ir::Node* fused(ir::Builder& b, std::vector<ir::Value*> ops, const BodyFn& body,
                       const std::string& kind = "loop", const std::string& name = {}) {
  auto region = std::make_shared<ir::Graph>();
  std::vector<ir::Value*> in;
  for (ir::Value* v : ops)
    in.push_back(region->add_input(v->type, ""));
  ir::Builder rb(*region);
  region->outputs = body(rb, in);
  return b.create(ir::OpKind::Fused, std::move(ops),
                  {{"body", ir::Attr(ir::RegionRef(region))}, {"kind", ir::Attr(kind)}}, {},
                  name);
}

/// Parses a module and returns its first function (kept alive by `holder`).
inline const ir::Graph& parse(const std::string& text, std::unique_ptr<ir::Module>& holder) {
  holder = std::make_unique<ir::Module>(ir::parse_module(text, "test.tir"));
  REQUIRE_FALSE(holder->funcs.empty());
  return *holder->funcs[0];
}

/// The buffers each step of `p` reads or writes.
inline std::vector<std::vector<int32_t>> step_buffers(const rt::Plan& p) {
  std::vector<std::vector<int32_t>> out;
  for (const rt::Step& s : p.steps) {
    std::vector<int32_t> b;
    size_t i = static_cast<size_t>(s.index);
    switch (s.kind) {
    case rt::Step::Kind::Kernel:
      for (const rt::ArgRef& a : p.kernels[i].args)
        b.push_back(a.buffer);
      break;
    case rt::Step::Kind::Matmul:
      b = {p.matmuls[i].a.at.buffer, p.matmuls[i].b.at.buffer, p.matmuls[i].c.at.buffer};
      for (const rt::PostOp& po : p.matmuls[i].post_ops)
        if (po.kind == rt::PostOp::Kind::Binary)
          b.push_back(po.src1.at.buffer);
      break;
    case rt::Step::Kind::Conv1d:
      b = {p.convs[i].x.at.buffer, p.convs[i].w.at.buffer, p.convs[i].y.at.buffer};
      break;
    case rt::Step::Kind::RuntimeOp:
      for (const rt::StridedDesc& d : p.runtime_ops[i].operands)
        b.push_back(d.at.buffer);
      for (const rt::StridedDesc& d : p.runtime_ops[i].results)
        b.push_back(d.at.buffer);
      break;
    case rt::Step::Kind::Copy:
      b = {p.copies[i].from.buffer, p.copies[i].to.buffer};
      break;
    }
    out.push_back(b);
  }
  return out;
}

/// The buffers each step of `low.plan` writes.
inline std::vector<std::vector<int32_t>> step_writes(const cpu::Lowered& low) {
  const rt::Plan& p = low.plan;
  std::vector<std::vector<int32_t>> out;
  for (const rt::Step& s : p.steps) {
    std::vector<int32_t> b;
    size_t i = static_cast<size_t>(s.index);
    switch (s.kind) {
    case rt::Step::Kind::Kernel: {
      size_t nops = static_cast<size_t>(low.kernels[i].group->num_operands());
      for (size_t a = nops; a < p.kernels[i].args.size(); ++a)
        b.push_back(p.kernels[i].args[a].buffer);
      break;
    }
    case rt::Step::Kind::Matmul:
      b = {p.matmuls[i].c.at.buffer};
      break;
    case rt::Step::Kind::Conv1d:
      b = {p.convs[i].y.at.buffer};
      break;
    case rt::Step::Kind::RuntimeOp:
      for (const rt::StridedDesc& d : p.runtime_ops[i].results)
        b.push_back(d.at.buffer);
      break;
    case rt::Step::Kind::Copy:
      b = {p.copies[i].to.buffer};
      break;
    }
    out.push_back(b);
  }
  return out;
}

/// Checks, from the plan alone, that arena buffers are aligned, inside the arena and written
/// before they are read, and that two buffers live at a common step never share bytes, except a loop group's
/// in-place pair at the one step where the operand dies and the result is born.
inline void check_memory(const cpu::Lowered& low) {
  const rt::Plan& p = low.plan;
  CHECK_NOTHROW(rt::validate_plan(p)); // the runtime's own consistency check
  auto touched = step_buffers(p);
  size_t nb = p.buffers.size();
  std::vector<int> first(nb, 1 << 30), last(nb, -1);
  for (size_t s = 0; s < touched.size(); ++s)
    for (int32_t b : touched[s]) {
      REQUIRE(b >= 0);
      REQUIRE(static_cast<size_t>(b) < nb);
      first[static_cast<size_t>(b)] = std::min(first[static_cast<size_t>(b)], static_cast<int>(s));
      last[static_cast<size_t>(b)] = std::max(last[static_cast<size_t>(b)], static_cast<int>(s));
    }
  auto inplace_at = [&](size_t s, int32_t from, int32_t to) {
    const rt::Step& st = p.steps[s];
    if (st.kind != rt::Step::Kind::Kernel)
      return false;
    const cpu::KernelSpec& spec = low.kernels[static_cast<size_t>(st.index)];
    const rt::KernelStep& k = p.kernels[static_cast<size_t>(st.index)];
    int nops = spec.group->num_operands();
    for (auto [o, r] : spec.inplace)
      if (k.args[static_cast<size_t>(o)].buffer == from &&
          k.args[static_cast<size_t>(nops + r)].buffer == to)
        return true;
    return false;
  };
  // A scratch buffer is written before anything reads it.
  std::vector<int> first_write(nb, 1 << 30);
  auto writes = step_writes(low);
  for (size_t s = 0; s < writes.size(); ++s)
    for (int32_t b : writes[s])
      first_write[static_cast<size_t>(b)] =
          std::min(first_write[static_cast<size_t>(b)], static_cast<int>(s));
  for (size_t i = 0; i < nb; ++i) {
    const rt::Buffer& a = p.buffers[i];
    if (a.storage != rt::Storage::Arena)
      continue;
    CHECK_EQ(first_write[i], first[i]);
    CHECK_EQ(a.offset % cpu::kArenaAlign, 0);
    CHECK_LE(a.offset + a.bytes, p.arena_bytes);
    REQUIRE(last[i] >= 0); // every scratch buffer is written by some step
    for (size_t j = 0; j < nb; ++j) {
      const rt::Buffer& c = p.buffers[j];
      if (j == i || c.storage != rt::Storage::Arena || a.bytes == 0 || c.bytes == 0)
        continue;
      bool time = first[i] <= last[j] && first[j] <= last[i];
      bool bytes = a.offset < c.offset + c.bytes && c.offset < a.offset + a.bytes;
      if (!time || !bytes)
        continue;
      bool handover = last[i] == first[j] &&
                      inplace_at(static_cast<size_t>(last[i]), static_cast<int32_t>(i),
                                 static_cast<int32_t>(j));
      bool handover_back = last[j] == first[i] &&
                           inplace_at(static_cast<size_t>(last[j]), static_cast<int32_t>(j),
                                      static_cast<int32_t>(i));
      INFO("buffers b", i, " and b", j, " overlap while both live");
      CHECK((handover || handover_back));
    }
  }
}

} // namespace tevo::lower_test
