#!/usr/bin/env bash
# Static analysis of src/: cppcheck and clang-tidy, each finding an error.
#
#   tools/static-analysis.sh            both
#   tools/static-analysis.sh cppcheck   only cppcheck
#   tools/static-analysis.sh clang-tidy only clang-tidy
#
# Configuration is committed: .cppcheck-suppressions (each suppression with its
# reason) and .clang-tidy (the checks, and why some are left out).
# cppcheck runs twice: the Windows configuration over every source (_WIN32, WinAPI
# library) and the native one over the portable core (sync.h's pthread branch).
# clang-tidy runs on the MinGW build's compile_commands.json (build/x86_64; clang
# reads the target from x86_64-w64-mingw32-gcc and uses MinGW's headers) and on the
# native build's (build/native) for the portable core. Both trees must exist
# (tools/setup.sh x86_64 native).
# Exit status: 0 when nothing is reported.
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$ROOT"
JOBS="${HOSTMEM_JOBS:-2}"

log() { echo "[hostmem] $*" >&2; }

PORTABLE=(src/block_table.c src/ledger.c src/policy.c src/pressure.c src/size_parse.c
          src/core/heap.c src/core/heap_classes.c src/core/heap_map.c src/core/heap_region.c
          src/core/heap_report.c src/core/spin.c)
status=0

run_cppcheck() {
    local common=("--enable=warning,style,performance,portability" --std=c11 --quiet
                  --error-exitcode=1 --inline-suppr --suppressions-list=.cppcheck-suppressions)
    log "cppcheck: Windows configuration, src/*.c"
    cppcheck "${common[@]}" --library=windows --platform=win64 -D_WIN32 -D_WIN64 \
        -DWIN32_LEAN_AND_MEAN -DHOSTMEM_BUILDING_DLL \
        -Isrc -Iinclude -Ibuild/x86_64/generated src/*.c || return 1
    log "cppcheck: native configuration, the portable core"
    cppcheck "${common[@]}" --platform=unix64 -Isrc -Isrc/core "${PORTABLE[@]}" || return 1
}

# tidy DB FILE...: clang-tidy on each file, $JOBS at a time, without the per-file
# "N warnings generated." lines (those are the headers' own, all filtered out).
tidy() {
    local db="$1"; shift
    printf '%s\n' "$@" | xargs -P "$JOBS" -n 1 clang-tidy --quiet -p "$db" 2>&1 \
        | { grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$' || true; }
    return "${PIPESTATUS[1]}"
}

run_clang_tidy() {
    local db
    for db in build/x86_64 build/native; do
        if [[ ! -f "$db/compile_commands.json" ]]; then
            log "clang-tidy: $db/compile_commands.json missing (tools/setup.sh x86_64 native)"
            return 1
        fi
    done
    log "clang-tidy: src/*.c as the MinGW build compiles them"
    tidy build/x86_64 src/*.c || return 1
    log "clang-tidy: the portable core as the native build compiles it"
    tidy build/native "${PORTABLE[@]}" || return 1
}

what=("$@")
[[ ${#what[@]} -gt 0 ]] || what=(cppcheck clang-tidy)
for w in "${what[@]}"; do
    case "$w" in
        cppcheck)   run_cppcheck   || { log "cppcheck reported findings"; status=1; } ;;
        clang-tidy) run_clang_tidy || { log "clang-tidy reported findings"; status=1; } ;;
        *) log "unknown analysis '$w' (cppcheck, clang-tidy)"; exit 2 ;;
    esac
done
exit "$status"
