# cmake -DOBJDUMP=... -DNM=... -DDLL=hostmem.dll -DDEF=src/hostmem.def
#       -DMAJOR=0 -DMINOR=1 -DHIGH_ENTROPY=ON -P check_dll_properties.cmake
#
# The properties cmake/hardening.cmake and the .def give hostmem.dll, read back from
# the built file with the toolchain's objdump and nm (tests/dll_properties.cmake):
#   - DllCharacteristics: DYNAMIC_BASE, NX_COMPAT (and HIGH_ENTROPY_VA on x64);
#   - the PE image version is project(VERSION)'s major.minor;
#   - every export of the .def has the ordinal the .def pins (NAME @N);
#   - the stack protector is in: __stack_chk_fail and __stack_chk_guard are linked
#     into the DLL (only code built with -fstack-protector* references them, and a
#     static archive member is only linked when referenced), and no libssp-0.dll is
#     imported, so the DLL ships alone.
foreach(var OBJDUMP NM DLL DEF MAJOR MINOR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_dll_properties.cmake: -D${var}=... is required")
  endif()
endforeach()

set(failures "")
macro(check condition message)
  if(${condition})
    message(STATUS "ok: ${message}")
  else()
    message(STATUS "FAILED: ${message}")
    list(APPEND failures "${message}")
  endif()
endmacro()

execute_process(COMMAND ${OBJDUMP} -p ${DLL} OUTPUT_VARIABLE pe RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${OBJDUMP} -p ${DLL} failed (${rc})")
endif()

# DllCharacteristics: the hex word, then one flag name per line.
string(REGEX MATCH "DllCharacteristics[ \t]+[0-9a-fA-F]+((\n[ \t]+[A-Z_]+)*)" dllchar "${pe}")
set(dllchar "${CMAKE_MATCH_1}")
set(flags DYNAMIC_BASE NX_COMPAT)
if(HIGH_ENTROPY)
  list(APPEND flags HIGH_ENTROPY_VA)
endif()
foreach(flag IN LISTS flags)
  string(REGEX MATCH "[ \t]${flag}(\n|$)" found "${dllchar}")
  check(found "DllCharacteristics has ${flag}")
endforeach()

string(REGEX MATCH "MajorImageVersion[ \t]+([0-9]+)" _ "${pe}")
set(major "${CMAKE_MATCH_1}")
string(REGEX MATCH "MinorImageVersion[ \t]+([0-9]+)" _ "${pe}")
set(minor "${CMAKE_MATCH_1}")
set(version_ok FALSE)
if("${major}.${minor}" STREQUAL "${MAJOR}.${MINOR}")
  set(version_ok TRUE)
endif()
check(version_ok "image version ${major}.${minor} is ${MAJOR}.${MINOR}")

# Ordinals: objdump lists "[ i] NAME" under "[Ordinal/Name Pointer] Table", i being
# the ordinal less the ordinal base.
string(REGEX MATCH "Ordinal Base[ \t]+([0-9]+)" _ "${pe}")
set(base "${CMAKE_MATCH_1}")
string(FIND "${pe}" "[Ordinal/Name Pointer] Table" at)
set(has_table FALSE)
if(NOT base STREQUAL "" AND at GREATER -1)
  set(has_table TRUE)  # (lld starts the ordinals at base 0, ld at base 1)
endif()
check(has_table "the DLL has an export table")
if(NOT has_table)
  message(FATAL_ERROR "no export table to check")
endif()
string(SUBSTRING "${pe}" ${at} -1 names)
file(STRINGS ${DEF} def_lines REGEX "^[ \t]+[A-Za-z_][A-Za-z0-9_@]*[ \t]+@[0-9]+")
set(pinned 0)
foreach(line IN LISTS def_lines)
  string(REGEX MATCH "^[ \t]+([A-Za-z_][A-Za-z0-9_@]*)[ \t]+@([0-9]+)" _ "${line}")
  set(name "${CMAKE_MATCH_1}")
  set(ordinal "${CMAKE_MATCH_2}")
  math(EXPR index "${ordinal} - ${base}")
  string(REGEX MATCH "\\[ *${index}\\] ${name}\n" found "${names}")
  check(found "${name} is exported with ordinal ${ordinal}")
  math(EXPR pinned "${pinned} + 1")
endforeach()
set(any_pinned FALSE)
if(pinned GREATER 0)
  set(any_pinned TRUE)
endif()
check(any_pinned "${DEF} pins ordinals (${pinned})")

string(REGEX MATCH "DLL Name: libssp[^\n]*" ssp_import "${pe}")
set(no_ssp_dll TRUE)
if(ssp_import)
  set(no_ssp_dll FALSE)
endif()
check(no_ssp_dll "no libssp DLL is imported")

# The protector's two symbols: in the DLL's symbol table (ld), or, when lld left it
# none and wrote a PDB (-DPDB=...), among the PDB's public symbols.
execute_process(COMMAND ${NM} ${DLL} OUTPUT_VARIABLE symbols ERROR_QUIET RESULT_VARIABLE rc)
set(pdb_names "")
if(NOT rc EQUAL 0 OR NOT symbols MATCHES "[^\n]")
  if(NOT PDB OR NOT EXISTS "${PDB}")
    message(FATAL_ERROR "${NM} ${DLL} listed no symbols and there is no PDB: the DLL must keep its symbol table for this check")
  endif()
  file(STRINGS ${PDB} pdb_names REGEX "__stack_chk_(fail|guard)")
endif()
foreach(symbol __stack_chk_fail __stack_chk_guard)
  string(REGEX MATCH " [TtDdBbRr] _?${symbol}\n" found "${symbols}")
  if(NOT found)
    string(REGEX MATCH "(^|[^A-Za-z0-9_])_?${symbol}($|[^A-Za-z0-9_])" found "${pdb_names}")
  endif()
  check(found "${symbol} is linked into the DLL")
endforeach()

if(failures)
  list(LENGTH failures n)
  message(FATAL_ERROR "${n} DLL propert(y/ies) not as expected")
endif()
