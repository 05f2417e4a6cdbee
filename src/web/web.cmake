# The web pages the broker serves (src/web, pages in web/): the files and the
# socket.io-client browser bundle from npm are embedded in the library at build time.
set(WEB_PAGE_DIR ${PROJECT_SOURCE_DIR}/web)
set(WEB_FILES index.html challenge.html submit.html status.html app.css common.js index.js
              challenge.js submit.js status.js favicon.svg)
set(WEB_BUNDLE ${PROJECT_SOURCE_DIR}/node_modules/socket.io-client/dist/socket.io.min.js)
set(WEB_GENERATED ${CMAKE_BINARY_DIR}/generated/web/web_assets_data.c)

set(WEB_INPUTS ${WEB_BUNDLE} ${CMAKE_CURRENT_LIST_DIR}/embed_web.cmake)
foreach(file IN LISTS WEB_FILES)
  list(APPEND WEB_INPUTS ${WEB_PAGE_DIR}/${file})
endforeach()

add_custom_command(
  OUTPUT ${WEB_GENERATED}
  COMMAND ${CMAKE_COMMAND} -DWEB_DIR=${WEB_PAGE_DIR} "-DFILES=${WEB_FILES}"
          -DBUNDLE=${WEB_BUNDLE} -DOUT=${WEB_GENERATED} -P ${CMAKE_CURRENT_LIST_DIR}/embed_web.cmake
  DEPENDS ${WEB_INPUTS}
  COMMENT "Embedding the web pages and the socket.io-client bundle"
  VERBATIM)

add_library(crowdai_web STATIC
  ${CMAKE_CURRENT_LIST_DIR}/web_assets.c
  ${CMAKE_CURRENT_LIST_DIR}/web_routes.c
  ${WEB_GENERATED})
target_link_libraries(crowdai_web PUBLIC crowdai_server crowdai_registry)
