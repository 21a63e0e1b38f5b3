#!/usr/bin/env bash
# hostmem-report's chart module is portable C: build it natively (no windows.h, no
# MinGW) with the strictest warnings, and check that it draws a trace and refuses a
# malformed one with exit code 2 and the line number. CTest runs it in the native tree
# (native_report_draws_and_refuses):
#
#   tools/check-report-native.sh [OUT_DIR]     (default build/native-report)
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
OUT="${1:-$ROOT/build/native-report}"
CC="${CC:-cc}"
mkdir -p "$OUT"

"$CC" -std=c11 -pedantic -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
      -Wpointer-arith -Werror -O2 -I"$ROOT/tools" -I"$ROOT/src" \
      "$ROOT/tools/report.c" "$ROOT/tools/trace/trace_chart.c" "$ROOT/src/core/trace_format.c" \
      -o "$OUT/hostmem-report"

# The header line as the format defines it (its one spelling).
header=$(sed -n 's/^#define HM_TRACE_HEADER "\(.*\)"$/\1/p' "$ROOT/src/core/trace_format.h")
[[ -n "$header" ]] || { echo "no HM_TRACE_HEADER in src/core/trace_format.h" >&2; exit 1; }
printf '%s\n%s\n%s\n%s\n' "$header" \
    "0,1,Start,,,1048576,90,60,,,0,0" \
    "10,1,VirtualAlloc,0,0x0,983040,0x3000,0x4,0x00000000,0x10000,983040,0" \
    "12,2,OnMemoryNotification,,,,0x1,,,,983040,0" >"$OUT/good.csv"
"$OUT/hostmem-report" "$OUT/good.csv" "$OUT/good.svg"
grep -q '<polyline class="committed"' "$OUT/good.svg"
grep -q 'class="marker notification low"' "$OUT/good.svg"

printf '%s\n%s\n%s\n' "$header" "0,1,Start,,,1048576,90,60,,,0,0" "10,1,VirtualAlloc,0" >"$OUT/bad.csv"
rc=0
err=$("$OUT/hostmem-report" "$OUT/bad.csv" "$OUT/bad.svg" 2>&1) || rc=$?
if [[ $rc -ne 2 || "$err" != "hostmem-report: $OUT/bad.csv:3: expected 12 fields, found 4" ]]; then
    echo "malformed trace: expected exit 2 and the line-3 message, got exit $rc: $err" >&2
    exit 1
fi
if [[ -e "$OUT/bad.svg" || -e "$OUT/bad.svg.tmp" ]]; then
    echo "malformed trace: an SVG was left behind" >&2
    exit 1
fi
echo "hostmem-report builds and runs natively"
