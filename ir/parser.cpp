// parser.cpp: recursive-descent parser for .tir. Nodes go through the same attribute
// completion and type inference as the Builder; declared types must match inferred ones.
#include "ir/parser.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <locale.h>
#include <map>

#include "ir/builder.h"
#include "ir/element.h"
#include "ir/lexer.h"
#include "ir/op_registry.h"

namespace tevo::ir {

namespace {

constexpr int kMaxRegionDepth = 16;

class Parser {
public:
  Parser(std::string_view text, const std::string& file, int first_line)
      : lex_(text, file, first_line) {
    tok_ = lex_.next();
  }

  Module module() {
    Module m;
    while (tok_.kind != Tok::Eof) {
      auto g = func();
      if (m.find(g->name))
        fail_at(last_func_tok_, fmt::format("redefinition of function '@{}'", g->name));
      m.funcs.push_back(std::move(g));
    }
    return m;
  }

private:
  using Scope = std::map<std::string, Value*>;

  [[noreturn]] void fail_at(const Token& t, const std::string& msg) const {
    throw Error(Diag{Loc{lex_.file(), t.line, t.col}, msg, {}});
  }
  [[noreturn]] void fail(const std::string& msg) const {
    fail_at(tok_, msg);
  }
  static std::string describe(const Token& t) {
    switch (t.kind) {
    case Tok::Eof:
      return "end of file";
    case Tok::Ident:
      return "'" + t.text + "'";
    case Tok::Percent:
      return "'%" + t.text + "'";
    case Tok::At:
      return "'@" + t.text + "'";
    case Tok::Int:
    case Tok::Float:
      return "number " + t.text;
    case Tok::String:
      return "a string";
    case Tok::Hex:
      return "a hex literal";
    case Tok::LParen:
      return "'('";
    case Tok::RParen:
      return "')'";
    case Tok::LBracket:
      return "'['";
    case Tok::RBracket:
      return "']'";
    case Tok::LBrace:
      return "'{'";
    case Tok::RBrace:
      return "'}'";
    case Tok::Comma:
      return "','";
    case Tok::Colon:
      return "':'";
    case Tok::Equal:
      return "'='";
    case Tok::Arrow:
      return "'->'";
    case Tok::Less:
      return "'<'";
    case Tok::Greater:
      return "'>'";
    }
    return "?";
  }
  Token take() {
    Token t = tok_;
    tok_ = lex_.next();
    return t;
  }
  bool accept(Tok k) {
    if (tok_.kind != k)
      return false;
    take();
    return true;
  }
  Token expect(Tok k, const char* what) {
    if (tok_.kind != k)
      fail(fmt::format("expected {}, got {}", what, describe(tok_)));
    return take();
  }
  bool accept_word(std::string_view w) {
    if (tok_.kind == Tok::Ident && tok_.text == w) {
      take();
      return true;
    }
    return false;
  }
  void expect_word(std::string_view w) {
    if (!accept_word(w))
      fail(fmt::format("expected '{}', got {}", w, describe(tok_)));
  }

  int64_t integer(const Token& t) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(t.text.data() + (t.text[0] == '+' ? 1 : 0),
                                   t.text.data() + t.text.size(), v);
    if (ec != std::errc() || p != t.text.data() + t.text.size())
      fail_at(t, fmt::format("integer {} out of range", t.text));
    return v;
  }
  double real(const Token& t) {
    std::string s = t.text;
    if (s == "inf" || s == "+inf")
      return INFINITY;
    if (s == "-inf")
      return -INFINITY;
    if (s == "nan" || s == "+nan" || s == "-nan")
      return NAN;
    // In the C locale: under a locale whose decimal point is ',' plain strtod would read
    // "0.5" as 0.
    static const locale_t c_locale = ::newlocale(LC_ALL_MASK, "C", locale_t{});
    return c_locale ? ::strtod_l(s.c_str(), nullptr, c_locale) : std::strtod(s.c_str(), nullptr);
  }

  TensorType type() {
    Token t = expect(Tok::Ident, "a type such as f32[2,3]");
    auto dt = dtype_from_name(t.text);
    if (!dt)
      fail_at(t, fmt::format("unknown dtype '{}' (expected f32, f64, bf16, f16, i32, i64, bool, "
                             "c64, c128)",
                             t.text));
    expect(Tok::LBracket, "'[' after dtype");
    std::vector<int64_t> dims;
    int64_t numel = 1;
    if (tok_.kind != Tok::RBracket) {
      do {
        Token d = expect(Tok::Int, "a dimension");
        int64_t v = integer(d);
        if (v < 0 || v > kMaxDim)
          fail_at(d, fmt::format("dimension {} out of range [0, 2^40]", v));
        // Every left-to-right partial product stays <= 2^50, as Shape::numel() multiplies
        // in that order: f32[2^40,2^40,0] (0 elements, which checked_numel allows) would
        // overflow there.
        if (v > 0 && numel > kMaxElements / v)
          fail_at(d, "tensor type has too many elements");
        numel *= v;
        dims.push_back(v);
        if (static_cast<int64_t>(dims.size()) > kMaxRank)
          fail_at(d, "tensor rank above 16");
      } while (accept(Tok::Comma));
    }
    expect(Tok::RBracket, "']' or ','");
    return TensorType{*dt, Shape(dims)};
  }

  std::vector<TensorType> type_list() {
    std::vector<TensorType> ts;
    if (accept(Tok::LParen)) {
      if (tok_.kind != Tok::RParen) {
        do
          ts.push_back(type());
        while (accept(Tok::Comma));
      }
      expect(Tok::RParen, "')'");
    } else {
      ts.push_back(type());
    }
    return ts;
  }

  /// '(' args ')' '->' types, declaring the inputs of g in `scope`.
  std::vector<TensorType> signature(Graph& g, Scope& scope) {
    expect(Tok::LParen, "'(' to start the argument list");
    if (tok_.kind != Tok::RParen) {
      do {
        Token n = expect(Tok::Percent, "an argument name such as %x");
        expect(Tok::Colon, "':' after argument name");
        TensorType t = type();
        InputKind kind = InputKind::Data;
        if (accept_word("param"))
          kind = InputKind::Param;
        else if (accept_word("state"))
          kind = InputKind::State;
        if (scope.count(n.text))
          fail_at(n, fmt::format("redefinition of '%{}'", n.text));
        scope[n.text] = g.add_input(t, keep_name(n.text), kind);
      } while (accept(Tok::Comma));
    }
    expect(Tok::RParen, "')' or ','");
    expect(Tok::Arrow, "'->' and the result types");
    return type_list();
  }

  static std::string keep_name(const std::string& s) {
    for (char c : s)
      if (!std::isdigit(static_cast<unsigned char>(c)))
        return s;
    return {}; // numbered values are renumbered by the printer
  }

  std::unique_ptr<Graph> func() {
    last_func_tok_ = tok_;
    expect_word("func");
    Token name = expect(Tok::At, "a function name such as @main");
    auto g = std::make_unique<Graph>(name.text);
    Scope scope;
    auto results = signature(*g, scope);
    expect(Tok::LBrace, "'{' to start the function body");
    body(*g, scope, results, 0);
    expect(Tok::RBrace, "'}' to end the function body");
    return g;
  }

  Value* use(Scope& scope) {
    Token t = expect(Tok::Percent, "a value such as %x");
    auto it = scope.find(t.text);
    if (it == scope.end())
      fail_at(t, fmt::format("use of undefined value '%{}'", t.text));
    return it->second;
  }

  void body(Graph& g, Scope& scope, const std::vector<TensorType>& results, int depth) {
    while (!(tok_.kind == Tok::Ident && tok_.text == "return")) {
      if (tok_.kind == Tok::Eof || tok_.kind == Tok::RBrace)
        fail("expected 'return' before the end of the function body");
      statement(g, scope, depth);
    }
    Token ret = take();
    if (tok_.kind == Tok::Percent) {
      do
        g.outputs.push_back(use(scope));
      while (accept(Tok::Comma));
    }
    if (g.outputs.size() != results.size())
      fail_at(ret, fmt::format("function returns {} value{} but its signature declares {}",
                               g.outputs.size(), g.outputs.size() == 1 ? "" : "s",
                               results.size()));
    for (size_t i = 0; i < results.size(); ++i)
      if (!(g.outputs[i]->type == results[i]))
        fail_at(ret, fmt::format("return value {} has type {} but the signature declares {}", i,
                                 g.outputs[i]->type.str(), results[i].str()));
  }

  void statement(Graph& g, Scope& scope, int depth) {
    std::vector<Token> names;
    do
      names.push_back(expect(Tok::Percent, "a result name such as %0, or 'return'"));
    while (accept(Tok::Comma));
    expect(Tok::Equal, "'='");
    Token optok = expect(Tok::Ident, "an op name");
    auto kind = op_from_name(optok.text);
    if (!kind)
      fail_at(optok, fmt::format("unknown op '{}' (see `tevo ops`)", optok.text));
    const OpDef& def = op_def(*kind);
    std::vector<Value*> operands;
    if (tok_.kind == Tok::Percent) {
      do
        operands.push_back(use(scope));
      while (accept(Tok::Comma));
    }
    AttrList attrs;
    Token attr_tok = tok_;
    if (accept(Tok::LBrace)) {
      do {
        Token k = expect(Tok::Ident, "an attribute name");
        for (const auto& [name, v] : attrs)
          if (name == k.text)
            fail_at(k, fmt::format("duplicate attribute '{}'", k.text));
        expect(Tok::Equal, "'=' after attribute name");
        attrs.emplace_back(k.text, attr_value(depth));
      } while (accept(Tok::Comma));
      expect(Tok::RBrace, "'}' or ','");
    }
    expect(Tok::Colon, "':' and the result types");
    std::vector<TensorType> declared;
    do
      declared.push_back(type());
    while (accept(Tok::Comma));
    // Without an explicit loc(...), a node is located at its own text, so run-time errors
    // (an index out of range in `tevo run`) point into the .tir file.
    Loc loc{lex_.file(), names[0].line, names[0].col};
    if (accept_word("loc")) {
      expect(Tok::LParen, "'(' after loc");
      loc.file = expect(Tok::String, "a file name string").text;
      expect(Tok::Colon, "':'");
      loc.col = 0;
      loc.line = static_cast<int32_t>(std::clamp<int64_t>(integer(expect(Tok::Int, "a line")), 0,
                                                          INT32_MAX));
      if (accept(Tok::Colon))
        loc.col = static_cast<int32_t>(
            std::clamp<int64_t>(integer(expect(Tok::Int, "a column")), 0, INT32_MAX));
      expect(Tok::RParen, "')'");
    }
    auto full = complete_attrs(def, attrs);
    if (!full.ok())
      fail_at(attrs.empty() ? optok : attr_tok, full.error().message);
    std::vector<TensorType> in_types;
    for (Value* v : operands)
      in_types.push_back(v->type);
    auto inferred = infer_result_types(def, in_types, *full);
    if (!inferred.ok())
      fail_at(optok, inferred.error().message);
    if (inferred->size() != names.size())
      fail_at(names[0], fmt::format("[{}] produces {} result{} but {} name{} given", def.name,
                                    inferred->size(), inferred->size() == 1 ? "" : "s",
                                    names.size(), names.size() == 1 ? " is" : "s are"));
    if (declared.size() != inferred->size())
      fail_at(optok, fmt::format("[{}] produces {} result type{} but {} declared", def.name,
                                 inferred->size(), inferred->size() == 1 ? "" : "s",
                                 declared.size()));
    for (size_t i = 0; i < declared.size(); ++i)
      if (!(declared[i] == (*inferred)[i]))
        fail_at(optok, fmt::format("[{}] result {} declared as {} but inferred as {}", def.name, i,
                                   declared[i].str(), (*inferred)[i].str()));
    Node* n = g.insert_node(g.nodes().size(), *kind, std::move(operands), std::move(*full),
                            declared, loc);
    for (size_t i = 0; i < names.size(); ++i) {
      if (scope.count(names[i].text))
        fail_at(names[i], fmt::format("redefinition of '%{}'", names[i].text));
      n->result(static_cast<int>(i))->name = keep_name(names[i].text);
      scope[names[i].text] = n->result(static_cast<int>(i));
    }
  }

  Attr attr_value(int depth) {
    Token t = tok_;
    switch (t.kind) {
    case Tok::Int:
      take();
      return Attr(integer(t));
    case Tok::Float:
      take();
      return Attr(real(t));
    case Tok::String:
      take();
      return Attr(t.text);
    case Tok::LBracket:
      return list();
    case Tok::Ident:
      break;
    default:
      fail(fmt::format("expected an attribute value, got {}", describe(t)));
    }
    if (t.text == "true" || t.text == "false") {
      take();
      return Attr(t.text == "true");
    }
    if (t.text == "inf" || t.text == "nan") {
      take();
      return Attr(real(t));
    }
    if (auto dt = dtype_from_name(t.text)) {
      take();
      return Attr(*dt);
    }
    if (t.text == "dense") {
      take();
      return dense();
    }
    if (t.text == "region") {
      take();
      return region(depth + 1);
    }
    fail(fmt::format("expected an attribute value, got {}", describe(t)));
  }

  Attr list() {
    expect(Tok::LBracket, "'['");
    std::vector<Token> items;
    bool any_float = false;
    if (tok_.kind != Tok::RBracket) {
      do {
        if (tok_.kind != Tok::Int && tok_.kind != Tok::Float &&
            !(tok_.kind == Tok::Ident && (tok_.text == "inf" || tok_.text == "nan")))
          fail(fmt::format("expected a number in list, got {}", describe(tok_)));
        any_float |= tok_.kind != Tok::Int;
        items.push_back(take());
      } while (accept(Tok::Comma));
    }
    expect(Tok::RBracket, "']' or ','");
    if (any_float) {
      std::vector<double> v;
      for (const auto& t : items)
        v.push_back(t.kind == Tok::Int ? static_cast<double>(integer(t)) : real(t));
      return Attr(v);
    }
    std::vector<int64_t> v;
    for (const auto& t : items)
      v.push_back(integer(t));
    return Attr(v);
  }

  Attr dense() {
    expect(Tok::Less, "'<' after dense");
    Token tt = tok_;
    TensorType t = type();
    expect(Tok::Colon, "':' after the dense type");
    auto d = std::make_shared<DenseData>();
    d->type = t;
    if (tok_.kind == Tok::Hex) {
      Token h = take();
      if (static_cast<int64_t>(h.text.size()) != 2 * t.bytes())
        fail_at(h, fmt::format("hex literal has {} bytes but {} needs {}", h.text.size() / 2,
                               t.str(), t.bytes()));
      d->bytes.resize(static_cast<size_t>(t.bytes()));
      for (size_t i = 0; i < d->bytes.size(); ++i) {
        d->bytes[i] = static_cast<uint8_t>(std::stoi(h.text.substr(2 * i, 2), nullptr, 16));
        // Other bytes would print as `true` and read back as 1: refuse them.
        if (is_bool(t.dtype) && d->bytes[i] > 1)
          fail_at(h, fmt::format("bool element {} is 0x{:02x}, not 0 or 1", i, d->bytes[i]));
      }
    } else {
      expect(Tok::LBracket, "'[' or a hex literal");
      std::vector<double> vals;
      exact_ints_.clear();
      bool cplx = is_complex(t.dtype);
      if (tok_.kind != Tok::RBracket) {
        do {
          if (cplx) {
            expect(Tok::LParen, "'(' to start a complex value");
            vals.push_back(scalar(t.dtype));
            expect(Tok::Comma, "','");
            vals.push_back(scalar(t.dtype));
            expect(Tok::RParen, "')'");
          } else {
            vals.push_back(scalar(t.dtype));
          }
          if (static_cast<int64_t>(vals.size()) > (cplx ? 2 : 1) * t.numel())
            fail(fmt::format("dense literal has more than the {} elements of {}", t.numel(),
                             t.str()));
        } while (accept(Tok::Comma));
      }
      expect(Tok::RBracket, "']' or ','");
      if (static_cast<int64_t>(vals.size()) != (cplx ? 2 : 1) * t.numel())
        fail_at(tt, fmt::format("dense literal has {} elements but {} needs {}",
                                vals.size() / (cplx ? 2 : 1), t.str(), t.numel()));
      d = std::const_pointer_cast<DenseData>(DenseData::from_doubles(t, vals));
      if (is_int(t.dtype)) // doubles lose integers above 2^53: store the exact values
        for (size_t i = 0; i < exact_ints_.size(); ++i)
          store_int_element(d->bytes.data(), t.dtype, static_cast<int64_t>(i), exact_ints_[i]);
    }
    expect(Tok::Greater, "'>' to close dense");
    return Attr(DenseRef(d));
  }

  double scalar(DType dt) {
    Token t = tok_;
    if (is_bool(dt)) {
      if (accept_word("true"))
        return 1;
      if (accept_word("false"))
        return 0;
      fail(fmt::format("expected true or false, got {}", describe(t)));
    }
    if (t.kind == Tok::Int) {
      take();
      int64_t v = integer(t);
      if (dt == DType::I32 && (v < INT32_MIN || v > INT32_MAX))
        fail_at(t, fmt::format("integer {} out of range for i32", v));
      exact_ints_.push_back(v);
      return static_cast<double>(v);
    }
    if (is_int(dt))
      fail(fmt::format("expected an integer, got {}", describe(t)));
    if (t.kind == Tok::Float || (t.kind == Tok::Ident && (t.text == "inf" || t.text == "nan"))) {
      take();
      return real(t);
    }
    fail(fmt::format("expected a number, got {}", describe(t)));
  }

  Attr region(int depth) {
    if (depth > kMaxRegionDepth)
      fail(fmt::format("regions nested deeper than {}", kMaxRegionDepth));
    auto g = std::make_shared<Graph>("");
    Scope scope; // regions are isolated: they see only their own arguments
    auto results = signature(*g, scope);
    expect(Tok::LBrace, "'{' to start the region body");
    body(*g, scope, results, depth);
    expect(Tok::RBrace, "'}' to end the region body");
    return Attr(RegionRef(g));
  }

  Lexer lex_;
  Token tok_;
  Token last_func_tok_;
  std::vector<int64_t> exact_ints_; ///< integer elements of the dense literal being read
};

} // namespace

Module parse_module(std::string_view text, const std::string& file, int first_line) {
  Parser p(text, file, first_line);
  return p.module();
}

std::unique_ptr<Graph> parse_graph(std::string_view text, const std::string& file) {
  Module m = parse_module(text, file);
  if (m.funcs.size() != 1)
    throw Error(Diag{Loc{file, 1, 1},
                     fmt::format("expected exactly one function, found {}", m.funcs.size()),
                     {}});
  return std::move(m.funcs[0]);
}

} // namespace tevo::ir
