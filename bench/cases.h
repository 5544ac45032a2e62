// cases.h: the benchmark cases as tevo graphs built with the DSL, with their inputs.
//
// Every case exists in the same shape on the PyTorch side (bench/torch_bench.py, same
// names): sgemm, row softmax / layer norm, a GPT-2 block forward and forward+backward,
// and one AdamW training step of examples/gpt's "small" configuration; and, through
// variants.h, the issue-5 variant cases.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace tevo::bench {

/// A graph and one byte buffer per graph input (row-major, the input's dtype).
struct Case {
  std::string name;
  std::unique_ptr<ir::Graph> graph;
  std::vector<std::vector<uint8_t>> inputs;
  double flops = 0;  ///< useful FLOPs per run (matmul-dominated cases; 0 otherwise)
  double bytes = 0;  ///< minimal bytes read + written per run (memory-bound cases)
  std::string shape; ///< human-readable size ("M=N=K=1024", "B8 T256 C256 H8")
  int64_t seq = 0;   ///< variant cases: the sequence length N (plans are inspected for
                     ///< N x N buffers); 0 for the issue-4 cases
};

/// The names make_case() accepts, in table order.
std::vector<std::string> case_names();

/// Builds case `name`: an issue-4 case or a variant case (variants.h). Throws
/// std::runtime_error for an unknown name. Inputs are
/// deterministic: floats uniform in [-1, 1), token ids uniform over the vocabulary,
/// parameters from nn::init_params (seed 1), optimizer state zero.
Case make_case(const std::string& name);

/// Appends one input buffer per input of c.graph: data uniform in [-1, 1) (seed 1).
void fill_random_inputs(Case& c);

/// Bytes of all graph inputs and all graph outputs of `g`.
int64_t io_bytes(const ir::Graph& g);

} // namespace tevo::bench
