# The queue's tests (src/queue) against real redis-server processes: one binary, one CTest
# test. Each test starts its own redis-server (from PATH) and kills it when it ends.
if(TARGET crowdai_queue)
  add_executable(queue_tests
    ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_main.c
    ${CMAKE_CURRENT_LIST_DIR}/redis_proc.c
    ${CMAKE_CURRENT_LIST_DIR}/fixture.c
    ${CMAKE_CURRENT_LIST_DIR}/await.c
    ${CMAKE_CURRENT_LIST_DIR}/test_rq_reply.c
    ${CMAKE_CURRENT_LIST_DIR}/test_rq_queue.c
    ${CMAKE_CURRENT_LIST_DIR}/test_rq_lease.c
    ${CMAKE_CURRENT_LIST_DIR}/test_rq_events.c
    ${CMAKE_CURRENT_LIST_DIR}/test_rq_faults.c
    ${CMAKE_CURRENT_LIST_DIR}/test_rq_stats.c)
  target_include_directories(queue_tests PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit
                                                 ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(queue_tests PRIVATE crowdai_queue)
  add_test(NAME queue COMMAND queue_tests)
  set_tests_properties(queue PROPERTIES TIMEOUT 900)
endif()
