/*
 * The memory load's division (src/core/load_percent.c): one multiplication by a
 * reciprocal made at creation gives exactly committed / (limit / 100), at most 100,
 * for every figure below the limit, whatever the limit. Checked against the division
 * itself at the edges of every whole percent, for limits of every size from a few
 * bytes to past an exbibyte. Free of windows.h: this file runs under Wine (x86_64 with
 * a 128-bit product, i686 with the product in 32-bit halves) and natively with
 * sanitizers (tests/native/CMakeLists.txt).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "load_percent.h"

static uint64_t expected_percent(uint64_t limit, uint64_t committed)
{
    uint64_t unit = limit / 100 ? limit / 100 : 1, q = committed / unit;
    return q > 100 ? 100 : q;
}

/* The figures where an answer changes: each whole unit and its neighbours, and the
   last byte under the limit. */
static void check_limit(uint64_t limit)
{
    hm_load_divisor divisor;
    uint64_t unit = limit / 100 ? limit / 100 : 1, k;
    int delta;

    hm_load_divisor_init(&divisor, limit);
    assert_int_equal(divisor.unit, unit);
    for (k = 0; k <= 101 && k <= UINT64_MAX / unit; k++)
        for (delta = -2; delta <= 2; delta++) {
            uint64_t committed = k * unit + (uint64_t)(int64_t)delta;

            if ((delta < 0 && k * unit < (uint64_t)-delta) || committed >= limit)
                continue;
            if (hm_load_percent(&divisor, committed) != expected_percent(limit, committed))
                fail_msg("limit %llu, committed %llu: %u, not %llu", (unsigned long long)limit,
                         (unsigned long long)committed, hm_load_percent(&divisor, committed),
                         (unsigned long long)expected_percent(limit, committed));
        }
    assert_int_equal(hm_load_percent(&divisor, limit - 1), expected_percent(limit, limit - 1));
}

/* A fixed sequence, so that a failure comes back on the next run. */
static uint64_t next_random(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

static void load_is_exact_for_limits_the_tests_use(void **state)
{
    static const uint64_t limits[] = { 1,      2,      99,     100,    101,     199,     200,
                                       201,    10000,  12345,  1 << 20, 300 << 12, 250 << 12 };
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
        check_limit(limits[i]);
}

/* Where the reciprocal's length changes: units of 2^28 (the last one a 64-bit shift
   holds), 2^53 and 2^54 (the last one a reciprocal holds, then the division). */
static void load_is_exact_where_the_reciprocal_changes_length(void **state)
{
    static const unsigned bits[] = { 27, 28, 29, 32, 33, 53, 54, 55, 56 };
    size_t i;
    int delta;
    (void)state;

    for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
        for (delta = -101; delta <= 101; delta += 101)
            check_limit(((uint64_t)1 << bits[i]) * 100 + (uint64_t)(int64_t)delta);
    check_limit((uint64_t)1 << 32);
    check_limit(((uint64_t)1 << 32) - 1);
    check_limit(UINT64_MAX);
    check_limit(UINT64_MAX / 100 * 100);
}

static void load_is_exact_for_random_limits_of_every_length(void **state)
{
    uint64_t seed = 0x9E3779B97F4A7C15u;
    unsigned bits, n;
    (void)state;

    for (bits = 8; bits <= 64; bits++)
        for (n = 0; n < 40; n++) {
            uint64_t limit = next_random(&seed) >> (64 - bits);
            check_limit(limit ? limit : 1);
        }
}

/* GetMemoryLoad asks without comparing with the limit first: at and past it, 100. */
static void load_is_one_hundred_at_and_past_the_limit(void **state)
{
    static const uint64_t limits[] = { 1, 150, 200, 10000, (uint64_t)1 << 40, ((uint64_t)1 << 54) * 100, UINT64_MAX };
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        hm_load_divisor divisor;

        hm_load_divisor_init(&divisor, limits[i]);
        assert_int_equal(hm_load_percent(&divisor, limits[i]), 100);
        assert_int_equal(hm_load_percent(&divisor, limits[i] + (limits[i] < UINT64_MAX)), 100);
        assert_int_equal(hm_load_percent(&divisor, UINT64_MAX), 100);
    }
}

/* A reciprocal is used for every unit from 2 to under 2^54, the division otherwise. */
static void reciprocal_covers_units_of_two_to_under_two_to_the_fifty_fourth(void **state)
{
    hm_load_divisor divisor;
    (void)state;

    hm_load_divisor_init(&divisor, 199);
    assert_true(divisor.magic == 0);
    hm_load_divisor_init(&divisor, 200);
    assert_true(divisor.magic != 0);
    hm_load_divisor_init(&divisor, (((uint64_t)1 << 54) - 1) * 100);
    assert_true(divisor.magic != 0);
    hm_load_divisor_init(&divisor, ((uint64_t)1 << 54) * 100);
    assert_true(divisor.magic == 0);
}

static void product_high_word_in_halves_is_exact(void **state)
{
    static const uint64_t values[] = { 0, 1, 2, 0xFFFFFFFFu, 0x100000000u, 0x123456789ABCDEFu,
                                       0x8000000000000000u, UINT64_MAX - 1, UINT64_MAX };
    uint64_t seed = 12345;
    size_t i, j;
    unsigned n;
    (void)state;

    /* Known products: (2^64 - 1)^2 = 2^128 - 2^65 + 1, 2^63 * 2 = 2^64. */
    assert_true(hm_load_mulhi64_halves(UINT64_MAX, UINT64_MAX) == UINT64_MAX - 1);
    assert_true(hm_load_mulhi64_halves((uint64_t)1 << 63, 2) == 1);
    assert_true(hm_load_mulhi64_halves(0xFFFFFFFFu, 0xFFFFFFFFu) == 0);
    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        for (j = 0; j < sizeof(values) / sizeof(values[0]); j++)
            assert_true(hm_load_mulhi64_halves(values[i], values[j]) == hm_load_mulhi64(values[i], values[j]));
    for (n = 0; n < 100000; n++) {
        uint64_t a = next_random(&seed), b = next_random(&seed);
        /* x * y's high word is (x * y - low word) / 2^64: with b = 2^k it is a >> (64 - k). */
        unsigned k = (unsigned)(b % 63) + 1;
        assert_true(hm_load_mulhi64_halves(a, (uint64_t)1 << k) == a >> (64 - k));
        assert_true(hm_load_mulhi64_halves(a, b) == hm_load_mulhi64_halves(b, a));
        assert_true(hm_load_mulhi64_halves(a, b) == hm_load_mulhi64(a, b));
        /* Below 2^32, the shorter path. */
        assert_true(hm_load_mulhi64_halves(a >> 32, (uint64_t)1 << k) == (a >> 32) >> (64 - k));
        assert_true(hm_load_mulhi64_halves(a >> 32, b) == hm_load_mulhi64_halves(b, a >> 32));
        assert_true(hm_load_mulhi64_halves(a >> 32, b) == hm_load_mulhi64(a >> 32, b));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(load_is_exact_for_limits_the_tests_use),
        cmocka_unit_test(load_is_exact_where_the_reciprocal_changes_length),
        cmocka_unit_test(load_is_exact_for_random_limits_of_every_length),
        cmocka_unit_test(load_is_one_hundred_at_and_past_the_limit),
        cmocka_unit_test(reciprocal_covers_units_of_two_to_under_two_to_the_fifty_fourth),
        cmocka_unit_test(product_high_word_in_halves_is_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
