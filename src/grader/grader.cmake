# The grader's evaluator runner (src/grader): the library crowdai-grader links, the example
# evaluator in C (docs/examples), and the tests (tests/grader): one binary that CTest runs
# twice, for the pure code and for real child processes. Included from the top CMakeLists.txt.
set(GRADER_DIR ${PROJECT_SOURCE_DIR}/src/grader)
set(GRADER_TESTS ${PROJECT_SOURCE_DIR}/tests/grader)
set(GRADER_EXAMPLES ${PROJECT_SOURCE_DIR}/docs/examples)

add_library(crowdai_grader_eval STATIC
  ${GRADER_DIR}/eval_parse.c ${GRADER_DIR}/eval_verdict.c ${GRADER_DIR}/eval_command.c
  ${GRADER_DIR}/eval_spawn.c ${GRADER_DIR}/eval_run.c)
# PkgConfig::JANSSON is found by the top CMakeLists.txt after this file is included; target
# names are resolved when the build is generated.
target_link_libraries(crowdai_grader_eval PUBLIC crowdai_pure PkgConfig::UV PkgConfig::JANSSON)

add_executable(evaluate_rmse ${GRADER_EXAMPLES}/evaluate_rmse.c)
target_link_libraries(evaluate_rmse PRIVATE m)

add_executable(grader_tests
  ${PROJECT_SOURCE_DIR}/tests/unit/test_main.c
  ${GRADER_TESTS}/test_eval_parse.c
  ${GRADER_TESTS}/test_eval_verdict.c
  ${GRADER_TESTS}/test_eval_command.c
  ${GRADER_TESTS}/run_helper.c
  ${GRADER_TESTS}/test_eval_run.c
  ${GRADER_TESTS}/test_eval_limits.c
  ${GRADER_TESTS}/test_eval_examples.c)
target_include_directories(grader_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests/unit ${GRADER_TESTS})
target_compile_definitions(grader_tests PRIVATE
  EVAL_TEST_EVALUATORS="${GRADER_TESTS}/evaluators"
  EVAL_TEST_EXAMPLES="${GRADER_EXAMPLES}"
  EVAL_TEST_RMSE_BIN="$<TARGET_FILE:evaluate_rmse>")
target_link_libraries(grader_tests PRIVATE crowdai_grader_eval)
add_dependencies(grader_tests evaluate_rmse)
add_test(NAME grader_parse COMMAND grader_tests parse_ verdict_ command_)
add_test(NAME grader_run COMMAND grader_tests run_ limits_ example_)
set_tests_properties(grader_parse grader_run PROPERTIES TIMEOUT 600)

# ---- crowdai-grader: the runner that connects to a broker and runs the evaluator per job ----
add_executable(crowdai-grader
  ${GRADER_DIR}/grader_main.c ${GRADER_DIR}/runner_config.c ${GRADER_DIR}/runner.c
  ${GRADER_DIR}/runner_job.c ${GRADER_DIR}/runner_report.c)
target_link_libraries(crowdai-grader PRIVATE crowdai_grader_eval crowdai_client crowdai_http)

# The runner end to end (tests/grader-e2e): the real broker and its private Redis, the real
# crowdai-grader with real evaluators, participants on socket.io-client.
add_test(NAME grader_e2e
         COMMAND node --test --test-concurrency=1 tests/grader-e2e/
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(grader_e2e PROPERTIES
  ENVIRONMENT "BROKER_BIN=$<TARGET_FILE:crowdai-broker>;ADMIN_BIN=$<TARGET_FILE:crowdai-admin>;GRADER_BIN=$<TARGET_FILE:crowdai-grader>"
  TIMEOUT 600 RUN_SERIAL TRUE)
