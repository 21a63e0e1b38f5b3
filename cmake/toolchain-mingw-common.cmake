# What both MinGW-w64 toolchain files share; each sets HOSTMEM_TARGET_TRIPLE, then
# includes this file.

set(CMAKE_C_COMPILER   ${HOSTMEM_TARGET_TRIPLE}-gcc)
# A C++ compiler is optional (Debian has none installed for i686 here): the C++ header
# check needs one, the DLL does not.
find_program(_hostmem_cxx ${HOSTMEM_TARGET_TRIPLE}-g++)
if(_hostmem_cxx)
  set(CMAKE_CXX_COMPILER ${_hostmem_cxx})
endif()
unset(_hostmem_cxx CACHE)
set(CMAKE_RC_COMPILER  ${HOSTMEM_TARGET_TRIPLE}-windres)

# Target headers/libraries come only from the MinGW sysroot ...
set(CMAKE_FIND_ROOT_PATH "/usr/${HOSTMEM_TARGET_TRIPLE}")
# ... plus any prefix given explicitly for target packages (e.g. the cmocka
# built by tools/setup.sh): CMOCKA_ROOT and CMAKE_PREFIX_PATH (cache or env).
# Adding them as roots makes find_path/find_library/find_package look in
# <prefix>/include, <prefix>/lib, <prefix>/lib/cmake/... while still keeping
# the build host's /usr/include and /usr/lib out of the search.
set(_hostmem_extra_roots ${CMOCKA_ROOT} ${CMAKE_PREFIX_PATH})
if(DEFINED ENV{CMOCKA_ROOT})
  list(APPEND _hostmem_extra_roots "$ENV{CMOCKA_ROOT}")
endif()
if(DEFINED ENV{CMAKE_PREFIX_PATH})
  string(REPLACE ":" ";" _hostmem_env_prefix "$ENV{CMAKE_PREFIX_PATH}")
  list(APPEND _hostmem_extra_roots ${_hostmem_env_prefix})
endif()
foreach(_hostmem_root IN LISTS _hostmem_extra_roots)
  if(_hostmem_root AND IS_ABSOLUTE "${_hostmem_root}")
    list(APPEND CMAKE_FIND_ROOT_PATH "${_hostmem_root}")
  endif()
endforeach()
list(REMOVE_DUPLICATES CMAKE_FIND_ROOT_PATH)
unset(_hostmem_extra_roots)
unset(_hostmem_env_prefix)
unset(_hostmem_root)

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)   # build tools run on the host
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# IDL compiler for the target (from mingw-w64-tools) and the directory that
# holds unknwn.idl & co. (Wine's IDL files, from libwine-dev; MinGW-w64 on
# Debian ships no .idl files).  Use as:
#   ${HOSTMEM_WIDL} -I${HOSTMEM_WIDL_INCLUDE_DIR} -h -o out.h in.idl
if(EXISTS "/usr/bin/${HOSTMEM_TARGET_TRIPLE}-widl")
  set(_hostmem_widl "/usr/bin/${HOSTMEM_TARGET_TRIPLE}-widl")
else()
  set(_hostmem_widl "${HOSTMEM_TARGET_TRIPLE}-widl")
endif()
set(HOSTMEM_WIDL "${_hostmem_widl}" CACHE FILEPATH "widl for ${HOSTMEM_TARGET_TRIPLE}")
set(HOSTMEM_WIDL_INCLUDE_DIR "/usr/include/wine/wine/windows"
    CACHE PATH "Directory containing unknwn.idl (Wine's IDL files)")
unset(_hostmem_widl)
