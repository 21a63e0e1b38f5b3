# What both clang toolchain files share; included after the gcc toolchain file of the
# same target, whose triple (HOSTMEM_TARGET_TRIPLE), sysroot, widl and emulator stay.

set(CMAKE_C_COMPILER clang)
set(CMAKE_C_COMPILER_TARGET ${HOSTMEM_TARGET_TRIPLE})
# C++ only where the gcc toolchain file found a C++ compiler: clang++ links that
# compiler's libstdc++ (Debian has none for i686 installed here).
if(CMAKE_CXX_COMPILER)
  set(CMAKE_CXX_COMPILER clang++)
  set(CMAKE_CXX_COMPILER_TARGET ${HOSTMEM_TARGET_TRIPLE})
endif()
find_program(_hostmem_strip NAMES llvm-strip ${HOSTMEM_TARGET_TRIPLE}-strip)
if(_hostmem_strip)
  set(CMAKE_STRIP ${_hostmem_strip} CACHE FILEPATH "strip for ${HOSTMEM_TARGET_TRIPLE}")
endif()
unset(_hostmem_strip CACHE)

# clang finds MinGW-w64's headers by itself but not gcc's support libraries (libgcc,
# libssp, libstdc++), which live in the win32-threads gcc's folder.
file(GLOB _hostmem_gcc_dirs /usr/lib/gcc/${HOSTMEM_TARGET_TRIPLE}/*-win32)
list(SORT _hostmem_gcc_dirs)
list(POP_BACK _hostmem_gcc_dirs _hostmem_gcc_dir)
set(_hostmem_link_flags "-fuse-ld=lld")
if(_hostmem_gcc_dir)
  string(APPEND _hostmem_link_flags " -L${_hostmem_gcc_dir}")
  # ... nor that gcc's C++ headers (libstdc++'s), which clang++ needs beside them.
  if(EXISTS "${_hostmem_gcc_dir}/include/c++")
    set(CMAKE_CXX_FLAGS_INIT "-isystem ${_hostmem_gcc_dir}/include/c++ -isystem ${_hostmem_gcc_dir}/include/c++/${HOSTMEM_TARGET_TRIPLE}")
  endif()
endif()
set(CMAKE_EXE_LINKER_FLAGS_INIT "${_hostmem_link_flags}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${_hostmem_link_flags}")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "${_hostmem_link_flags}")
unset(_hostmem_link_flags)
unset(_hostmem_gcc_dir)
unset(_hostmem_gcc_dirs)

# The root CMakeLists.txt asks clang for CodeView debug information and lld for the PDB.

# The binutils of the same target read the PE files the tests inspect (llvm-objdump
# prints them differently).
foreach(_hostmem_tool objdump nm)
  string(TOUPPER ${_hostmem_tool} _hostmem_var)
  find_program(_hostmem_path ${HOSTMEM_TARGET_TRIPLE}-${_hostmem_tool})
  if(_hostmem_path)
    set(CMAKE_${_hostmem_var} ${_hostmem_path} CACHE FILEPATH "${_hostmem_tool} for ${HOSTMEM_TARGET_TRIPLE}")
  endif()
  unset(_hostmem_path CACHE)
endforeach()
unset(_hostmem_tool)
unset(_hostmem_var)
