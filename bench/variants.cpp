// variants.cpp: the variant cases' tevo graphs (linear attention, causal softmax attention,
// long convolution, diagonal SSM), written the way the equations read.
#include "bench/variants.h"

#include <stdexcept>
#include <vector>

#include "frontend/nn/attention.h"
#include "frontend/ops.h"

namespace tevo::bench {

namespace {

constexpr int64_t kHeadDim = 64;  ///< d (query/key features) of both attention families
constexpr int64_t kValueDim = 64; ///< m (value features) of linear attention

bool known_form(const std::string& family, const std::string& form) {
  if (family == "linattn")
    return form == "naive" || form == "right";
  if (family == "causal")
    return form == "naive" || form == "sdpa";
  if (family == "longconv")
    return form == "direct" || form == "fft";
  if (family == "ssm")
    return form == "naive" || form == "scan";
  if (family == "alibi")
    return form == "naive" || form == "sdpa";
  return false;
}

/// A positive number after `prefix` at the start of `s` ("h4" -> 4), else -1.
int64_t number_after(const std::string& s, char prefix) {
  if (s.size() < 2 || s[0] != prefix)
    return -1;
  int64_t v = 0;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9' || v > (int64_t{1} << 40))
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v > 0 ? v : -1;
}

/// phi(x) = elu(x) + 1 (Katharopoulos et al. 2020): positive features.
Tensor phi(Tensor x) {
  return elu(x) + 1.0;
}

/// Linear attention, non-causal, B=1: naive (left product as written) or the right
/// product by hand: phi(Q) (phi(K)^T V) over phi(Q) (column sums of phi(K)).
std::unique_ptr<ir::Graph> linear_attention(const VariantSpec& s, const std::string& name) {
  Trace t(name);
  const int64_t H = s.width, N = s.n;
  Tensor q = t.input("q", {1, H, N, kHeadDim});
  Tensor k = t.input("k", {1, H, N, kHeadDim});
  Tensor v = t.input("v", {1, H, N, kValueDim});
  Tensor o;
  if (s.form == "naive") {
    Tensor a = matmul(phi(q), transpose(phi(k))); // [1, H, N, N]
    o = matmul(a / sum(a, {-1}, true), v);
  } else {
    Tensor pq = phi(q), pk = phi(k);
    Tensor kv = matmul(transpose(pk), v);                  // [1, H, d, m]
    Tensor z = transpose(sum(pk, {-2}, true));             // [1, H, d, 1]
    o = matmul(pq, kv) / matmul(pq, z);                    // [1, H, N, m] / [1, H, N, 1]
  }
  t.output(o);
  return t.finish();
}

/// Causal softmax attention through nn::scaled_dot_product_attention (B=1, d=64); the
/// alibi family adds ALiBi (Press et al. 2022): the bias -slope_h (i - j) written over the
/// [N, N] grid.
std::unique_ptr<ir::Graph> causal_attention(const VariantSpec& s, const std::string& name) {
  Trace t(name);
  const std::vector<int64_t> shape{1, s.width, s.n, kHeadDim};
  Tensor q = t.input("q", shape), k = t.input("k", shape), v = t.input("v", shape);
  nn::SdpaOptions o;
  o.causal = true;
  o.alibi = s.family == "alibi";
  t.output(nn::scaled_dot_product_attention(q, k, v, o));
  return t.finish();
}

/// Causal depthwise long convolution y[c, t] = sum_{s <= t} h[c, s] x[c, t - s], B=1:
/// direct (conv1d is a correlation, so the taps are h reversed, left padding N - 1) or
/// through the FFT (zero padding to 2N makes the circular convolution a linear one).
std::unique_ptr<ir::Graph> long_conv(const VariantSpec& s, const std::string& name) {
  Trace t(name);
  const int64_t D = s.width, N = s.n;
  Tensor x = t.input("x", {1, D, N});
  Tensor h = t.input("h", {D, N});
  Tensor y;
  if (s.form == "direct") {
    Tensor rev = arange(t, static_cast<double>(N - 1), -1.0, -1.0); // N-1, ..., 0
    Tensor w = reshape(take(h, rev, 1), {D, 1, N});
    Conv1dOptions co;
    co.padding_left = N - 1;
    co.groups = D;
    y = conv1d(x, w, co);
  } else {
    Tensor xf = rfft(pad(x, {0, 0, 0}, {0, 0, N}), -1);                     // [1, D, N + 1]
    Tensor hf = rfft(pad(reshape(h, {1, D, N}), {0, 0, 0}, {0, 0, N}), -1); // [1, D, N + 1]
    y = slice(irfft(xf * hf, 2 * N, -1), -1, 0, N);
  }
  t.output(y);
  return t.finish();
}

/// A diagonal linear SSM (S4D-real / S5 with a real diagonal state), B=1, P states:
/// x[p, t] = sum_{s <= t} a_p^(t - s) u[p, s], a_p = exp(-0.01 e^{g_p}) in (0, 1). naive:
/// the unrolled recurrence as the masked decay-power matrix times u (how the S5 mixer of the
/// zoo writes it); scan: linear_scan by hand.
std::unique_ptr<ir::Graph> diagonal_ssm(const VariantSpec& s, const std::string& name) {
  Trace t(name);
  const int64_t P = s.width, N = s.n;
  Tensor g = t.input("g", {P});
  Tensor u = t.input("u", {1, P, N, 1});
  Tensor log_a = exp(g) * -0.01; // [P]
  Tensor x;
  if (s.form == "naive") {
    Tensor i = iota(t, {N, N}, 0, DType::F32), j = iota(t, {N, N}, 1, DType::F32);
    Tensor decay = exp(reshape(log_a, {P, 1, 1}) * relu(i - j)); // [P, N, N]
    x = matmul(where(le(j, i), decay, 0.0), u);
  } else {
    x = linear_scan(exp(reshape(log_a, {P, 1, 1})), u, 2);
  }
  t.output(x);
  return t.finish();
}

} // namespace

std::optional<VariantSpec> parse_variant(const std::string& name) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= name.size(); ++i)
    if (i == name.size() || name[i] == '-') {
      parts.push_back(name.substr(start, i - start));
      start = i + 1;
    }
  if (parts.size() != 4 || (parts[0] != "linattn" && parts[0] != "causal" &&
                            parts[0] != "longconv" && parts[0] != "ssm" && parts[0] != "alibi"))
    return std::nullopt;
  bool channels = parts[0] == "longconv" || parts[0] == "ssm";
  VariantSpec s{parts[0], parts[1], number_after(parts[2], channels ? 'd' : 'h'),
                number_after(parts[3], 'n')};
  if (!known_form(s.family, s.form) || s.width <= 0 || s.n <= 0)
    throw std::runtime_error("bad variant case '" + name + "': " + variant_usage());
  return s;
}

Case make_variant_case(const VariantSpec& spec, const std::string& name) {
  Case c;
  c.name = name;
  c.seq = spec.n;
  if (spec.family == "linattn") {
    c.graph = linear_attention(spec, name);
    c.shape = "B1 H" + std::to_string(spec.width) + " N" + std::to_string(spec.n) + " d=m=64";
  } else if (spec.family == "causal" || spec.family == "alibi") {
    if (spec.form == "sdpa")
      throw std::runtime_error("'" + name + "' is PyTorch's fused kernel: tevo's case is " +
                               spec.family + "-naive-...");
    c.graph = causal_attention(spec, name);
    c.shape = "B1 H" + std::to_string(spec.width) + " N" + std::to_string(spec.n) + " d=64" +
              (spec.family == "alibi" ? " ALiBi" : "");
  } else if (spec.family == "ssm") {
    c.graph = diagonal_ssm(spec, name);
    c.shape = "B1 P" + std::to_string(spec.width) + " N" + std::to_string(spec.n) +
              " diagonal, causal";
  } else {
    c.graph = long_conv(spec, name);
    c.shape = "B1 D" + std::to_string(spec.width) + " N" + std::to_string(spec.n) +
              " kernel N, causal";
  }
  fill_random_inputs(c);
  return c;
}

std::string variant_usage() {
  return "variant cases: linattn-{naive,right}-h<H>-n<N>, causal-naive-h<H>-n<N>, "
         "longconv-{direct,fft}-d<D>-n<N>, ssm-{naive,scan}-d<P>-n<N>, alibi-naive-h<H>-n<N> "
         "({causal,alibi}-sdpa-h<H>-n<N>: PyTorch only)";
}

} // namespace tevo::bench
