#!/usr/bin/env bash
# The fuzzer's timed run (CTest label fuzz):
#
#   fuzz-timed.sh FUZZ_CORE BUILD_DIR SEED_CORPUS
#
# Runs HOSTMEM_FUZZ_SECONDS (default 10; 60 when CI=true) from the committed seeds
# (read only) plus what earlier local runs found (BUILD_DIR/fuzz-corpus, where new
# inputs go). A crash, a sanitizer report or a failed check leaves the input in
# BUILD_DIR/fuzz-artifacts/ and prints the end of the log.
set -euo pipefail

fuzzer="$1" dir="$2" seeds="$3"
default=10
[[ "${CI:-}" != "true" ]] || default=60
seconds="${HOSTMEM_FUZZ_SECONDS:-$default}"
log="$dir/fuzz.log"
mkdir -p "$dir/fuzz-corpus" "$dir/fuzz-artifacts"
echo "$(basename "$fuzzer") for ${seconds}s (log: $log)"
rc=0
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$dir/fuzz-artifacts/" \
    "$dir/fuzz-corpus" "$seeds" >"$log" 2>&1 || rc=$?
if [[ $rc -ne 0 ]]; then
    echo "$(basename "$fuzzer") failed (exit $rc); the end of its log:"
    tail -n 40 "$log"
    echo "reproduce: $fuzzer $dir/fuzz-artifacts/<crash-file>"
    exit "$rc"
fi
grep -E '^stat::(number_of_executed_units|new_units_added)' "$log" || true
