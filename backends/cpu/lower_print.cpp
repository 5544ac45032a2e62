// lower_print.cpp: format_plan(), a readable, deterministic listing of an rt::Plan.
//
// One header line, the signature, the buffers, then one line per step. Arguments print as
// b<buffer>+<byte offset>, descriptors add dtype[dims]/[strides]. Used by `tevo run
// --stats`, debugging, and golden tests of the lowering.
#include <fmt/format.h>

#include "backends/cpu/lower.h"
#include "backends/cpu/lower_internal.h"

namespace tevo::cpu {

namespace {

std::string dims_str(const std::vector<int64_t>& v) {
  return fmt::format("[{}]", fmt::join(v, ","));
}

std::string ref(const rt::ArgRef& a) {
  return fmt::format("b{}+{}", a.buffer, a.offset);
}

std::string desc(const rt::StridedDesc& d) {
  return fmt::format("{}:{}{}/{}", ref(d.at), ir::dtype_name(d.dtype), dims_str(d.dims),
                     dims_str(d.strides));
}

std::string storage(const rt::Buffer& b) {
  switch (b.storage) {
  case rt::Storage::Input:
    return fmt::format("input {}", b.index);
  case rt::Storage::Output:
    return fmt::format("output {}", b.index);
  case rt::Storage::Constant:
    return fmt::format("constant {}", b.index);
  case rt::Storage::Arena:
    return fmt::format("arena @{}", b.offset);
  }
  return "?";
}

std::string post_op(const rt::PostOp& p) {
  std::string name = detail::dnnl_alg_name(p.alg);
  switch (p.kind) {
  case rt::PostOp::Kind::Eltwise:
    return fmt::format("{}(alpha={}, beta={})", name, p.alpha, p.beta);
  case rt::PostOp::Kind::Binary:
    return fmt::format("{}({})", name, desc(p.src1));
  case rt::PostOp::Kind::Sum:
    return fmt::format("sum(scale={})", p.scale);
  }
  return "?";
}

std::string spec(const rt::TensorSpec& t) {
  return fmt::format("{}: {}{}", t.name, ir::dtype_name(t.dtype), dims_str(t.shape));
}

std::string step_line(const rt::Plan& p, const rt::Step& s) {
  size_t i = static_cast<size_t>(s.index);
  switch (s.kind) {
  case rt::Step::Kind::Kernel: {
    const rt::KernelStep& k = p.kernels[i];
    std::vector<std::string> args;
    for (const rt::ArgRef& a : k.args)
      args.push_back(ref(a));
    return fmt::format("kernel {}({})", p.kernel_names[static_cast<size_t>(k.kernel)],
                       fmt::join(args, ", "));
  }
  case rt::Step::Kind::Matmul: {
    const rt::MatmulStep& m = p.matmuls[i];
    std::string line = fmt::format("matmul {} x {} -> {}", desc(m.a), desc(m.b), desc(m.c));
    for (const rt::PostOp& po : m.post_ops)
      line += " | " + post_op(po);
    return line;
  }
  case rt::Step::Kind::Conv1d: {
    const rt::Conv1dStep& c = p.convs[i];
    return fmt::format("conv1d {} * {} -> {} stride={} pad=[{},{}] dilation={} groups={}",
                       desc(c.x), desc(c.w), desc(c.y), c.stride, c.padding_l, c.padding_r,
                       c.dilation, c.groups);
  }
  case rt::Step::Kind::RuntimeOp: {
    const rt::RuntimeOpStep& r = p.runtime_ops[i];
    std::vector<std::string> ops, res;
    for (const rt::StridedDesc& d : r.operands)
      ops.push_back(desc(d));
    for (const rt::StridedDesc& d : r.results)
      res.push_back(desc(d));
    return fmt::format("runtime {}({}) -> ({}) i={} f=[{}]", r.op, fmt::join(ops, ", "),
                       fmt::join(res, ", "), dims_str(r.iattrs), fmt::join(r.fattrs, ","));
  }
  case rt::Step::Kind::Copy: {
    const rt::CopyStep& c = p.copies[i];
    return fmt::format("copy {} -> {} ({} bytes)", ref(c.from), ref(c.to), c.bytes);
  }
  }
  return "?";
}

} // namespace

std::string format_plan(const rt::Plan& p) {
  std::string s = fmt::format("plan @{} (arena {} bytes)\n", p.name, p.arena_bytes);
  for (size_t i = 0; i < p.inputs.size(); ++i)
    s += fmt::format("  input {} {}\n", i, spec(p.inputs[i]));
  for (size_t i = 0; i < p.outputs.size(); ++i)
    s += fmt::format("  output {} {}\n", i, spec(p.outputs[i]));
  for (size_t i = 0; i < p.constants.size(); ++i)
    s += fmt::format("  constant {} ({} bytes)\n", i, p.constants[i].size());
  for (size_t i = 0; i < p.buffers.size(); ++i)
    s += fmt::format("  b{} = {} ({} bytes)\n", i, storage(p.buffers[i]), p.buffers[i].bytes);
  for (size_t i = 0; i < p.steps.size(); ++i) {
    const rt::Step& st = p.steps[i];
    s += fmt::format("  {}: {}", i, step_line(p, st));
    s += st.name.empty() ? "" : fmt::format("  # {}", st.name);
    s += st.loc.empty() ? "\n" : fmt::format(" @ {}\n", st.loc);
  }
  return s;
}

} // namespace tevo::cpu
