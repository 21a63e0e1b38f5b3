# The ZIP a Windows user downloads (label package; the release presets): CPack makes
# it from this build tree, and it must hold what docs/api.md promises, with the DLL
# stripped (its debug information is the PDB beside it).
#
#   cmake -DBUILD_DIR=... -DZIP_NAME=hostmem-X-win64 -DOBJDUMP=... -DREQUIRED=a|b|c -P package_check.cmake
file(REMOVE ${BUILD_DIR}/${ZIP_NAME}.zip)
execute_process(COMMAND ${CMAKE_CPACK_COMMAND} -G ZIP --config ${BUILD_DIR}/CPackConfig.cmake
  WORKING_DIRECTORY ${BUILD_DIR} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT EXISTS ${BUILD_DIR}/${ZIP_NAME}.zip)
  message(FATAL_ERROR "cpack failed (${rc}):\n${out}${err}")
endif()
set(unpack ${BUILD_DIR}/package-check)
file(REMOVE_RECURSE ${unpack})
file(MAKE_DIRECTORY ${unpack})
execute_process(COMMAND ${CMAKE_COMMAND} -E tar xf ${BUILD_DIR}/${ZIP_NAME}.zip
  WORKING_DIRECTORY ${unpack} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cannot unpack ${ZIP_NAME}.zip")
endif()
string(REPLACE "|" ";" required "${REQUIRED}")
set(missing "")
foreach(f IN LISTS required)
  if(NOT EXISTS ${unpack}/${ZIP_NAME}/${f})
    list(APPEND missing ${f})
  endif()
endforeach()
if(missing)
  message(FATAL_ERROR "${ZIP_NAME}.zip lacks: ${missing}")
endif()
execute_process(COMMAND ${OBJDUMP} -h ${unpack}/${ZIP_NAME}/bin/hostmem.dll OUTPUT_VARIABLE sections RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${OBJDUMP} cannot read the packed hostmem.dll")
endif()
if(sections MATCHES "\\.debug_")
  message(FATAL_ERROR "the packed hostmem.dll is not stripped:\n${sections}")
endif()
message("${ZIP_NAME}.zip holds: ${required}")
