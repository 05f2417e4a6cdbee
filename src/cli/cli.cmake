# crowdai, the participant command line (src/cli), and its tests (tests/cli, a node --test
# suite registered in tests/suites.cmake). Included from the top-level CMakeLists.txt; the
# client library's target (crowdai_client) is defined later there and resolved at
# generation time.
pkg_check_modules(CLI_CURL REQUIRED IMPORTED_TARGET libcurl)
pkg_check_modules(CLI_JANSSON REQUIRED IMPORTED_TARGET jansson)

set(CLI_DIR ${PROJECT_SOURCE_DIR}/src/cli)
add_executable(crowdai
  ${CLI_DIR}/cli_main.c ${CLI_DIR}/cli_args.c ${CLI_DIR}/cli_config.c ${CLI_DIR}/cli_record.c
  ${CLI_DIR}/cli_json.c ${CLI_DIR}/cli_out.c ${CLI_DIR}/cli_report.c ${CLI_DIR}/cli_hash.c
  ${CLI_DIR}/cli_session.c ${CLI_DIR}/cli_upload.c ${CLI_DIR}/cli_rank.c ${CLI_DIR}/cli_follow.c
  ${CLI_DIR}/cli_command.c ${CLI_DIR}/cli_login.c ${CLI_DIR}/cli_submit.c ${CLI_DIR}/cli_watch.c
  ${CLI_DIR}/cli_status.c ${CLI_DIR}/cli_cancel.c ${CLI_DIR}/cli_leaderboard.c
  ${CLI_DIR}/cli_pack.c ${CLI_DIR}/cli_code.c)
target_link_libraries(crowdai PRIVATE crowdai_client PkgConfig::CLI_CURL PkgConfig::CLI_JANSSON
                      PkgConfig::CRYPTO)
