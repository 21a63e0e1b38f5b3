# docs/bad-input.md is what the test prints (the bad_input_doc test): the table there
# must be exactly the one `test_bad_input --markdown` prints now, so the page cannot
# drift from the cases the suite runs. To regenerate it after changing the cases:
#   cmake/wine-run.sh build/x86_64/test_bad_input.exe --markdown
# and replace the table in docs/bad-input.md with its output.
#
#   cmake -DPROGRAM=... [-DEMULATOR=...] -DDOC=docs/bad-input.md -P check_bad_input_doc.cmake
set(command ${PROGRAM} --markdown)
if(EMULATOR)
  set(command ${EMULATOR} ${command})
endif()
execute_process(COMMAND ${command} RESULT_VARIABLE rc OUTPUT_VARIABLE printed ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "test_bad_input --markdown exited ${rc}: ${err}")
endif()
string(REPLACE "\r" "" printed "${printed}")
file(READ ${DOC} documented)

# The table rows of each: lines that start with '|'. (Semicolons would split CMake
# lists, so they are masked while the lines are compared.)
function(table_rows text out)
  string(REPLACE ";" "<semicolon>" text "${text}")
  string(REGEX MATCHALL "(^|\n)\\|[^\n]*" rows "${text}")
  list(TRANSFORM rows STRIP)
  set(${out} "${rows}" PARENT_SCOPE)
endfunction()
table_rows("${printed}" printed_rows)
table_rows("${documented}" documented_rows)
list(LENGTH printed_rows n_printed)
list(LENGTH documented_rows n_documented)
if(n_printed LESS 3)
  message(FATAL_ERROR "test_bad_input --markdown printed no table")
endif()
if(NOT printed_rows STREQUAL documented_rows)
  set(i 0)
  foreach(row IN LISTS printed_rows)
    if(i LESS n_documented)
      list(GET documented_rows ${i} doc_row)
    else()
      set(doc_row "(missing)")
    endif()
    if(NOT row STREQUAL doc_row)
      string(STRIP "${row}" row)
      string(STRIP "${doc_row}" doc_row)
      message(FATAL_ERROR "${DOC} differs from test_bad_input --markdown at table row ${i}:\n"
                          "  printed:    ${row}\n  documented: ${doc_row}\n"
                          "(${n_printed} rows printed, ${n_documented} documented; regenerate it, see this script)")
    endif()
    math(EXPR i "${i} + 1")
  endforeach()
  message(FATAL_ERROR "${DOC} has ${n_documented} table rows, test_bad_input --markdown ${n_printed}")
endif()
message(STATUS "${DOC}: ${n_documented} table rows, as test_bad_input --markdown prints them")
