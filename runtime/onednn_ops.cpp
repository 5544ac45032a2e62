// onednn_ops.cpp: matmul and conv1d steps as cached oneDNN 2.6 primitives (see onednn_ops.h).
//
// Every step is prepared once: its descriptors are built from the plan's strided views,
// the primitive comes from a cache keyed by those descriptors (and the post-ops), and the
// memory objects and the argument array are made up front, so a run only sets data
// handles and calls dnnl_primitive_execute.
#include "runtime/onednn_ops.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include "runtime/gemm_call.h"
#include "runtime/json.h"
#include "runtime/kernels/library_ref.h"
#include "runtime/kernels/strided.h"

namespace tevo::rt {

namespace {

using dnnl::memory;
using Dims = memory::dims;

std::optional<memory::data_type> dnnl_type(DType t) {
  switch (t) {
  case DType::F32: return memory::data_type::f32;
  case DType::BF16: return memory::data_type::bf16;
  case DType::F16: return memory::data_type::f16;
  default: return std::nullopt;
  }
}

/// dims/strides of a view as oneDNN sees it. Dims listed in `bcast` that are broadcast
/// (stride 0 or extent 1 where the result's is larger) become extent 1; an extent-1 dim
/// gets the stride a dense layout would give it (oneDNN reads nothing through it). Other
/// dims need positive strides, else nullopt (the reference path runs the step).
struct Layout {
  Dims dims, strides;
};
std::optional<Layout> layout(const StridedDesc& d, const std::vector<bool>& bcast) {
  size_t r = d.dims.size();
  Layout l{Dims(r), Dims(r)};
  for (size_t i = 0; i < r; ++i) {
    l.dims[i] = (bcast[i] && d.strides[i] == 0) ? 1 : d.dims[i];
    l.strides[i] = d.strides[i];
    if (l.dims[i] > 1 && d.strides[i] <= 0)
      return std::nullopt;
  }
  for (size_t i = r; i-- > 0;)
    if (l.dims[i] == 1)
      l.strides[i] = i + 1 == r ? 1 : std::max<int64_t>(1, l.strides[i + 1] * l.dims[i + 1]);
  return l;
}

std::string key_of(const Layout& l, DType t) {
  return fmt::format("{}[{}/{}]", ir::dtype_name(t), fmt::join(l.dims, ","),
                     fmt::join(l.strides, ","));
}

memory::desc md_of(const Layout& l, memory::data_type t) {
  return memory::desc(l.dims, t, l.strides);
}

struct Prepared {
  bool reference = false;
  std::optional<GemmCall> gemm; ///< runs as one dnnl_sgemm call (gemm_call.h)
  bool is_conv = false;
  MatmulStep matmul; ///< copy of the step (reference path, Sum addends)
  Conv1dStep conv;
  dnnl::primitive prim;
  memory::desc scratch_md;
  std::vector<memory> mems; ///< a, b, c, post-op src1..., scratchpad
  std::vector<dnnl_exec_arg_t> args;
  std::vector<int> post_mem; ///< per post-op: index into mems, or -1
};

} // namespace

struct LibraryOps::Impl {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::map<std::string, std::pair<dnnl::primitive, memory::desc>> cache;
  std::vector<Prepared> steps;
  int64_t scratch_bytes = 0;
  void* scratch = nullptr;
  int64_t reference = 0;
  int64_t gemms = 0;

  /// Registers memory objects for (arg id, desc) pairs and the scratchpad.
  void bind(Prepared& p, const std::vector<std::pair<int, memory::desc>>& mds) {
    for (const auto& [arg, md] : mds) {
      p.mems.emplace_back(md, engine, static_cast<void*>(nullptr));
      p.args.push_back({arg, p.mems.back().get()});
    }
    p.mems.emplace_back(p.scratch_md, engine, static_cast<void*>(nullptr));
    p.args.push_back({DNNL_ARG_SCRATCHPAD, p.mems.back().get()});
    scratch_bytes = std::max(scratch_bytes, static_cast<int64_t>(p.scratch_md.get_size()));
  }

  template <class PD, class MakeDesc>
  std::pair<dnnl::primitive, memory::desc>
  cached(const std::string& key, const dnnl::primitive_attr& attr, MakeDesc make) {
    auto it = cache.find(key);
    if (it != cache.end())
      return it->second;
    PD pd(make(), attr, engine);
    auto entry = std::make_pair(dnnl::primitive(pd), pd.scratchpad_desc());
    cache.emplace(key, entry);
    return entry;
  }
};

LibraryOps::LibraryOps() : impl_(std::make_unique<Impl>()) {}
LibraryOps::~LibraryOps() = default;

int LibraryOps::prepare(const MatmulStep& m) {
  Impl& s = *impl_;
  Prepared p;
  p.matmul = m;
  if ((p.gemm = gemm_call(m))) {
    ++s.gemms;
    s.steps.push_back(std::move(p));
    return static_cast<int>(s.steps.size() - 1);
  }
  size_t r = m.c.dims.size();
  std::vector<bool> batch(r, false), none(r, false), all(r, true);
  for (size_t i = 0; i + 2 < r; ++i)
    batch[i] = true;
  auto dt = dnnl_type(m.c.dtype);
  auto la = layout(m.a, batch), lb = layout(m.b, batch), lc = layout(m.c, none);
  bool ok = dt && la && lb && lc;
  std::vector<std::optional<Layout>> l1(m.post_ops.size());
  for (size_t i = 0; ok && i < m.post_ops.size(); ++i) {
    const PostOp& po = m.post_ops[i];
    if (po.kind == PostOp::Kind::Binary) {
      l1[i] = layout(po.src1, all);
      ok = l1[i].has_value() && dnnl_type(po.src1.dtype).has_value();
    }
  }
  if (ok) {
    try {
      dnnl::post_ops ops;
      std::string key = fmt::format("matmul {} {} {}", key_of(*la, m.a.dtype),
                                    key_of(*lb, m.b.dtype), key_of(*lc, m.c.dtype));
      for (size_t i = 0; i < m.post_ops.size(); ++i) {
        const PostOp& po = m.post_ops[i];
        auto alg = static_cast<dnnl::algorithm>(po.alg);
        switch (po.kind) {
        case PostOp::Kind::Eltwise:
          ops.append_eltwise(po.scale, alg, po.alpha, po.beta);
          key += fmt::format(" elt{}:{}:{}:{}", po.alg, po.scale, po.alpha, po.beta);
          break;
        case PostOp::Kind::Binary:
          ops.append_binary(alg, md_of(*l1[i], *dnnl_type(po.src1.dtype)));
          key += fmt::format(" bin{}:{}", po.alg, key_of(*l1[i], po.src1.dtype));
          break;
        case PostOp::Kind::Sum:
          ops.append_sum(po.scale);
          key += fmt::format(" sum:{}", po.scale);
          break;
        }
      }
      dnnl::primitive_attr attr;
      attr.set_post_ops(ops);
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      memory::desc amd = md_of(*la, *dt), bmd = md_of(*lb, *dt), cmd = md_of(*lc, *dt);
      auto [prim, smd] = s.cached<dnnl::matmul::primitive_desc>(
          key, attr, [&] { return dnnl::matmul::desc(amd, bmd, cmd); });
      p.prim = prim;
      p.scratch_md = smd;
      std::vector<std::pair<int, memory::desc>> mds = {
          {DNNL_ARG_SRC, amd}, {DNNL_ARG_WEIGHTS, bmd}, {DNNL_ARG_DST, cmd}};
      for (size_t i = 0; i < m.post_ops.size(); ++i) {
        if (m.post_ops[i].kind != PostOp::Kind::Binary) {
          p.post_mem.push_back(-1);
          continue;
        }
        p.post_mem.push_back(static_cast<int>(mds.size()));
        mds.emplace_back(DNNL_ARG_ATTR_MULTIPLE_POST_OP(static_cast<int>(i)) | DNNL_ARG_SRC_1,
                         md_of(*l1[i], *dnnl_type(m.post_ops[i].src1.dtype)));
      }
      s.bind(p, mds);
    } catch (const dnnl::error&) {
      // oneDNN has no implementation for this combination: the reference path runs it.
      ok = false;
      p = Prepared{};
      p.matmul = m;
    }
  }
  if (!ok) {
    for (const PostOp& po : m.post_ops)
      if (!kernels::ref_post_op_supported(po))
        throw Error(fmt::format("matmul: unsupported post-op algorithm {}", po.alg));
    if (m.c.dtype != DType::F32 && m.c.dtype != DType::F64 && m.c.dtype != DType::BF16 &&
        m.c.dtype != DType::F16)
      throw Error(fmt::format("matmul: unsupported dtype {}", m.c.dtype));
    p.reference = true;
    ++s.reference;
  }
  s.steps.push_back(std::move(p));
  return static_cast<int>(s.steps.size() - 1);
}

int LibraryOps::prepare(const Conv1dStep& c) {
  Impl& s = *impl_;
  Prepared p;
  p.is_conv = true;
  p.conv = c;
  std::vector<bool> none(3, false);
  auto dt = dnnl_type(c.y.dtype);
  auto lx = layout(c.x, none), lw = layout(c.w, none), ly = layout(c.y, none);
  bool ok = dt && lx && lw && ly;
  if (ok) {
    try {
      if (c.groups > 1) { // [G, O/G, I/G, K]
        int64_t og = c.w.dims[0] / c.groups;
        lw->dims = {c.groups, og, lw->dims[1], lw->dims[2]};
        lw->strides = {og * c.w.strides[0], lw->strides[0], lw->strides[1], lw->strides[2]};
      }
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      memory::desc xmd = md_of(*lx, *dt), wmd = md_of(*lw, *dt), ymd = md_of(*ly, *dt);
      std::string key = fmt::format("conv {} {} {} s{} p{}:{} d{} g{}", key_of(*lx, c.x.dtype),
                                    key_of(*lw, c.w.dtype), key_of(*ly, c.y.dtype), c.stride,
                                    c.padding_l, c.padding_r, c.dilation, c.groups);
      auto [prim, smd] = s.cached<dnnl::convolution_forward::primitive_desc>(key, attr, [&] {
        return dnnl::convolution_forward::desc(
            dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, xmd, wmd,
            ymd, Dims{c.stride}, Dims{c.dilation - 1}, Dims{c.padding_l}, Dims{c.padding_r});
      });
      p.prim = prim;
      p.scratch_md = smd;
      s.bind(p, {{DNNL_ARG_SRC, xmd}, {DNNL_ARG_WEIGHTS, wmd}, {DNNL_ARG_DST, ymd}});
    } catch (const dnnl::error&) {
      ok = false;
      p = Prepared{};
      p.is_conv = true;
      p.conv = c;
    }
  }
  if (!ok) {
    if (!is_float(c.y.dtype))
      throw Error(fmt::format("conv1d: unsupported dtype {}", c.y.dtype));
    p.reference = true;
    ++s.reference;
  }
  s.steps.push_back(std::move(p));
  return static_cast<int>(s.steps.size() - 1);
}

int64_t LibraryOps::scratchpad_bytes() const {
  return impl_->scratch_bytes;
}

void LibraryOps::set_scratchpad(void* p) {
  impl_->scratch = p;
  for (Prepared& s : impl_->steps)
    if (!s.mems.empty()) // a primitive's step: its scratchpad is the last memory
      s.mems.back().set_data_handle(p);
}

void LibraryOps::run(int handle, const LibraryArgs& args) {
  Impl& s = *impl_;
  Prepared& p = s.steps[static_cast<size_t>(handle)];
  const int threads = omp_get_max_threads();
  if (!p.is_conv) {
    // Sum post-ops whose addend lives elsewhere: bring it into the result first.
    for (size_t i = 0; i < p.matmul.post_ops.size(); ++i) {
      const PostOp& po = p.matmul.post_ops[i];
      if (po.kind == PostOp::Kind::Sum && !po.src1.dims.empty() &&
          !(args.post_ops[i] == args.c && po.src1.strides == p.matmul.c.strides))
        copy_strided(po.src1, args.post_ops[i], p.matmul.c, args.c);
    }
  }
  if (p.gemm) {
    const GemmCall& g = *p.gemm;
    if (dnnl_sgemm(g.ta, g.tb, g.m, g.n, g.k, 1.0f, static_cast<const float*>(args.a), g.lda,
                   static_cast<const float*>(args.b), g.ldb, g.beta, static_cast<float*>(args.c),
                   g.ldc) != dnnl_success)
      throw Error(fmt::format("oneDNN sgemm failed ({}x{}x{})", g.m, g.n, g.k));
    return;
  }
  if (p.reference) {
    if (p.is_conv)
      kernels::conv1d_ref(p.conv, args, threads);
    else
      kernels::matmul_ref(p.matmul, args, threads);
    return;
  }
  p.mems[0].set_data_handle(args.a);
  p.mems[1].set_data_handle(args.b);
  p.mems[2].set_data_handle(args.c);
  for (size_t i = 0; i < p.post_mem.size(); ++i)
    if (p.post_mem[i] >= 0)
      p.mems[static_cast<size_t>(p.post_mem[i])].set_data_handle(args.post_ops[i]);
  dnnl_status_t st = dnnl_primitive_execute(p.prim.get(), s.stream.get(),
                                            static_cast<int>(p.args.size()), p.args.data());
  if (st == dnnl_success)
    st = dnnl_stream_wait(s.stream.get());
  if (st != dnnl_success)
    throw Error(fmt::format("oneDNN {} failed with status {}", p.is_conv ? "conv1d" : "matmul",
                            static_cast<int>(st)));
}

int64_t LibraryOps::primitives() const {
  return static_cast<int64_t>(impl_->cache.size());
}

int64_t LibraryOps::gemm_steps() const {
  return impl_->gemms;
}

int64_t LibraryOps::reference_steps() const {
  return impl_->reference;
}

void copy_strided(const StridedDesc& from, const void* src, const StridedDesc& to, void* dst) {
  int64_t n = 1;
  for (int64_t d : to.dims)
    n *= d;
  const int64_t es = ir::dtype_size(to.dtype);
  for (int64_t f = 0; f < n; ++f) {
    int64_t so = kernels::offset_of_flat(from, f), dof = kernels::offset_of_flat(to, f);
    std::memcpy(static_cast<uint8_t*>(dst) + dof * es,
                static_cast<const uint8_t*>(src) + so * es, static_cast<size_t>(es));
  }
}

} // namespace tevo::rt
