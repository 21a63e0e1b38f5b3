# Runs a program (through the cross-compiling emulator, if any) and checks its exact
# exit code and the exact lines it prints -- what PASS_REGULAR_EXPRESSION cannot do,
# since it ignores the exit code.
#
#   cmake -DPROGRAM=prog.exe [-DEMULATOR=wine-run.sh] [-DARGS=a|b|c]
#         -DEXPECT_EXIT=N [-DEXPECT_STDERR_LINE=text] [-DEXPECT_STDOUT_LINE=text]
#         [-DONE_LINE_PREFIX=text] [-DEXPECT_FILE=path] [-DEXPECT_NO_FILE=path|path]
#         -P expect_run.cmake
#
# ARGS is separated by '|' so that it survives add_test. The expected lines are
# literal (no regex), each must appear as a whole line. With ONE_LINE_PREFIX, exactly
# one stderr line may start with it: the program says what failed once, in one line
# (other lines, such as Wine's own diagnostics, are ignored). EXPECT_FILE is removed
# before the run and must exist after it; none of EXPECT_NO_FILE may exist
# after it.
if(NOT DEFINED PROGRAM OR NOT DEFINED EXPECT_EXIT)
  message(FATAL_ERROR "expect_run.cmake: PROGRAM and EXPECT_EXIT are required")
endif()

set(command ${PROGRAM})
if(EMULATOR)
  set(command ${EMULATOR} ${PROGRAM})
endif()
if(DEFINED ARGS AND NOT ARGS STREQUAL "")
  string(REPLACE "|" ";" arg_list "${ARGS}")
  list(APPEND command ${arg_list})
endif()

if(DEFINED EXPECT_FILE)
  file(REMOVE "${EXPECT_FILE}")
endif()
string(REPLACE "|" ";" no_files "${EXPECT_NO_FILE}")
foreach(f IN LISTS no_files)
  file(REMOVE "${f}")
endforeach()
execute_process(COMMAND ${command}
  RESULT_VARIABLE exit_code
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
# Wine's console writes CRLF for some streams; compare lines without it.
string(REPLACE "\r\n" "\n" out "${out}")
string(REPLACE "\r\n" "\n" err "${err}")

set(failures "")
if(NOT exit_code STREQUAL "${EXPECT_EXIT}")
  string(APPEND failures "exit code: expected ${EXPECT_EXIT}, got ${exit_code}\n")
endif()

function(expect_line stream text what)
  string(FIND "\n${stream}" "\n${text}\n" at)
  if(at EQUAL -1)
    set(failures "${failures}${what}: the line \"${text}\" is missing\n" PARENT_SCOPE)
  endif()
endfunction()

if(DEFINED EXPECT_STDERR_LINE)
  expect_line("${err}" "${EXPECT_STDERR_LINE}" stderr)
endif()
if(DEFINED EXPECT_STDOUT_LINE)
  expect_line("${out}" "${EXPECT_STDOUT_LINE}" stdout)
endif()
if(DEFINED ONE_LINE_PREFIX)
  # ';' and '[' would upset CMake's list splitting; neither is in the prefix.
  string(REGEX REPLACE "[][;]" "_" err_lines "${err}")
  string(REPLACE "\n" ";" err_lines "${err_lines}")
  set(count 0)
  foreach(line IN LISTS err_lines)
    string(FIND "${line}" "${ONE_LINE_PREFIX}" at)
    if(at EQUAL 0)
      math(EXPR count "${count} + 1")
    endif()
  endforeach()
  if(NOT count EQUAL 1)
    string(APPEND failures "stderr: expected one line starting \"${ONE_LINE_PREFIX}\", found ${count}\n")
  endif()
endif()

if(DEFINED EXPECT_FILE AND NOT EXISTS "${EXPECT_FILE}")
  string(APPEND failures "${EXPECT_FILE} was not written\n")
endif()
foreach(f IN LISTS no_files)
  if(EXISTS "${f}")
    string(APPEND failures "${f} was written\n")
  endif()
endforeach()

if(failures)
  message(FATAL_ERROR "${failures}--- stdout ---\n${out}--- stderr ---\n${err}")
endif()
message(STATUS "exit ${exit_code} as expected")
