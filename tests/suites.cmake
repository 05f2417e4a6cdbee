# The protocol suites, run by CTest against the broker binary of this build: real clients
# (socket.io-client 4.8 and 2.5 from npm, Debian's python3-socketio), the conformance
# expectations of the official test suites, and the bad-input suite.
set(REPO_ROOT ${PROJECT_SOURCE_DIR})
set(SUITE_ENV "BROKER_BIN=$<TARGET_FILE:crowdai-broker>")

foreach(suite interop conformance badinput)
  add_test(NAME suite_${suite}
           COMMAND node --test --test-concurrency=1 tests/${suite}/
           WORKING_DIRECTORY ${REPO_ROOT})
  set_tests_properties(suite_${suite} PROPERTIES ENVIRONMENT "${SUITE_ENV}" TIMEOUT 600)
endforeach()

add_test(NAME suite_python
         COMMAND /usr/bin/python3 tests/python/run.py
         WORKING_DIRECTORY ${REPO_ROOT})
set_tests_properties(suite_python PROPERTIES ENVIRONMENT "${SUITE_ENV}" TIMEOUT 600)

# The broker end to end: the real broker with its private redis-server and SQLite registry,
# seeded with crowdai-admin, scripted graders (some in processes that get SIGKILL/SIGSTOP),
# participants on socket.io-client.
add_test(NAME suite_e2e
         COMMAND node --test --test-concurrency=1 tests/e2e/
         WORKING_DIRECTORY ${REPO_ROOT})
set_tests_properties(suite_e2e PROPERTIES
  ENVIRONMENT "${SUITE_ENV};ADMIN_BIN=$<TARGET_FILE:crowdai-admin>" TIMEOUT 600 RUN_SERIAL TRUE)

# crowdai, the participant command line, end to end: the real broker (as suite_e2e starts
# it), scripted graders, the binary run with --json and under tmux.
add_test(NAME suite_cli
         COMMAND node --test --test-concurrency=1 tests/cli/
         WORKING_DIRECTORY ${REPO_ROOT})
set_tests_properties(suite_cli PROPERTIES
  ENVIRONMENT "${SUITE_ENV};ADMIN_BIN=$<TARGET_FILE:crowdai-admin>;CLI_BIN=$<TARGET_FILE:crowdai>"
  TIMEOUT 600 RUN_SERIAL TRUE)

# crowdai 1.0.x on socketIO-client 0.7.x (EIO3 long polling, binary framing), re-enacted in
# Python against the real broker: presign, upload, authenticate, execute_function, scoring by
# a python-socketio grader, and the errors the client shows.
add_test(NAME suite_crowdai_client
         COMMAND /usr/bin/python3 tests/crowdai-client/run.py
         WORKING_DIRECTORY ${REPO_ROOT})
set_tests_properties(suite_crowdai_client PROPERTIES
  ENVIRONMENT "BROKER_BIN=$<TARGET_FILE:crowdai-broker>;ADMIN_BIN=$<TARGET_FILE:crowdai-admin>"
  RUN_SERIAL TRUE TIMEOUT 300)

# The code archive end to end (tests/archive): the real broker and crowdai-admin, git
# repositories checked with the git command line, a GitHub REST API test double.
add_test(NAME suite_archive
         COMMAND node --test --test-concurrency=1 tests/archive/
         WORKING_DIRECTORY ${REPO_ROOT})
set_tests_properties(suite_archive PROPERTIES
  ENVIRONMENT "${SUITE_ENV};ADMIN_BIN=$<TARGET_FILE:crowdai-admin>" TIMEOUT 600 RUN_SERIAL TRUE)

# The web pages in a real browser (tests/web): Debian's chromium driven by playwright-core,
# against the real broker (as suite_e2e starts it) with scripted graders; screenshots of each
# page are written to build/<preset>/web-artifacts.
add_test(NAME suite_web
         COMMAND node --test --test-concurrency=1 tests/web/
         WORKING_DIRECTORY ${REPO_ROOT})
set_tests_properties(suite_web PROPERTIES
  ENVIRONMENT "${SUITE_ENV};ADMIN_BIN=$<TARGET_FILE:crowdai-admin>;WEB_ARTIFACTS=${CMAKE_BINARY_DIR}/web-artifacts"
  TIMEOUT 600 RUN_SERIAL TRUE)
