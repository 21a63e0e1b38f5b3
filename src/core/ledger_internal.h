/*
 * What ledger.c, ledger_pages.c and the inline hot path (ledger_inline.h) share: the
 * layout of the ledger and of its region records. Every includer of ledger.h sees it,
 * through ledger_inline.h; outside the ledger, nothing reads a field but through
 * ledger.h's functions.
 *
 * A record is what every reservation costs, so it is kept to 32 bytes (24 on 32-bit):
 * its lock is one byte, the bitmap of a region of up to 64 pages lives in the record
 * itself (its committed count is the bitmap's population), and records are carved
 * from chunks of RECORDS_PER_CHUNK, so no per-record heap header and no list link is
 * paid. With the radix slot of its granule, a 64 KiB reservation costs about 40 bytes.
 */
#ifndef HOSTMEM_LEDGER_INTERNAL_H
#define HOSTMEM_LEDGER_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allocator.h"
#include "budget.h"
#include "spin.h"

typedef struct hm_ledger hm_ledger; /* as ledger.h declares them */
typedef struct hm_region hm_region;

/* Windows reserves address space in 64 KiB granules; a region never shares one. */
#define GRANULE_SHIFT 16
#define LEAF_BITS     10
#define MID_BITS      10
#define TOP_BITS      11 /* 16 + 10 + 10 + 11 = 47 bits: all of x64 user space */
#define LEAF_SLOTS    (1u << LEAF_BITS)
#define MID_SLOTS     (1u << MID_BITS)
#define TOP_SLOTS     (1u << TOP_BITS)
#define INDEX_BITS    (TOP_BITS + MID_BITS + LEAF_BITS)

#define INLINE_PAGES      64 /* regions up to this many pages keep their bits inline */
#define RECORDS_PER_CHUNK 63 /* 63 records and a link: about 2 KiB a chunk */

typedef struct radix_leaf { _Atomic(hm_region *) slot[LEAF_SLOTS]; } radix_leaf;
typedef struct radix_mid  { _Atomic(radix_leaf *) leaf[MID_SLOTS]; } radix_mid;

struct hm_region {
    /* Orders every change of this region's pages with the OS call (held across it,
       microseconds): one exchange to take, a store to give; waiters spin, then yield. */
    hm_spin_byte lock;
    /* Set by publish under the ledger's lock (not the region's: only stray lookups can
       find it before), cleared by retire under the region's lock. */
    _Atomic(uint8_t) live;
    uint8_t      level;      /* how it was reserved, for hm_ledger_snapshot */
    uint8_t      page_shift;
    uint32_t     protect;
    uintptr_t    base;
    size_t       npages;
    union {
        uint64_t      inline_bits; /* npages <= INLINE_PAGES */
        uint64_t     *bits;        /* npages > INLINE_PAGES: a bitmap of its own, and no
                                      count beside it, so a commit touches one line of
                                      it; the count is the population when asked */
        hm_region    *next_free;   /* not live, on the ledger's free list */
    } u;
};

/* Aligned to 32 bytes (taken from a larger block), so that no 32-byte record straddles
   two cache lines. */
typedef struct record_chunk {
    hm_region            records[RECORDS_PER_CHUNK];
    struct record_chunk *next;
    void                *block; /* what the allocator returned */
} record_chunk;

#define CHUNK_ALIGNMENT 32

struct hm_ledger {
    /* What every commit and reservation touches, in the first line. */
    hm_budget         committed;
    /* The region the last lookup found: commits and decommits come in runs in one
       reservation (the GC's heap, a loader heap), and a hit skips the three dependent
       loads of the radix walk, which after an OS call are three cache misses. */
    _Atomic(hm_region *) last_found;
    unsigned     page_shift;
    /* Radix writers, the free list, the chunks. Held for a few dozen instructions, or
       across a bookkeeping allocation (a new chunk or radix node, rare), or through a
       snapshot's walk; never across an OS call of the CLR's. */
    hm_spin      lock;
    hm_region   *free_records;
    record_chunk *chunks;      /* newest first */
    unsigned     newest_used;  /* records of chunks[0] handed out */
    _Atomic(uint64_t) reserved;
    _Atomic(size_t)   regions;
    size_t       page_size;
    hm_allocator allocator;
    _Atomic(size_t)   overhead;
    _Atomic(radix_mid *) top[TOP_SLOTS];
};

static inline bool region_is_live(const hm_region *region)
{
    return atomic_load_explicit(&((hm_region *)region)->live, memory_order_acquire) != 0;
}

static inline bool region_is_inline(const hm_region *region) { return region->npages <= INLINE_PAGES; }

static inline uint64_t *region_bits(hm_region *region)
{
    return region_is_inline(region) ? &region->u.inline_bits : region->u.bits;
}

static inline uintptr_t region_end(const hm_region *region)
{
    return region->base + ((uintptr_t)region->npages << region->page_shift);
}

/* Page indexes [*first, *last) of [start, end) within the region, rounded outwards;
   false when the range misses the region. */
static inline bool region_page_span(const hm_region *region, uintptr_t start, uintptr_t end, size_t *first,
                                    size_t *last)
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

/* Inline rather than the library's call (GCC has no popcnt instruction to use for the
   x86 baseline, so __builtin_popcountll is a call into libgcc). */
static inline unsigned hm_ledger_popcount(uint64_t v)
{
    v = v - ((v >> 1) & 0x5555555555555555ULL);
    v = (v & 0x3333333333333333ULL) + ((v >> 2) & 0x3333333333333333ULL);
    v = (v + (v >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return (unsigned)((v * 0x0101010101010101ULL) >> 56);
}

/* Sets (or clears) pages [first, last) of a bitmap, first < last; returns how many
   changed, or with count_only how many would, changing nothing. Any range:
   ledger_pages.c; hm_ledger_bits_apply (ledger_inline.h) takes the one-word case
   itself. */
size_t hm_ledger_bits_apply_words(uint64_t *bits, size_t first, size_t last, bool set, bool count_only);

/* The live region that holds addr, locked, found through the radix table: what
   hm_ledger_lock_region does when `tried`, the last region found, is not it. */
hm_region *hm_ledger_find_and_lock(hm_ledger *ledger, uintptr_t addr, hm_region *tried);

/* Under region's lock: whether it is the live region that holds addr. */
static inline bool region_holds(const hm_region *region, uintptr_t addr)
{
    return region_is_live(region) && addr >= region->base && addr < region_end(region);
}

#endif /* HOSTMEM_LEDGER_INTERNAL_H */
