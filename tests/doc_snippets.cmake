# --- every C and C++ block of README.md and docs/ compiles (label docs) ------------
# tests/check-doc-snippets.sh extracts them at test time, so an edited page is checked
# without reconfiguring. metahost.h comes from the tools' generated headers.
if(TARGET hostmem_metahost_idl)
  set(_hm_cc ${CMAKE_C_COMPILER})
  if(CMAKE_C_COMPILER_TARGET)
    string(APPEND _hm_cc " --target=${CMAKE_C_COMPILER_TARGET}")
  endif()
  set(_hm_cxx "")
  if(CMAKE_CXX_COMPILER)
    set(_hm_cxx ${CMAKE_CXX_COMPILER})
    if(CMAKE_CXX_COMPILER_TARGET)
      string(APPEND _hm_cxx " --target=${CMAKE_CXX_COMPILER_TARGET}")
    endif()
    if(CMAKE_CXX_FLAGS)
      string(APPEND _hm_cxx " ${CMAKE_CXX_FLAGS}")  # the toolchain's header paths, for clang++
    endif()
  endif()
  add_test(NAME doc_snippets_compile
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/check-doc-snippets.sh ${PROJECT_SOURCE_DIR}
            ${CMAKE_CURRENT_BINARY_DIR}/doc_snippets "${_hm_cc}" "${_hm_cxx}"
            ${PROJECT_SOURCE_DIR}/include ${HOSTMEM_GENERATED_DIR} ${HOSTMEM_TOOLS_GENERATED_DIR})
  set_tests_properties(doc_snippets_compile PROPERTIES LABELS docs)
  unset(_hm_cc)
  unset(_hm_cxx)
endif()
