#!/usr/bin/env bash
# Build hostmem (tools/setup.sh) and run the demo, hostmem-replay.exe, under
# Wine.  Arguments are passed to the demo; setup output goes to stderr so the
# demo's stdout stays clean.  Relative paths are resolved from your cwd.
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
DEMO="$ROOT/build/x86_64/hostmem-replay.exe"

"$ROOT/tools/setup.sh" deps cmocka wineprefix x86_64 >&2 || { echo "[hostmem] setup failed; demo not run" >&2; exit 1; }

if [[ ! -f "$DEMO" ]]; then
    echo "[hostmem] ERROR: $DEMO was not built" >&2
    exit 1
fi
# Without arguments: the README's run, with the default 64 MiB limit, its trace and
# its chart under build/demo/.
if [[ $# -eq 0 ]]; then
    mkdir -p "$ROOT/build/demo"
    cd "$ROOT/build/demo"
    set -- --trace replay.csv --chart replay.svg
    echo "[hostmem] hostmem-replay $* (in build/demo)" >&2
fi
exec "$ROOT/cmake/wine-run.sh" "$DEMO" "$@"
