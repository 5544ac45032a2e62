/* c_api.h: the plain C API behind tevo AOT artefacts (runtime/c_api.cpp).
 *
 * An artefact made by `tevo compile --target=cpu` holds machine code for its kernels and
 * a `tevo_artefact` record (the serialised plan, the kernel table, which inputs are
 * parameters). Its exported functions NAME_create / NAME_run / NAME_last_error /
 * NAME_destroy / NAME_load_weights forward to the generic functions below, which build
 * the runtime's executor (runtime/executor.h) from that record. C callers normally use
 * the generated NAME.h instead of this header; the functions here also let a program
 * inspect a model's inputs and outputs at run time.
 *
 * Errors never escape as C++ exceptions: every function reports failure by its return
 * value, and tevo_model_last_error() gives the one-line message. */
#ifndef TEVO_RUNTIME_C_API_H
#define TEVO_RUNTIME_C_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Version of the tevo_artefact layout; tevo_model_create refuses any other. */
#define TEVO_ARTEFACT_ABI 1

/** A generated kernel (runtime/plan.h: the kernel ABI). */
typedef int32_t (*tevo_kernel_fn)(void* const* args, int64_t begin, int64_t end);

/** What an artefact's object file holds (emitted by backends/cpu/module_aot.cpp; the
 *  field order and types are part of TEVO_ARTEFACT_ABI). */
typedef struct tevo_artefact {
  uint32_t abi;                  /**< TEVO_ARTEFACT_ABI */
  uint32_t num_kernels;          /**< entries of `kernels` */
  const uint8_t* plan;           /**< runtime/plan_io.h bytes */
  uint64_t plan_bytes;
  const tevo_kernel_fn* kernels; /**< kernels[i] implements the plan's kernel i */
  const uint8_t* param_mask;     /**< per plan input: 1 = a parameter (weights) */
  uint64_t num_inputs;           /**< entries of `param_mask` */
} tevo_artefact;

#ifndef TEVO_MODEL_TYPEDEF
#define TEVO_MODEL_TYPEDEF
/** A loaded model: the executor with its scratch memory. Not safe for concurrent
 *  tevo_model_run calls: create one model per thread. */
typedef struct tevo_model tevo_model;
#endif

/** One input or output of a model. Pointers stay valid as long as the model lives. */
typedef struct tevo_tensor_info {
  const char* name;     /**< the graph's input / output name */
  const char* dtype;    /**< "f32", "f64", "i32", "i64", "bool", ... */
  int32_t rank;
  const int64_t* shape; /**< `rank` extents */
  int64_t bytes;        /**< dense row-major size */
  int32_t is_param;     /**< 1 = a parameter, may be bound with tevo_model_load_weights */
} tevo_tensor_info;

/** Builds a model from an artefact record. `threads` <= 0: TEVO_NUM_THREADS if set, else
 *  all cores. Returns NULL only when memory runs out; on any other failure it returns a
 *  model whose tevo_model_last_error() is the message and whose runs fail. */
tevo_model* tevo_model_create(const tevo_artefact* artefact, int threads);

/** Runs once. `inputs`: one dense row-major buffer per input, in order (NULL allowed for
 *  a parameter bound by tevo_model_load_weights); `outputs`: one caller-owned buffer per
 *  output, written completely. Returns 0, or 1 with tevo_model_last_error() set. */
int tevo_model_run(tevo_model* model, const void* const* inputs, void* const* outputs);

/** Reads every parameter input from a safetensors file (tensors named like the inputs,
 *  matching dtype and shape; other tensors are ignored) and binds it, so that runs may
 *  pass NULL for it. Returns 0, or 1 with tevo_model_last_error() set. */
int tevo_model_load_weights(tevo_model* model, const char* path);

/** The message of the last failed call on `model`; "" after a successful one. */
const char* tevo_model_last_error(const tevo_model* model);

/** Frees the model (NULL is allowed). */
void tevo_model_destroy(tevo_model* model);

/** Counts of inputs and outputs (0 for a model whose creation failed). */
int tevo_model_num_inputs(const tevo_model* model);
int tevo_model_num_outputs(const tevo_model* model);

/** Describes input / output `index`. Returns 0, or 1 when the index is out of range. */
int tevo_model_input_info(const tevo_model* model, int index, tevo_tensor_info* info);
int tevo_model_output_info(const tevo_model* model, int index, tevo_tensor_info* info);

/** The number of threads the model runs with. */
int tevo_model_threads(const tevo_model* model);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TEVO_RUNTIME_C_API_H */
