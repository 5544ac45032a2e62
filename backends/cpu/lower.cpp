// lower.cpp: the lowering driver: a fused graph -> rt::Plan + kernel specs + memory plan.
//
// One walk in node order places every value (graph inputs and outputs in the caller's
// buffers, constants in the plan, step results in fresh arena buffers, views as strided
// aliases) and emits the steps. Then in-place reuse merges a dying operand's buffer with a
// loop-group result, and the arena planner lays out the merged buffers by liveness.
// Families with more to say live in lower_library.cpp, lower_runtime_ops.cpp,
// lower_inplace.cpp and lower_group.cpp.
#include "backends/cpu/lower.h"

#include <algorithm>
#include <climits>
#include <numeric>
#include <set>

#include "backends/cpu/lower_internal.h"
#include "backends/cpu/memory_plan.h"
#include "ir/op_def.h"
#include "ir/printer.h"
#include "passes/fusion/loop_group.h"

namespace tevo::cpu::detail {

namespace {

size_t ix(int64_t i) {
  return static_cast<size_t>(i);
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
}

/// "out<i>" for an unnamed output, else its value's name; later duplicates get "_<k>".
std::vector<std::string> output_names(const ir::Graph& g) {
  std::vector<std::string> names;
  std::set<std::string> used;
  for (size_t i = 0; i < g.outputs.size(); ++i) {
    const std::string& v = g.outputs[i]->name;
    std::string base = v.empty() || all_digits(v) ? fmt::format("out{}", i) : v;
    std::string name = base;
    for (int k = 1; used.count(name); ++k)
      name = fmt::format("{}_{}", base, k);
    used.insert(name);
    names.push_back(name);
  }
  return names;
}

std::string loc_text(const ir::Node* n) {
  return n && n->loc.known() ? n->loc.str() : std::string();
}

} // namespace

Lowerer::Lowerer(const ir::Graph& g) : graph(g) {
  out.synthetic = std::make_unique<ir::Graph>(g.name.empty() ? "synthetic" : g.name + ".synthetic");
}

const Placed& Lowerer::at(const ir::Value* v) const {
  auto it = placed_.find(v);
  TEVO_ASSERT(it != placed_.end(), "value used before it was lowered");
  return it->second;
}

rt::ArgRef Lowerer::arg(const Placed& p) const {
  return rt::ArgRef{p.buffer, p.layout.offset * ir::dtype_size(p.dtype)};
}

rt::StridedDesc Lowerer::desc(const Placed& p) const {
  rt::StridedDesc d;
  d.at = rt::ArgRef{p.buffer, p.layout.offset * ir::dtype_size(p.dtype)};
  d.dtype = p.dtype;
  d.dims = p.layout.dims;
  d.strides = p.layout.strides;
  return d;
}

namespace {

int32_t add_buffer(rt::Plan& p, rt::Storage s, int32_t index, int64_t bytes) {
  p.buffers.push_back(rt::Buffer{s, index, 0, bytes});
  return static_cast<int32_t>(p.buffers.size() - 1);
}

} // namespace

Placed Lowerer::place_result(const ir::Value* v) {
  auto it = first_output_.find(v);
  Placed p;
  p.dtype = v->type.dtype;
  p.layout = Layout::dense(v->type.shape.to_vector());
  if (it != first_output_.end())
    p.buffer = output_buffer_[ix(it->second)];
  else
    p.buffer = add_buffer(out.plan, rt::Storage::Arena, 0, v->type.bytes());
  placed_[v] = p;
  return p;
}

Placed Lowerer::new_temp(const ir::TensorType& t) {
  Placed p;
  p.dtype = t.dtype;
  p.layout = Layout::dense(t.shape.to_vector());
  p.buffer = add_buffer(out.plan, rt::Storage::Arena, 0, t.bytes());
  return p;
}

void Lowerer::add_step(rt::Step::Kind kind, int32_t index, const ir::Node& origin,
                       const std::vector<int32_t>& buffers) {
  std::string name = origin.scoped_name();
  if (name.empty())
    name = std::string(origin.def().name);
  out.plan.steps.push_back(rt::Step{kind, index, name, loc_text(&origin)});
  touched_.push_back(buffers);
}

void Lowerer::fail(const ir::Node& n, const std::string& message) const {
  throw ir::Error(ir::Diag{n.loc, fmt::format("[{}] {}", n.def().name, message), {}});
}

Lowered Lowerer::run() {
  rt::Plan& p = out.plan;
  p.name = graph.name;
  std::vector<std::string> in_names = ir::printed_input_names(graph);
  for (size_t i = 0; i < graph.inputs().size(); ++i) {
    const ir::Value* v = graph.inputs()[i];
    p.inputs.push_back(rt::TensorSpec{in_names[i], v->type.dtype, v->type.shape.to_vector()});
    int32_t b = add_buffer(p, rt::Storage::Input, static_cast<int32_t>(i), v->type.bytes());
    placed_[v] = Placed{b, Layout::dense(v->type.shape.to_vector()), v->type.dtype};
  }
  std::vector<std::string> out_names = output_names(graph);
  for (size_t i = 0; i < graph.outputs.size(); ++i) {
    const ir::Value* v = graph.outputs[i];
    p.outputs.push_back(rt::TensorSpec{out_names[i], v->type.dtype, v->type.shape.to_vector()});
    output_buffer_.push_back(
        add_buffer(p, rt::Storage::Output, static_cast<int32_t>(i), v->type.bytes()));
    first_output_.emplace(v, static_cast<int32_t>(i));
    output_positions_[v].push_back(static_cast<int32_t>(i));
  }
  for (const ir::Value* v : graph.inputs())
    emit_output_copies(v, nullptr);
  for (const auto& n : graph.nodes()) {
    lower_node(*n);
    for (int i = 0; i < n->num_results(); ++i)
      emit_output_copies(n->result(i), n.get());
  }
  choose_inplace();
  plan_memory();
  return std::move(out);
}

void Lowerer::lower_node(const ir::Node& n) {
  using ir::OpKind;
  if (n.op == OpKind::Fused) {
    const std::string& kind = n.attrs.get("kind").str();
    if (kind == "library")
      lower_library_group(*this, n);
    else
      lower_loop_group(n);
  } else if (n.op == OpKind::Matmul) {
    lower_matmul(*this, n);
  } else if (n.op == OpKind::Conv1d) {
    lower_conv1d(*this, n);
  } else if (is_layout_view(n.op)) {
    lower_view(n);
  } else if (n.op == OpKind::Constant) {
    lower_constant(n);
  } else if (is_runtime_op(n.op)) {
    lower_runtime_op(*this, n);
  } else {
    lower_loose(n);
  }
}

void Lowerer::lower_loop_group(const ir::Node& n) {
  // The fuse pass only forms groups that keep the contract; a group written by hand in IR
  // text may not (a reduction read at another index): an error at the group, not an
  // assertion in the code generator.
  if (auto why = passes::fusion::check_loop_group(*n.attrs.get("body").region()))
    fail(n, "not a loop group the CPU backend can generate: " + *why);
  std::vector<Placed> ops, res;
  for (const ir::Value* v : n.operands)
    ops.push_back(at(v));
  for (int i = 0; i < n.num_results(); ++i)
    res.push_back(place_result(n.result(i)));
  emit_kernel(n, ops, res, n);
}

void Lowerer::lower_view(const ir::Node& n) {
  const Placed& src = at(n.operand(0));
  const ir::Value* v = n.result(0);
  std::optional<Layout> l = apply_view(src.layout, n);
  // An output must end up dense in the caller's buffer: a contiguous alias is copied there
  // (emit_output_copies), anything else is written there by a copy kernel.
  if (l && (!first_output_.count(v) || l->contiguous())) {
    placed_[v] = Placed{src.buffer, *l, src.dtype};
    ++out.stats.views_aliased;
    return;
  }
  Placed from = src;
  const ir::Node& g = make_group(
      {n.operand(0)->type},
      [&](ir::Builder& b, std::vector<ir::Value*> in) {
        return std::vector<ir::Value*>{
            b.create(n.op, {in[0]}, n.attrs.items(), n.loc, n.scoped_name())->result(0)};
      },
      n);
  emit_kernel(g, {from}, {place_result(v)}, n);
  ++out.stats.views_copied;
}

void Lowerer::lower_constant(const ir::Node& n) {
  const ir::DenseRef& d = n.attrs.get("value").dense();
  const ir::Value* v = n.result(0);
  TEVO_ASSERT(static_cast<int64_t>(d->bytes.size()) == v->type.bytes(),
              "constant literal of {} bytes for {}", d->bytes.size(), v->type.str());
  rt::Plan& p = out.plan;
  p.constants.push_back(d->bytes);
  int32_t b = add_buffer(p, rt::Storage::Constant, static_cast<int32_t>(p.constants.size() - 1),
                         v->type.bytes());
  placed_[v] = Placed{b, Layout::dense(v->type.shape.to_vector()), v->type.dtype};
}

/// A node outside any group that a loop group can compute by itself (an elementwise op, a
/// source, a data-movement or index op) becomes a one-node synthetic group.
void Lowerer::lower_loose(const ir::Node& n) {
  using ir::OpKind;
  static constexpr OpKind kLoopable[] = {
      OpKind::Full,   OpKind::Iota,  OpKind::Arange, OpKind::Pad,       OpKind::Concat,
      OpKind::Tril,   OpKind::Triu,  OpKind::Gather, OpKind::Take,      OpKind::Embedding,
      OpKind::OneHot,
  };
  bool loopable = n.def().has(ir::kElementwise) ||
                  std::find(std::begin(kLoopable), std::end(kLoopable), n.op) != std::end(kLoopable);
  for (const ir::Value* v : n.operands)
    loopable = loopable && !ir::is_complex(v->type.dtype);
  for (int i = 0; i < n.num_results(); ++i)
    loopable = loopable && !ir::is_complex(n.result(i)->type.dtype);
  if (!loopable)
    fail(n, "is not supported by the CPU backend outside a fused group (run the decompose and "
            "fuse passes first)");
  std::vector<ir::TensorType> types;
  std::vector<Placed> ops, res;
  for (const ir::Value* v : n.operands) {
    types.push_back(v->type);
    ops.push_back(at(v));
  }
  const ir::Node& g = make_group(
      types,
      [&](ir::Builder& b, std::vector<ir::Value*> in) {
        ir::Node* c = b.create(n.op, std::move(in), n.attrs.items(), n.loc, n.scoped_name());
        std::vector<ir::Value*> r;
        for (int i = 0; i < c->num_results(); ++i)
          r.push_back(c->result(i));
        return r;
      },
      n);
  for (int i = 0; i < n.num_results(); ++i)
    res.push_back(place_result(n.result(i)));
  emit_kernel(g, ops, res, n);
}

void Lowerer::emit_output_copies(const ir::Value* v, const ir::Node* origin) {
  auto it = output_positions_.find(v);
  if (it == output_positions_.end())
    return;
  for (int32_t pos : it->second) {
    size_t i = ix(pos);
    const Placed& src = at(v);
    int32_t dst = output_buffer_[i];
    if (src.buffer == dst || v->type.bytes() == 0)
      continue;
    TEVO_ASSERT(src.layout.contiguous(), "output {} is a non-contiguous alias", i);
    rt::Plan& p = out.plan;
    p.copies.push_back(rt::CopyStep{arg(src), rt::ArgRef{dst, 0}, v->type.bytes()});
    p.steps.push_back(rt::Step{rt::Step::Kind::Copy, static_cast<int32_t>(p.copies.size() - 1),
                               p.outputs[i].name, loc_text(origin)});
    touched_.push_back({src.buffer, dst});
  }
}

void Lowerer::choose_inplace() {
  rt::Plan& p = out.plan;
  size_t nb = p.buffers.size();
  std::vector<int32_t> first(nb, INT32_MAX), last(nb, -1), parent(nb);
  std::iota(parent.begin(), parent.end(), 0);
  for (size_t s = 0; s < touched_.size(); ++s)
    for (int32_t b : touched_[s]) {
      first[ix(b)] = std::min(first[ix(b)], static_cast<int32_t>(s));
      last[ix(b)] = std::max(last[ix(b)], static_cast<int32_t>(s));
    }
  auto find = [&](int32_t b) {
    while (parent[ix(b)] != b)
      b = parent[ix(b)] = parent[ix(parent[ix(b)])];
    return b;
  };
  std::vector<int32_t> group_last = last; // valid at roots
  for (size_t k = 0; k < out.kernels.size(); ++k) {
    KernelSpec& spec = out.kernels[k];
    const rt::KernelStep& ks = p.kernels[k];
    int32_t s = kernel_step_[k];
    int nops = spec.group->num_operands();
    std::vector<std::pair<int, int>> cands = inplace_candidates(*spec.group);
    std::set<int32_t> used_roots;
    std::set<int> used_results;
    auto eligible = [&](int op, int res) {
      return std::find(cands.begin(), cands.end(), std::pair<int, int>{op, res}) != cands.end();
    };
    for (auto [oi, rj] : cands) {
      const rt::ArgRef& a = ks.args[ix(oi)];
      const rt::ArgRef& r = ks.args[ix(nops + rj)];
      const rt::Buffer& bo = p.buffers[ix(a.buffer)];
      const rt::Buffer& br = p.buffers[ix(r.buffer)];
      if (bo.storage != rt::Storage::Arena || br.storage != rt::Storage::Arena ||
          used_results.count(rj) || a.offset != 0 || !spec.operand_strides[ix(oi)].empty())
        continue;
      int64_t bytes = spec.group->operand(oi)->type.bytes();
      int32_t root = find(a.buffer);
      // The operand covers its whole buffer, which dies at this step; the result is new.
      if (bytes != bo.bytes || bytes != br.bytes || used_roots.count(root) ||
          group_last[ix(root)] != s || first[ix(r.buffer)] != s || find(r.buffer) != r.buffer)
        continue;
      // Every other operand reading that memory must read it the same way.
      bool ok = true;
      std::vector<int> sharing;
      for (int o = 0; o < nops; ++o) {
        if (find(ks.args[ix(o)].buffer) != root)
          continue;
        ok = ok && ks.args[ix(o)] == a && spec.operand_strides[ix(o)].empty() && eligible(o, rj);
        sharing.push_back(o);
      }
      if (!ok)
        continue;
      parent[ix(r.buffer)] = root;
      group_last[ix(root)] = std::max(group_last[ix(root)], last[ix(r.buffer)]);
      for (int o : sharing)
        spec.inplace.emplace_back(o, rj);
      used_roots.insert(root);
      used_results.insert(rj);
      ++out.stats.inplace_reuses;
    }
  }
  // Record the merged groups for plan_memory: parent pointers flattened.
  for (size_t b = 0; b < nb; ++b)
    parent[b] = find(static_cast<int32_t>(b));
  group_of_ = std::move(parent);
  first_ = std::move(first);
  last_ = std::move(last);
}

void Lowerer::plan_memory() {
  rt::Plan& p = out.plan;
  size_t nb = p.buffers.size();
  std::vector<int32_t> request_of(nb, -1);
  std::vector<ArenaRequest> reqs;
  for (size_t b = 0; b < nb; ++b) {
    if (p.buffers[b].storage != rt::Storage::Arena)
      continue;
    TEVO_ASSERT(last_[b] >= 0, "arena buffer {} is never touched", b);
    size_t root = ix(group_of_[b]);
    if (request_of[root] < 0) {
      request_of[root] = static_cast<int32_t>(reqs.size());
      reqs.push_back(ArenaRequest{p.buffers[b].bytes, first_[b], last_[b]});
    }
    ArenaRequest& r = reqs[ix(request_of[root])];
    r.bytes = std::max(r.bytes, p.buffers[b].bytes);
    r.first = std::min(r.first, first_[b]);
    r.last = std::max(r.last, last_[b]);
    out.stats.no_reuse_bytes += align_up(p.buffers[b].bytes);
    ++out.stats.scratch_values;
  }
  ArenaPlan ap = plan_arena(reqs);
  // The check is quadratic: skip it for very large plans (tests cover the planner).
  TEVO_ASSERT(reqs.size() > 4096 || arena_plan_valid(reqs, ap),
              "arena plan has overlapping live buffers");
  for (size_t b = 0; b < nb; ++b)
    if (p.buffers[b].storage == rt::Storage::Arena)
      p.buffers[b].offset = ap.offsets[ix(request_of[ix(group_of_[b])])];
  p.arena_bytes = ap.arena_bytes;
  out.stats.arena_bytes = ap.arena_bytes;
}

} // namespace tevo::cpu::detail

namespace tevo::cpu {

Lowered lower(const ir::Graph& g) {
  return detail::Lowerer(g).run();
}

} // namespace tevo::cpu
