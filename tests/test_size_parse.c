/*
 * Sizes as people write them in HOSTMEM_COMMIT_LIMIT (src/core/size_parse.c): digits and
 * one binary suffix, all or nothing. A malformed value must never be half-parsed into
 * a smaller limit, so every rejection also checks that the output was left alone.
 * Free of windows.h: runs under Wine and natively with sanitizers.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "size_parse.h"

#define UNTOUCHED 0x5A5A5A5A5A5A5A5AULL

static void assert_parses(const char *text, uint64_t expected)
{
    uint64_t bytes = UNTOUCHED;

    if (!hm_parse_size(text, &bytes))
        fail_msg("\"%s\" was rejected", text);
    if (bytes != expected)
        fail_msg("\"%s\" parsed as %llu, not %llu", text, (unsigned long long)bytes,
                 (unsigned long long)expected);
}

static void assert_rejected(const char *text)
{
    uint64_t bytes = UNTOUCHED;

    if (hm_parse_size(text, &bytes))
        fail_msg("\"%s\" was accepted as %llu", text, (unsigned long long)bytes);
    if (bytes != UNTOUCHED)
        fail_msg("\"%s\" was rejected but wrote %llu", text, (unsigned long long)bytes);
}

static void size_plain_digits_are_bytes(void **state)
{
    (void)state;
    assert_parses("0", 0);
    assert_parses("1", 1);
    assert_parses("536870912", 536870912);
    assert_parses("000042", 42);
    assert_parses("18446744073709551615", UINT64_MAX);
}

static void size_suffixes_are_binary_in_either_case(void **state)
{
    (void)state;
    assert_parses("512M", 512ULL << 20);
    assert_parses("512m", 512ULL << 20);
    assert_parses("2G", 2ULL << 30);
    assert_parses("2g", 2ULL << 30);
    assert_parses("64K", 64ULL << 10);
    assert_parses("64k", 64ULL << 10);
    assert_parses("3T", 3ULL << 40);
    assert_parses("3t", 3ULL << 40);
    assert_parses("0G", 0);
    assert_parses("0K", 0);
}

static void size_largest_values_that_fit_are_accepted(void **state)
{
    (void)state;
    assert_parses("16777215T", 16777215ULL << 40);          /* 2^64 - 2^40 */
    assert_parses("17179869183G", 17179869183ULL << 30);    /* 2^64 - 2^30 */
    assert_parses("17592186044415M", 17592186044415ULL << 20);
    assert_parses("18014398509481983K", 18014398509481983ULL << 10);
}

static void size_overflow_is_rejected(void **state)
{
    (void)state;
    assert_rejected("18446744073709551616");  /* 2^64 */
    assert_rejected("99999999999999999999");
    assert_rejected("184467440737095516150"); /* a digit more than UINT64_MAX */
    assert_rejected("16777216T");             /* 2^64 exactly after the shift */
    assert_rejected("17179869184G");
    assert_rejected("17592186044416M");
    assert_rejected("18014398509481984K");
    assert_rejected("99999999999999999999999999999999999999G");
}

static void size_unknown_suffixes_and_trailing_text_are_rejected(void **state)
{
    (void)state;
    assert_rejected("12X");
    assert_rejected("2GB");
    assert_rejected("2Gi");
    assert_rejected("2B");
    assert_rejected("2 G");
    assert_rejected("2G ");
    assert_rejected("2G\n");
    assert_rejected("2KM");
    assert_rejected("512MM");
    assert_rejected("0x100");
}

static void size_signs_fractions_and_spaces_are_rejected(void **state)
{
    (void)state;
    assert_rejected("-1");
    assert_rejected("+1");
    assert_rejected("1.5G");
    assert_rejected("1,5G");
    assert_rejected(".5G");
    assert_rejected(" 2G");
    assert_rejected("\t2G");
    assert_rejected("1e9");
}

static void size_without_digits_is_rejected(void **state)
{
    (void)state;
    assert_rejected("");
    assert_rejected("G");
    assert_rejected("k");
    assert_rejected(" ");
    assert_rejected(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(size_plain_digits_are_bytes),
        cmocka_unit_test(size_suffixes_are_binary_in_either_case),
        cmocka_unit_test(size_largest_values_that_fit_are_accepted),
        cmocka_unit_test(size_overflow_is_rejected),
        cmocka_unit_test(size_unknown_suffixes_and_trailing_text_are_rejected),
        cmocka_unit_test(size_signs_fractions_and_spaces_are_rejected),
        cmocka_unit_test(size_without_digits_is_rejected),
    };

    return cmocka_run_group_tests_name("size_parse", tests, NULL, NULL);
}
