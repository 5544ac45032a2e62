// main.cpp: tevo-bench, one measurement per process: a case on a system, as one JSON line.
//
//   tevo-bench --list
//   tevo-bench --system=S [--case=C] [--threads=N] [options]
//
// Systems: peak (f32 FMA loop), copy (memory bandwidth), onednn-sgemm / onednn-matmul
// (oneDNN alone, sgemm cases), interp, jit, aot (--library=LIB --aot-name=NAME),
// profile (time per plan step, the largest first), write-tir (--out=FILE: the case's
// graph as .tir, for `tevo compile`) and agree (--with=CASE: the interpreter runs both
// cases on the same inputs and reports how far apart they are). Cases: cases.h and the
// variant cases of variants.h; --pipeline= sets the JIT's CompileOptions::pipeline (the
// variants' "rewrites off" systems). bench/run.py runs
// each measurement in its own process so that the peak RSS is that case's alone.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

#include "bench/cases.h"
#include "bench/machine.h"
#include "bench/onednn_sgemm.h"
#include "bench/profile.h"
#include "bench/systems.h"
#include "bench/variants.h"
#include "ir/printer.h"
#include "runtime/json.h"

using namespace tevo::bench;

namespace {

const char* kUsage =
    "usage: tevo-bench --list\n"
    "       tevo-bench --system=peak|copy|onednn-sgemm|onednn-matmul|interp|jit|aot|profile|\n"
    "                           write-tir|agree\n"
    "                  [--case=NAME] [--threads=N] [--warmup=N] [--min-runs=N]\n"
    "                  [--max-runs=N] [--budget=SECONDS] [--check [--max-rel-err=X]]\n"
    "                  [--bytes=N]\n"
    "                  [--library=LIB.so --aot-name=NAME] [--out=FILE.tir]\n"
    "                  [--pipeline=PASSES] [--with=CASE]\n";

/// JSON object written field by field, in insertion order.
class JsonLine {
public:
  void add(const std::string& k, const std::string& v) {
    put(k, tevo::rt::json_quote(v));
  }
  void add(const std::string& k, const char* v) {
    add(k, std::string(v));
  }
  void add(const std::string& k, double v) {
    std::ostringstream s;
    s.precision(9);
    s << v;
    put(k, s.str());
  }
  void add(const std::string& k, int64_t v) {
    put(k, std::to_string(v));
  }
  void add(const std::string& k, int v) {
    put(k, std::to_string(v));
  }
  void add(const std::string& k, bool v) {
    put(k, v ? "true" : "false");
  }
  void add_timing(const Timing& t) {
    add("median_s", t.median_s);
    add("min_s", t.min_s);
    add("runs", t.runs);
    add("warmup", t.warmup);
    std::string a = "[";
    for (size_t i = 0; i < t.samples_s.size(); ++i) {
      std::ostringstream s;
      s.precision(6);
      s << t.samples_s[i];
      a += (i ? "," : "") + s.str();
    }
    put("samples_s", a + "]");
  }
  void add_raw(const std::string& k, const std::string& json) {
    put(k, json);
  }
  std::string str() const {
    return "{" + body_ + "}";
  }

private:
  void put(const std::string& k, const std::string& raw) {
    body_ += (body_.empty() ? "" : ", ") + tevo::rt::json_quote(k) + ": " + raw;
  }
  std::string body_;
};

struct Args {
  std::map<std::string, std::string> kv;
  bool has(const std::string& k) const {
    return kv.count(k) > 0;
  }
  std::string get(const std::string& k, const std::string& def = "") const {
    auto it = kv.find(k);
    return it == kv.end() ? def : it->second;
  }
  int64_t num(const std::string& k, int64_t def) const {
    return has(k) ? std::stoll(get(k)) : def;
  }
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) != 0)
      throw std::runtime_error("unexpected argument '" + s + "'");
    size_t eq = s.find('=');
    a.kv[s.substr(2, eq == std::string::npos ? std::string::npos : eq - 2)] =
        eq == std::string::npos ? "" : s.substr(eq + 1);
  }
  return a;
}

int64_t sgemm_size(const std::string& c) {
  if (c.rfind("sgemm", 0) != 0)
    throw std::runtime_error("the oneDNN systems run the sgemm cases only, not '" + c + "'");
  return std::stoll(c.substr(5));
}

void add_system_result(JsonLine& j, const SystemResult& r) {
  j.add_timing(r.timing);
  if (r.compile_s >= 0)
    j.add("compile_s", r.compile_s);
  if (r.arena_bytes >= 0) {
    j.add("arena_bytes", r.arena_bytes);
    j.add("kernels", r.kernels);
    j.add("library_calls", r.library_calls);
    j.add("runtime_ops", r.runtime_ops);
  }
  if (r.check_rel_err >= 0)
    j.add("check_rel_err", r.check_rel_err);
  if (r.nxn_buffers >= 0) {
    j.add("nxn_buffers", r.nxn_buffers);
    j.add("nxn_matmuls", r.nxn_matmuls);
    j.add("conv_steps", r.conv_steps);
    j.add("runtime_op_names", r.runtime_op_names);
  }
}

/// Totals per step kind and the 15 most expensive steps.
void add_profile(JsonLine& j, const Profile& p) {
  j.add("median_s", p.total_s);
  j.add("steps", static_cast<int64_t>(p.steps.size()));
  std::map<std::string, double> by_kind;
  for (const StepTime& s : p.steps)
    by_kind[s.kind] += s.seconds;
  for (const auto& [k, v] : by_kind)
    j.add(k + "_s", v);
  std::vector<StepTime> top = p.steps;
  std::sort(top.begin(), top.end(),
            [](const StepTime& a, const StepTime& b) { return a.seconds > b.seconds; });
  top.resize(std::min<size_t>(top.size(), 15));
  std::string arr = "[";
  for (size_t i = 0; i < top.size(); ++i) {
    JsonLine e;
    e.add("kind", top[i].kind);
    e.add("name", top[i].name);
    e.add("s", top[i].seconds);
    arr += (i ? ", " : "") + e.str();
  }
  j.add_raw("top_steps", arr + "]");
}

void run(const Args& a, JsonLine& j) {
  const std::string sys = a.get("system");
  const int threads = static_cast<int>(a.num("threads", 1));
  TimingOptions opts;
  opts.warmup = static_cast<int>(a.num("warmup", opts.warmup));
  opts.min_runs = static_cast<int>(a.num("min-runs", opts.min_runs));
  opts.max_runs = static_cast<int>(a.num("max-runs", opts.max_runs));
  if (a.has("budget"))
    opts.budget_s = std::stod(a.get("budget"));
  if (threads < 1 || opts.min_runs < 1 || opts.max_runs < opts.min_runs || opts.warmup < 0)
    throw std::runtime_error("bad --threads/--min-runs/--max-runs/--warmup");
  if (sys == "peak") {
    PeakResult p = fma_peak(threads, opts);
    j.add_timing(p.timing);
    j.add("gflops", p.gflops);
    j.add("isa", p.isa);
    return;
  }
  if (sys == "copy") {
    CopyResult c = copy_bandwidth(threads, a.num("bytes", int64_t{4096} * 4096 * 4), opts);
    j.add_timing(c.timing);
    j.add("gbps", c.gbps);
    j.add("memcpy_gbps", c.memcpy_gbps);
    j.add("bytes", c.bytes);
    return;
  }
  const std::string name = a.get("case");
  if (sys == "onednn-sgemm" || sys == "onednn-matmul") {
    int64_t n = sgemm_size(name);
    SgemmResult s = onednn_sgemm(sys == "onednn-sgemm" ? "sgemm" : "matmul", n, n, n, threads, opts);
    j.add_timing(s.timing);
    j.add("gflops", s.gflops);
    return;
  }
  const int64_t rss0 = rss_bytes();
  Case c = make_case(name);
  j.add("shape", c.shape);
  j.add("io_bytes", io_bytes(*c.graph));
  j.add("baseline_rss_bytes", rss0);
  SystemResult r;
  if (sys == "write-tir") {
    std::ofstream f(a.get("out"));
    f << tevo::ir::print_graph(*c.graph);
    if (!f.flush())
      throw std::runtime_error("cannot write " + a.get("out"));
    j.add("inputs", static_cast<int64_t>(c.graph->inputs().size()));
    j.add("outputs", static_cast<int64_t>(c.graph->outputs.size()));
    return;
  }
  if (sys == "agree") {
    Case other = make_case(a.get("with"));
    double err = interp_agreement(c, other);
    j.add("with", a.get("with"));
    j.add("check_rel_err", err);
    if (a.has("max-rel-err") && !(err <= std::stod(a.get("max-rel-err")))) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.3g", err);
      throw std::runtime_error(c.name + " and " + other.name + " differ on the interpreter: "
                               "relative error " + buf + " above --max-rel-err");
    }
    return;
  }
  if (sys == "profile") {
    add_profile(j, profile_case(c, threads, opts));
    return;
  }
  if (sys == "jit")
    j.add("pipeline", a.get("pipeline", "default"));
  if (sys == "interp")
    r = run_interp(c, opts, a.has("check"));
  else if (sys == "jit")
    r = run_jit(c, JitOptions{threads, a.get("pipeline", "default")}, opts);
  else if (sys == "aot")
    r = run_aot(c, a.get("library"), a.get("aot-name"), threads, opts);
  else
    throw std::runtime_error("unknown --system '" + sys + "'");
  add_system_result(j, r);
  if (a.has("max-rel-err") &&
      !(r.check_rel_err >= 0 && r.check_rel_err <= std::stod(a.get("max-rel-err")))) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3g", r.check_rel_err);
    throw std::runtime_error(std::string("tevo differs from the interpreter: relative error ") +
                             buf + " above --max-rel-err (-1: not checked)");
  }
  if (c.flops > 0)
    j.add("gflops", c.flops / r.timing.median_s * 1e-9);
  if (c.bytes > 0)
    j.add("gbps", c.bytes / r.timing.median_s * 1e-9);
}

} // namespace

int main(int argc, char** argv) {
  JsonLine j;
  try {
    Args a = parse(argc, argv);
    if (a.has("help")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a.has("list")) {
      for (const std::string& n : case_names())
        std::printf("%s\n", n.c_str());
      std::printf("%s\n", variant_usage().c_str());
      std::printf("cpu_backend %s\n", have_cpu_backend() ? "yes" : "no");
      return 0;
    }
    j.add("case", a.get("case"));
    j.add("system", a.get("system"));
    j.add("threads", static_cast<int>(a.num("threads", 1)));
    run(a, j);
    j.add("ok", true);
    j.add("peak_rss_bytes", peak_rss_bytes());
    std::printf("%s\n", j.str().c_str());
    return 0;
  } catch (const std::exception& e) {
    j.add("ok", false);
    j.add("error", e.what());
    j.add("peak_rss_bytes", peak_rss_bytes());
    std::printf("%s\n", j.str().c_str());
    return 1;
  }
}
