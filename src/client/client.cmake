# The Socket.IO client library (src/client) and its tests (tests/client). Included from the
# top-level CMakeLists.txt after the tests directory, so crowdai-broker is already defined.
pkg_check_modules(SIOC_OPENSSL REQUIRED IMPORTED_TARGET openssl)

set(SIOC_SRC ${CMAKE_CURRENT_LIST_DIR})
add_library(crowdai_client STATIC
  ${SIOC_SRC}/sioc_url.c
  ${SIOC_SRC}/sioc_json.c
  ${SIOC_SRC}/sioc_backoff.c
  ${SIOC_SRC}/sioc_ws.c
  ${SIOC_SRC}/sioc_tls.c
  ${SIOC_SRC}/sioc_stream.c
  ${SIOC_SRC}/sioc_conn.c
  ${SIOC_SRC}/sioc_ack.c
  ${SIOC_SRC}/sioc_socket.c
  ${SIOC_SRC}/sioc_inbound.c
  ${SIOC_SRC}/sioc_client.c)
target_link_libraries(crowdai_client PUBLIC crowdai_pure PkgConfig::UV PkgConfig::SIOC_OPENSSL)

# ---- Tests ----
set(SIOC_TESTS ${PROJECT_SOURCE_DIR}/tests/client)
set(SIOC_UNIT_MAIN ${PROJECT_SOURCE_DIR}/tests/unit/test_main.c)

# Pure parts (URL, JSON, backoff, WebSocket handshake and frames) and scripted bad servers.
add_executable(client_unit_tests
  ${SIOC_UNIT_MAIN}
  ${SIOC_TESTS}/loop_util.c
  ${SIOC_TESTS}/client_fixture.c
  ${SIOC_TESTS}/test_sioc_pure.c
  ${SIOC_TESTS}/test_sioc_badserver.c)
target_include_directories(client_unit_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests/unit
                                                     ${SIOC_TESTS})
target_link_libraries(client_unit_tests PRIVATE crowdai_client)
add_test(NAME client_unit COMMAND client_unit_tests)
set_tests_properties(client_unit PROPERTIES TIMEOUT 300)

# The same tests against our broker and against the reference Node server.
add_executable(client_tests
  ${SIOC_UNIT_MAIN}
  ${SIOC_TESTS}/loop_util.c
  ${SIOC_TESTS}/server_proc.c
  ${SIOC_TESTS}/client_fixture.c
  ${SIOC_TESTS}/test_sioc_events.c
  ${SIOC_TESTS}/test_sioc_session.c
  ${SIOC_TESTS}/test_sioc_tls.c)
target_include_directories(client_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests/unit ${SIOC_TESTS})
target_link_libraries(client_tests PRIVATE crowdai_client)
foreach(server broker reference)
  add_test(NAME client_${server} COMMAND client_tests WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(client_${server} PROPERTIES
    ENVIRONMENT "SIOC_SERVER=${server};BROKER_BIN=$<TARGET_FILE:crowdai-broker>;REPO_ROOT=${PROJECT_SOURCE_DIR}"
    TIMEOUT 600)
endforeach()
add_subdirectory(${PROJECT_SOURCE_DIR}/bench/client ${CMAKE_BINARY_DIR}/bench/client EXCLUDE_FROM_ALL)
