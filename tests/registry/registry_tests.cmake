# Registry tests: the C binary registry_tests (rules of the SQLite backend, on a temp
# database) and the crowdai-admin command-line suite. Included from tests/CMakeLists.txt.
if(TARGET crowdai_registry)
  add_executable(registry_tests
    ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_main.c
    ${CMAKE_CURRENT_SOURCE_DIR}/registry/reg_fixture.c
    ${CMAKE_CURRENT_SOURCE_DIR}/registry/test_reg_store.c
    ${CMAKE_CURRENT_SOURCE_DIR}/registry/test_reg_access.c
    ${CMAKE_CURRENT_SOURCE_DIR}/registry/test_reg_rounds.c
    ${CMAKE_CURRENT_SOURCE_DIR}/registry/test_reg_limits.c
    ${CMAKE_CURRENT_SOURCE_DIR}/registry/test_reg_submissions.c
    ${CMAKE_CURRENT_SOURCE_DIR}/registry/test_reg_board.c
    ${CMAKE_CURRENT_SOURCE_DIR}/registry/test_reg_lists.c)
  target_include_directories(registry_tests PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit
                                                    ${CMAKE_CURRENT_SOURCE_DIR}/registry)
  target_link_libraries(registry_tests PRIVATE crowdai_registry)
  add_test(NAME registry COMMAND registry_tests)
  set_tests_properties(registry PROPERTIES TIMEOUT 600)

  # Makes submissions and checks keys for the admin suite, as the broker would.
  add_executable(reg_seed ${CMAKE_CURRENT_SOURCE_DIR}/registry/reg_seed.c)
  target_link_libraries(reg_seed PRIVATE crowdai_registry)

  add_test(NAME admin_cli
           COMMAND node --test --test-concurrency=1 tests/registry/admin.test.mjs
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(admin_cli PROPERTIES
                       ENVIRONMENT "CROWDAI_ADMIN=$<TARGET_FILE:crowdai-admin>;REG_SEED=$<TARGET_FILE:reg_seed>"
                       TIMEOUT 600)
endif()
