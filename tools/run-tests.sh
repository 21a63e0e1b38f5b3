#!/usr/bin/env bash
# Build hostmem (tools/setup.sh) and run its test suite.
# Extra arguments are passed to ctest, e.g.  tools/run-tests.sh -R arena -V
# Exit status: setup's if it fails, otherwise the first failing test step's.
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$ROOT"

log() { echo "[hostmem] $*" >&2; }

status=0
# run_step NAME CMD...: run one test step; remember the first failure and
# carry on so that every step reports.
run_step() {
    local name="$1" rc=0; shift
    log "step: $name"
    "$@" || rc=$?
    if [[ $rc -ne 0 ]]; then
        log "step '$name' FAILED (exit $rc)"
        [[ $status -ne 0 ]] || status=$rc
    fi
}

# shellcheck disable=SC2317  # called via run_step
step_unit_tests() {
    ctest --test-dir "$ROOT/build/x86_64" --output-on-failure -j "${HOSTMEM_JOBS:-2}" "$@"
}

# The benchmark's smoke test: every row printed, the books exact, the JSON written.
# It asserts no time (the machine is shared); BENCHMARKS.md has the real figures.
# shellcheck disable=SC2317  # called via run_step
step_bench_smoke() {
    local out row json="$ROOT/build/hostmem-bench-quick.json" rc=0
    rm -f "$json"
    out=$("$ROOT/cmake/wine-run.sh" "$ROOT/build/x86_64/hostmem-bench.exe" --quick --json "$json") || rc=$?
    printf '%s\n' "$out"
    if [[ $rc -ne 0 ]]; then
        log "hostmem-bench --quick exited $rc"
        return 1
    fi
    for row in 1 2 3 4 5 6; do
        if ! grep -q "^${row}[a-c ] " <<<"$out"; then
            log "hostmem-bench --quick printed no row $row"
            return 1
        fi
    done
    if ! grep -q '"bookkeeping_bytes"' "$json" 2>/dev/null; then
        log "hostmem-bench --quick wrote no complete $json"
        return 1
    fi
}

# Setup failures are fatal: nothing below can run without a build.
"$ROOT/tools/setup.sh" || { log "setup failed; no tests run"; exit 1; }

run_step "unit tests (ctest, x86_64 under Wine)" step_unit_tests "$@"
run_step "benchmark smoke test (hostmem-bench --quick, no timing asserted)" step_bench_smoke
# Further steps go here, e.g.:  run_step "name" some_function

if [[ $status -eq 0 ]]; then log "all test steps passed"; fi
exit "$status"
