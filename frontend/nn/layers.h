// layers.h: basic nn layers: Linear, Embedding, norms, Dropout, MLP and the GLU family.
//
// Every layer is a Module whose forward() traces into the trace of its input; parameter
// names and layouts follow PyTorch (Linear.weight is [out, in]), with PyTorch's default
// initialisers unless a constructor argument says otherwise.
#pragma once

#include "frontend/nn/module.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tevo::nn {

/// An ordered list of child modules named "0", "1", ... (PyTorch's nn.ModuleList). The
/// parent enters the list's scope, then calls each item with call(): "h.0.attn...".
template <class M> class ModuleList : public Module {
public:
  M& append(std::unique_ptr<M> m) {
    M& r = register_module(std::to_string(items_.size()), std::move(m));
    items_.push_back(&r);
    return r;
  }
  size_t size() const {
    return items_.size();
  }
  M& operator[](size_t i) const {
    return *items_.at(i);
  }
  auto begin() const {
    return items_.begin();
  }
  auto end() const {
    return items_.end();
  }

private:
  std::vector<M*> items_;
};

/// y = x W^T + b, W: [out, in], b: [out]; both U(-1/sqrt(in), 1/sqrt(in)) by default (as
/// torch.nn.Linear). x: [..., in] -> [..., out].
class Linear : public Module {
public:
  Linear(int64_t in, int64_t out, bool bias = true);
  Linear(int64_t in, int64_t out, bool bias, Init weight_init, Init bias_init);
  Tensor forward(Tensor x);
  int64_t in_features() const {
    return in_;
  }
  int64_t out_features() const {
    return out_;
  }
  bool has_bias() const {
    return bias_;
  }

private:
  int64_t in_, out_;
  bool bias_;
};

/// Rows of weight [num, dim] (N(0, 1) by default, as torch.nn.Embedding). ids: integer
/// [...] -> [..., dim].
class Embedding : public Module {
public:
  Embedding(int64_t num, int64_t dim, Init init = Init::normal(0.0, 1.0));
  Tensor forward(Tensor ids);
  /// h @ weight^T: [..., dim] -> [..., num] (a tied output projection).
  Tensor attend(Tensor h);
  int64_t num_embeddings() const {
    return num_;
  }
  int64_t embedding_dim() const {
    return dim_;
  }

private:
  int64_t num_, dim_;
};

/// Layer normalisation over the last axis: weight ones, bias zeros (bias=false: none).
class LayerNorm : public Module {
public:
  explicit LayerNorm(int64_t dim, double eps = 1e-5, bool bias = true);
  Tensor forward(Tensor x);

private:
  int64_t dim_;
  double eps_;
  bool bias_;
};

/// x / sqrt(mean(x^2) + eps) * weight over the last axis; weight ones.
class RMSNorm : public Module {
public:
  explicit RMSNorm(int64_t dim, double eps = 1e-6);
  Tensor forward(Tensor x);

private:
  double eps_;
};

/// Inverted dropout: in training mode each element is kept with probability 1 - p and
/// scaled by 1/(1-p); in eval mode (or p = 0) the identity. The mask is a seeded
/// random_uniform with seed param_seed(seed, scope path), so every Dropout of a model
/// draws a different mask, and the same one in every run of the traced graph (retrace
/// with another seed for a new mask; see docs/NN.md).
class Dropout : public Module {
public:
  explicit Dropout(double p = 0.5, uint64_t seed = 0);
  Tensor forward(Tensor x);
  double p() const {
    return p_;
  }
  void set_seed(uint64_t seed) {
    seed_ = seed;
  }

private:
  double p_;
  uint64_t seed_;
};

enum class Activation { Relu, Gelu, GeluTanh, Silu };
/// act(x) for an Activation (GeluTanh is GPT-2's "gelu_new").
Tensor activate(Tensor x, Activation a);

/// Two-layer feed-forward network c_proj(act(c_fc(x))) (GPT-2 names): d -> hidden -> d.
class MLP : public Module {
public:
  MLP(int64_t d, int64_t hidden, Activation act = Activation::Gelu, bool bias = true);
  Tensor forward(Tensor x);
  Linear& c_fc() const {
    return *fc_;
  }
  Linear& c_proj() const {
    return *proj_;
  }

private:
  Activation act_;
  Linear* fc_;
  Linear* proj_;
};

/// Gated feed-forward (Shazeer 2020, "GLU Variants Improve Transformer"):
/// down_proj(act(gate_proj(x)) * up_proj(x)), i.e. (act(xW) * xV) W2 with W = gate_proj,
/// V = up_proj, W2 = down_proj (LLaMA's names). No biases by default, as in the paper.
enum class GluKind {
  Glu,      ///< sigmoid
  ReGlu,    ///< relu
  GeGlu,    ///< gelu (exact)
  SwiGlu,   ///< silu (Swish with beta = 1)
  Bilinear, ///< identity
};
class GatedMLP : public Module {
public:
  GatedMLP(int64_t d, int64_t hidden, GluKind kind, bool bias = false);
  Tensor forward(Tensor x);
  GluKind kind() const {
    return kind_;
  }

private:
  GluKind kind_;
  Linear* gate_;
  Linear* up_;
  Linear* down_;
};

class GLU : public GatedMLP {
public:
  GLU(int64_t d, int64_t hidden, bool bias = false) : GatedMLP(d, hidden, GluKind::Glu, bias) {}
};
class ReGLU : public GatedMLP {
public:
  ReGLU(int64_t d, int64_t hidden, bool bias = false) : GatedMLP(d, hidden, GluKind::ReGlu, bias) {}
};
class GEGLU : public GatedMLP {
public:
  GEGLU(int64_t d, int64_t hidden, bool bias = false) : GatedMLP(d, hidden, GluKind::GeGlu, bias) {}
};
class SwiGLU : public GatedMLP {
public:
  SwiGLU(int64_t d, int64_t hidden, bool bias = false)
      : GatedMLP(d, hidden, GluKind::SwiGlu, bias) {}
};
class Bilinear : public GatedMLP {
public:
  Bilinear(int64_t d, int64_t hidden, bool bias = false)
      : GatedMLP(d, hidden, GluKind::Bilinear, bias) {}
};

/// Multiplies the bounds (Uniform) or std (Normal) of parameter `local` of `m` by `gain`.
void scale_init(Module& m, const std::string& local, double gain);

/// Throws ir::Error("<what> must be positive, got <v>") unless v > 0.
void require_positive(int64_t v, const char* what);

} // namespace tevo::nn
