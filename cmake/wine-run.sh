#!/usr/bin/env bash
# Run a cross-built Windows executable under Wine, in hostmem's own prefix.
#
#   cmake/wine-run.sh prog.exe [args...]   run prog.exe (exit status = prog's)
#   cmake/wine-run.sh --init-prefix        only create (or repair) the prefix
#
# Used as CMAKE_CROSSCOMPILING_EMULATOR by both toolchain files, so ctest runs
# every test through it (also in parallel); one win64 prefix runs the x86_64
# and the i686 (WoW64) programs.  Works from any cwd.
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

default_prefix="$repo_root/build/wineprefix"
export WINEPREFIX="${HOSTMEM_WINEPREFIX:-$default_prefix}"
export WINEDEBUG="${HOSTMEM_WINEDEBUG:--all}"
export WINEDLLOVERRIDES="${WINEDLLOVERRIDES-mscoree,mshtml=}"
wine_bin="${HOSTMEM_WINE:-wine}"
marker="$WINEPREFIX/.hostmem-prefix-ready"

# What the prefix was checked against: the loaders Wine has beside the one we run
# (Debian: /usr/lib/wine/wine only when wine32 is installed).  When this changes,
# the prefix is checked again: one made while Wine was 64-bit only cannot run
# 32-bit programs, nor often 64-bit ones ("could not load kernel32.dll"), once
# wine32 is there.  Cheap (no Wine started): every test run compares it.
wine_fingerprint() {
    local bin libdir
    bin=$(command -v "$wine_bin" || echo "$wine_bin")
    libdir="$(dirname "$(readlink -f "$bin")")/../lib/wine"
    {
        echo "$bin"
        stat -Lc '%n %s %Y' "$bin" "$libdir"/* 2>/dev/null || true
    }
}

# prefix_works BITS: a trivial program of that width runs and exits 0.
prefix_works() {
    local cmd='cmd'
    [[ "$1" == 64 ]] || cmd='C:\windows\syswow64\cmd.exe'
    WINEDLLOVERRIDES="mscoree,mshtml=" timeout 120 "$wine_bin" "$cmd" /c exit >>"$log" 2>&1 </dev/null
}

# Make a fresh prefix. Always without mscoree and mshtml, whatever the caller's
# WINEDLLOVERRIDES (a test may enable mscoree): wineboot would otherwise offer to
# install Wine Mono and Gecko, and with a display that dialog waits for a click.
# WINEARCH is left to Wine (win64): one prefix serves 32- and 64-bit programs.
create_prefix() {
    if ! { WINEDLLOVERRIDES="mscoree,mshtml=" "$wine_bin" wineboot --init && wineserver -w; } >>"$log" 2>&1 </dev/null; then
        echo "[hostmem] ERROR: wineboot --init failed for $WINEPREFIX; log: $log" >&2
        tail -n 20 "$log" >&2 || true
        exit 1
    fi
}

# Create the prefix once, and check it again (recreating it if it is broken)
# whenever Wine's loaders change.  Serialised with flock so that parallel ctest
# jobs do not all run wineboot at the same time.
init_prefix() {
    local want
    want=$(wine_fingerprint)
    [[ -f "$marker" && "$(cat "$marker")" == "$want" ]] && return 0
    mkdir -p "$(dirname "$WINEPREFIX")"
    local lock="$WINEPREFIX.lock"
    log="$WINEPREFIX.init.log"
    exec 9>"$lock"
    flock 9
    if [[ ! -f "$marker" || "$(cat "$marker")" != "$want" ]]; then
        unset WINEARCH
        : >"$log"
        if [[ ! -d "$WINEPREFIX" ]]; then
            echo "[hostmem] creating Wine prefix $WINEPREFIX" >&2
            create_prefix
        elif ! prefix_works 64 || ! prefix_works 32; then
            # Only a prefix this script made (its marker, even a stale one, says
            # so) or the default one is ever deleted.
            if [[ ! -f "$marker" && "$WINEPREFIX" != "$default_prefix" ]]; then
                echo "[hostmem] ERROR: Wine prefix $WINEPREFIX cannot run a 32- or 64-bit program" \
                     "and was not made by $0; remove it or set HOSTMEM_WINEPREFIX; log: $log" >&2
                exit 1
            fi
            echo "[hostmem] Wine prefix $WINEPREFIX cannot run a 32- or 64-bit program" \
                 "(made by another Wine installation?): recreating it" >&2
            wineserver -k >>"$log" 2>&1 || true
            wineserver -w >>"$log" 2>&1 || true
            rm -rf "$WINEPREFIX"
            create_prefix
        fi
        if ! prefix_works 64; then
            echo "[hostmem] ERROR: a fresh Wine prefix $WINEPREFIX cannot run 'cmd /c exit'; log: $log" >&2
            tail -n 20 "$log" >&2 || true
            exit 1
        fi
        if ! prefix_works 32; then
            # The x86_64 build needs no more; the i686 tests will fail to start.
            echo "[hostmem] warning: Wine cannot run 32-bit programs (wine32 missing?" \
                 "tools/setup.sh deps installs it); log: $log" >&2
        fi
        printf '%s' "$want" >"$marker"
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

# Now and then (seen once in a few thousand starts under parallel ctest) Wine fails to
# start a program at all: "Application could not be started, or no application
# associated with the specified file. ShellExecuteEx failed". The program never ran,
# so running it once more is safe; anything the program itself prints or returns is
# passed on untouched. Wine's stderr is copied to a file only to read that message.
errors=$(mktemp "${TMPDIR:-/tmp}/hostmem-wine-run.XXXXXX")
trap 'rm -f "$errors"' EXIT
for attempt in 1 2; do
    rc=0
    "$wine_bin" "$@" 2> >(tee "$errors" >&2) || rc=$?
    wait # for tee
    if [[ $rc -ne 0 && $attempt -eq 1 ]] && grep -q "ShellExecuteEx failed" "$errors"; then
        echo "[hostmem] Wine could not start $1; starting it again" >&2
        continue
    fi
    exit "$rc"
done
