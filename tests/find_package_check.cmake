# find_package_in_a_user_project: install this build to a fresh prefix, then configure,
# build and run tests/consumer with a user's kind of toolchain file, finding hostmem
# through hostmem_DIR as docs/api.md says; the same program linked statically too. Then
# pkg-config: hostmem.pc's flags compile and link the same program.
#
#   cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DOUT=... -DEMULATOR=... -DCC=... -P find_package_check.cmake
file(REMOVE_RECURSE ${OUT})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " what "${ARGN}")
    message(FATAL_ERROR "${what}: exit ${rc}\n${out}${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()
function(expect_limit program)
  run(${EMULATOR} ${program})
  if(NOT run_output MATCHES "consumer: limit 1048576")
    message(FATAL_ERROR "${program} printed: ${run_output}")
  endif()
endfunction()

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${OUT}/prefix)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${OUT}/consumer
    -DCMAKE_TOOLCHAIN_FILE=${SOURCE_DIR}/tests/consumer/user-toolchain-x86_64.cmake
    -Dhostmem_DIR=${OUT}/prefix/lib/cmake/hostmem)
run(${CMAKE_COMMAND} --build ${OUT}/consumer)
file(COPY ${OUT}/prefix/bin/hostmem.dll DESTINATION ${OUT}/consumer)
expect_limit(${OUT}/consumer/consumer.exe)
expect_limit(${OUT}/consumer/consumer_static.exe)
message(STATUS "find_package(hostmem) with hostmem_DIR: found, built, ran (DLL and static)")

find_program(PKG_CONFIG pkg-config)
if(PKG_CONFIG)
  set(ENV{PKG_CONFIG_PATH} ${OUT}/prefix/lib/pkgconfig)
  run(${PKG_CONFIG} --cflags --libs hostmem)
  string(STRIP "${run_output}" flags)
  separate_arguments(flags UNIX_COMMAND "${flags}")
  run(${CC} -o ${OUT}/consumer/consumer_pc.exe ${SOURCE_DIR}/tests/consumer/consumer.c ${flags})
  file(COPY ${OUT}/prefix/bin/hostmem.dll DESTINATION ${OUT}/consumer)
  expect_limit(${OUT}/consumer/consumer_pc.exe)
  message(STATUS "pkg-config hostmem: compiled, linked, ran")
else()
  message(STATUS "pkg-config not found: hostmem.pc not tried")
endif()
