# TevoModel.cmake: tevo_add_model(), models compiled ahead of time as part of a build
# (in the spirit of Halide's generators).
#
#   tevo_add_model(NAME GENERATOR <executable target> [ARGS ...] [FUNC <function>]
#                  [WEIGHTS] [EMBED_WEIGHTS] [CPU <cpu>] [FEATURES <+a,-b>])
#
# At build time the generator runs as `<generator> <dir> NAME ARGS...` and writes
# <dir>/NAME.tir, and with WEIGHTS (implied by EMBED_WEIGHTS) also
# <dir>/NAME.weights.safetensors holding the values of the param inputs. Then
# `tevo compile --emit=lib` makes <dir>/libNAME.a and <dir>/NAME.h (and, with WEIGHTS but
# without EMBED_WEIGHTS, <dir>/NAME.safetensors for NAME_load_weights). NAME becomes a
# library target: link it and include "NAME.h"; it brings the AOT runtime (tevo_aot_rt:
# tevo_exec, tevo_runtime, oneDNN, OpenMP, fmt) and defines TEVO_MODEL_<NAME>_WEIGHTS as
# the path of NAME.safetensors. <dir> is ${CMAKE_CURRENT_BINARY_DIR}/NAME.
#
# Inside tevo's build the compiler is the `tevo` target; elsewhere set TEVO_EXECUTABLE.
function(tevo_add_model name)
  cmake_parse_arguments(M "WEIGHTS;EMBED_WEIGHTS" "GENERATOR;FUNC;CPU;FEATURES" "ARGS" ${ARGN})
  if(NOT M_GENERATOR)
    message(FATAL_ERROR "tevo_add_model(${name}): GENERATOR <executable target> is required")
  endif()
  if(M_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "tevo_add_model(${name}): unknown arguments ${M_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT name MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "tevo_add_model(${name}): NAME must be a C identifier")
  endif()
  if(TARGET tevo)
    set(tevo_cmd $<TARGET_FILE:tevo>)
    set(tevo_dep tevo)
  elseif(TEVO_EXECUTABLE)
    set(tevo_cmd ${TEVO_EXECUTABLE})
    set(tevo_dep ${TEVO_EXECUTABLE})
  else()
    message(FATAL_ERROR "tevo_add_model(${name}): no `tevo` target; set TEVO_EXECUTABLE")
  endif()
  if(M_EMBED_WEIGHTS)
    set(M_WEIGHTS ON)
  endif()

  set(dir ${CMAKE_CURRENT_BINARY_DIR}/${name})
  file(MAKE_DIRECTORY ${dir})
  set(tir ${dir}/${name}.tir)
  set(gen_outputs ${tir})
  set(compile_args ${tir} --target=cpu --emit=lib -o ${dir}/lib${name}.a --name=${name})
  set(lib_outputs ${dir}/lib${name}.a ${dir}/${name}.h)
  if(M_WEIGHTS)
    list(APPEND gen_outputs ${dir}/${name}.weights.safetensors)
    list(APPEND compile_args --weights=${dir}/${name}.weights.safetensors)
    if(M_EMBED_WEIGHTS)
      list(APPEND compile_args --embed-weights)
    else()
      list(APPEND lib_outputs ${dir}/${name}.safetensors)
    endif()
  endif()
  foreach(opt FUNC CPU FEATURES)
    if(M_${opt})
      string(TOLOWER ${opt} flag)
      list(APPEND compile_args --${flag}=${M_${opt}})
    endif()
  endforeach()

  add_custom_command(OUTPUT ${gen_outputs}
    COMMAND ${M_GENERATOR} ${dir} ${name} ${M_ARGS}
    DEPENDS ${M_GENERATOR}
    COMMENT "Generating tevo model ${name}" VERBATIM)
  add_custom_command(OUTPUT ${lib_outputs}
    COMMAND ${tevo_cmd} compile ${compile_args}
    DEPENDS ${gen_outputs} ${tevo_dep}
    COMMENT "Compiling tevo model ${name}" VERBATIM)
  add_custom_target(${name}_tevo_model DEPENDS ${lib_outputs})

  add_library(${name} INTERFACE)
  add_dependencies(${name} ${name}_tevo_model)
  target_include_directories(${name} INTERFACE ${dir})
  target_link_libraries(${name} INTERFACE ${dir}/lib${name}.a tevo_aot_rt)
  string(TOUPPER ${name} upper)
  target_compile_definitions(${name} INTERFACE
    TEVO_MODEL_${upper}_WEIGHTS="${dir}/${name}.safetensors")
endfunction()
