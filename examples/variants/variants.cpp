// variants.cpp: the `variants` example: every P0 token mixer of the variant zoo
// (frontend/nn/variants) as a small language model, trained naive and rewritten.
//
// For each selected mixer the program trains the same LM twice from the same seed and
// batches, once with the rewrite-free pipeline (canonicalize,cse,dce) and once with the
// default one (which adds fuse-attention and reassociate-matmul), prints both losses per
// step, checks they agree within --tolerance (relative), and ends with a table of the
// rewrites that fired, the step times and the compiled plans' peak scratch memory.
// --list shows the zoo and the rewrite each mixer should get; --print-ir the forward IR
// before and after the pipeline; --remarks the passes' remarks. See README.md.
#include "examples/variants/compare.h"
#include "examples/variants/options.h"
#include "examples/variants/table.h"
#include "passes/pass.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#ifndef TEVO_VARIANTS_DEFAULT_DATA
#define TEVO_VARIANTS_DEFAULT_DATA "examples/data/perldiag.txt"
#endif

using namespace tevo;
using namespace tevo::examples::variants;
using tevo::examples::Corpus;
using tevo::examples::load_corpus;

namespace {

/// The registry entries named by --variant (in that order), or all of them.
std::vector<MixerInfo> select(const Options& o) {
  std::vector<MixerInfo> all = nn::variants::mixer_registry();
  if (o.variants.empty())
    return all;
  std::vector<MixerInfo> out;
  for (const std::string& name : o.variants) {
    auto it =
        std::find_if(all.begin(), all.end(), [&](const MixerInfo& m) { return m.name == name; });
    if (it == all.end()) {
      std::string known;
      for (const MixerInfo& m : all)
        known += (known.empty() ? "" : ", ") + m.name;
      throw std::runtime_error("--variant: unknown mixer '" + name + "' (known: " + known + ")");
    }
    out.push_back(*it);
  }
  return out;
}

void list(std::ostream& out) {
  std::vector<std::vector<std::string>> rows;
  for (const MixerInfo& m : nn::variants::mixer_registry()) {
    std::string want = expected_rewrite(m);
    if (want == "reassociate-matmul")
      want += m.causal ? " (chunked scan, when N is long enough)"
                       : " (right product, when N is long enough)";
    rows.push_back({m.name, m.causal ? "causal" : "bidirectional", m.rewrites,
                    want.empty() ? "none (" + no_rewrite_reason(m) + ")" : want, m.variant});
  }
  out << format_table(
      {"mixer", "LM", "families", "expected rewrite (default pipeline)", "implements"}, rows);
}

int print_ir(const Options& o, const std::vector<MixerInfo>& sel, const Corpus& corpus) {
  for (const MixerInfo& m : sel) {
    VariantLMConfig c = lm_config(o, m, static_cast<int64_t>(corpus.vocab.size()));
    std::cout << "// ===== " << m.name << ": forward (loss) graph of a "
              << (c.causal ? "causal" : "bidirectional") << " LM, N=" << c.seq_len << ", batch "
              << o.batch << " =====\n";
    ForwardReport r = run_forward_pipeline(c, o.batch, true, o.remarks, std::cout);
    std::cout << "// rewrites fired: " << rewrites_cell(r) << "\n";
  }
  return 0;
}

int run(const Options& o) {
  if (o.list) {
    list(std::cout);
    return 0;
  }
  std::vector<MixerInfo> sel = select(o);
  Corpus corpus = load_corpus(o.data);
  if (o.print_ir)
    return print_ir(o, sel, corpus);

  std::cout << "variants: " << sel.size() << " mixer(s), " << o.steps
            << " AdamW step(s) each, naive (" << kNaivePipeline << ") vs rewritten (default), "
            << "corpus " << o.data << " (" << corpus.vocab.size() << " symbols)\n";
  std::vector<Comparison> results;
  for (const MixerInfo& m : sel) {
    results.push_back(compare_variant(o, m, corpus, std::cout));
    std::cout.flush();
  }
  std::cout << "\n" << summary_table(results) << summary_notes(results, sel, o);
  std::cout.flush();

  int rc = 0;
  for (const Comparison& c : results) {
    if (!c.error.empty()) {
      std::fprintf(stderr, "variants: error: %s: %s\n", c.variant.c_str(), c.error.c_str());
      rc = 1;
    } else if (c.first_bad > 0) {
      auto s = static_cast<size_t>(c.first_bad - 1);
      std::fprintf(stderr,
                   "variants: error: %s: step %lld: naive loss %.7g and rewritten loss %.7g "
                   "differ by %.2e relative (tolerance %.0e)\n",
                   c.variant.c_str(), static_cast<long long>(c.first_bad), c.naive.losses[s],
                   c.rewritten.losses[s], rel_diff(c.naive.losses[s], c.rewritten.losses[s]),
                   o.tolerance);
      rc = 1;
    }
  }
  return rc;
}

} // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_options(argc, argv, TEVO_VARIANTS_DEFAULT_DATA));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "variants: error: %s\n", e.what());
    return 1;
  }
}
