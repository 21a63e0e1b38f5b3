/*
 * A region's pages: one bit per page, set while the page is committed. The counts the
 * commit charge needs (how many of a range are not committed yet, how many a commit or
 * a decommit changed) come from the bits, so the books follow the OS page by page.
 * Every function here takes a region its caller holds locked (ledger.h).
 */
#include "ledger_internal.h"

static unsigned popcount64(uint64_t v)
{
    return (unsigned)__builtin_popcountll(v);
}

/* Over bits [first, last): counts (count_only) or changes the bits that differ from
   `set`, returning how many differed. */
size_t hm_ledger_bits_apply(uint64_t *bits, size_t first, size_t last, bool set, bool count_only)
{
    size_t changed = 0;

    while (first < last) {
        size_t word = first / 64;
        unsigned lo = (unsigned)(first % 64);
        unsigned n = (last - first < 64 - lo) ? (unsigned)(last - first) : 64 - lo;
        uint64_t mask = (n == 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1)) << lo;
        uint64_t differ = set ? (~bits[word] & mask) : (bits[word] & mask);

        changed += popcount64(differ);
        if (!count_only)
            bits[word] ^= differ;
        first += n;
    }
    return changed;
}

/* Page indexes [*first, *last) of [start, end) within the region, rounded outwards. */
static bool region_page_span(const hm_region *region, uintptr_t start, uintptr_t end, size_t *first, size_t *last)
{
    size_t page_size = (size_t)1 << region->page_shift;
    uintptr_t lo = start > region->base ? start : region->base;
    uintptr_t hi = (end < start || end > region->end) ? region->end : end;

    if (hi <= lo)
        return false;
    *first = (lo - region->base) / page_size;
    *last  = (hi - region->base + page_size - 1) / page_size;
    return true;
}

size_t hm_region_count_uncommitted(const hm_region *region, uintptr_t start, uintptr_t end)
{
    size_t first, last;

    if (!region_page_span(region, start, end, &first, &last))
        return 0;
    return hm_ledger_bits_apply(region->bits, first, last, true, true);
}

size_t hm_region_mark_committed(hm_region *region, uintptr_t start, uintptr_t end)
{
    size_t first, last, n;

    if (!region_page_span(region, start, end, &first, &last))
        return 0;
    n = hm_ledger_bits_apply(region->bits, first, last, true, false);
    region->committed += n;
    return n;
}

size_t hm_region_mark_decommitted(hm_region *region, uintptr_t start, uintptr_t end)
{
    size_t first, last, n;

    if (!region_page_span(region, start, end, &first, &last))
        return 0;
    n = hm_ledger_bits_apply(region->bits, first, last, false, false);
    region->committed -= n;
    return n;
}

