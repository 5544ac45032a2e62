// corpus.h: the gpt example's data side: the character vocabulary of a text file, the
// training batches drawn from it and the sampling rule, in plain C++ (no tevo library).
//
// Shared by examples/gpt (the trainer) and the AOT apps of examples/aot, which link no
// compiler: a checkpoint carries no vocabulary, so every program rebuilds it from the same
// data file, and batches and samples must be drawn identically for runs to be comparable.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace tevo::examples {

/// The corpus as token ids; the vocabulary is the sorted set of bytes in the text.
struct Corpus {
  std::vector<unsigned char> vocab; ///< id -> byte
  std::array<int64_t, 256> id_of{}; ///< byte -> id (-1: absent)
  std::vector<int64_t> ids;         ///< the text as ids
  double unigram_entropy = 0;       ///< nats
};

/// Reads `path`; throws std::runtime_error("<path>: cannot open").
inline Corpus load_corpus(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    throw std::runtime_error(path + ": cannot open");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  Corpus c;
  std::array<int64_t, 256> count{};
  for (char ch : text)
    ++count[static_cast<unsigned char>(ch)];
  c.id_of.fill(-1);
  for (size_t b = 0; b < 256; ++b)
    if (count[b] > 0) {
      c.id_of[b] = static_cast<int64_t>(c.vocab.size());
      c.vocab.push_back(static_cast<unsigned char>(b));
      double p = static_cast<double>(count[b]) / static_cast<double>(text.size());
      c.unigram_entropy -= p * std::log(p);
    }
  for (char ch : text)
    c.ids.push_back(c.id_of[static_cast<unsigned char>(ch)]);
  return c;
}

/// The smallest corpus the example trains on (a batch window must fit many times).
inline constexpr size_t kMinCorpusIds = 1024;

/// 53 random bits as a double in [0, 1): the same on every platform (unlike
/// std::uniform_real_distribution).
inline double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

/// The batch stream's generator: it depends on the seed and on the updates already done,
/// so a resumed run continues the stream.
inline std::mt19937_64 batch_rng(uint64_t seed, int64_t steps_done) {
  return std::mt19937_64(seed * 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(steps_done));
}

/// One batch of B random windows of T tokens: x[b*T + t] and the next characters y
/// (each B*T long). Needs c.ids.size() > T.
inline void
fill_batch(const Corpus& c, int64_t B, int64_t T, std::mt19937_64& rng, int64_t* x, int64_t* y) {
  const auto span = static_cast<uint64_t>(static_cast<int64_t>(c.ids.size()) - T);
  for (int64_t b = 0; b < B; ++b) {
    auto start = static_cast<int64_t>(rng() % span);
    for (int64_t t = 0; t < T; ++t) {
      x[b * T + t] = c.ids[static_cast<size_t>(start + t)];
      y[b * T + t] = c.ids[static_cast<size_t>(start + t + 1)];
    }
  }
}

/// Samples a token from one row of V logits: temperature, then the top k (0: all).
inline int64_t sample_token(
    const double* logits, int64_t V, double temperature, int64_t top_k, std::mt19937_64& rng) {
  std::vector<int64_t> order(static_cast<size_t>(V));
  for (int64_t i = 0; i < V; ++i)
    order[static_cast<size_t>(i)] = i;
  // Ties broken by id, so the result does not depend on the sort's stability.
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
  });
  size_t k = top_k > 0 && top_k < V ? static_cast<size_t>(top_k) : order.size();
  std::vector<double> p(k);
  double top = logits[order[0]], total = 0;
  for (size_t i = 0; i < k; ++i)
    total += p[i] = std::exp((logits[order[i]] - top) / temperature);
  double u = uniform01(rng) * total;
  for (size_t i = 0; i < k; ++i) {
    u -= p[i];
    if (u < 0)
      return order[i];
  }
  return order[k - 1];
}

/// The window fed to a fixed-context model of T positions: the last T ids of `context`,
/// right-padded with 0 when shorter. Returns the number of real positions (the logits to
/// sample from are at position len - 1; causal attention keeps the padding from changing
/// them).
inline int64_t fill_context(const std::vector<int64_t>& context, int64_t T, int64_t* window) {
  int64_t len = std::min<int64_t>(T, static_cast<int64_t>(context.size()));
  size_t from = context.size() - static_cast<size_t>(len);
  for (int64_t j = 0; j < T; ++j)
    window[j] = j < len ? context[from + static_cast<size_t>(j)] : 0;
  return len;
}

/// The prompt gpt samples after: one newline (id 0 when the text has none).
inline std::vector<int64_t> default_prompt(const Corpus& c) {
  int64_t nl = c.id_of['\n'];
  return {nl >= 0 ? nl : 0};
}

} // namespace tevo::examples
