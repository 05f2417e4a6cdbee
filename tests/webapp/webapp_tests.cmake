# Webapp registry backend tests: the C binary webapp_tests drives the backend's registry
# interface against the crowdAI webapp test double (webapp-double.mjs, run with node), and the
# end-to-end suite runs the real broker with --registry webapp against the same double.
# Included from tests/CMakeLists.txt.
if(TARGET crowdai_registry)
  add_executable(webapp_tests
    ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_main.c
    ${CMAKE_CURRENT_SOURCE_DIR}/webapp/webapp_fixture.c
    ${CMAKE_CURRENT_SOURCE_DIR}/webapp/test_webapp_api.c
    ${CMAKE_CURRENT_SOURCE_DIR}/webapp/test_webapp_auth.c
    ${CMAKE_CURRENT_SOURCE_DIR}/webapp/test_webapp_submit.c
    ${CMAKE_CURRENT_SOURCE_DIR}/webapp/test_webapp_update.c
    ${CMAKE_CURRENT_SOURCE_DIR}/webapp/test_webapp_lists.c)
  target_include_directories(webapp_tests PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit
                                                  ${CMAKE_CURRENT_SOURCE_DIR}/webapp)
  target_compile_definitions(webapp_tests PRIVATE
    WEBAPP_DOUBLE="${CMAKE_CURRENT_SOURCE_DIR}/webapp/webapp-double.mjs")
  target_link_libraries(webapp_tests PRIVATE crowdai_registry)
  add_test(NAME webapp COMMAND webapp_tests)
  set_tests_properties(webapp PROPERTIES TIMEOUT 600)

  if(TARGET crowdai-broker)
    add_test(NAME webapp_e2e
             COMMAND node --test --test-concurrency=1 tests/webapp/broker.test.mjs
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    set_tests_properties(webapp_e2e PROPERTIES
      ENVIRONMENT "BROKER_BIN=$<TARGET_FILE:crowdai-broker>;ADMIN_BIN=$<TARGET_FILE:crowdai-admin>"
      TIMEOUT 600)
  endif()
endif()
