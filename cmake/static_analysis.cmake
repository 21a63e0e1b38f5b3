# Static analysis as tests (label static): cppcheck and clang-tidy over the sources
# this build compiles, each finding a failure. The configuration is committed:
# .cppcheck-suppressions (each suppression with its reason) and .clang-tidy (the
# checks, and why some are left out). clang-tidy reads this build's
# compile_commands.json, so it sees the files exactly as the compiler does.
#
# hostmem_static_analysis_tests(NAME SOURCES): adds static_cppcheck_NAME and
# static_clang_tidy_NAME, or says why one is left out.
find_program(HOSTMEM_CPPCHECK cppcheck)
find_program(HOSTMEM_CLANG_TIDY clang-tidy)

function(hostmem_static_analysis_tests name sources)
  set(script ${PROJECT_SOURCE_DIR}/tools/static-analysis.sh)
  if(WIN32)
    set(platform windows)
  else()
    set(platform native)
  endif()
  if(HOSTMEM_CPPCHECK)
    add_test(NAME static_cppcheck_${name}
      COMMAND ${script} cppcheck ${platform} ${PROJECT_BINARY_DIR} ${sources}
      WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    set_tests_properties(static_cppcheck_${name} PROPERTIES LABELS static)
  else()
    message(STATUS "cppcheck not found: no static_cppcheck_${name} test")
  endif()
  if(HOSTMEM_CLANG_TIDY)
    add_test(NAME static_clang_tidy_${name}
      COMMAND ${script} clang-tidy ${platform} ${PROJECT_BINARY_DIR} ${sources}
      WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    set_tests_properties(static_clang_tidy_${name} PROPERTIES LABELS static)
  else()
    message(STATUS "clang-tidy not found: no static_clang_tidy_${name} test")
  endif()
endfunction()
