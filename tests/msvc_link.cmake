# --- a host linked MSVC-style against hostmem.lib (included from tests/CMakeLists.txt) -
# tests/msvc_host.c is compiled by clang to a COFF object (MinGW-w64's headers: the
# test is about the import library and the linker, not the compiler), then linked by
# lld-link, which takes link.exe's command line: /nodefaultlib, an entry point of its
# own, hostmem.lib from cmake/msvc_import_lib.cmake and a kernel32.lib llvm-dlltool
# makes from a four-line .def. The test runs the result under Wine beside hostmem.dll.
# Without llvm-dlltool or lld-link the test is reported as skipped, with the reason.
find_program(HOSTMEM_LLD_LINK NAMES lld-link lld-link-14 lld-link-15 lld-link-16
  DOC "lld-link, for the MSVC-style link test")
find_program(HOSTMEM_CLANG NAMES clang clang-14 clang-15 clang-16 DOC "clang, for the MSVC-style link test")

set(_hm_missing "")
foreach(_hm_tool HOSTMEM_LLVM_DLLTOOL HOSTMEM_LLD_LINK HOSTMEM_CLANG)
  if(NOT ${_hm_tool} OR NOT EXISTS "${${_hm_tool}}")
    list(APPEND _hm_missing ${_hm_tool})
  endif()
endforeach()

if(_hm_missing)
  string(REPLACE ";" ", " _hm_missing "${_hm_missing}")
  add_test(NAME msvc_import_lib_link_and_run
    COMMAND ${CMAKE_COMMAND} -E echo
            "SKIPPED: not found: ${_hm_missing} (Debian packages llvm, lld, clang; tools/setup.sh deps)")
  # cmake -E echo exits 0: report it as a skip, not a pass.
  set_tests_properties(msvc_import_lib_link_and_run PROPERTIES SKIP_REGULAR_EXPRESSION "SKIPPED: ")
else()
  set(_hm_dir ${CMAKE_CURRENT_BINARY_DIR}/msvc_link)
  file(MAKE_DIRECTORY ${_hm_dir})
  # On x86 the objects call the __stdcall names (_WriteFile@20), which kernel32.dll
  # exports undecorated: -k imports them without the @N.
  if(CMAKE_SIZEOF_VOID_P EQUAL 8)
    set(_hm_triple x86_64-w64-mingw32)
    set(_hm_k32 "ExitProcess\n    GetStdHandle\n    WriteFile\n    lstrlenA")
    set(_hm_kill_at "")
  else()
    set(_hm_triple i686-w64-mingw32)
    set(_hm_k32 "ExitProcess@4\n    GetStdHandle@4\n    WriteFile@20\n    lstrlenA@4")
    set(_hm_kill_at -k)
  endif()
  # Written only when it changes, so a reconfigure does not relink the host.
  file(CONFIGURE OUTPUT ${_hm_dir}/kernel32.def
    CONTENT "LIBRARY KERNEL32.dll\nEXPORTS\n    ${_hm_k32}\n")
  # The host lands beside hostmem.dll, where Wine's loader finds it.
  set(_hm_exe ${PROJECT_BINARY_DIR}/hostmem-msvc-host.exe)
  add_custom_command(
    OUTPUT ${_hm_exe}
    COMMAND ${HOSTMEM_LLVM_DLLTOOL} -m ${HOSTMEM_DLLTOOL_MACHINE} ${_hm_kill_at} -d ${_hm_dir}/kernel32.def
            -l ${_hm_dir}/kernel32.lib
    COMMAND ${HOSTMEM_CLANG} --target=${_hm_triple} -O1 -Wall -Wextra -Werror
            -I${PROJECT_SOURCE_DIR}/include -I${HOSTMEM_GENERATED_DIR}
            -c ${CMAKE_CURRENT_SOURCE_DIR}/msvc_host.c -o ${_hm_dir}/msvc_host.obj
    COMMAND ${HOSTMEM_LLD_LINK} /nologo /machine:${HOSTMEM_LINK_MACHINE} /nodefaultlib
            /entry:hm_msvc_host_entry /subsystem:console
            ${_hm_dir}/msvc_host.obj ${HOSTMEM_MSVC_IMPORT_LIB} ${_hm_dir}/kernel32.lib
            /out:${_hm_exe}
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/msvc_host.c ${PROJECT_SOURCE_DIR}/include/hostmem.h
            ${HOSTMEM_MSVC_IMPORT_LIB} ${_hm_dir}/kernel32.def hostmem_idl
    COMMENT "lld-link: tests/msvc_host.c against hostmem.lib (MSVC-style)"
    VERBATIM)
  add_custom_target(hostmem_msvc_host ALL DEPENDS ${_hm_exe})
  add_dependencies(hostmem_msvc_host hostmem_msvc_import_lib hostmem)
  add_test(NAME msvc_import_lib_link_and_run COMMAND ${CMAKE_CROSSCOMPILING_EMULATOR} ${_hm_exe})
  set_tests_properties(msvc_import_lib_link_and_run PROPERTIES
    PASS_REGULAR_EXPRESSION "msvc host: hostmem\\.lib -> hostmem\\.dll: created, stats read, released"
    FAIL_REGULAR_EXPRESSION "FAILED"
    TIMEOUT 60)
endif()
unset(_hm_missing)
# --- end of the MSVC-style link block -------------------------------------------------
