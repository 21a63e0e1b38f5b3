#!/usr/bin/env bash
# Build hostmem and run every test: the README's test command, and all that CI runs.
#
#   tools/run-tests.sh [CTEST_ARGS...]
#
# tools/setup.sh installs what is missing (apt packages, cmocka, the Wine prefix); then
# each of CMakePresets.json's presets is configured, built and tested with CTest:
#   x86_64      unit tests under Wine, static analysis, benchmark smoke (labels unit,
#               static, bench-smoke)
#   i686        the unit tests again under 32-bit Wine (unit)
#   native      the portable core under ASan+UBSan with clang, the fuzzer's corpus and
#               a timed fuzz run, static analysis of the core (native, fuzz, static)
#   native-gcc  the portable core under ASan+UBSan with gcc (native)
#   native-tsan the core's concurrent paths under ThreadSanitizer with clang (native)
#   coverage    the unit tests on a gcov build, then the coverage report (unit,
#               coverage)
#   release-x86_64, release-i686
#               the shipped DLL (clang and lld, with its PDB): the unit tests against
#               it, and the ZIP packed and checked (unit, package)
# CTEST_ARGS go to every ctest run, e.g.  tools/run-tests.sh -L unit  or  -R malloc.
# One kind by hand:  ctest --preset x86_64 -L static   (docs/testing.md)
#
# Environment:
#   HOSTMEM_PRESETS       which presets to run (default: all of the above, in that order)
#   HOSTMEM_FUZZ_SECONDS  how long the timed fuzz run takes (default 60 when CI=true, else 10)
#   HOSTMEM_JOBS          parallel build and test jobs (default 2)
# Exit status: 1 if setup fails, otherwise the first failing preset's ctest status.
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$ROOT"
PRESETS=(${HOSTMEM_PRESETS:-x86_64 i686 native native-gcc native-tsan coverage release-x86_64 release-i686})
JOBS="${HOSTMEM_JOBS:-2}"

log() { echo "[hostmem] $*" >&2; }

# Setup failures are fatal: nothing below can run without the tools.
"$ROOT/tools/setup.sh" deps cmocka mimalloc wineprefix || { log "setup failed; no tests run"; exit 1; }

# Wine starts its server with no persistence: it exits the moment the last test
# process does, and a test starting just then dies with "wine client error:
# recvmsg: Connection reset by peer". A server that lingers 15 s after its last
# client bridges the gaps between tests, then exits by itself.
wine_server_linger() {
    WINEPREFIX="${HOSTMEM_WINEPREFIX:-$ROOT/build/wineprefix}" wineserver -p15 2>/dev/null || true
}

status=0
for preset in "${PRESETS[@]}"; do
    log "preset $preset: build"
    rc=0
    "$ROOT/tools/setup.sh" "${preset//-/_}" || rc=$?
    if [[ $rc -eq 0 ]]; then
        log "preset $preset: ctest --preset $preset $*"
        [[ "$preset" == native* ]] || wine_server_linger
        ctest --preset "$preset" -j "$JOBS" "$@" || rc=$?
    fi
    if [[ $rc -ne 0 ]]; then
        log "preset $preset FAILED (exit $rc)"
        [[ $status -ne 0 ]] || status=$rc
    fi
done

if [[ $status -eq 0 ]]; then log "all presets passed: ${PRESETS[*]}"; fi
exit "$status"
