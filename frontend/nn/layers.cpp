// layers.cpp: Linear, Embedding, norms, Dropout, MLP and the gated MLPs.
#include "frontend/nn/layers.h"

#include <cmath>

namespace tevo::nn {

void require_positive(int64_t v, const char* what) {
  if (v <= 0)
    throw ir::Error(ir::make_diag("{} must be positive, got {}", what, v));
}

void scale_init(Module& m, const std::string& local, double gain) {
  for (const ParamSpec& p : m.parameters()) {
    if (p.name != local)
      continue;
    Init i = p.init;
    if (i.kind == Init::Kind::Uniform) {
      i.a *= gain;
      i.b *= gain;
    } else if (i.kind == Init::Kind::Normal) {
      i.b *= gain;
    } else if (i.kind == Init::Kind::Constant) {
      i.a *= gain;
    }
    m.set_init(local, i);
    return;
  }
  throw ir::Error(ir::make_diag("no parameter '{}' to scale", local));
}

// ---- Linear ----

namespace {
Init torch_linear_init(int64_t in) {
  double bound = 1.0 / std::sqrt(static_cast<double>(in));
  return Init::uniform(-bound, bound);
}
} // namespace

Linear::Linear(int64_t in, int64_t out, bool bias)
    : Linear(in, out, bias, torch_linear_init(in), torch_linear_init(in)) {}

Linear::Linear(int64_t in, int64_t out, bool bias, Init weight_init, Init bias_init)
    : in_(in), out_(out), bias_(bias) {
  require_positive(in, "Linear in_features");
  require_positive(out, "Linear out_features");
  register_parameter("weight", {out, in}, weight_init);
  if (bias)
    register_parameter("bias", {out}, bias_init);
}

Tensor Linear::forward(Tensor x) {
  Trace& t = x.trace();
  // [..., in] x [in, out]: matmul broadcasts the 2-D weight over x's batch dims.
  Tensor y = matmul(x, transpose(param(t, "weight")));
  if (bias_)
    y = y + param(t, "bias");
  return y;
}

// ---- Embedding ----

Embedding::Embedding(int64_t num, int64_t dim, Init init) : num_(num), dim_(dim) {
  require_positive(num, "Embedding num_embeddings");
  require_positive(dim, "Embedding embedding_dim");
  register_parameter("weight", {num, dim}, init);
}

Tensor Embedding::forward(Tensor ids) {
  return embedding(param(ids.trace(), "weight"), ids);
}

Tensor Embedding::attend(Tensor h) {
  return matmul(h, transpose(param(h.trace(), "weight")));
}

// ---- norms ----

LayerNorm::LayerNorm(int64_t dim, double eps, bool bias) : dim_(dim), eps_(eps), bias_(bias) {
  require_positive(dim, "LayerNorm dim");
  register_parameter("weight", {dim}, Init::ones());
  if (bias)
    register_parameter("bias", {dim}, Init::zeros());
}

Tensor LayerNorm::forward(Tensor x) {
  Trace& t = x.trace();
  Tensor w = param(t, "weight");
  Tensor b = bias_ ? param(t, "bias") : full(t, {dim_}, 0.0, w.dtype());
  return layer_norm(x, w, b, eps_);
}

RMSNorm::RMSNorm(int64_t dim, double eps) : eps_(eps) {
  require_positive(dim, "RMSNorm dim");
  register_parameter("weight", {dim}, Init::ones());
}

Tensor RMSNorm::forward(Tensor x) {
  return rms_norm(x, param(x.trace(), "weight"), eps_);
}

// ---- Dropout ----

Dropout::Dropout(double p, uint64_t seed) : p_(p), seed_(seed) {
  if (!(p >= 0.0 && p < 1.0))
    throw ir::Error(ir::make_diag("dropout probability must be in [0, 1), got {}", p));
}

Tensor Dropout::forward(Tensor x) {
  if (!training() || p_ == 0.0)
    return x;
  Trace& t = x.trace();
  // The mask only needs to compare against p: f32 suffices unless the graph is f64.
  DType udt = x.dtype() == DType::F64 ? DType::F64 : DType::F32;
  Tensor u = random_uniform(t, x.shape(), param_seed(seed_, t.path()), 0.0, 1.0, udt);
  Tensor keep = ge(u, scalar_like(u, p_));
  return where(keep, x * (1.0 / (1.0 - p_)), 0.0);
}

// ---- activations and MLPs ----

Tensor activate(Tensor x, Activation a) {
  switch (a) {
  case Activation::Relu:
    return relu(x);
  case Activation::Gelu:
    return gelu(x, false);
  case Activation::GeluTanh:
    return gelu(x, true);
  case Activation::Silu:
    return silu(x);
  }
  return x;
}

MLP::MLP(int64_t d, int64_t hidden, Activation act, bool bias) : act_(act) {
  fc_ = &register_module("c_fc", std::make_unique<Linear>(d, hidden, bias));
  proj_ = &register_module("c_proj", std::make_unique<Linear>(hidden, d, bias));
}

Tensor MLP::forward(Tensor x) {
  Trace& t = x.trace();
  return call(t, *proj_, activate(call(t, *fc_, x), act_));
}

GatedMLP::GatedMLP(int64_t d, int64_t hidden, GluKind kind, bool bias) : kind_(kind) {
  gate_ = &register_module("gate_proj", std::make_unique<Linear>(d, hidden, bias));
  up_ = &register_module("up_proj", std::make_unique<Linear>(d, hidden, bias));
  down_ = &register_module("down_proj", std::make_unique<Linear>(hidden, d, bias));
}

Tensor GatedMLP::forward(Tensor x) {
  Trace& t = x.trace();
  Tensor g = call(t, *gate_, x);
  switch (kind_) {
  case GluKind::Glu:
    g = sigmoid(g);
    break;
  case GluKind::ReGlu:
    g = relu(g);
    break;
  case GluKind::GeGlu:
    g = gelu(g, false);
    break;
  case GluKind::SwiGlu:
    g = silu(g);
    break;
  case GluKind::Bilinear:
    break;
  }
  return call(t, *down_, g * call(t, *up_, x));
}

} // namespace tevo::nn
