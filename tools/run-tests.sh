#!/usr/bin/env bash
# Build hostmem (tools/setup.sh) and run its test suite.
# Extra arguments are passed to the first step's ctest, e.g.  tools/run-tests.sh -R arena -V
# Exit status: setup's if it fails, otherwise the first failing test step's.
#
# Steps: the unit tests under Wine; the portable core natively with ASan and UBSan
# (clang and gcc); the fuzzer for a bounded time; coverage of src/ from a gcov build
# run under Wine (fails under 95% of lines or 85% of branches); cppcheck and
# clang-tidy over src/.
#
# Environment:
#   HOSTMEM_FUZZ_SECONDS  how long the fuzzer runs (default 60 when CI=true, else 10)
#   HOSTMEM_SKIP_STEPS    space-separated step keys to skip, for quick local runs:
#                         native fuzz coverage static
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

# Wine starts its server with no persistence: it exits the moment the last test
# process does, and a test starting just then dies with "wine client error:
# recvmsg: Connection reset by peer" (seen on about one run in ten). A server that
# lingers 15 s after its last client bridges the gaps between tests, then exits by
# itself. Nothing to do when one is already running for the prefix.
# shellcheck disable=SC2317  # called from the steps
wine_server_linger() {
    WINEPREFIX="${HOSTMEM_WINEPREFIX:-$ROOT/build/wineprefix}" wineserver -p15 2>/dev/null || true
}

# shellcheck disable=SC2317  # called via run_step
step_unit_tests() {
    wine_server_linger
    ctest --test-dir "$ROOT/build/x86_64" --output-on-failure -j "${HOSTMEM_JOBS:-2}" "$@"
}

# shellcheck disable=SC2317
step_native_tests() {
    "$ROOT/tools/setup.sh" native || return 1
    ctest --test-dir "$ROOT/build/native" --output-on-failure -j "${HOSTMEM_JOBS:-2}" || return 1
    ctest --test-dir "$ROOT/build/native-gcc" --output-on-failure -j "${HOSTMEM_JOBS:-2}"
}

# The fuzzer from the committed seeds (tests/native/corpus, read only) plus what
# earlier local runs found (build/native/fuzz-corpus, where new inputs go). A crash,
# a sanitizer report or a failed check leaves the input in build/native/fuzz-artifacts/.
# shellcheck disable=SC2317
step_fuzz() {
    local default=10 seconds dir="$ROOT/build/native" log_file="$ROOT/build/_logs/fuzz.log" rc=0
    [[ "${CI:-}" != "true" ]] || default=60
    seconds="${HOSTMEM_FUZZ_SECONDS:-$default}"
    [[ -x "$dir/fuzz_core" ]] || "$ROOT/tools/setup.sh" native || return 1
    mkdir -p "$dir/fuzz-corpus" "$dir/fuzz-artifacts" "$ROOT/build/_logs"
    log "fuzz_core for ${seconds}s (output: build/_logs/fuzz.log)"
    "$dir/fuzz_core" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$dir/fuzz-artifacts/" \
        "$dir/fuzz-corpus" "$ROOT/tests/native/corpus" >"$log_file" 2>&1 || rc=$?
    if [[ $rc -ne 0 ]]; then
        log "fuzz_core failed (exit $rc); the end of its log:"
        tail -n 40 "$log_file" >&2
        log "reproduce: $dir/fuzz_core $dir/fuzz-artifacts/<crash-file>"
        return "$rc"
    fi
    grep -E '^stat::(number_of_executed_units|new_units_added)' "$log_file" >&2 || true
    # The allocator against its model, from its own seeds (tests/native/corpus_heap).
    [[ -x "$dir/fuzz_heap" ]] || return 0
    mkdir -p "$dir/fuzz-corpus-heap"
    log "fuzz_heap for ${seconds}s (output: build/_logs/fuzz_heap.log)"
    "$dir/fuzz_heap" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
        -print_final_stats=1 -artifact_prefix="$dir/fuzz-artifacts/" \
        "$dir/fuzz-corpus-heap" "$ROOT/tests/native/corpus_heap" >"$ROOT/build/_logs/fuzz_heap.log" 2>&1 || rc=$?
    if [[ $rc -ne 0 ]]; then
        log "fuzz_heap failed (exit $rc); the end of its log:"
        tail -n 40 "$ROOT/build/_logs/fuzz_heap.log" >&2
        log "reproduce: $dir/fuzz_heap $dir/fuzz-artifacts/<crash-file>"
        return "$rc"
    fi
}

# Line and branch coverage of src/ by the Wine test run. libgcov writes each .gcda at
# the absolute Linux path compiled in; Wine resolves it through its Z: drive, which
# maps /. The figures are printed; under the targets the step fails.
# shellcheck disable=SC2317
step_coverage() {
    local dir="$ROOT/build/coverage"
    "$ROOT/tools/setup.sh" coverage || return 1
    find "$dir" -name '*.gcda' -delete
    wine_server_linger
    ctest --test-dir "$dir" --output-on-failure -j "${HOSTMEM_JOBS:-2}" || return 1
    if ! find "$dir" -name '*.gcda' | grep -q .; then
        log "no .gcda files written: the gcov runtime could not reach $dir under Wine"
        return 1
    fi
    gcovr --gcov-executable x86_64-w64-mingw32-gcov --root "$ROOT" \
        --filter "$ROOT/src/" --object-directory "$dir" \
        --txt - --print-summary \
        --html-details "$dir/coverage.html" \
        --fail-under-line "${HOSTMEM_COVERAGE_LINES:-95}" \
        --fail-under-branch "${HOSTMEM_COVERAGE_BRANCHES:-85}" \
        "$dir"
}

# shellcheck disable=SC2317
step_static_analysis() {
    # clang-tidy reads the native tree's compile_commands.json too.
    [[ -f "$ROOT/build/native/compile_commands.json" ]] || "$ROOT/tools/setup.sh" native || return 1
    "$ROOT/tools/static-analysis.sh"
}

skipped() { [[ " ${HOSTMEM_SKIP_STEPS:-} " == *" $1 "* ]]; }

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
run_step "hostmem-report's chart builds and runs natively" "$ROOT/tools/check-report-native.sh"
skipped native   || run_step "native unit tests (ASan+UBSan, clang and gcc)" step_native_tests
skipped fuzz     || run_step "fuzzer (libFuzzer, bounded)" step_fuzz
skipped coverage || run_step "coverage of src/ (gcov build under Wine)" step_coverage
skipped static   || run_step "static analysis (cppcheck, clang-tidy)" step_static_analysis
run_step "benchmark smoke test (hostmem-bench --quick, no timing asserted)" step_bench_smoke
# Further steps go here, e.g.:  run_step "name" some_function

if [[ $status -eq 0 ]]; then log "all test steps passed"; fi
exit "$status"
