/*
 * The ledger's hot path, inline: what every commit and decommit asks of the ledger
 * (find the region, count and mark its pages, charge), compiled into the caller's own
 * code. Included by ledger.h, which declares these functions and says what they do.
 *
 * Why inline: the CLR's commits and decommits come right after an OS call, and an OS
 * call leaves the caller's code out of the first-level caches; each line of code
 * fetched again then costs a few nanoseconds. Measured under Wine with the bench's
 * bookless manager (rows 0c, 0d): sixteen one-line functions called after each OS call
 * add 75-105 ns to a commit+decommit pair, about 2.5 ns a line, where the same calls
 * cost well under 1 ns warm. Out of line, one commit spread over about 25 lines of code
 * in four files; inline, the common case (the region the last lookup found, a range
 * within one word of the page bits, no mark crossed) is a few lines in the caller's
 * own function. The rest stays out of line in ledger.c and ledger_pages.c.
 *
 * This makes the layout (ledger_internal.h) visible to whoever includes ledger.h;
 * nothing outside the ledger reads a field but through these functions.
 */
#ifndef HOSTMEM_LEDGER_INLINE_H
#define HOSTMEM_LEDGER_INLINE_H

#include "ledger_internal.h"

/* --- commit charge --- */

static inline bool hm_ledger_charge(hm_ledger *ledger, uint64_t bytes, uint64_t ceiling)
{
    return hm_budget_charge(&ledger->committed, bytes, ceiling);
}

static inline void hm_ledger_uncharge(hm_ledger *ledger, uint64_t bytes)
{
    hm_budget_uncharge(&ledger->committed, bytes);
}

static inline uint64_t hm_ledger_committed_bytes(const hm_ledger *ledger)
{
    return hm_budget_used(&ledger->committed);
}

/* --- finding a region --- */

static inline hm_region *hm_ledger_lock_region(hm_ledger *ledger, uintptr_t addr)
{
    hm_region *hint = atomic_load_explicit(&ledger->last_found, memory_order_relaxed);

    /* Regions never overlap, so a live hint that holds addr is the answer. The hint is
       only tried, never waited for: another thread may hold its lock across an OS call
       for an address of no concern to this one. */
    if (hint && hm_spin_byte_try_acquire(&hint->lock)) {
        if (region_holds(hint, addr))
            return hint;
        hm_spin_byte_release(&hint->lock);
    }
    return hm_ledger_find_and_lock(ledger, addr, hint);
}

static inline void hm_ledger_unlock_region(hm_region *region)
{
    hm_spin_byte_release(&region->lock);
}

static inline uintptr_t hm_region_base(const hm_region *region) { return region->base; }
static inline uintptr_t hm_region_end(const hm_region *region)  { return region_end(region); }

/* --- a region's pages --- */

/* hm_ledger_bits_apply_words for first < last, inline when the range lies in one word
   (a commit or decommit of up to 64 pages that does not cross a 64-page boundary). */
static inline size_t hm_ledger_bits_apply(uint64_t *bits, size_t first, size_t last, bool set, bool count_only)
{
    size_t word = first >> 6;
    uint64_t mask, differ;

    if (word != (last - 1) >> 6)
        return hm_ledger_bits_apply_words(bits, first, last, set, count_only);
    /* last - first is 1..64 here, so both shifts are under 64. */
    mask = (~(uint64_t)0 >> (64 - (last - first))) << (first & 63);
    differ = set ? (~bits[word] & mask) : (bits[word] & mask);
    if (!count_only)
        bits[word] ^= differ;
    return (differ & (differ - 1)) ? hm_ledger_popcount(differ) : (differ != 0);
}

static inline const void *hm_region_bits_at(const hm_region *region, uintptr_t addr)
{
    size_t page = (addr - region->base) >> region->page_shift;

    return region_bits((hm_region *)region) + (page >> 6);
}

static inline size_t hm_region_count_uncommitted(const hm_region *region, uintptr_t start, uintptr_t end)
{
    size_t first, last;

    if (!region_page_span(region, start, end, &first, &last))
        return 0;
    return hm_ledger_bits_apply(region_bits((hm_region *)region), first, last, true, true);
}

static inline size_t hm_region_mark_committed(hm_region *region, uintptr_t start, uintptr_t end)
{
    size_t first, last;

    if (!region_page_span(region, start, end, &first, &last))
        return 0;
    return hm_ledger_bits_apply(region_bits(region), first, last, true, false);
}

static inline size_t hm_region_mark_decommitted(hm_region *region, uintptr_t start, uintptr_t end)
{
    size_t first, last;

    if (!region_page_span(region, start, end, &first, &last))
        return 0;
    return hm_ledger_bits_apply(region_bits(region), first, last, false, false);
}

#endif /* HOSTMEM_LEDGER_INLINE_H */
