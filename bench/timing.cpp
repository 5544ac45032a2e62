// timing.cpp: warm-up + median timing and /proc/self/status memory readings.
#include "bench/timing.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>

namespace tevo::bench {

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

Timing measure(const std::function<void()>& fn, const TimingOptions& opts) {
  Timing t;
  t.warmup = opts.warmup;
  for (int i = 0; i < opts.warmup; ++i)
    fn();
  double start = now_s();
  while (static_cast<int>(t.samples_s.size()) < opts.max_runs) {
    double t0 = now_s();
    fn();
    t.samples_s.push_back(now_s() - t0);
    if (static_cast<int>(t.samples_s.size()) >= opts.min_runs && now_s() - start >= opts.budget_s)
      break;
  }
  std::vector<double> s = t.samples_s;
  std::sort(s.begin(), s.end());
  size_t n = s.size();
  t.median_s = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
  t.min_s = s.front();
  t.runs = static_cast<int>(n);
  return t;
}

namespace {

/// A "Key:   123 kB" line of /proc/self/status, in bytes.
int64_t status_kb(const std::string& key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(key + ":", 0) == 0)
      return std::stoll(line.substr(key.size() + 1)) * 1024;
  }
  return 0;
}

} // namespace

int64_t peak_rss_bytes() {
  return status_kb("VmHWM");
}

int64_t rss_bytes() {
  return status_kb("VmRSS");
}

} // namespace tevo::bench
