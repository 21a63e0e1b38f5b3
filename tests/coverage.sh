#!/usr/bin/env bash
# Line and branch coverage of src/ by the Wine test run (the coverage preset; CTest
# runs "reset" before the unit tests and "report" after them, label coverage):
#
#   tests/coverage.sh reset  BUILD_DIR
#   tests/coverage.sh report BUILD_DIR SOURCE_DIR MIN_LINES MIN_BRANCHES
#
# libgcov writes each .gcda at the absolute Linux path compiled in; Wine resolves it
# through its Z: drive, which maps /. The report prints the figures, writes
# BUILD_DIR/coverage.html, and fails under the given percentages.
set -euo pipefail

case "${1-}" in
    reset)
        find "$2" -name '*.gcda' -delete
        ;;
    report)
        dir="$2" root="$3"
        if ! find "$dir" -name '*.gcda' | grep -q .; then
            echo "no .gcda files written: the gcov runtime could not reach $dir under Wine" >&2
            exit 1
        fi
        gcovr --gcov-executable x86_64-w64-mingw32-gcov --root "$root" \
            --filter "$root/src/" --object-directory "$dir" \
            --txt - --print-summary \
            --html-details "$dir/coverage.html" \
            --fail-under-line "$4" --fail-under-branch "$5" \
            "$dir"
        ;;
    *)
        echo "usage: $0 reset BUILD_DIR | report BUILD_DIR SOURCE_DIR MIN_LINES MIN_BRANCHES" >&2
        exit 2
        ;;
esac
