# The registry (embedded SQLite backend of registry.h, and the crowdAI webapp backend that
# wraps it) and the admin command line. Included from the top CMakeLists.txt.
set(REGISTRY_DIR ${PROJECT_SOURCE_DIR}/src/registry)
set(ADMIN_DIR ${PROJECT_SOURCE_DIR}/src/admin)

pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
pkg_check_modules(REG_JANSSON REQUIRED IMPORTED_TARGET jansson)

add_library(crowdai_registry STATIC
  ${REGISTRY_DIR}/reg_store.c ${REGISTRY_DIR}/reg_time.c ${REGISTRY_DIR}/reg_catalog.c
  ${REGISTRY_DIR}/reg_access.c ${REGISTRY_DIR}/reg_submit.c ${REGISTRY_DIR}/reg_submission.c
  ${REGISTRY_DIR}/reg_board.c ${REGISTRY_DIR}/reg_sqlite.c
  ${REGISTRY_DIR}/reg_webapp.c ${REGISTRY_DIR}/reg_webapp_auth.c
  ${REGISTRY_DIR}/reg_webapp_submit.c ${REGISTRY_DIR}/reg_webapp_update.c
  ${REGISTRY_DIR}/reg_webapp_store.c ${REGISTRY_DIR}/reg_webapp_api.c
  ${REGISTRY_DIR}/reg_webapp_http.c $<TARGET_OBJECTS:crowdai_http>)
target_link_libraries(crowdai_registry
  PUBLIC crowdai_pure PkgConfig::SQLITE PkgConfig::UV PkgConfig::CRYPTO PkgConfig::CURL
         PkgConfig::REG_JANSSON m)

add_executable(crowdai-admin
  ${ADMIN_DIR}/admin_main.c ${ADMIN_DIR}/admin_args.c ${ADMIN_DIR}/admin_out.c
  ${ADMIN_DIR}/admin_challenge.c ${ADMIN_DIR}/admin_import.c ${ADMIN_DIR}/admin_access.c
  ${ADMIN_DIR}/admin_report.c ${ADMIN_DIR}/admin_queue.c)
target_link_libraries(crowdai-admin PRIVATE crowdai_registry crowdai_queue)
