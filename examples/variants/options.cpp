// options.cpp: parsing of the `variants` command line.
#include "examples/variants/options.h"

#include "frontend/nn/variants/lm.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string_view>

namespace tevo::examples::variants {

namespace {

int64_t to_int(std::string_view flag, const std::string& v) {
  size_t used = 0;
  int64_t x = 0;
  try {
    x = std::stoll(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != v.size())
    throw std::runtime_error(std::string(flag) + ": not an integer: '" + v + "'");
  return x;
}

int64_t to_positive(std::string_view flag, const std::string& v) {
  int64_t x = to_int(flag, v);
  if (x <= 0)
    throw std::runtime_error(std::string(flag) + " must be positive, got " + v);
  return x;
}

double to_double(std::string_view flag, const std::string& v) {
  size_t used = 0;
  double x = 0;
  try {
    x = std::stod(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != v.size())
    throw std::runtime_error(std::string(flag) + ": not a number: '" + v + "'");
  return x;
}

std::vector<std::string> split_commas(std::string_view flag, const std::string& v) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= v.size()) {
    size_t end = v.find(',', start);
    if (end == std::string::npos)
      end = v.size();
    if (end == start)
      throw std::runtime_error(std::string(flag) + ": empty name in '" + v + "'");
    out.push_back(v.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

/// `v` when it is one of `names`, else a one-line error listing them.
std::string one_of(std::string_view flag, const std::string& v,
                   const std::vector<std::string>& names) {
  std::string list;
  for (const std::string& n : names) {
    if (n == v)
      return v;
    list += (list.empty() ? "" : ", ") + n;
  }
  throw std::runtime_error(std::string(flag) + ": unknown '" + v + "' (" + list + ")");
}

} // namespace

const char* usage() {
  return "usage: variants [--list] [--variant=NAME[,NAME...]] [--steps=N] [--seq=N]\n"
         "                [--batch=N] [--d-model=N] [--heads=N] [--layers=N] [--seed=N]\n"
         "                [--lr=X] [--tolerance=X] [--backend=cpu|interp] [--threads=N]\n"
         "                [--data=PATH] [--ffn=mlp|swiglu|geglu|rwkv_cmix]\n"
         "                [--norm=layernorm|rmsnorm|scalenorm] [--residual=pre|post|b2t]\n"
         "                [--print-ir] [--remarks] [--profile]\n"
         "Trains each variant LM twice from the same seed and batches: the naive forward\n"
         "(pipeline canonicalize,cse,dce) and the rewritten one (pipeline default), and\n"
         "checks that the losses agree at every step.\n";
}

Options parse_options(int argc, char** argv, const std::string& default_data) {
  Options o;
  o.data = default_data;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    std::string key = s, val;
    bool has_val = false;
    if (size_t eq = s.find('='); eq != std::string::npos) {
      key = s.substr(0, eq);
      val = s.substr(eq + 1);
      has_val = true;
    }
    auto need = [&]() -> const std::string& {
      if (!has_val)
        throw std::runtime_error(key + " needs a value (" + key + "=...)");
      return val;
    };
    if (key == "--help" || key == "-h") {
      std::fputs(usage(), stdout);
      std::exit(0);
    } else if (key == "--list" && !has_val) {
      o.list = true;
    } else if (key == "--print-ir" && !has_val) {
      o.print_ir = true;
    } else if (key == "--remarks" && !has_val) {
      o.remarks = true;
    } else if (key == "--profile" && !has_val) {
      o.profile = true;
    } else if (key == "--variant") {
      o.variants = split_commas(key, need());
    } else if (key == "--steps") {
      o.steps = to_positive(key, need());
    } else if (key == "--seq") {
      o.seq = to_positive(key, need());
    } else if (key == "--batch") {
      o.batch = to_positive(key, need());
    } else if (key == "--d-model") {
      o.d_model = to_positive(key, need());
    } else if (key == "--heads") {
      o.heads = to_positive(key, need());
    } else if (key == "--layers") {
      o.layers = to_positive(key, need());
    } else if (key == "--threads") {
      o.threads = to_positive(key, need());
    } else if (key == "--seed") {
      o.seed = static_cast<uint64_t>(to_int(key, need()));
    } else if (key == "--lr") {
      o.lr = to_double(key, need());
      if (!(o.lr > 0))
        throw std::runtime_error("--lr must be > 0");
    } else if (key == "--tolerance") {
      o.tolerance = to_double(key, need());
      if (!(o.tolerance >= 0))
        throw std::runtime_error("--tolerance must be >= 0");
    } else if (key == "--backend") {
      o.backend = need();
      if (o.backend != "interp" && o.backend != "cpu")
        throw std::runtime_error("--backend must be interp or cpu, got '" + o.backend + "'");
    } else if (key == "--data") {
      o.data = need();
    } else if (key == "--ffn") {
      o.ffn = one_of(key, need(), nn::variants::ffn_names());
    } else if (key == "--norm") {
      o.norm = one_of(key, need(), nn::variants::norm_names());
    } else if (key == "--residual") {
      o.residual = one_of(key, need(), nn::variants::residual_names());
    } else {
      throw std::runtime_error("unknown argument '" + s + "' (see --help)");
    }
  }
  return o;
}

} // namespace tevo::examples::variants
