# --- hostmem.lib: the import library for MSVC's linker (included from CMakeLists.txt) -
# MinGW-w64 builds libhostmem.dll.a, a GNU-style import library. Visual Studio's
# link.exe (and lld-link) want the short-import-format .lib that lib.exe /DEF makes;
# llvm-dlltool (Debian package llvm) makes the same from the same .def the DLL is
# linked with, so the names and ordinals of hostmem.lib are those of hostmem.dll.
# Without llvm-dlltool the build goes on without hostmem.lib (and the link test in
# tests/msvc_link.cmake says why it is skipped). The .def is installed too, for a host
# that wants to make its own with lib.exe /DEF:hostmem.def /MACHINE:X64.
find_program(HOSTMEM_LLVM_DLLTOOL NAMES llvm-dlltool llvm-dlltool-14 llvm-dlltool-15 llvm-dlltool-16
  DOC "llvm-dlltool, for hostmem.lib (the import library for MSVC)")
if(CMAKE_SIZEOF_VOID_P EQUAL 8)
  set(HOSTMEM_DLLTOOL_MACHINE i386:x86-64)
  set(HOSTMEM_LINK_MACHINE x64)
else()
  set(HOSTMEM_DLLTOOL_MACHINE i386)
  set(HOSTMEM_LINK_MACHINE x86)
endif()

if(HOSTMEM_LLVM_DLLTOOL)
  set(HOSTMEM_MSVC_IMPORT_LIB ${PROJECT_BINARY_DIR}/hostmem.lib)
  add_custom_command(
    OUTPUT ${HOSTMEM_MSVC_IMPORT_LIB}
    COMMAND ${HOSTMEM_LLVM_DLLTOOL} -m ${HOSTMEM_DLLTOOL_MACHINE}
            -d ${PROJECT_SOURCE_DIR}/${HOSTMEM_DEF} -l ${HOSTMEM_MSVC_IMPORT_LIB}
    DEPENDS ${PROJECT_SOURCE_DIR}/${HOSTMEM_DEF}
    COMMENT "llvm-dlltool: ${HOSTMEM_DEF} -> hostmem.lib (MSVC import library)"
    VERBATIM)
  add_custom_target(hostmem_msvc_import_lib ALL DEPENDS ${HOSTMEM_MSVC_IMPORT_LIB})
  install(FILES ${HOSTMEM_MSVC_IMPORT_LIB} DESTINATION ${CMAKE_INSTALL_LIBDIR})
else()
  message(STATUS "llvm-dlltool not found (Debian package llvm): no hostmem.lib for MSVC")
endif()
install(FILES ${HOSTMEM_DEF} DESTINATION ${CMAKE_INSTALL_LIBDIR} RENAME hostmem.def)
# --- end of the MSVC import library block --------------------------------------------
