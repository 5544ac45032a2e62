// cmd_ops.cpp: `tevo ops`: the op registry with signatures, attributes and traits.
#include "ir/op_registry.h"
#include "ir/printer.h"
#include "tools/commands.h"

namespace tevo::cli {

namespace {
std::string traits_of(const ir::OpDef& d) {
  std::string s;
  auto add = [&](ir::Trait t, const char* n) {
    if (d.has(t))
      s += (s.empty() ? "" : ",") + std::string(n);
  };
  add(ir::kElementwise, "elementwise");
  add(ir::kCommutative, "commutative");
  add(ir::kReduction, "reduction");
  add(ir::kView, "view");
  add(ir::kSource, "source");
  add(ir::kComposite, "composite");
  add(ir::kRandom, "random");
  add(ir::kVariadic, "variadic");
  add(ir::kNotDifferentiable, "no-grad");
  return s;
}

int run_ops(const Parsed& p) {
  std::string out;
  bool verbose = p.has("verbose");
  for (const auto& d : ir::all_ops()) {
    std::string attrs;
    for (const auto& a : d.attrs) {
      attrs += (attrs.empty() ? "" : ", ") + a.name + ": " + std::string(ir::attr_kind_name(a.kind));
      if (a.default_value)
        attrs += " = " + ir::print_attr(*a.default_value);
    }
    out += fmt::format("{:<16} {:<28} {}\n", d.name, d.signature,
                       attrs.empty() ? "" : "{" + attrs + "}");
    if (verbose) {
      out += fmt::format("    {}\n", d.summary);
      std::string t = traits_of(d);
      if (!t.empty())
        out += fmt::format("    traits: {}\n", t);
      for (const auto& a : d.attrs)
        if (!a.doc.empty())
          out += fmt::format("    {}: {}\n", a.name, a.doc);
    }
  }
  write_output(p.get("o"), out);
  return 0;
}
} // namespace

const Command& ops_command() {
  static const Command c{"ops",
                         "list the op registry: names, signatures, attributes",
                         "tevo ops [--verbose]",
                         {{"verbose", false, "also print summaries, traits and attribute docs"},
                          {"o", true, "write to OUT instead of standard output"}},
                         run_ops};
  return c;
}

} // namespace tevo::cli
