# smoke.cmake: CTest smoke tests of the benchmark harness (ctest -L bench, seconds). Usage:
#   cmake -DBENCH=<tevo-bench> -P smoke.cmake                       machine kernels, oneDNN
#   cmake -DBENCH=<tevo-bench> -DMODE=variants -DPYTHON=<python3> -DBUILD=<build dir>
#         -DOUT=<scratch dir> -P smoke.cmake                       the variant cases, tiny N
# Fails on a non-zero exit or a result without "ok": true.
function(bench_check)
  execute_process(COMMAND ${BENCH} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out)
  if(NOT rc EQUAL 0 OR NOT out MATCHES "\"ok\": true")
    message(FATAL_ERROR "tevo-bench ${ARGN}: exit ${rc}: ${out}")
  endif()
  message(STATUS "${out}")
endfunction()

set(once --warmup=0 --min-runs=1 --max-runs=1)
if(NOT MODE STREQUAL "variants")
  bench_check(--system=peak ${once})
  bench_check(--system=copy --bytes=4194304 --warmup=0 --min-runs=2 --max-runs=2)
  bench_check(--system=onednn-sgemm --case=sgemm1024 ${once})
  bench_check(--system=onednn-matmul --case=sgemm1024 ${once})
  return()
endif()

# Each tevo graph of the variants compiled and checked against the interpreter (FFT form:
# no complex codegen yet, so only its interpreter result, below).
foreach(c linattn-naive-h2-n64 linattn-right-h2-n64 causal-naive-h2-n64 alibi-naive-h2-n64
          longconv-direct-d4-n64 ssm-naive-d4-n64 ssm-scan-d4-n64)
  bench_check(--system=interp --case=${c} --check --max-rel-err=1e-4 ${once})
endforeach()
# The forms of a family compute the same function on the same inputs.
bench_check(--system=agree --case=linattn-naive-h2-n96 --with=linattn-right-h2-n96
            --max-rel-err=1e-5)
bench_check(--system=agree --case=longconv-fft-d4-n100 --with=longconv-direct-d4-n100
            --max-rel-err=1e-5)
bench_check(--system=agree --case=ssm-naive-d4-n100 --with=ssm-scan-d4-n100 --max-rel-err=1e-5)
# The plan statistics see the left product and the materialised scores.
execute_process(COMMAND ${BENCH} --system=jit --case=linattn-naive-h1-n128 ${once}
                --pipeline=canonicalize,cse,dce OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT out MATCHES "\"nxn_matmuls\": [1-9]")
  message(FATAL_ERROR "linattn left product without an N x N matmul in its plan: ${out}")
endif()
# ALiBi's bias: a per-head table with the default pipeline, an [H, N, N] operand without
# toeplitz-bias.
execute_process(COMMAND ${BENCH} --system=jit --case=alibi-naive-h2-n128 ${once}
                OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT out MATCHES "\"nxn_buffers\": 0" OR NOT out MATCHES "attention")
  message(FATAL_ERROR "alibi: the default plan keeps an N x N buffer: ${out}")
endif()
execute_process(COMMAND ${BENCH} --system=jit --case=alibi-naive-h2-n128 ${once}
                --pipeline=canonicalize,cse,fuse-attention,canonicalize,cse,dce
                OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT out MATCHES "\"nxn_buffers\": [1-9]")
  message(FATAL_ERROR "alibi without toeplitz-bias: no N x N bias buffer in the plan: ${out}")
endif()
# run.py's variant suite end to end (tevo systems only): sweep, skips, table, JSON (into
# an emptied scratch dir: run.py never overwrites a results file, it numbers the next).
if(NOT OUT)
  message(FATAL_ERROR "smoke.cmake: MODE=variants needs -DOUT=<scratch dir>")
endif()
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
execute_process(COMMAND ${PYTHON} ${CMAKE_CURRENT_LIST_DIR}/run.py --build=${BUILD}
                --suite=variants --variant-n=64,128 --threads=1 --no-torch --results=${OUT}
                --variant-warmup=0 --variant-min-runs=1 --max-runs=1 --budget=0
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "Linear attention" OR NOT out MATCHES "Long convolution"
   OR NOT out MATCHES "Diagonal SSM" OR NOT out MATCHES "ALiBi")
  message(FATAL_ERROR "run.py --suite=variants: exit ${rc}: ${out}${err}")
endif()
message(STATUS "${out}")
