# The benchmark's smoke test (label bench-smoke): hostmem-bench --quick prints every
# row, keeps its books exact (its own exit status) and writes the JSON. It asserts no
# time: the machines are shared; BENCHMARKS.md has the real figures.
#
#   cmake -DPROGRAM=hostmem-bench.exe [-DEMULATOR=wine-run.sh] -DJSON=out.json -P smoke.cmake
set(command ${PROGRAM} --quick --json ${JSON})
if(EMULATOR)
  set(command ${EMULATOR} ${command})
endif()
file(REMOVE "${JSON}")
execute_process(COMMAND ${command} RESULT_VARIABLE exit_code OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT exit_code EQUAL 0)
  message(FATAL_ERROR "hostmem-bench --quick exited ${exit_code}")
endif()
string(REPLACE "\r" "" out "${out}")
foreach(row 1 2 3 4 5 6)
  if(NOT out MATCHES "(^|\n)${row}[a-c ] ")
    message(FATAL_ERROR "hostmem-bench --quick printed no row ${row}")
  endif()
endforeach()
if(NOT EXISTS "${JSON}")
  message(FATAL_ERROR "hostmem-bench --quick wrote no ${JSON}")
endif()
file(READ "${JSON}" json)
if(NOT json MATCHES "\"bookkeeping_bytes\"")
  message(FATAL_ERROR "hostmem-bench --quick wrote an incomplete ${JSON}")
endif()
