// cli.cpp: argument parsing and file plumbing for the tevo command.
#include "tools/cli.h"

#include <iostream>
#include <iterator>

#include "ir/diag.h"
#include "ir/parser.h"
#include "runtime/file_io.h"
#include "runtime/json.h"

namespace tevo::cli {

namespace {
[[noreturn]] void usage_error(const Command& cmd, const std::string& msg) {
  throw ir::Error(ir::Diag{ir::Loc{}, fmt::format("tevo {}: {} (see tevo {} --help)", cmd.name,
                                                  msg, cmd.name),
                           {}});
}
} // namespace

std::string Parsed::get(const std::string& f, const std::string& def) const {
  auto it = flags.find(f);
  return it == flags.end() || it->second.empty() ? def : it->second.back();
}

std::vector<std::string> Parsed::all(const std::string& f) const {
  auto it = flags.find(f);
  return it == flags.end() ? std::vector<std::string>{} : it->second;
}

int int_flag(const Parsed& p, const std::string& f, int def, int lo) {
  if (!p.has(f))
    return def;
  std::string v = p.get(f);
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < lo || n > 1 << 20)
    throw ir::Error(ir::Diag{ir::Loc{}, fmt::format("--{} must be an integer >= {}, got '{}'", f,
                                                    lo, v),
                             {}});
  return static_cast<int>(n);
}

int64_t stream_bytes_flag(const Parsed& p) {
  return p.has("stream-kib") ? int64_t{int_flag(p, "stream-kib", 0, 0)} * 1024 : -1;
}

Parsed parse_args(const Command& cmd, const std::vector<std::string>& args) {
  Parsed p;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-" || a.rfind("-", 0) != 0) {
      p.positional.push_back(a);
      continue;
    }
    std::string body = a.substr(a.rfind("--", 0) == 0 ? 2 : 1);
    std::string name = body, value;
    bool has_eq = false;
    if (auto eq = body.find('='); eq != std::string::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_eq = true;
    }
    const FlagSpec* spec = nullptr;
    for (const auto& f : cmd.flags)
      if (f.name == name)
        spec = &f;
    if (!spec)
      usage_error(cmd, fmt::format("unknown option '{}'", a));
    if (spec->value && !has_eq) {
      if (i + 1 >= args.size())
        usage_error(cmd, fmt::format("option '{}' needs a value", a));
      value = args[++i];
    } else if (!spec->value && has_eq) {
      usage_error(cmd, fmt::format("option '--{}' takes no value", name));
    }
    if (!spec->repeatable && p.flags.count(name) && spec->value)
      p.flags[name].clear();
    p.flags[name].push_back(value);
  }
  return p;
}

std::string help_text(const Command& cmd) {
  std::string s = fmt::format("{}\n\nusage: {}\n", cmd.summary, cmd.usage);
  if (!cmd.flags.empty())
    s += "\noptions:\n";
  for (const auto& f : cmd.flags) {
    std::string left = fmt::format("{}{}{}", f.name == "o" ? "-" : "--", f.name, f.value ? "=V" : "");
    s += fmt::format("  {:<24} {}\n", left, f.help);
  }
  return s;
}

std::string read_input(const std::string& path) {
  if (path == "-")
    return std::string(std::istreambuf_iterator<char>(std::cin), {});
  try {
    auto b = rt::read_file(path);
    return std::string(b.begin(), b.end());
  } catch (const rt::Error& e) {
    throw ir::Error(ir::Diag{ir::Loc{}, e.what(), {}});
  }
}

void write_output(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    std::cout << text;
    std::cout.flush();
    return;
  }
  try {
    rt::write_file_atomic(path, std::span<const uint8_t>(
                                    reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  } catch (const rt::Error& e) {
    throw ir::Error(ir::Diag{ir::Loc{}, e.what(), {}});
  }
}

std::vector<Chunk> split_input(const std::string& text, bool split) {
  std::vector<Chunk> out;
  if (!split) {
    out.push_back({text, 1});
    return out;
  }
  Chunk cur;
  int line = 1;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string::npos ? text.size() : nl + 1;
    std::string_view l(text.data() + pos, end - pos);
    std::string_view trimmed = l;
    while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r' ||
                                trimmed.back() == ' '))
      trimmed.remove_suffix(1);
    if (trimmed == "// -----") {
      out.push_back(std::move(cur));
      cur = Chunk{"", line + 1};
    } else {
      cur.text += l;
    }
    ++line;
    pos = end;
  }
  out.push_back(std::move(cur));
  return out;
}

std::string display_name(const std::string& path) {
  return path == "-" ? "<stdin>" : path;
}

std::vector<ir::Module> load_modules(const Parsed& p) {
  if (p.positional.size() != 1)
    throw ir::Error(ir::Diag{ir::Loc{}, "expected exactly one input file (use - for stdin)", {}});
  const std::string& path = p.positional[0];
  std::string text = read_input(path);
  std::vector<ir::Module> mods;
  for (auto& c : split_input(text, p.has("split-input-file")))
    mods.push_back(ir::parse_module(c.text, display_name(path), c.first_line));
  return mods;
}

ir::Graph& pick_function(ir::Module& m, const Parsed& p) {
  if (m.funcs.empty())
    throw ir::Error(ir::Diag{ir::Loc{}, "the input has no function", {}});
  if (p.has("func")) {
    ir::Graph* g = m.find(p.get("func"));
    if (!g)
      throw ir::Error(ir::Diag{ir::Loc{}, fmt::format("no function '@{}' in the input",
                                                      p.get("func")),
                               {}});
    return *g;
  }
  return *m.funcs.front();
}

} // namespace tevo::cli
