# --- hostmem.h beside the SDK's mscoree.h and corerror.h ------------------------------
# Compile-only tests (included from tests/CMakeLists.txt): tests/sdk_include_order.c in
# C and C++, with -Wall -Wextra -Werror, for every include order of hostmem.h,
# <mscoree.h> and <corerror.h>, against three sets of headers:
#   mingw    MinGW-w64's own mscoree.h and corerror.h
#   sdk      the SDK-shaped stand-ins of tests/sdk_standin (both)
#   sdkerr   only the SDK-shaped corerror.h, with MinGW-w64's mscoree.h: GCC hides
#            warnings inside system headers, so a HOST_E_* redefinition against
#            MinGW-w64's corerror.h would never show; against this one it does.
# The compiler runs at test time, so the test sees the sources as they are now; the
# generated hostmem_clr.h comes from the build.
set(_hm_sdk_source ${CMAKE_CURRENT_SOURCE_DIR}/sdk_include_order.c)
set(_hm_sdk_out ${CMAKE_CURRENT_BINARY_DIR}/sdk_include_order)
file(MAKE_DIRECTORY ${_hm_sdk_out})
set(_hm_sdk_dirs_mingw "")
set(_hm_sdk_dirs_sdk -I${CMAKE_CURRENT_SOURCE_DIR}/sdk_standin/mscoree -I${CMAKE_CURRENT_SOURCE_DIR}/sdk_standin/corerror)
set(_hm_sdk_dirs_sdkerr -I${CMAKE_CURRENT_SOURCE_DIR}/sdk_standin/corerror)
set(_hm_sdk_standin_mingw 0)
set(_hm_sdk_standin_sdk 1)
set(_hm_sdk_standin_sdkerr 2)

set(_hm_sdk_langs c)
if(CMAKE_CXX_COMPILER)
  list(APPEND _hm_sdk_langs cxx)
endif()
foreach(_hm_lang IN LISTS _hm_sdk_langs)
  if(_hm_lang STREQUAL "c")
    set(_hm_compile ${CMAKE_C_COMPILER} -std=c11 -x c)
    if(CMAKE_C_COMPILER_TARGET)
      list(APPEND _hm_compile --target=${CMAKE_C_COMPILER_TARGET})
    endif()
  else()
    set(_hm_compile ${CMAKE_CXX_COMPILER} -std=c++11 -x c++)
    if(CMAKE_CXX_COMPILER_TARGET)
      list(APPEND _hm_compile --target=${CMAKE_CXX_COMPILER_TARGET})
    endif()
  endif()
  foreach(_hm_set mingw sdk sdkerr)
    foreach(_hm_first 1 0)
      foreach(_hm_err 0 1 2)
        if(_hm_set STREQUAL "sdkerr" AND _hm_err EQUAL 0)
          continue()  # the same compile as mingw without corerror.h
        endif()
        if(_hm_first)
          set(_hm_order mscoree_first)
        else()
          set(_hm_order hostmem_first)
        endif()
        set(_hm_err_names no_corerror corerror_before corerror_after)
        list(GET _hm_err_names ${_hm_err} _hm_err_name)
        set(_hm_name sdk_headers_${_hm_lang}_${_hm_set}_${_hm_order}_${_hm_err_name})
        add_test(NAME ${_hm_name}
          COMMAND ${_hm_compile} -Wall -Wextra -Werror ${_hm_sdk_dirs_${_hm_set}}
                  -I${PROJECT_SOURCE_DIR}/include -I${HOSTMEM_GENERATED_DIR}
                  -DHM_SDK_FIRST=${_hm_first} -DHM_CORERROR=${_hm_err}
                  -DHM_STANDIN=${_hm_sdk_standin_${_hm_set}}
                  -c ${_hm_sdk_source} -o ${_hm_sdk_out}/${_hm_name}.obj)
        set_tests_properties(${_hm_name} PROPERTIES LABELS "sdk_headers")
      endforeach()
    endforeach()
  endforeach()
endforeach()
unset(_hm_compile)
unset(_hm_sdk_langs)
# --- end of the SDK header block ---------------------------------------------------------
