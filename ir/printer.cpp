// printer.cpp: deterministic text output of graphs; names come from values, numbers fill
// in for unnamed values in program order.
#include "ir/printer.h"

#include <cmath>
#include <set>
#include <unordered_map>

#include "ir/element.h"
#include "ir/op_registry.h"

namespace tevo::ir {

namespace {

bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '$' ||
         c == '-';
}

bool all_digits(const std::string& s) {
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return false;
  return !s.empty();
}

std::string with_point(std::string s) {
  if (s.find_first_of(".eEn") == std::string::npos) // "n" catches nan/inf
    s += ".0";
  return s;
}

std::string quote(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += static_cast<char>(c);
    } else if (c == '\n') {
      o += "\\n";
    } else if (c == '\t') {
      o += "\\t";
    } else if (c < 0x20 || c >= 0x7f) {
      o += fmt::format("\\x{:02x}", c);
    } else {
      o += static_cast<char>(c);
    }
  }
  return o + "\"";
}

/// Assigns each value of one graph (one naming scope) its printed name.
class Namer {
public:
  std::string assign(const Value* v) {
    std::string base;
    for (char c : v->name)
      base += name_char(c) ? c : '_';
    if (base.empty() || all_digits(base)) {
      while (used_.count(std::to_string(next_)))
        ++next_;
      base = std::to_string(next_++);
    } else if (used_.count(base)) {
      int k = 1;
      while (used_.count(fmt::format("{}_{}", base, k)))
        ++k;
      base = fmt::format("{}_{}", base, k);
    }
    used_.insert(base);
    names_[v] = base;
    return "%" + base;
  }
  std::string get(const Value* v) const {
    auto it = names_.find(v);
    TEVO_ASSERT(it != names_.end(), "value used before definition in printer");
    return "%" + it->second;
  }

private:
  std::set<std::string> used_;
  std::unordered_map<const Value*, std::string> names_;
  int64_t next_ = 0;
};

void print_body(std::string& out, const Graph& g, const PrintOptions& opts, int indent);

std::string type_list(const std::vector<Value*>& vs) {
  std::string s;
  for (size_t i = 0; i < vs.size(); ++i)
    s += (i ? ", " : "") + vs[i]->type.str();
  return vs.size() == 1 ? s : "(" + s + ")";
}

void print_signature(std::string& out, const Graph& g, Namer& nm) {
  out += "(";
  for (size_t i = 0; i < g.inputs().size(); ++i) {
    const Value* in = g.inputs()[i];
    out += (i ? ", " : "") + nm.assign(in) + ": " + in->type.str();
    if (in->input_kind == InputKind::Param)
      out += " param";
    else if (in->input_kind == InputKind::State)
      out += " state";
  }
  out += ") -> " + type_list(g.outputs);
}

std::string attr_text(const Attr& a, int indent);

std::string dense_text(const DenseData& d) {
  std::string s = "dense<" + d.type.str() + ": ";
  int64_t n = d.type.numel();
  if (n > 16) {
    s += "0x";
    for (uint8_t b : d.bytes)
      s += fmt::format("{:02X}", b);
    return s + ">";
  }
  s += "[";
  for (int64_t i = 0; i < n; ++i) {
    if (i)
      s += ", ";
    DType t = d.type.dtype;
    if (t == DType::C128)
      s += "(" + format_f64(d.at(i)) + ", " + format_f64(d.imag(i)) + ")";
    else if (is_complex(t))
      s += "(" + format_f32(static_cast<float>(d.at(i))) + ", " +
           format_f32(static_cast<float>(d.imag(i))) + ")";
    else if (is_bool(t))
      s += d.at(i) != 0 ? "true" : "false";
    else if (is_int(t))
      s += fmt::format("{}", load_int_element(d.bytes.data(), t, i));
    else if (t == DType::F64)
      s += format_f64(d.at(i));
    else
      s += format_f32(static_cast<float>(d.at(i)));
  }
  return s + "]>";
}

std::string attr_text(const Attr& a, int indent) {
  switch (a.kind()) {
  case AttrKind::I64:
    return fmt::format("{}", a.i64());
  case AttrKind::F64:
    return format_f64(a.f64());
  case AttrKind::Bool:
    return a.boolean() ? "true" : "false";
  case AttrKind::Str:
    return quote(a.str());
  case AttrKind::I64List: {
    std::string s = "[";
    for (size_t i = 0; i < a.i64_list().size(); ++i)
      s += fmt::format("{}{}", i ? ", " : "", a.i64_list()[i]);
    return s + "]";
  }
  case AttrKind::F64List: {
    std::string s = "[";
    for (size_t i = 0; i < a.f64_list().size(); ++i)
      s += (i ? ", " : "") + format_f64(a.f64_list()[i]);
    return s + "]";
  }
  case AttrKind::DType:
    return std::string(dtype_name(a.dtype()));
  case AttrKind::Dense:
    return dense_text(*a.dense());
  case AttrKind::Region: {
    std::string s = "region";
    Namer nm;
    print_signature(s, *a.region(), nm);
    s += " {\n";
    print_body(s, *a.region(), PrintOptions{}, indent + 2);
    s += std::string(static_cast<size_t>(indent), ' ') + "}";
    return s;
  }
  }
  return "?";
}

void print_body(std::string& out, const Graph& g, const PrintOptions& opts, int indent) {
  // Each graph (and each region) is its own naming scope. Assignment is deterministic, so
  // re-assigning the inputs here gives the names the signature printed.
  Namer nm;
  for (const Value* in : g.inputs())
    nm.assign(in);
  std::string pad(static_cast<size_t>(indent), ' ');
  for (const auto& n : g.nodes()) {
    std::string line = pad;
    for (int i = 0; i < n->num_results(); ++i)
      line += (i ? ", " : "") + nm.assign(n->result(i));
    line += " = ";
    line += n->def().name;
    for (int i = 0; i < n->num_operands(); ++i)
      line += (i ? ", " : " ") + nm.get(n->operand(i));
    // Attributes in schema order; defaults are left out.
    std::string attrs;
    for (const auto& [k, v] : n->attrs.items()) {
      const AttrSpec* spec = n->def().attr_spec(k);
      if (spec && spec->default_value && *spec->default_value == v)
        continue;
      attrs += (attrs.empty() ? "" : ", ") + k + " = " + attr_text(v, indent);
    }
    if (!attrs.empty())
      line += " {" + attrs + "}";
    line += " : ";
    for (int i = 0; i < n->num_results(); ++i)
      line += (i ? ", " : "") + n->result(i)->type.str();
    if (opts.print_loc && n->loc.known())
      line += fmt::format(" loc({}:{}:{})", quote(n->loc.file), n->loc.line, n->loc.col);
    out += line + "\n";
  }
  out += pad + "return";
  for (size_t i = 0; i < g.outputs.size(); ++i)
    out += (i ? ", " : " ") + nm.get(g.outputs[i]);
  out += "\n";
}

} // namespace

std::string format_f64(double v) {
  if (std::isnan(v))
    return "nan";
  if (std::isinf(v))
    return v > 0 ? "inf" : "-inf";
  return with_point(fmt::format("{}", v));
}

std::string format_f32(float v) {
  if (std::isnan(v))
    return "nan";
  if (std::isinf(v))
    return v > 0 ? "inf" : "-inf";
  return with_point(fmt::format("{}", v));
}

std::string print_attr(const Attr& a) {
  return attr_text(a, 0);
}

std::vector<std::string> printed_input_names(const Graph& g) {
  Namer nm;
  std::vector<std::string> out;
  for (const Value* in : g.inputs())
    out.push_back(nm.assign(in).substr(1));
  return out;
}

std::string print_graph(const Graph& g, const PrintOptions& opts) {
  std::string out = "func @" + g.name;
  Namer nm;
  print_signature(out, g, nm);
  out += " {\n";
  print_body(out, g, opts, 2);
  out += "}\n";
  return out;
}

std::string print_module(const Module& m, const PrintOptions& opts) {
  std::string out;
  for (size_t i = 0; i < m.funcs.size(); ++i)
    out += (i ? "\n" : "") + print_graph(*m.funcs[i], opts);
  return out;
}

} // namespace tevo::ir
