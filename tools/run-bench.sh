#!/usr/bin/env bash
# Build hostmem (tools/setup.sh), then run the benchmark under Wine: the table in
# BENCHMARKS.md. Arguments go to hostmem-bench, e.g.
#   tools/run-bench.sh                      the full run (about a minute)
#   tools/run-bench.sh --json bench.json    the same figures as JSON too
#   tools/run-bench.sh --quick              the smoke test CI runs
# Leave the machine as quiet as you can: other load shows in the spread.
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
"$ROOT/tools/setup.sh" deps cmocka mimalloc wineprefix x86_64 >&2
exec "$ROOT/cmake/wine-run.sh" "$ROOT/build/x86_64/hostmem-bench.exe" "$@"
