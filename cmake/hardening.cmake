# --- hardening of hostmem.dll (included from CMakeLists.txt after the targets) -------
# hostmem.dll runs inside other people's processes, beside the CLR, so it carries the
# mitigations a host's own code would:
#   - stack protector on every source of the DLL (hostmem_objects, which the DLL and
#     hostmem_static share). MinGW-w64 10's CRT has no __stack_chk_fail/guard; GCC's
#     libssp has them. It is linked statically, so the DLL needs no libssp-0.dll beside
#     it (the guard is seeded at load from the OS random source, hence ADVAPI32).
#   - ASLR with high-entropy addresses, DEP: binutils sets these by default for PE
#     since 2.36; spelled out so an older or differently configured ld cannot drop them.
#   - the PE image version from project(VERSION), which Windows tools show beside the
#     version resource.
# tests/dll_properties.cmake checks the result in the built DLL.
include(CheckCCompilerFlag)
check_c_compiler_flag(-fstack-protector-strong HOSTMEM_HAVE_STACK_PROTECTOR_STRONG)
if(HOSTMEM_HAVE_STACK_PROTECTOR_STRONG)
  set(HOSTMEM_STACK_PROTECTOR -fstack-protector-strong)
  # -l:libssp.a: GCC's own driver would add -lssp, the import library of libssp-0.dll.
  set(HOSTMEM_STACK_PROTECTOR_LIBS -l:libssp.a)
  target_compile_options(hostmem_objects PRIVATE ${HOSTMEM_STACK_PROTECTOR})
  target_compile_options(hostmem_core PRIVATE ${HOSTMEM_STACK_PROTECTOR})
  target_link_libraries(hostmem_core INTERFACE ${HOSTMEM_STACK_PROTECTOR_LIBS})
  target_link_libraries(hostmem PRIVATE ${HOSTMEM_STACK_PROTECTOR_LIBS})
  target_link_libraries(hostmem_static INTERFACE ${HOSTMEM_STACK_PROTECTOR_LIBS})
endif()

target_link_options(hostmem PRIVATE -Wl,--dynamicbase -Wl,--nxcompat)
if(CMAKE_SIZEOF_VOID_P EQUAL 8)
  target_link_options(hostmem PRIVATE -Wl,--high-entropy-va)
endif()
# CMake turns a DLL's VERSION property into -Wl,--major-image-version,X,--minor-image-
# version,Y itself (after the target's own link options, so it must be this property:
# a link option of ours would be overridden by its default 0.0).
set_target_properties(hostmem PROPERTIES VERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
if(CMAKE_C_COMPILER_ID STREQUAL "Clang")
  # lld 14's MinGW driver ignores ld's --major/--minor-image-version (which CMake
  # passes): hand lld-link its own /version.
  target_link_options(hostmem PRIVATE
    -Wl,-Xlink=-version:${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
endif()
# --- end of the hardening block ---------------------------------------------------------
