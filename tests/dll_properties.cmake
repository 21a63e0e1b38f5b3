# --- the built hostmem.dll's PE properties (included from tests/CMakeLists.txt) ------
# cmake/hardening.cmake and the .def set them; check_dll_properties.cmake reads them
# back from the DLL with the toolchain's objdump and nm.
if(CMAKE_OBJDUMP AND CMAKE_NM)
  if(CMAKE_SIZEOF_VOID_P EQUAL 8)
    set(_hm_high_entropy ON)
  else()
    set(_hm_high_entropy OFF)
  endif()
  add_test(NAME dll_properties
    COMMAND ${CMAKE_COMMAND} -DOBJDUMP=${CMAKE_OBJDUMP} -DNM=${CMAKE_NM}
            -DDLL=$<TARGET_FILE:hostmem> -DDEF=${PROJECT_SOURCE_DIR}/${HOSTMEM_DEF}
            -DMAJOR=${PROJECT_VERSION_MAJOR} -DMINOR=${PROJECT_VERSION_MINOR}
            -DHIGH_ENTROPY=${_hm_high_entropy} -DPDB=$<$<BOOL:${HOSTMEM_PDB}>:$<TARGET_FILE_DIR:hostmem>/hostmem.pdb>
            -P ${CMAKE_CURRENT_SOURCE_DIR}/check_dll_properties.cmake)
else()
  add_test(NAME dll_properties COMMAND ${CMAKE_COMMAND} -E echo "SKIPPED: no objdump or nm for the target")
  set_tests_properties(dll_properties PROPERTIES SKIP_REGULAR_EXPRESSION "SKIPPED: ")
endif()

# The protector itself, under Wine: the same flags and libssp on a deliberate overrun.
if(HOSTMEM_STACK_PROTECTOR)
  add_executable(stack_protector_check stack_protector_check.c)
  target_compile_options(stack_protector_check PRIVATE ${HOSTMEM_WARNINGS} ${HOSTMEM_STACK_PROTECTOR})
  target_link_libraries(stack_protector_check PRIVATE ${HOSTMEM_STACK_PROTECTOR_LIBS})
  target_link_options(stack_protector_check PRIVATE -static-libgcc)
  add_test(NAME stack_protector_traps_an_overrun COMMAND stack_protector_check overrun)
  set_tests_properties(stack_protector_traps_an_overrun PROPERTIES
    PASS_REGULAR_EXPRESSION "guarded call within bounds: 1\r?\nexception 0xC000001D"
    FAIL_REGULAR_EXPRESSION "NOT DETECTED;0xC0000005"
    TIMEOUT 60)
endif()
# --- end of the DLL properties block --------------------------------------------------
