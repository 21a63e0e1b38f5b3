# What a host author installs: the DLL (with its PDB when clang and lld built it), the
# import libraries for MinGW (libhostmem.dll.a) and MSVC (hostmem.lib, where
# llvm-dlltool is found), the static library libhostmem.a, the IIDs' library, the
# headers, the CMake package (hostmem::hostmem, hostmem::hostmem_static), hostmem.pc,
# LICENSE, CHANGELOG.md and README.md, the tools, and the sample managed workload. CPack packs the same tree as a ZIP:
#
#   cpack --preset release-x86_64    build/release-x86_64/hostmem-<version>-win64.zip
#   cpack --preset release-i686      build/release-i686/hostmem-<version>-win32.zip
#
# The DLL in the ZIP is stripped (its debug information is the PDB beside it).
include(CMakePackageConfigHelpers)

install(TARGETS hostmem hostmem_guids hostmem_static EXPORT hostmemTargets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
if(HOSTMEM_PDB)
  install(FILES $<TARGET_FILE_DIR:hostmem>/hostmem.pdb DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(FILES include/hostmem.h ${HOSTMEM_GENERATED_DIR}/hostmem_clr.h ${HOSTMEM_GENERATED_DIR}/hostmem_version.h
  idl/hostmem_clr.idl ${HOSTMEM_GENERATED_DIR}/hostmem_clr_policy.h idl/hostmem_clr_policy.idl
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT hostmemTargets NAMESPACE hostmem:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/hostmem)
configure_package_config_file(cmake/hostmemConfig.cmake.in ${PROJECT_BINARY_DIR}/hostmemConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/hostmem)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/hostmemConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/hostmemConfig.cmake ${PROJECT_BINARY_DIR}/hostmemConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/hostmem)

# pkg-config: the DLL through its import library; --static gives libhostmem.a's needs.
configure_file(cmake/hostmem.pc.in ${PROJECT_BINARY_DIR}/hostmem.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/hostmem.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(FILES LICENSE CHANGELOG.md README.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/hostmem)

# The programs a host author runs beside their host: the real .NET Framework host
# (with samples/workload, one command shows the CLR under hostmem), the chart of a
# trace, the live statistics of another process, and the replay (the demo, --from).
foreach(_hm_tool hostmem-host hostmem-report hostmem-stat hostmem-replay)
  if(TARGET ${_hm_tool})
    install(TARGETS ${_hm_tool} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()
unset(_hm_tool)

# --- the ZIP ----------------------------------------------------------------------
set(CPACK_GENERATOR ZIP)
set(CPACK_PACKAGE_NAME hostmem)
set(CPACK_PACKAGE_VENDOR "hostmem")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "A memory manager for custom .NET Framework CLR hosts")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
if(CMAKE_SIZEOF_VOID_P EQUAL 8)
  set(CPACK_SYSTEM_NAME win64)
else()
  set(CPACK_SYSTEM_NAME win32)
endif()
set(CPACK_PACKAGE_FILE_NAME hostmem-${PROJECT_VERSION}-${CPACK_SYSTEM_NAME})
set(CPACK_STRIP_FILES bin/hostmem.dll)
set(CPACK_INCLUDE_TOPLEVEL_DIRECTORY ON)
include(CPack)
