# CMake toolchain file: cross-build for 32-bit Windows with MinGW-w64 (Debian).
#
# 32-bit Wine is not available on the build machines, so this target is
# compile-and-link only: no CMAKE_CROSSCOMPILING_EMULATOR is set.  Configure
# with -DHOSTMEM_BUILD_TESTS=OFF -DHOSTMEM_BUILD_TOOLS=OFF.
# Only a C (and RC) compiler is installed for i686; C++ is not.

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86)
set(HOSTMEM_TARGET_TRIPLE i686-w64-mingw32)

include(${CMAKE_CURRENT_LIST_DIR}/toolchain-mingw-common.cmake)
