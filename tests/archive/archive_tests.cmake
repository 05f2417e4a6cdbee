# Tests of the code archive (included from src/archive/archive.cmake): the tar reader's unit
# tests, real git repositories checked with the git command line, the broker end to end, and
# the tar reader's libFuzzer target.
set(ARCHIVE_TESTS ${PROJECT_SOURCE_DIR}/tests/archive)
set(ARCHIVE_UNIT_MAIN ${PROJECT_SOURCE_DIR}/tests/unit/test_main.c)

add_executable(archive_tar_tests ${ARCHIVE_UNIT_MAIN} ${ARCHIVE_TESTS}/tar_build.c
               ${ARCHIVE_TESTS}/test_tar.c)
target_include_directories(archive_tar_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests/unit
                                                     ${ARCHIVE_TESTS})
target_link_libraries(archive_tar_tests PRIVATE crowdai_tar)
add_test(NAME archive_tar COMMAND archive_tar_tests)
set_tests_properties(archive_tar PROPERTIES TIMEOUT 300)

add_executable(archive_git_tests ${ARCHIVE_UNIT_MAIN} ${ARCHIVE_TESTS}/tar_build.c
               ${ARCHIVE_TESTS}/test_archive_git.c)
target_include_directories(archive_git_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests/unit
                                                     ${ARCHIVE_TESTS})
target_link_libraries(archive_git_tests PRIVATE crowdai_archive crowdai_registry)
add_test(NAME archive_git COMMAND archive_git_tests)
set_tests_properties(archive_git PROPERTIES TIMEOUT 600)

if(CROWDAI_FUZZ)
  set(ARCHIVE_FUZZ_LIB -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                       -fno-omit-frame-pointer)
  set(ARCHIVE_FUZZ_EXE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
                       -fno-omit-frame-pointer)
  set(CROWDAI_FUZZ_SECONDS 20 CACHE STRING "Seconds each fuzz target runs under CTest")
  add_executable(fuzz_tar ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_tar.c ${ARCHIVE_DIR}/tar.c
                 ${PROJECT_SOURCE_DIR}/src/core/utf8.c ${PROJECT_SOURCE_DIR}/src/core/xalloc.c
                 ${PROJECT_SOURCE_DIR}/src/core/log.c)
  target_include_directories(fuzz_tar PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(fuzz_tar PRIVATE ${ARCHIVE_FUZZ_EXE})
  target_link_options(fuzz_tar PRIVATE ${ARCHIVE_FUZZ_EXE})
  target_link_libraries(fuzz_tar PRIVATE PkgConfig::ZLIB)
  add_test(NAME fuzz_tar
           COMMAND ${CMAKE_COMMAND}
                   -DFUZZER=$<TARGET_FILE:fuzz_tar>
                   -DSEEDS=${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/fuzz_tar
                   -DSCRATCH=${CMAKE_BINARY_DIR}/tests/fuzz-scratch/fuzz_tar
                   -DSECONDS=${CROWDAI_FUZZ_SECONDS}
                   -P ${PROJECT_SOURCE_DIR}/tests/fuzz/run_fuzzer.cmake)
  math(EXPR archive_fuzz_timeout "${CROWDAI_FUZZ_SECONDS} * 3 + 60")
  set_tests_properties(fuzz_tar PROPERTIES TIMEOUT ${archive_fuzz_timeout} LABELS fuzz)
endif()
