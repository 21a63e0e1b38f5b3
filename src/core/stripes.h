/*
 * A byte count that many threads change at once: one padded counter per stripe, each
 * thread adding to its own, summed when read. Keeps IHostMalloc's mallocBytes exact
 * without a cache line that every Alloc and Free on every core must own. The sum is
 * exact modulo 2^64 (a stripe may go "negative" when a block is freed on another
 * thread); a read during concurrent changes is some mix of before and after.
 * Lock-free; free of windows.h.
 */
#ifndef HOSTMEM_STRIPES_H
#define HOSTMEM_STRIPES_H

#include <stdatomic.h>
#include <stdint.h>

#define HM_STRIPES 16

typedef struct hm_stripe {
    _Atomic(uint64_t) value;
    char              pad[64 - sizeof(uint64_t)]; /* one cache line each */
} hm_stripe;

typedef struct hm_stripes {
    hm_stripe stripe[HM_STRIPES];
} hm_stripes;

/* delta may be "negative" (two's complement). */
static inline void hm_stripes_add(hm_stripes *s, unsigned hint, uint64_t delta)
{
    atomic_fetch_add_explicit(&s->stripe[hint % HM_STRIPES].value, delta, memory_order_relaxed);
}

static inline uint64_t hm_stripes_sum(const hm_stripes *s)
{
    uint64_t sum = 0;
    unsigned i;

    for (i = 0; i < HM_STRIPES; i++)
        sum += atomic_load_explicit(&((hm_stripes *)s)->stripe[i].value, memory_order_relaxed);
    return sum;
}

#endif /* HOSTMEM_STRIPES_H */
