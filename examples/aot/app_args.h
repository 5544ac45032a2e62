// app_args.h: `--key=value` command-line parsing for the examples/aot apps (gpt_aot,
// train_aot): positional arguments, flags with checked numeric values, one-line errors.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace tevo::examples {

/// argv split into positional arguments and `--key=value` options (a later repeat wins).
struct AppArgs {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options; ///< key without "--"
  bool help = false;                          ///< --help or -h was given

  /// Throws unless every option is one of `known`.
  void allow(const std::vector<std::string>& known, const std::string& usage) const {
    for (const auto& [k, v] : options) {
      bool ok = false;
      for (const std::string& n : known)
        ok = ok || n == k;
      if (!ok)
        throw std::runtime_error("unknown option '--" + k + "'; " + usage);
    }
  }
  bool has(const std::string& k) const {
    return options.count(k) != 0;
  }
  std::string str(const std::string& k, const std::string& def) const {
    auto it = options.find(k);
    return it == options.end() ? def : it->second;
  }
  int64_t integer(const std::string& k, int64_t def, int64_t min) const {
    auto it = options.find(k);
    if (it == options.end())
      return def;
    size_t used = 0;
    int64_t x = 0;
    try {
      x = std::stoll(it->second, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != it->second.size())
      throw std::runtime_error("--" + k + ": not an integer: '" + it->second + "'");
    if (x < min)
      throw std::runtime_error("--" + k + " must be >= " + std::to_string(min));
    return x;
  }
  double real(const std::string& k, double def) const {
    auto it = options.find(k);
    if (it == options.end())
      return def;
    size_t used = 0;
    double x = 0;
    try {
      x = std::stod(it->second, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != it->second.size())
      throw std::runtime_error("--" + k + ": not a number: '" + it->second + "'");
    return x;
  }
};

/// Splits argv; "--key" without a value is an error (every option takes one).
inline AppArgs parse_app_args(int argc, char** argv, const std::string& usage) {
  AppArgs a;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--help" || s == "-h") {
      a.help = true;
      continue;
    }
    if (s.rfind("--", 0) != 0) {
      a.positional.push_back(s);
      continue;
    }
    size_t eq = s.find('=');
    if (eq == std::string::npos)
      throw std::runtime_error(s + " needs a value (" + s + "=...); " + usage);
    a.options[s.substr(2, eq - 2)] = s.substr(eq + 1);
  }
  return a;
}

} // namespace tevo::examples
