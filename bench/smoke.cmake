# smoke.cmake: runs tevo-bench's machine measurements once each (ctest -L bench); fails on
# a non-zero exit or a result without "ok": true. Usage: cmake -DBENCH=<tevo-bench> -P ...
foreach(args "--system=peak;--warmup=0;--min-runs=1;--max-runs=1"
             "--system=copy;--bytes=4194304;--warmup=0;--min-runs=2;--max-runs=2"
             "--system=onednn-sgemm;--case=sgemm1024;--warmup=0;--min-runs=1;--max-runs=1"
             "--system=onednn-matmul;--case=sgemm1024;--warmup=0;--min-runs=1;--max-runs=1")
  execute_process(COMMAND ${BENCH} ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out)
  if(NOT rc EQUAL 0 OR NOT out MATCHES "\"ok\": true")
    message(FATAL_ERROR "tevo-bench ${args}: exit ${rc}: ${out}")
  endif()
  message(STATUS "${out}")
endforeach()
