// cpu_backend.h: the CPU compiler (backends/cpu) as a train::Backend, so the Trainer and
// the examples run compiled training steps.
#pragma once

#include <memory>

#include "backends/cpu/compile.h"
#include "frontend/train/trainer.h"

namespace tevo::train {

/// A Backend whose executables are cpu::compile()d graphs (JIT).
std::shared_ptr<Backend> cpu_backend(cpu::CompileOptions opts = {});

} // namespace tevo::train
