// table.cpp: formatting of the `variants` example's tables and notes (see table.h).
#include "examples/variants/table.h"

#include <algorithm>
#include <cstdio>
#include <string_view>
#include <vector>

namespace tevo::examples::variants {

namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

/// The median step time in milliseconds.
std::string step_time(const RunResult& r) {
  if (r.step_seconds.empty())
    return "-";
  std::vector<double> s = r.step_seconds;
  std::sort(s.begin(), s.end());
  size_t n = s.size();
  double med = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return fmt("%.1f ms", med * 1e3);
}

std::string bytes(int64_t b) {
  if (b < 0)
    return "-"; // the interpreter has no plan
  auto x = static_cast<double>(b);
  if (b >= (int64_t{1} << 20))
    return fmt("%.2f MiB", x / (1 << 20));
  if (b >= (int64_t{1} << 10))
    return fmt("%.1f KiB", x / (1 << 10));
  return std::to_string(b) + " B";
}

/// Whether any statistic of `pass` ("fuse-attention.sdpa" for "fuse-attention") fired.
bool fired(const ForwardReport& r, std::string_view pass) {
  for (const auto& [name, count] : r.rewrites)
    if (name.starts_with(pass) && name.size() > pass.size() && name[pass.size()] == '.')
      return true;
  return false;
}

} // namespace

std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> w(header.size());
  for (size_t i = 0; i < header.size(); ++i)
    w[i] = header[i].size();
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size() && i < w.size(); ++i)
      w[i] = std::max(w[i], r[i].size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s = "|";
    for (size_t i = 0; i < w.size(); ++i) {
      std::string c = i < cells.size() ? cells[i] : "";
      s += " " + c + std::string(w[i] - c.size(), ' ') + " |";
    }
    return s + "\n";
  };
  std::string out = line(header);
  std::string rule = "|";
  for (size_t x : w)
    rule += std::string(x + 2, '-') + "|";
  out += rule + "\n";
  for (const auto& r : rows)
    out += line(r);
  return out;
}

std::string rewrites_cell(const ForwardReport& r) {
  std::string s;
  for (const auto& [name, count] : r.rewrites)
    s += (s.empty() ? "" : ", ") + name + "=" + std::to_string(count);
  return s.empty() ? "none" : s;
}

std::string summary_table(const std::vector<Comparison>& results) {
  std::vector<std::vector<std::string>> rows;
  for (const Comparison& c : results) {
    if (!c.error.empty()) {
      rows.push_back(
          {c.variant, std::to_string(c.config.seq_len), "error", "-", "-", "-", "-", "-"});
      continue;
    }
    rows.push_back({c.variant, std::to_string(c.config.seq_len), rewrites_cell(c.forward),
                    step_time(c.naive), step_time(c.rewritten), bytes(c.naive.arena_bytes),
                    bytes(c.rewritten.arena_bytes), fmt("%.1e", c.max_rel_diff)});
  }
  return format_table({"variant", "N", "rewrites fired", "step time naive", "step time rewritten",
                       "peak memory naive", "peak memory rewritten", "max loss rel diff"},
                      rows);
}

std::string summary_notes(const std::vector<Comparison>& results,
                          const std::vector<MixerInfo>& mixers,
                          const Options& o) {
  std::string out;
  for (size_t i = 0; i < results.size() && i < mixers.size(); ++i) {
    const Comparison& c = results[i];
    if (!c.error.empty()) {
      out += "note: " + c.variant + ": failed: " + c.error + "\n";
      continue;
    }
    std::string want = expected_rewrite(mixers[i]);
    if (!want.empty() && !fired(c.forward, want)) {
      out += "note: " + c.variant + ": expected " + want +
             " did not fire at N=" + std::to_string(c.config.seq_len) +
             "; its remarks on the mixer:\n";
      size_t n = 0;
      for (const passes::Remark& r : c.forward.remarks)
        if (r.pass == want && r.node.find(".mixer.") != std::string::npos) {
          out += "  " + passes::format_remark(r) + "\n";
          ++n;
        }
      if (n == 0)
        out += "  (none: no near-match of its patterns in the mixer)\n";
    }
    if (want.empty() && !c.forward.rewrites.empty())
      out += "note: " + c.variant + ": " + rewrites_cell(c.forward) +
             " fired where no rewrite was expected\n";
  }
  out += "step times: median of " + std::to_string(o.steps) +
         " step(s); peak memory: the compiled plan's scratch arena (cpu backend only)\n";
  return out;
}

} // namespace tevo::examples::variants
