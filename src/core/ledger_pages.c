/*
 * A region's pages: one bit per page, set while the page is committed. The counts the
 * commit charge needs (how many of a range are not committed yet, how many a commit or
 * a decommit changed) come from the bits, so the books follow the OS page by page.
 * Every function here takes a region its caller holds locked (ledger.h).
 *
 * A range within one word of the bits, which nearly every commit and decommit is, is
 * counted and marked inline in the caller (ledger_inline.h). This is the loop for a
 * range over several words: shifts rather than divisions, and the population count
 * inline rather than a library call.
 */
#include "ledger_internal.h"

/* Over bits [first, last): counts (count_only) or changes the bits that differ from
   `set`, returning how many differed. */
size_t hm_ledger_bits_apply_words(uint64_t *bits, size_t first, size_t last, bool set, bool count_only)
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

