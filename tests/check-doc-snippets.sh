#!/usr/bin/env bash
# Every C and C++ code block of the documentation compiles (the doc_snippets test):
# each block fenced as ```c or ```cpp in README.md and docs/*.md is a whole
# translation unit, compiled with -Wall -Wextra -Werror against the headers a host
# uses (hostmem.h, and metahost.h as the build makes it for MinGW-w64), so that a
# renamed field or a changed signature fails here before a reader copies it.
#
#   tests/check-doc-snippets.sh SOURCE_DIR OUT_DIR "CC [ARGS]" "CXX [ARGS]" INCLUDE_DIR...
#
# CXX may be "": the C++ blocks are then skipped, and each is named.
set -euo pipefail

src="$1" out="$2" cc="$3" cxx="$4"
shift 4
includes=()
for dir in "$@"; do includes+=("-I$dir"); done

rm -rf "$out"
mkdir -p "$out"
# One file per block: OUT/<doc>_<line>.<c|cpp>, <line> the fence's line number.
for doc in "$src/README.md" "$src"/docs/*.md; do
    awk -v out="$out" -v name="$(basename "$doc" .md)" '
        !file && /^```(c|cpp)$/ { ext = substr($0, 4); file = out "/" name "_" NR "." ext; next }
        file && /^```$/         { close(file); file = ""; next }
        file                    { print > file }
    ' "$doc"
done

compiled=0 failed=()
for file in "$out"/*.c "$out"/*.cpp; do
    [[ -e "$file" ]] || continue
    base=$(basename "$file")
    where="${base%_*}.md:${base##*_}"
    where="${where%.*}"
    case "$file" in
        *.c)   read -r -a compile <<<"$cc";  compile+=(-std=c11 -x c) ;;
        *.cpp) if [[ -z "$cxx" ]]; then echo "skipped (no C++ compiler for the target): $where"; continue; fi
               read -r -a compile <<<"$cxx"; compile+=(-std=c++11 -x c++) ;;
    esac
    compiled=$((compiled + 1))
    if "${compile[@]}" -Wall -Wextra -Werror "${includes[@]}" -c "$file" -o "$file.o" 2>"$file.log"; then
        echo "compiles: $where"
    else
        echo "DOES NOT COMPILE: $where"
        cat "$file.log"
        failed+=("$where")
    fi
done
if [[ $compiled -eq 0 ]]; then
    echo "no \`\`\`c or \`\`\`cpp block found in README.md or docs/: nothing was checked"
    exit 1
fi
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "code blocks that do not compile: ${failed[*]}"
    exit 1
fi
echo "$compiled code blocks compile"
