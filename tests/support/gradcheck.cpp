// gradcheck.cpp: builds L = Σ <out_k, c_k>, differentiates it with autodiff::grad, and
// compares against central differences of L evaluated by the interpreter.
#include "tests/support/gradcheck.h"

#include <cmath>
#include <random>

#include "ir/builder.h"
#include "ir/interp/interpreter.h"
#include "passes/autodiff/grad.h"

namespace tevo::testing {

using namespace tevo::ir;

namespace {

bool differentiable(DType t) {
  return is_float(t) || is_complex(t);
}

/// Clone of g whose single output is L = Σ_k sum(re(out_k)·c_k [+ im(out_k)·c'_k]); the
/// cotangents c are extra inputs appended after g's inputs.
std::unique_ptr<Graph> loss_graph(const Graph& g) {
  auto lg = g.clone();
  Builder b(*lg);
  Value* total = nullptr;
  for (Value* out : std::vector<Value*>(lg->outputs)) {
    if (!differentiable(out->type.dtype))
      continue;
    std::vector<Value*> parts;
    if (is_complex(out->type.dtype)) {
      parts.push_back(b.op(OpKind::Real, {out}));
      parts.push_back(b.op(OpKind::Imag, {out}));
    } else {
      parts.push_back(out);
    }
    for (Value* p : parts) {
      Value* c = lg->add_input(p->type, "");
      Value* term = b.op(OpKind::Sum, {b.op(OpKind::Mul, {p, c})});
      total = total ? b.op(OpKind::Add, {total, term}) : term;
    }
  }
  if (!total)
    total = b.op(OpKind::Full, {}, {{"shape", std::vector<int64_t>{}}, {"dtype", DType::F64}});
  lg->outputs = {total};
  return lg;
}

double eval_loss(const Graph& lg, const std::vector<interp::Array>& ins) {
  return interp::run(lg, ins)[0][0];
}

} // namespace

bool is_double_precision(const Graph& g) {
  auto ok = [](const TensorType& t) {
    return !(is_float(t.dtype) || is_complex(t.dtype)) || t.dtype == DType::F64 ||
           t.dtype == DType::C128;
  };
  for (const Value* v : g.inputs())
    if (!ok(v->type))
      return false;
  for (const auto& n : g.nodes())
    for (int i = 0; i < n->num_results(); ++i)
      if (!ok(n->result(i)->type))
        return false;
  return true;
}

GradcheckResult gradcheck(const Graph& g, const std::vector<interp::Array>& inputs,
                          const GradcheckOptions& opts) {
  auto lg = loss_graph(g);
  // Random cotangents for the extra inputs.
  std::mt19937_64 gen(opts.seed);
  std::vector<interp::Array> ins = inputs;
  for (size_t i = inputs.size(); i < lg->inputs().size(); ++i) {
    interp::Array c(lg->input(static_cast<int>(i))->type);
    for (int64_t j = 0; j < c.numel(); ++j)
      c[j] = static_cast<double>(gen() >> 11) * 0x1.0p-53 * 2 - 1;
    ins.push_back(c);
  }
  // Analytic gradients from a second clone.
  auto gg = lg->clone();
  std::vector<Value*> wrt;
  std::vector<size_t> wrt_index;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (differentiable(gg->input(static_cast<int>(i))->type.dtype)) {
      wrt.push_back(gg->input(static_cast<int>(i)));
      wrt_index.push_back(i);
    }
  GradcheckResult res;
  if (wrt.empty())
    return res;
  auto grads = autodiff::grad(*gg, gg->outputs[0], wrt);
  gg->outputs = grads;
  auto analytic = interp::run(*gg, ins);

  double scale = 1e-300;
  for (const auto& a : analytic) {
    for (double v : a.data)
      scale = std::max(scale, std::fabs(v));
    for (double v : a.imag)
      scale = std::max(scale, std::fabs(v));
  }
  int failures = 0;
  for (size_t w = 0; w < wrt.size(); ++w) {
    size_t in = wrt_index[w];
    interp::Array& x = ins[in];
    bool cplx = !x.imag.empty();
    for (int part = 0; part < (cplx ? 2 : 1); ++part) {
      std::vector<double>& xs = part ? x.imag : x.data;
      const std::vector<double>& an = part ? analytic[w].imag : analytic[w].data;
      for (size_t j = 0; j < xs.size(); ++j) {
        double orig = xs[j];
        double h = opts.eps * std::max(1.0, std::fabs(orig));
        xs[j] = orig + h;
        double lp = eval_loss(*lg, ins);
        xs[j] = orig - h;
        double lm = eval_loss(*lg, ins);
        xs[j] = orig;
        double numeric = (lp - lm) / (2 * h);
        double a = an[j];
        double err = std::fabs(numeric - a) /
                     (opts.atol * std::max(1.0, scale) + opts.rtol * std::max(std::fabs(numeric), std::fabs(a)));
        res.max_error = std::max(res.max_error, err);
        ++res.checked;
        if (!(err <= 1.0)) {
          res.ok = false;
          if (failures++ < 5)
            res.report += fmt::format("input {} element {}{}: analytic {} numeric {}\n", in, j,
                                      part ? " (imag)" : "", a, numeric);
        }
      }
    }
  }
  return res;
}

} // namespace tevo::testing
