// aot.h: ahead-of-time compilation of a graph into an artefact that links no compiler.
//
// compile_aot() runs the CPU backend (passes, lowering, one LLVM module) and writes an
// object file, a static library, a shared library or an executable, plus a plain C
// header declaring the entry points and every input and output, plus (unless the
// parameters are embedded) the parameter values as safetensors next to it. The artefact
// holds the serialised plan and the kernels; it forwards to the runtime's C API
// (runtime/c_api.h), so it links only tevo_aot_rt, tevo_exec, tevo_runtime, oneDNN,
// libgomp and fmt. docs/AOT.md describes the artefacts and their C API.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backends/cpu/compile.h"
#include "ir/graph.h"
#include "runtime/plan.h"

namespace tevo::cpu {

/// The kind of artefact.
enum class AotEmit : uint8_t {
  Object,     ///< one relocatable .o
  Library,    ///< a static library (.a) holding that object
  Shared,     ///< a shared library (.so) with the runtime linked in
  Executable, ///< a program: MODEL IN.safetensors OUT.safetensors [--weights W] [--threads N]
};

/// Parses "obj" | "lib" | "shared" | "exe"; ir::Error otherwise.
AotEmit parse_aot_emit(const std::string& s);

struct AotOptions {
  AotEmit emit = AotEmit::Object;
  std::string output;  ///< the artefact's path
  std::string name;    ///< C prefix of the entry points; "" = derived from `output`
  std::string weights; ///< safetensors file with parameter values; "" = none
  bool embed_weights = false; ///< parameters become plan constants (needs `weights`)
  CompileOptions compile;     ///< target, pipeline (threads are chosen at run time)
};

/// The files compile_aot wrote, by role ("" where none).
struct AotFiles {
  std::string artefact, header, weights;
};

/// Compiles `g` ahead of time and writes the artefact, `<dir of output>/<name>.h` and,
/// when there are parameters, `--weights` and no embedding, `<dir>/<name>.safetensors`.
/// Every file is written atomically. Throws ir::Error (one line) for what the user can
/// cause: a bad name, weights that do not match the parameters, a failed link.
AotFiles compile_aot(const ir::Graph& g, const AotOptions& opts);

/// The default C prefix for an artefact path: its file name without directory, a leading
/// "lib" and extensions, made a C identifier ("out/libmlp.a" -> "mlp").
std::string aot_default_name(const std::string& output);

/// What module_aot.cpp adds to the kernel module of an artefact.
struct AotEntry {
  std::string name;                 ///< C prefix of the exported functions
  std::vector<uint8_t> plan;        ///< rt::serialize_plan bytes
  std::vector<std::string> kernels; ///< kernel symbols, in plan order
  std::vector<uint8_t> param_mask;  ///< per plan input: 1 = parameter
  bool main = false; ///< also export the record as `tevo_main_artefact` (executables)
};

/// Adds an artefact's entry points to `km` (module_aot.cpp): the serialised plan, the
/// kernel table and the exported NAME_* functions; every other definition in the module
/// becomes internal. Call after the last KernelModule::add, before emit_object().
void add_aot_entry(KernelModule& km, const AotEntry& entry);

/// The plain C header of an artefact (aot_header.cpp): entry points, and for each input
/// and output its index, name, dtype, rank, shape, element count and bytes as constants.
std::string aot_header(const std::string& name, const rt::Plan& plan,
                       const std::vector<uint8_t>& param_mask);

/// Writes a static library (GNU ar format with symbol table) holding `objects` at `path`,
/// atomically, with LLVM's archive writer (module_aot.cpp). ir::Error on failure.
void write_archive(const std::string& path, const std::vector<std::string>& objects);

/// Links `object` with the runtime libraries into a shared library or an executable at
/// `path` with the system C++ driver (aot_link.cpp). ir::Error with the linker's first
/// error line on failure; nothing is left at `path` then.
void link_artefact(AotEmit kind, const std::string& object, const std::string& path);

} // namespace tevo::cpu
