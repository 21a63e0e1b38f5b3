#!/usr/bin/env bash
# One static analysis of hostmem's sources, each finding an error. CTest runs it (label
# static; cmake/static_analysis.cmake passes the build's own file lists):
#
#   tools/static-analysis.sh cppcheck   windows|native BUILD_DIR FILE...
#   tools/static-analysis.sh clang-tidy windows|native BUILD_DIR FILE...
#
# windows: the MinGW build's configuration (_WIN32, the WinAPI library; the generated
# headers in BUILD_DIR/generated). native: the portable core as Linux builds it (sync.h's
# pthread branch). clang-tidy reads BUILD_DIR/compile_commands.json (for MinGW, clang
# takes the target from x86_64-w64-mingw32-gcc and uses MinGW's headers).
# Configuration is committed: .cppcheck-suppressions and .clang-tidy.
# Exit status: 0 when nothing is reported, 1 on findings, 2 on bad usage.
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$ROOT"
JOBS="${HOSTMEM_JOBS:-2}"

if [[ $# -lt 4 ]]; then
    echo "usage: $0 cppcheck|clang-tidy windows|native BUILD_DIR FILE..." >&2
    exit 2
fi
tool="$1" platform="$2" build="$3"
shift 3

run_cppcheck() {
    local common=("--enable=warning,style,performance,portability" --std=c11 --quiet
                  --error-exitcode=1 --inline-suppr --suppressions-list=.cppcheck-suppressions
                  -Isrc -Isrc/core)
    case "$platform" in
        windows) cppcheck "${common[@]}" --library=windows --platform=win64 -D_WIN32 -D_WIN64 \
                     -DWIN32_LEAN_AND_MEAN -DHOSTMEM_BUILDING_DLL \
                     -Iinclude -I"$build/generated" "$@" ;;
        native)  cppcheck "${common[@]}" --platform=unix64 "$@" ;;
        *) echo "unknown platform '$platform' (windows, native)" >&2; exit 2 ;;
    esac
}

# clang-tidy on each file, $JOBS at a time, without the per-file "N warnings
# generated." lines (those are the headers' own, all filtered out).
run_clang_tidy() {
    if [[ ! -f "$build/compile_commands.json" ]]; then
        echo "clang-tidy: $build/compile_commands.json missing" >&2
        return 1
    fi
    printf '%s\n' "$@" | xargs -P "$JOBS" -n 1 clang-tidy --quiet -p "$build" 2>&1 \
        | { grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$' || true; }
    return "${PIPESTATUS[1]}"
}

case "$tool" in
    cppcheck)   run_cppcheck "$@" ;;
    clang-tidy) run_clang_tidy "$@" ;;
    *) echo "unknown analysis '$tool' (cppcheck, clang-tidy)" >&2; exit 2 ;;
esac
