# The durable job queue on Redis (src/queue): hiredis async on the libuv loop, with its Lua
# scripts embedded in the library at build time.
set(RQ_LUA_DIR ${CMAKE_CURRENT_LIST_DIR}/lua)
set(RQ_SCRIPTS enqueue dispatch progress complete fail release cancel reap events get depth
               position outbox_list outbox_remove dlq_list dlq_requeue note regrade presence online
               stats)
set(RQ_GENERATED ${CMAKE_BINARY_DIR}/generated)

set(RQ_LUA_FILES ${RQ_LUA_DIR}/common.lua)
foreach(script IN LISTS RQ_SCRIPTS)
  list(APPEND RQ_LUA_FILES ${RQ_LUA_DIR}/${script}.lua)
endforeach()

add_custom_command(
  OUTPUT ${RQ_GENERATED}/queue/rq_scripts.c ${RQ_GENERATED}/queue/rq_scripts.h
  COMMAND ${CMAKE_COMMAND} -DLUA_DIR=${RQ_LUA_DIR} "-DSCRIPTS=${RQ_SCRIPTS}"
          -DOUT_DIR=${RQ_GENERATED} -P ${CMAKE_CURRENT_LIST_DIR}/embed_lua.cmake
  DEPENDS ${RQ_LUA_FILES} ${CMAKE_CURRENT_LIST_DIR}/embed_lua.cmake
  COMMENT "Embedding the queue's Lua scripts"
  VERBATIM)

add_library(crowdai_queue STATIC
  ${CMAKE_CURRENT_LIST_DIR}/rq.c
  ${CMAKE_CURRENT_LIST_DIR}/rq_conn.c
  ${CMAKE_CURRENT_LIST_DIR}/rq_reply.c
  ${RQ_GENERATED}/queue/rq_scripts.c)
target_include_directories(crowdai_queue PUBLIC ${RQ_GENERATED})
target_link_libraries(crowdai_queue PUBLIC crowdai_pure PkgConfig::HIREDIS PkgConfig::UV)
