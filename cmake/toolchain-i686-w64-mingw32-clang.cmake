# CMake toolchain file: the same i686 Windows target as
# toolchain-i686-w64-mingw32.cmake, compiled by Debian's clang and linked by lld
# against MinGW-w64's headers and libraries. lld writes a PDB beside the DLL, which
# Visual Studio and WinDbg read (gcc's DWARF they cannot): the release presets build
# the shipped DLL this way and run the tests against it.
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-i686-w64-mingw32.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-mingw-clang.cmake)
