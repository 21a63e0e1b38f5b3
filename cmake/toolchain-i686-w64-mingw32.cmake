# CMake toolchain file: cross-build for 32-bit Windows with MinGW-w64 (Debian).
#
#   cmake -S . -B build/i686 \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-i686-w64-mingw32.cmake \
#         -DCMOCKA_ROOT=$PWD/build/_deps/cmocka-i686
#
# Test executables run under 32-bit Wine (wine32, in the same win64 prefix as the
# x86_64 build's, through WoW64) via CMAKE_CROSSCOMPILING_EMULATOR
# (cmake/wine-run.sh) unless the caller sets another emulator.
# Only a C (and RC) compiler is installed for i686; C++ is not.

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86)
set(HOSTMEM_TARGET_TRIPLE i686-w64-mingw32)

include(${CMAKE_CURRENT_LIST_DIR}/toolchain-mingw-common.cmake)

if(NOT DEFINED CMAKE_CROSSCOMPILING_EMULATOR)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${CMAKE_CURRENT_LIST_DIR}/wine-run.sh"
      CACHE FILEPATH "Runs the cross-built Windows executables (tests) under Wine")
endif()
