/*
 * The memory load under a commit limit: the whole number of hundredths of the limit
 * committed, committed / (limit / 100), at most 100. Free of windows.h.
 *
 * The CLR's GC asks for the load often, and the OS answers its own question in a few
 * nanoseconds under Wine (from a cache), so the division must cost less than the call
 * around it: a 64-bit division alone costs more, and on 32-bit x86 it is a library
 * call. The unit never changes, so it is divided by once, at creation, into a
 * reciprocal (a "magic number"); each load is then one multiplication, the high word
 * of a 64x64-bit product, and a shift. The reciprocal is rounded up and long enough
 * that the result is the exact quotient for every figure below the limit, with no
 * correction step (load_percent.c gives the bound and its proof).
 */
#ifndef HOSTMEM_LOAD_PERCENT_H
#define HOSTMEM_LOAD_PERCENT_H

#include <stdint.h>

#include "hints.h"

typedef struct hm_load_divisor {
    uint64_t limit;
    uint64_t unit;  /* a hundredth of the limit, at least 1 */
    uint64_t magic; /* ceil(2^(64 + shift) / unit); 0: divide (a unit of 1, or past 2^54) */
    unsigned shift;
} hm_load_divisor;

/* For a limit (not 0). */
void hm_load_divisor_init(hm_load_divisor *divisor, uint64_t limit);

/* The high 64 bits of a 64x64-bit product in 32-bit halves, for targets without a
   128-bit integer (i686); compiled everywhere, so that the native tests check it. */
static inline uint64_t hm_load_mulhi64_halves(uint64_t a, uint64_t b)
{
    uint64_t a_lo = (uint32_t)a, a_hi = a >> 32, b_lo = (uint32_t)b, b_hi = b >> 32;
    uint64_t lo_lo = a_lo * b_lo, lo_hi = a_lo * b_hi, hi_lo, hi_hi, middle;

    /* A 32-bit process commits less than 4 GiB: with a below 2^32 the product is two
       32x32 ones, and their sum stays below 2^64 ((2^32 - 1)^2 + 2^32 - 1). */
    if (!a_hi)
        return (lo_hi + (lo_lo >> 32)) >> 32;
    hi_lo = a_hi * b_lo;
    hi_hi = a_hi * b_hi;
    /* The middle column: three terms below 2^32 each. */
    middle = (lo_lo >> 32) + (uint32_t)hi_lo + (uint32_t)lo_hi;
    return hi_hi + (hi_lo >> 32) + (lo_hi >> 32) + (middle >> 32);
}

static inline uint64_t hm_load_mulhi64(uint64_t a, uint64_t b)
{
#if defined(__SIZEOF_INT128__)
    return (uint64_t)(((unsigned __int128)a * b) >> 64);
#else
    return hm_load_mulhi64_halves(a, b);
#endif
}

/* committed / unit, at most 100, below the limit the divisor was made for; 100 at and
   past it. With a reciprocal (a limit of 200 bytes or more) that needs no compare: the
   reciprocal is rounded up, so it never answers less than the quotient, which is 100
   or more there. A limit under 100 bytes has a unit of 1 and a quotient under 100 at
   the limit: the division's path compares. */
static inline uint32_t hm_load_percent(const hm_load_divisor *divisor, uint64_t committed)
{
    uint64_t q;

    if (HM_LIKELY(divisor->magic))
        q = hm_load_mulhi64(committed, divisor->magic) >> divisor->shift;
    else
        q = committed >= divisor->limit ? 100 : committed / divisor->unit;
    return q > 100 ? 100 : (uint32_t)q;
}

#endif /* HOSTMEM_LOAD_PERCENT_H */
