# The code archive (src/archive): the tar reader (pure), libgit2 commits, notes and pushes,
# its records in the registry database, publishing; its admin commands and its tests.
# Included from the top-level CMakeLists.txt after the registry and the queue.
pkg_check_modules(LIBGIT2 REQUIRED IMPORTED_TARGET libgit2)
pkg_check_modules(ZLIB REQUIRED IMPORTED_TARGET zlib)
pkg_check_modules(ARCHIVE_CURL REQUIRED IMPORTED_TARGET libcurl)
pkg_check_modules(ARCHIVE_JANSSON REQUIRED IMPORTED_TARGET jansson)
set(ARCHIVE_DIR ${CMAKE_CURRENT_LIST_DIR})

# The tar reader on its own: pure, unit-tested and fuzzed.
add_library(crowdai_tar STATIC ${ARCHIVE_DIR}/tar.c)
target_link_libraries(crowdai_tar PUBLIC crowdai_pure PkgConfig::ZLIB)

add_library(crowdai_archive STATIC
  ${ARCHIVE_DIR}/archive_git.c ${ARCHIVE_DIR}/archive_store.c ${ARCHIVE_DIR}/archive.c)
target_link_libraries(crowdai_archive PUBLIC crowdai_tar crowdai_pure PkgConfig::LIBGIT2
                      PkgConfig::SQLITE PkgConfig::ARCHIVE_CURL PkgConfig::ARCHIVE_JANSSON)

# crowdai-admin's archive commands.
target_sources(crowdai-admin PRIVATE ${PROJECT_SOURCE_DIR}/src/admin/admin_archive.c)
target_link_libraries(crowdai-admin PRIVATE crowdai_archive)

include(${PROJECT_SOURCE_DIR}/tests/archive/archive_tests.cmake OPTIONAL)
