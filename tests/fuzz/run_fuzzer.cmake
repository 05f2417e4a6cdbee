# Runs one libFuzzer target for a bounded time over a scratch copy of its seed corpus.
# Usage: cmake -DFUZZER=<exe> -DSEEDS=<dir> -DSCRATCH=<dir> -DSECONDS=<n> -P run_fuzzer.cmake
foreach(var FUZZER SEEDS SCRATCH SECONDS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_fuzzer.cmake: ${var} is not set")
  endif()
endforeach()

file(REMOVE_RECURSE ${SCRATCH})
file(MAKE_DIRECTORY ${SCRATCH}/corpus ${SCRATCH}/artifacts)
file(GLOB seeds ${SEEDS}/*)
if(seeds)
  file(COPY ${seeds} DESTINATION ${SCRATCH}/corpus)
endif()

execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -rss_limit_mb=2048 -timeout=10
          -max_len=8192 -print_final_stats=1 -artifact_prefix=${SCRATCH}/artifacts/
          ${SCRATCH}/corpus
  WORKING_DIRECTORY ${SCRATCH}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(GLOB found ${SCRATCH}/artifacts/*)
  message(FATAL_ERROR "${FUZZER} failed (${rc}); reproducers: ${found}")
endif()
