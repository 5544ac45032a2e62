// decay_form.h: the analysis behind the decay-scan pass (passes/decay_scan.cpp) — what a
// masked decay matrix is made of — and the builders of its chunked scan forms. Internal to
// passes/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.h"
#include "passes/pattern_driver.h"

namespace tevo::passes::decay {

using ir::Node;
using ir::OpKind;
using ir::Value;
using Ints = std::vector<int64_t>;

/// Name of the masked product inside a chunked scan's chunks (never rewritten again: it is
/// already the intra-chunk part, and chunking it would recurse).
constexpr std::string_view kIntraChunk = "decay_intra_chunk";

/// How a value, broadcast against the [.., N, N] grid, varies with the grid indices.
enum class Dep { None, Row, Col, Both };

/// scale * prod(factors) * (ci i + cj j + c): one additive term of an exponent. Factors
/// are values without joint (i, j) dependence.
struct Term {
  std::vector<Value*> factors;
  double scale = 1, ci = 0, cj = 0, c = 0;
};
using Terms = std::vector<Term>;

/// The analysis of one matrix: what failed, and whether the failure was inside an
/// exponent of an index expression (a near-match worth a remark).
struct Why {
  std::string msg;
  bool near = false;
  void fail(std::string m, bool in_exp) {
    if (msg.empty()) {
      msg = std::move(m);
      near = in_exp;
    }
  }
};

/// Pairs (i, j) the mask keeps: s <= i - j <= n - 1.
struct Domain {
  int64_t n = 0, s = 0;
};

/// Nodes of the scan form, built tentatively before the root.
class Builder {
public:
  Builder(Tentative& t, ir::DType dt) : t_(t), dt_(dt) {}

  Value* splat(double v) {
    return t_.op(OpKind::Full, {}, {{"shape", Ints{}}, {"value", v}, {"dtype", dt_}});
  }
  Value* mul(Value* a, Value* b) {
    return !a ? b : !b ? a : t_.op(OpKind::Mul, {a, b});
  }
  Value* add(Value* a, Value* b) {
    return !a ? b : !b ? a : t_.op(OpKind::Add, {a, b});
  }
  /// scale * prod(factors) (nullptr for an empty product of scale 1).
  Value* product(const std::vector<Value*>& fs, double scale) {
    Value* p = nullptr;
    for (Value* f : fs)
      p = mul(p, f);
    return scale == 1 ? p : mul(p, splat(scale));
  }
  /// v broadcast to `shape` (v itself when it has that shape; nullptr after a failure).
  Value* broadcast(Value* v, const Ints& shape) {
    return !v || v->type.shape.to_vector() == shape
               ? v
               : t_.op(OpKind::BroadcastTo, {v}, {{"shape", shape}});
  }
  /// v shifted by `by` towards higher indices along `axis`, zeros first: y_t = v_{t-by}.
  Value* shift_down(Value* v, int64_t axis, int64_t by = 1) {
    if (!v)
      return nullptr;
    Ints zeros(static_cast<size_t>(v->type.shape.rank()), 0), lo(zeros);
    lo[static_cast<size_t>(axis)] = by;
    Value* padded = t_.op(OpKind::Pad, {v}, {{"low", lo}, {"high", zeros}});
    return t_.op(OpKind::Slice, {padded},
                 {{"starts", zeros}, {"ends", v->type.shape.to_vector()}});
  }
  /// A column of n ones ([n, 1]): X of a row sum.
  Value* ones(int64_t n) {
    return t_.op(OpKind::Full, {}, {{"shape", Ints{n, 1}}, {"value", 1.0}, {"dtype", dt_}});
  }
  /// A [.., 1, N] value as [.., N, 1] (and vice versa): one of the two dims is 1.
  Value* swap_last2(Value* v) {
    Ints d = v->type.shape.to_vector();
    while (d.size() < 2)
      d.insert(d.begin(), 1);
    std::swap(d[d.size() - 1], d[d.size() - 2]);
    return t_.reshape(v, d);
  }
  /// scale * prod(factors), a constant when there are no factors.
  Value* term(const std::vector<Value*>& fs, double scale) {
    Value* p = product(fs, scale);
    return p ? p : splat(scale);
  }
  Tentative& t() {
    return t_;
  }
  ir::DType dtype() const {
    return dt_;
  }

private:
  Tentative& t_;
  ir::DType dt_;
};

/// The kept value as prod(exp(exponents)) * prod(data) * scale.
struct Factors {
  Terms exps;
  std::vector<Value*> data;
  double scale = 1;
  bool has_exp = false;
};

/// A masked decay matrix: keeps `value` where j <= i - s; `diag` (nullable) on i == j when
/// the mask drops the diagonal.
struct Masked {
  int64_t s = 0;
  Value* value = nullptr;
  Value* diag = nullptr;
  /// Factors the masked matrix is multiplied by outside the mask (they scale the kept
  /// value and the diagonal alike).
  std::vector<Value*> outer;
  /// A low-rank factor A B (A [.., N, d], B [.., d, N]) multiplying the masked matrix:
  /// decayed causal linear attention (retention), run as a chunked scan.
  Value* lr_a = nullptr;
  Value* lr_b = nullptr;
  /// One term of a sum of decay terms (a term without a decay is fine then).
  bool in_sum = false;
};

/// How v varies with the grid indices (from its shape alone).
Dep dep_of(const Value* v);
/// The dependence of a product of values.
Dep join(Dep a, Dep b);
Dep dep_of_all(const std::vector<Value*>& fs);

/// Adds the factors of kept value v to f (exponents, pow, data, scale); false with a reason.
/// Builds log(beta) nodes for pow through b.
bool factors(Builder& b, Value* v, const Domain& d, Factors& f, Why& why);
/// The masked decay matrix m ([.., n, n]) as mask, kept value, diagonal and factors.
std::optional<Masked> masked(Value* m, int64_t n);

/// The dims of v's shape that are not 1, in order.
Ints non_unit(const Value* v);
/// v through reshapes and transposes that keep its non-unit dims in order.
const Value* strip_views(const Value* v);
/// Whether row view rv ([.., N, 1]) and column view cv ([.., 1, N]) of one value put each
/// batch index at the same grid dim (rank r) and its sequence index at i and at j.
bool transposed_views(const Value* rv, const Value* cv, int64_t r);
/// The operand x of the inclusive forward cumsum over the sequence (extent n) that v is a
/// view of, else nullptr.
Value* cumsum_operand(const Value* v, int64_t n);

/// The permutation that swaps a value's last two dims.
Ints last2_swapped(const Value* v);
/// The chunk of a chunked scan over N (64 or a smaller power of two >= 8 dividing N; 0).
int64_t chunk_of(int64_t n);
/// (A B ⊙ D) X in chunks of c, D the decay matrix of log a (constant [.., 1, 1], or per
/// step [.., N, 1] when per_step) on j <= i (j < i when strict), shaped `out`; nullptr with
/// a reason in `why`. (passes/decay/chunked.cpp)
Value* chunked_lowrank(Builder& b, const Node& at, Value* A, Value* Bt, Value* X, Value* log_a,
                       bool per_step, bool strict, const ir::Shape& out, int64_t c, Why& why);

} // namespace tevo::passes::decay
