// checkpoint.h: training checkpoints (parameters + optimizer state) as one safetensors file.
//
// Names follow PyTorch: parameters under their dotted state_dict names
// ("blocks.0.attn.q_proj.weight"), optimizer state under "optimizer.<param>.<slot>"
// ("optimizer.blocks.0.attn.q_proj.weight.exp_avg") and the step counter under
// "optimizer.step". Metadata: "format" = "tevo.checkpoint", "version" = "1", plus the
// caller's entries. Files are written atomically (temp file + fsync + rename), so a
// crash mid-save leaves the previous checkpoint intact. See docs/TRAINING.md.
#pragma once

#include "runtime/tensor.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tevo::rt {

/// Prefix of optimizer-state tensors in the file.
inline constexpr const char* kOptimizerPrefix = "optimizer.";

/// A checkpoint's contents, in memory.
struct Checkpoint {
  /// Parameters by dotted name, in the order they are written.
  std::vector<std::pair<std::string, HostTensor>> params;
  /// Optimizer state by name without the prefix ("w.exp_avg", "step").
  std::vector<std::pair<std::string, HostTensor>> optimizer;
  /// String metadata (the format entries are added on save and kept on load).
  std::vector<std::pair<std::string, std::string>> metadata;

  const HostTensor* param(const std::string& name) const;
  const HostTensor* state(const std::string& name) const;
  const std::string* meta(const std::string& key) const;
};

/// The tensors a checkpoint must hold, with names as in Checkpoint.
struct CheckpointSpec {
  std::vector<TensorSpec> params;
  std::vector<TensorSpec> optimizer;
  /// False: load parameters only (optimizer entries are neither checked nor returned).
  bool load_optimizer = true;
};

/// Writes `c` to `path` atomically. Throws rt::Error("<path>: <reason>") on a clashing
/// name (a parameter named "optimizer.*", a duplicate), a tensor whose byte size does not
/// match its type, or an I/O failure. Stale temp files of dead writers (left by a crash
/// of an earlier save to the same path) are removed first.
void save_checkpoint(const std::string& path, const Checkpoint& c);

/// Reads every tensor of a checkpoint: "optimizer.*" entries go to `optimizer`, the rest
/// to `params` (so a plain safetensors weights file loads with an empty optimizer).
Checkpoint load_checkpoint(const std::string& path);

/// Reads a checkpoint and checks it against `expect`: every expected tensor present with
/// its dtype and shape, nothing else. Throws a one-line rt::Error, e.g.
///   "<path>: missing tensor 'fc.weight' (the model expects f32[4,3])"
///   "<path>: tensor 'fc.weight' is f32[3,4], the model expects f32[4,3]"
///   "<path>: unexpected tensor 'fc.wieght' (not in the model)"
/// Tensors come back in `expect` order.
Checkpoint load_checkpoint(const std::string& path, const CheckpointSpec& expect);

} // namespace tevo::rt
