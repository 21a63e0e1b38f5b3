/*
 * A region's pages: one bit per page, set while the page is committed. The counts the
 * commit charge needs (how many of a range are not committed yet, how many a commit or
 * a decommit changed) come from the bits, so the books follow the OS page by page.
 * Every function here takes a region its caller holds locked (ledger.h).
 *
 * These run on every commit and decommit, right after an OS call has pushed the
 * books out of the caches: shifts rather than divisions, and the population count
 * inline rather than a library call.
 */
#include "ledger_internal.h"

unsigned hm_ledger_popcount(uint64_t v)
{
    v = v - ((v >> 1) & 0x5555555555555555ULL);
    v = (v & 0x3333333333333333ULL) + ((v >> 2) & 0x3333333333333333ULL);
    v = (v + (v >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return (unsigned)((v * 0x0101010101010101ULL) >> 56);
}

/* Over bits [first, last): counts (count_only) or changes the bits that differ from
   `set`, returning how many differed. */
size_t hm_ledger_bits_apply(uint64_t *bits, size_t first, size_t last, bool set, bool count_only)
{
    size_t changed = 0;

    while (first < last) {
        size_t word = first >> 6;
        unsigned lo = (unsigned)(first & 63);
        unsigned n = (last - first < 64 - lo) ? (unsigned)(last - first) : 64 - lo;
        uint64_t mask = (n == 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1)) << lo;
        uint64_t differ = set ? (~bits[word] & mask) : (bits[word] & mask);

        if (differ) {
            changed += (differ & (differ - 1)) ? hm_ledger_popcount(differ) : 1;
            if (!count_only)
                bits[word] ^= differ;
        }
        first += n;
    }
    return changed;
}

/* Page indexes [*first, *last) of [start, end) within the region, rounded outwards. */
static bool region_page_span(const hm_region *region, uintptr_t start, uintptr_t end, size_t *first, size_t *last)
{
    unsigned shift = region->page_shift;
    uintptr_t region_last = region_end(region);
    uintptr_t lo = start > region->base ? start : region->base;
    uintptr_t hi = (end < start || end > region_last) ? region_last : end;

    if (hi <= lo)
        return false;
    *first = (lo - region->base) >> shift;
    *last  = (hi - region->base + ((uintptr_t)1 << shift) - 1) >> shift;
    return true;
}

const void *hm_region_bits_at(const hm_region *region, uintptr_t addr)
{
    size_t page = (addr - region->base) >> region->page_shift;

    return region_bits((hm_region *)region) + (page >> 6);
}

size_t hm_region_count_uncommitted(const hm_region *region, uintptr_t start, uintptr_t end)
{
    size_t first, last;

    if (!region_page_span(region, start, end, &first, &last))
        return 0;
    return hm_ledger_bits_apply(region_bits((hm_region *)region), first, last, true, true);
}

static size_t mark(hm_region *region, uintptr_t start, uintptr_t end, bool committed)
{
    size_t first, last, n;

    if (!region_page_span(region, start, end, &first, &last))
        return 0;
    n = hm_ledger_bits_apply(region_bits(region), first, last, committed, false);
    return n;
}

size_t hm_region_mark_committed(hm_region *region, uintptr_t start, uintptr_t end)
{
    return mark(region, start, end, true);
}

size_t hm_region_mark_decommitted(hm_region *region, uintptr_t start, uintptr_t end)
{
    return mark(region, start, end, false);
}
