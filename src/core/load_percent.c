/*
 * The memory load's reciprocal; see load_percent.h.
 *
 * Why one multiplication is exact. Let d be the unit (limit / 100, rounded down), K a
 * number of bits and M = ceil(2^K / d), so M * d = 2^K + e with 0 <= e < d. For a
 * figure n = q * d + r (0 <= r < d),
 *
 *     n * M / 2^K = n / d + n * e / (d * 2^K) = q + (r + n * e / 2^K) / d,
 *
 * and its floor is q whenever n * e < 2^K (then r + n * e / 2^K < r + 1 <= d). The
 * figures asked about are below the limit, and the limit is below 100 * (d + 1) <=
 * 200 * d, so n * e < 200 * d * d: choosing 2^K >= 200 * d^2 makes every answer exact.
 * With d below 2^b, K = max(64, 2b + 8) is enough, and M < 2^K / d + 1 <= 2^(b + 9) + 1
 * fits in 64 bits while b <= 54. The load is then the high word of n * M shifted right
 * by K - 64. A unit of 1 (a limit under 200 bytes) would need M = 2^64, and a unit of
 * 2^54 or more (a limit past an exbibyte) a longer M: those two divide.
 */
#include "load_percent.h"

static unsigned bit_length(uint64_t x)
{
    unsigned bits = 0;

    while (x) {
        bits++;
        x >>= 1;
    }
    return bits;
}

/* ceil(2^bits / d) for 2 <= d < 2^54 and a quotient below 2^64, by long division of
   2^bits - 1 (floor((2^bits - 1) / d) + 1 is the ceiling): the remainder stays below
   d, so twice it plus one never overflows, and the quotient's bits above 64 are 0. */
static uint64_t ceil_power_of_two_over(unsigned bits, uint64_t d)
{
    uint64_t quotient = 0, remainder = 0;
    unsigned i;

    for (i = 0; i < bits; i++) {
        remainder = remainder * 2 + 1;
        quotient <<= 1;
        if (remainder >= d) {
            remainder -= d;
            quotient |= 1;
        }
    }
    return quotient + 1;
}

void hm_load_divisor_init(hm_load_divisor *divisor, uint64_t limit)
{
    uint64_t unit = limit / 100 ? limit / 100 : 1;
    unsigned bits = bit_length(unit), k = 2 * bits + 8 > 64 ? 2 * bits + 8 : 64;

    divisor->limit = limit;
    divisor->unit = unit;
    divisor->magic = 0;
    divisor->shift = 0;
    if (unit >= 2 && bits <= 54) {
        divisor->magic = ceil_power_of_two_over(k, unit);
        divisor->shift = k - 64;
    }
}
