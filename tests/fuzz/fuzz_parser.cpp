// fuzz_parser.cpp: libFuzzer target for the .tir reader: parse, verify, print, reparse
// (must give the same module, attribute values included), reprint (must be
// byte-identical) and interpret on zero inputs and on small patterned ones.
//
// A well-formed failure is an ir::Error; anything else (another exception type, an
// assertion, a sanitizer report, a round-trip mismatch) is a finding and aborts.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "ir/element.h"
#include "ir/interp/interpreter.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"

namespace {

using namespace tevo::ir;

[[noreturn]] void finding(const std::string& what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_parser finding: %s\n%s\n", what.c_str(), detail.c_str());
  std::fflush(stderr);
  std::abort();
}

bool same_double(double a, double b) {
  // Bitwise, except that every NaN is the same NaN: the text format spells them all "nan".
  if (std::isnan(a) && std::isnan(b))
    return true;
  return std::memcmp(&a, &b, sizeof a) == 0;
}

bool same_graph(const Graph& a, const Graph& b);

bool same_attr(const Attr& a, const Attr& b) {
  if (a.kind() != b.kind())
    return false;
  switch (a.kind()) {
  case AttrKind::F64:
    return same_double(a.f64(), b.f64());
  case AttrKind::F64List: {
    const auto& x = a.f64_list();
    const auto& y = b.f64_list();
    if (x.size() != y.size())
      return false;
    for (size_t i = 0; i < x.size(); ++i)
      if (!same_double(x[i], y[i]))
        return false;
    return true;
  }
  case AttrKind::Dense: {
    const DenseData& x = *a.dense();
    const DenseData& y = *b.dense();
    if (!(x.type == y.type) || x.bytes.size() != y.bytes.size())
      return false;
    DType t = x.type.dtype;
    if (is_int(t) || is_bool(t))
      return x.bytes == y.bytes;
    for (int64_t i = 0; i < x.type.numel(); ++i)
      for (int part = 0; part < (is_complex(t) ? 2 : 1); ++part)
        if (!same_double(load_element(x.bytes.data(), t, i, part),
                         load_element(y.bytes.data(), t, i, part)))
          return false;
    return true;
  }
  case AttrKind::Region:
    return same_graph(*a.region(), *b.region());
  default:
    return a == b;
  }
}

/// Where a value comes from: (node index, result index), or (-1, input index).
std::pair<int64_t, int> origin(const Graph& g, const Value* v) {
  if (v->is_input())
    return {-1, v->index};
  return {g.index_of(v->producer), v->index};
}

/// Structural equality: the same signature, nodes, wiring, types and attribute values.
bool same_graph(const Graph& a, const Graph& b) {
  if (a.name != b.name || a.inputs().size() != b.inputs().size() ||
      a.nodes().size() != b.nodes().size() || a.outputs.size() != b.outputs.size())
    return false;
  for (size_t i = 0; i < a.inputs().size(); ++i)
    if (!(a.inputs()[i]->type == b.inputs()[i]->type) ||
        a.inputs()[i]->input_kind != b.inputs()[i]->input_kind)
      return false;
  for (size_t i = 0; i < a.nodes().size(); ++i) {
    const Node& x = *a.nodes()[i];
    const Node& y = *b.nodes()[i];
    if (x.op != y.op || x.num_operands() != y.num_operands() ||
        x.num_results() != y.num_results() || x.attrs.items().size() != y.attrs.items().size())
      return false;
    for (int k = 0; k < x.num_operands(); ++k)
      if (origin(a, x.operand(k)) != origin(b, y.operand(k)))
        return false;
    for (int k = 0; k < x.num_results(); ++k)
      if (!(x.result(k)->type == y.result(k)->type))
        return false;
    for (size_t k = 0; k < x.attrs.items().size(); ++k)
      if (x.attrs.items()[k].first != y.attrs.items()[k].first ||
          !same_attr(x.attrs.items()[k].second, y.attrs.items()[k].second))
        return false;
  }
  for (size_t i = 0; i < a.outputs.size(); ++i)
    if (origin(a, a.outputs[i]) != origin(b, b.outputs[i]))
      return false;
  return true;
}

// Keeps each input cheap: the interpreter refuses anything bigger.
constexpr int64_t kMaxElements = int64_t{1} << 16;

/// Runs g on inputs filled with (i % 5) - 2 times `scale` (complex: the same in both parts),
/// so that a scale of 0 gives zeros and 1 gives negative and out-of-range indices too.
void run_inputs(const Graph& g, double scale) {
  std::vector<interp::Array> inputs;
  for (const Value* in : g.inputs()) {
    if (in->type.numel() > kMaxElements)
      return;
    interp::Array a(in->type);
    for (int64_t i = 0; i < a.numel(); ++i)
      a[i] = scale * static_cast<double>(i % 5 - 2);
    if (!a.imag.empty())
      a.imag = a.data;
    a.round_to_dtype();
    inputs.push_back(std::move(a));
  }
  try {
    auto out = interp::run(g, inputs, interp::Options{kMaxElements});
    if (out.size() != g.outputs.size())
      finding("interpreter returned the wrong number of outputs", print_graph(g));
    for (size_t i = 0; i < out.size(); ++i)
      if (!(out[i].type == g.outputs[i]->type) || out[i].numel() != out[i].type.numel() ||
          out[i].imag.size() != (is_complex(out[i].dtype()) ? out[i].data.size() : 0))
        finding("interpreter output " + std::to_string(i) + " is not a well-formed " +
                    g.outputs[i]->type.str(),
                print_graph(g));
  } catch (const Error&) {
    // Data errors (an index out of range) and size limits are well-formed failures.
  }
}

void check(std::string_view text) {
  Module m;
  try {
    m = parse_module(text, "fuzz.tir");
  } catch (const Error&) {
    return;
  }
  for (const auto& g : m.funcs)
    if (auto d = verify(*g))
      finding("a parsed function fails verification: " + d->str(), print_graph(*g));
  std::string once = print_module(m);
  Module again;
  try {
    again = parse_module(once, "printed.tir");
  } catch (const Error& e) {
    finding(std::string("printed text does not parse: ") + e.what(), once);
  }
  if (again.funcs.size() != m.funcs.size())
    finding("reparse changed the number of functions", once);
  for (size_t i = 0; i < m.funcs.size(); ++i)
    if (!same_graph(*m.funcs[i], *again.funcs[i]))
      finding("printing lost information: the reparsed @" + m.funcs[i]->name +
                  " differs from the original",
              std::string(text) + "\n--- printed\n" + once);
  std::string twice = print_module(again);
  if (once != twice)
    finding("reprint differs", "--- first print\n" + once + "--- second print\n" + twice);
  // Source locations survive a round trip too.
  PrintOptions with_loc{.print_loc = true};
  std::string located = print_module(m, with_loc);
  try {
    std::string again_located = print_module(parse_module(located, "located.tir"), with_loc);
    if (again_located != located)
      finding("reprint with locations differs",
              "--- first print\n" + located + "--- second print\n" + again_located);
  } catch (const Error& e) {
    finding(std::string("text printed with locations does not parse: ") + e.what(), located);
  }
  for (const auto& g : m.funcs) {
    run_inputs(*g, 0.0); // zeros
    run_inputs(*g, 1.0); // -2..2: negative and out-of-range indices, zero divisors
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    check(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const std::exception& e) {
    finding(std::string("unexpected exception: ") + e.what(), "");
  }
  return 0;
}
