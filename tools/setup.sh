#!/usr/bin/env bash
# Prepare everything needed to build and test hostmem, then build it.
# Idempotent: each step is skipped quickly when its result already exists.
#
#   tools/setup.sh                 all steps, in order
#   tools/setup.sh STEP...         only these: deps cmocka mimalloc wineprefix x86_64 i686,
#                                  or the extra trees tools/run-tests.sh builds:
#                                  native native_gcc coverage
#
# The build trees are CMakePresets.json's presets (cmake --preset NAME); this script
# only installs what they need and then configures and builds them.
#
# Layout (all under <repo>/build, which is git-ignored):
#   build/_deps/cmocka-x86_64/     cmocka install prefixes (= CMOCKA_ROOT), one per target
#   build/_deps/cmocka-i686/
#   build/_deps/cmocka-work/       apt download, unpacked source, cmocka build
#   build/_deps/mimalloc-x86_64/   mimalloc for the bench's comparison rows (optional; never in the DLL)
#   build/wineprefix/              project-local Wine prefix
#   build/x86_64/, build/i686/     the presets' CMake build trees
#   build/native/, build/native-gcc/  the portable core on Linux, ASan+UBSan (clang
#                                  with the fuzzer; gcc)
#   build/coverage/                x86_64 with gcov instrumentation of src/
#   build/_logs/                   logs of the quiet steps
#
# Environment: HOSTMEM_JOBS (default 2) parallel build jobs.
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
BUILD="$ROOT/build"
DEPS="$BUILD/_deps"
LOGS="$BUILD/_logs"
JOBS="${HOSTMEM_JOBS:-2}"

CMOCKA_PREFIX="$DEPS/cmocka-x86_64"
CMOCKA_PREFIX_I686="$DEPS/cmocka-i686"
CMOCKA_WORK="$DEPS/cmocka-work"
WINE_RUN="$ROOT/cmake/wine-run.sh"
TC_X86_64="$ROOT/cmake/toolchain-x86_64-w64-mingw32.cmake"
TC_I686="$ROOT/cmake/toolchain-i686-w64-mingw32.cmake"

APT_PACKAGES=(
    gcc-mingw-w64-x86-64 gcc-mingw-w64-i686 g++-mingw-w64-x86-64
    mingw-w64-tools libwine-dev wine64 wine
    # 32-bit Wine, to run the i686 build's tests (needs the i386 architecture: step_deps)
    wine32:i386
    cmake make dpkg-dev xz-utils ca-certificates
    # native: hostmem-report's check, the sanitizer tests, the fuzzer, coverage, static analysis
    clang libclang-rt-14-dev gcc libc6-dev libcmocka-dev gcovr cppcheck clang-tidy
    # clang and lld: the release presets' DLL and PDB, the MSVC-style link test;
    # llvm-dlltool: the MSVC import library hostmem.lib
    lld llvm
    # the sample managed workload (samples/), compiled for the .NET Framework 4 runtime
    mono-mcs
    # find_package_in_a_user_project also checks hostmem.pc
    pkg-config
)

CURRENT_STEP=""

log() { echo "[hostmem] $*" >&2; }

on_exit() {
    local rc=$?
    if [[ $rc -ne 0 && -n "$CURRENT_STEP" ]]; then
        log "ERROR: setup step '$CURRENT_STEP' failed (exit $rc)"
    fi
}
trap on_exit EXIT

# run_quiet LOGNAME CMD...: run CMD with output in build/_logs/LOGNAME.log;
# on failure show the end of the log.
run_quiet() {
    local logfile="$LOGS/$1.log"; shift
    mkdir -p "$LOGS"
    if ! "$@" >>"$logfile" 2>&1; then
        log "command failed: $*"
        log "last lines of $logfile:"
        tail -n 30 "$logfile" >&2 || true
        return 1
    fi
}

# fresh_log LOGNAME: start an empty build/_logs/LOGNAME.log
fresh_log() { mkdir -p "$LOGS"; : >"$LOGS/$1.log"; }

as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# ---------------------------------------------------------------- deps ----
step_deps() {
    local missing=() pkg name arch installed update=0
    # wine32 is an i386 package: dpkg must accept that architecture first, and
    # apt only lists i386 packages after an update that follows.
    if ! dpkg --print-foreign-architectures | grep -qx i386; then
        log "adding the i386 dpkg architecture (for wine32)"
        as_root dpkg --add-architecture i386
        update=1
    fi
    # PACKAGE or PACKAGE:ARCH; a name without an architecture may be of any.
    installed=$(dpkg-query -W -f='${Package} ${Architecture} ${db:Status-Abbrev}\n' \
                    "${APT_PACKAGES[@]}" 2>/dev/null || true)
    for pkg in "${APT_PACKAGES[@]}"; do
        name=${pkg%%:*}; arch=""
        [[ "$pkg" != *:* ]] || arch=${pkg#*:}
        awk -v n="$name" -v a="$arch" '$1 == n && (a == "" || $2 == a) && $3 == "ii" { f = 1 }
            END { exit !f }' <<<"$installed" || missing+=("$pkg")
    done
    if [[ ${#missing[@]} -eq 0 && $update -eq 0 ]]; then
        return 0
    fi
    fresh_log apt
    run_quiet apt as_root env DEBIAN_FRONTEND=noninteractive apt-get update
    [[ ${#missing[@]} -gt 0 ]] || return 0
    log "installing apt packages: ${missing[*]}"
    run_quiet apt as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}"
}

# -------------------------------------------------------------- cmocka ----
# deb-src entries derived from the machine's own apt sources, written to a
# private apt directory so the system apt configuration is never touched.
write_src_sources() {
    local parts="$1" f
    rm -f "$parts"/*.sources "$parts"/*.list
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f "$f" ]] || continue
        sed -E 's/^Types:.*$/Types: deb-src/' "$f" >"$parts/hostmem-$(basename "$f")"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f "$f" ]] || continue
        sed -nE 's/^[[:space:]]*deb(-src)?[[:space:]]+/deb-src /p' "$f" | sort -u \
            >"$parts/hostmem-$(basename "$f" .list).list"
    done
    if ! cat "$parts"/* 2>/dev/null | grep -qE '^(Types: deb-src|deb-src )'; then
        log "no apt sources found in /etc/apt to derive deb-src entries from"
        return 1
    fi
}

fetch_cmocka_source() {
    local apt_dir="$CMOCKA_WORK/apt" dl="$CMOCKA_WORK/download"
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" \
             "$apt_dir/parts" "$dl"
    if ! compgen -G "$dl/cmocka_*.dsc" >/dev/null; then
        log "downloading cmocka Debian source package"
        fresh_log cmocka-fetch
        write_src_sources "$apt_dir/parts"
        local apt_opts=(
            -o Dir::Etc::SourceList=/dev/null
            -o "Dir::Etc::SourceParts=$apt_dir/parts"
            -o "Dir::State::Lists=$apt_dir/lists"
            -o "Dir::Cache=$apt_dir/cache"
        )
        # A failing third-party source must not stop us; apt-get source
        # below reports the real problem if cmocka cannot be found.
        run_quiet cmocka-fetch apt-get "${apt_opts[@]}" update \
            || log "warning: apt-get update reported errors (continuing)"
        (cd "$dl" && run_quiet cmocka-fetch apt-get "${apt_opts[@]}" \
            source --download-only cmocka)
    fi
    local dsc
    dsc=$(printf "%s\n" "$dl"/cmocka_*.dsc | sort -V | tail -n 1)
    rm -rf "$CMOCKA_WORK/src"
    log "unpacking $(basename "$dsc")"
    run_quiet cmocka-build dpkg-source -x "$dsc" "$CMOCKA_WORK/src"
}

# build_cmocka PREFIX TOOLCHAIN: cmocka from the unpacked source, for one target,
# into PREFIX (skipped when it is already there).
build_cmocka() {
    local prefix="$1" toolchain="$2" arch
    arch=${prefix##*/cmocka-}
    if [[ -f "$prefix/lib/libcmocka-static.a" && -f "$prefix/include/cmocka.h" ]]; then
        return 0
    fi
    log "building cmocka for $arch Windows into $prefix"
    mkdir -p "$CMOCKA_WORK"
    fresh_log cmocka-build
    fresh_log "cmocka-build-$arch"
    fetch_cmocka_source
    local bdir="$CMOCKA_WORK/build-$arch" stage="$prefix.tmp"
    rm -rf "$bdir" "$stage"
    run_quiet "cmocka-build-$arch" cmake -S "$CMOCKA_WORK/src" -B "$bdir" \
        -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_INSTALL_PREFIX="$stage" \
        -DWITH_STATIC_LIB=ON -DWITH_EXAMPLES=OFF \
        -DUNIT_TESTING=OFF -DPICKY_DEVELOPER=OFF
    run_quiet "cmocka-build-$arch" cmake --build "$bdir" -j "$JOBS"
    run_quiet "cmocka-build-$arch" cmake --install "$bdir"
    # Install to a staging dir and rename, so an interrupted build never
    # leaves a half-installed prefix that looks complete.
    rm -rf "$prefix"
    mv "$stage" "$prefix"
    [[ -f "$prefix/lib/libcmocka-static.a" ]] || {
        log "libcmocka-static.a missing after install into $prefix"; return 1; }
}

# The same Debian source package for both targets.
step_cmocka() {
    build_cmocka "$CMOCKA_PREFIX" "$TC_X86_64"
    build_cmocka "$CMOCKA_PREFIX_I686" "$TC_I686"
}

# ------------------------------------------------------------ mimalloc ----
# mimalloc for hostmem-bench's comparison rows (3m*) only, never linked into
# hostmem.dll: Debian's source package, built for x86_64 Windows like cmocka.
# Optional: when it cannot be fetched or built, the bench skips those rows and
# says so; this step then warns and succeeds.
MIMALLOC_PREFIX="$DEPS/mimalloc-x86_64"
MIMALLOC_WORK="$DEPS/mimalloc-work"

build_mimalloc() {
    local apt_dir="$MIMALLOC_WORK/apt" dl="$MIMALLOC_WORK/download" dsc
    local bdir="$MIMALLOC_WORK/build" stage="$MIMALLOC_PREFIX.tmp"
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/parts" "$dl"
    if ! compgen -G "$dl/mimalloc_*.dsc" >/dev/null; then
        log "downloading mimalloc Debian source package"
        write_src_sources "$apt_dir/parts" || return 1
        local apt_opts=(
            -o Dir::Etc::SourceList=/dev/null
            -o "Dir::Etc::SourceParts=$apt_dir/parts"
            -o "Dir::State::Lists=$apt_dir/lists"
            -o "Dir::Cache=$apt_dir/cache"
        )
        run_quiet mimalloc-build apt-get "${apt_opts[@]}" update \
            || log "warning: apt-get update reported errors (continuing)"
        (cd "$dl" && run_quiet mimalloc-build apt-get "${apt_opts[@]}" source --download-only mimalloc) || return 1
    fi
    dsc=$(printf "%s\n" "$dl"/mimalloc_*.dsc | sort -V | tail -n 1)
    rm -rf "$MIMALLOC_WORK/src" "$bdir" "$stage"
    run_quiet mimalloc-build dpkg-source -x "$dsc" "$MIMALLOC_WORK/src" || return 1
    run_quiet mimalloc-build cmake -S "$MIMALLOC_WORK/src" -B "$bdir" \
        -DCMAKE_TOOLCHAIN_FILE="$TC_X86_64" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_INSTALL_PREFIX="$stage" -DMI_BUILD_SHARED=OFF -DMI_BUILD_STATIC=ON \
        -DMI_BUILD_OBJECT=OFF -DMI_BUILD_TESTS=OFF -DMI_OVERRIDE=OFF || return 1
    run_quiet mimalloc-build cmake --build "$bdir" -j "$JOBS" || return 1
    run_quiet mimalloc-build cmake --install "$bdir" || return 1
    rm -rf "$MIMALLOC_PREFIX"
    mv "$stage" "$MIMALLOC_PREFIX"
}

step_mimalloc() {
    if compgen -G "$MIMALLOC_PREFIX/lib/mimalloc-*/libmimalloc-static.a" >/dev/null; then
        return 0
    fi
    log "building mimalloc for x86_64 Windows into $MIMALLOC_PREFIX (bench only)"
    fresh_log mimalloc-build
    build_mimalloc || log "warning: mimalloc could not be built; hostmem-bench skips its mimalloc rows"
    return 0
}

# ---------------------------------------------------------- wineprefix ----
step_wineprefix() {
    "$WINE_RUN" --init-prefix
}

# --------------------------------------------------------- cmake trees ----
# Each tree is one of CMakePresets.json's presets, in build/PRESET. `cmake --preset`
# runs only when the tree has no cache yet (afterwards `cmake --build` re-runs CMake
# itself when a CMakeLists.txt changed); a cache left by another configuration (for
# example one made before the presets) is replaced.
build_preset() {
    local preset="$1" bdir="$BUILD/$1"
    if [[ ! -f "$bdir/CMakeCache.txt" ]] || ! grep -q "^CMAKE_HOME_DIRECTORY:INTERNAL=$ROOT\$" "$bdir/CMakeCache.txt" \
       || [[ ! -f "$bdir/.hostmem-preset" ]]; then
        log "configuring build/$preset (preset $preset)"
        rm -rf "$bdir"
        fresh_log "configure-$preset"
        run_quiet "configure-$preset" cmake --preset "$preset" -S "$ROOT"
        : >"$bdir/.hostmem-preset"
    fi
    log "building build/$preset"
    fresh_log "build-$preset"
    run_quiet "build-$preset" cmake --build --preset "$preset" -j "$JOBS"
}

step_x86_64()     { build_preset x86_64; }
step_i686()       { build_preset i686; }
# Not in the default steps (the demo needs none of them); tools/run-tests.sh builds them.
step_native()     { build_preset native; }
step_native_gcc() { build_preset native-gcc; }
step_native_tsan() { build_preset native-tsan; }
step_coverage()   { build_preset coverage; }
step_release_x86_64() { build_preset release-x86_64; }
step_release_i686()   { build_preset release-i686; }

# ---------------------------------------------------------------- main ----
ALL_STEPS=(deps cmocka mimalloc wineprefix x86_64 i686)
EXTRA_STEPS=(native native_gcc native_tsan coverage release_x86_64 release_i686)

main() {
    local steps=("$@") s
    [[ ${#steps[@]} -gt 0 ]] || steps=("${ALL_STEPS[@]}")
    for s in "${steps[@]}"; do
        if ! declare -F "step_$s" >/dev/null; then
            log "unknown step '$s' (known: ${ALL_STEPS[*]} ${EXTRA_STEPS[*]})"
            exit 2
        fi
    done
    for s in "${steps[@]}"; do
        CURRENT_STEP="$s"
        "step_$s"
    done
    CURRENT_STEP=""
}

main "$@"
