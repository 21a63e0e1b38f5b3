# CMake toolchain file: cross-build for 64-bit Windows with MinGW-w64 (Debian).
#
#   cmake -S . -B build/x86_64 \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-x86_64-w64-mingw32.cmake \
#         -DCMOCKA_ROOT=$PWD/build/_deps/cmocka-x86_64
#
# Test executables run under Wine via CMAKE_CROSSCOMPILING_EMULATOR
# (cmake/wine-run.sh) unless the caller sets another emulator.

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(HOSTMEM_TARGET_TRIPLE x86_64-w64-mingw32)

include(${CMAKE_CURRENT_LIST_DIR}/toolchain-mingw-common.cmake)

if(NOT DEFINED CMAKE_CROSSCOMPILING_EMULATOR)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${CMAKE_CURRENT_LIST_DIR}/wine-run.sh"
      CACHE FILEPATH "Runs the cross-built Windows executables (tests) under Wine")
endif()
