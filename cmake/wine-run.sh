#!/usr/bin/env bash
# Run a cross-built Windows executable under Wine, in hostmem's own prefix.
#
#   cmake/wine-run.sh prog.exe [args...]   run prog.exe (exit status = prog's)
#   cmake/wine-run.sh --init-prefix        only create the prefix if needed
#
# Used as CMAKE_CROSSCOMPILING_EMULATOR by the x86_64 toolchain file, so
# ctest runs every test through it (also in parallel).  Works from any cwd.
#
# Environment:
#   HOSTMEM_WINEPREFIX  prefix to use (default: <repo>/build/wineprefix)
#   HOSTMEM_WINEDEBUG   WINEDEBUG value (default: -all)
#   WINEDLLOVERRIDES    default "mscoree,mshtml=" (no Mono/Gecko prompts);
#                       set it (even to "") to override
#   HOSTMEM_WINE        wine loader to use (default: wine)
set -euo pipefail

script_dir=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
repo_root=$(dirname "$script_dir")

export WINEPREFIX="${HOSTMEM_WINEPREFIX:-$repo_root/build/wineprefix}"
export WINEDEBUG="${HOSTMEM_WINEDEBUG:--all}"
export WINEDLLOVERRIDES="${WINEDLLOVERRIDES-mscoree,mshtml=}"
wine_bin="${HOSTMEM_WINE:-wine}"
marker="$WINEPREFIX/.hostmem-prefix-ready"

# Create the prefix once.  Serialised with flock so that parallel ctest
# jobs hitting a fresh prefix do not all run wineboot at the same time.
init_prefix() {
    [[ -f "$marker" ]] && return 0
    mkdir -p "$(dirname "$WINEPREFIX")"
    local lock="$WINEPREFIX.lock" log="$WINEPREFIX.init.log"
    exec 9>"$lock"
    flock 9
    if [[ ! -f "$marker" ]]; then
        echo "[hostmem] creating Wine prefix $WINEPREFIX" >&2
        # Always without mscoree and mshtml, whatever the caller's WINEDLLOVERRIDES
        # (a test may enable mscoree): wineboot would otherwise offer to install
        # Wine Mono and Gecko, and with a display that dialog waits for a click.
        if ! { WINEDLLOVERRIDES="mscoree,mshtml=" "$wine_bin" wineboot --init && wineserver -w; } >"$log" 2>&1; then
            echo "[hostmem] ERROR: wineboot --init failed for $WINEPREFIX; log: $log" >&2
            tail -n 20 "$log" >&2 || true
            exit 1
        fi
        touch "$marker"
    fi
    exec 9>&-
}

if [[ "${1-}" == "--init-prefix" ]]; then
    init_prefix
    exit 0
fi
if [[ $# -eq 0 ]]; then
    echo "usage: $0 program.exe [args...] | --init-prefix" >&2
    exit 2
fi

init_prefix
exec "$wine_bin" "$@"
