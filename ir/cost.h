// cost.h: the cost model: per-node and per-graph cost from the ops' cost hooks (FLOPs,
// transcendentals, bytes moved), peak live bytes of a schedule, and a roofline estimate
// of time. Cost-driven rewrites (passes/) price the forms they choose between with
// op_cost, so the registry's hooks are the single source of every figure.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "ir/builder.h"
#include "ir/graph.h"
#include "ir/op_def.h"

namespace tevo::ir {

/// Cost of one node (its op's hook, or the default).
Cost node_cost(const Node& n);
/// Sum over all nodes of a graph.
Cost graph_cost(const Graph& g);
/// Cost of op `k` applied to operands of these types (attributes completed from the
/// schema, results inferred): what the node would cost if it were built. Fails with the
/// builder's diagnostic when the op rejects the operands.
Expected<Cost> op_cost(OpKind k, std::span<const TensorType> operands, const AttrList& attrs = {});

Cost& operator+=(Cost& a, const Cost& b);
inline Cost operator+(Cost a, const Cost& b) {
  return a += b;
}

/// The machine a cost is priced on. Defaults: this project's reference CPU (2 cores:
/// ~230 GFLOP/s f32 peak, of which ~100 is typical for library matmuls; ~10 GB/s copy).
struct Machine {
  double flops_per_s = 100e9;
  double bytes_per_s = 10e9;
  double transcendentals_per_s = 4e9;
};
/// Roofline estimate: max(compute, memory) + transcendentals.
double estimate_seconds(const Cost& c, const Machine& m = {});

/// Bytes of node results live at once, at the worst point of running the nodes in list
/// order (a result is live from its node to its last use; graph outputs to the end).
/// Graph inputs are not counted (the caller owns them).
int64_t peak_live_bytes(const Graph& g);

/// Human-readable table: one line per node, a total, the peak live bytes and the roofline
/// time estimate.
std::string format_cost(const Graph& g);

/// "2.1 MFLOP", "8.4 GFLOP", "512 FLOP": three significant digits.
std::string format_flops(double flops);
/// "1.5 MiB", "512 B".
std::string format_bytes(double bytes);

} // namespace tevo::ir
