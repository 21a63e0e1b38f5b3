/*
 * The books of virtual memory: which reservations this manager made, which of their
 * pages are committed, and the running totals. Free of windows.h so that it also
 * builds natively (sanitizers, fuzzers).
 *
 * Lookups never walk a list: a three-level radix table maps every 64 KiB granule of a
 * reservation to its region record (the region the last lookup found is tried first),
 * and each region keeps one bit per page. Readers take no table lock; region records
 * are recycled but never freed while the ledger lives, and every lookup checks the
 * record it found under the record's own lock, so a reader that raced with a release,
 * or followed a slot a release left behind, finds a dead or different region and
 * looks again. A record is 32 bytes (ledger_internal.h).
 *
 * Commit charging is separate from page marking so that the caller can charge before
 * it asks the OS (a refused request touches nothing) and give the charge back if the
 * OS says no.
 *
 * The calls every commit and decommit makes are declared static inline here and
 * defined in ledger_inline.h, included at the end: see there why.
 */
#ifndef HOSTMEM_LEDGER_H
#define HOSTMEM_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allocator.h"

typedef struct hm_ledger hm_ledger;
typedef struct hm_region hm_region;

/* page_size: a power of two, at least 4096 and at most the 64 KiB granule. */
hm_ledger *hm_ledger_create(const hm_allocator *allocator, size_t page_size);
/* Calls release_fn(context, base) for every region still live, then frees everything. */
void hm_ledger_destroy(hm_ledger *ledger, void (*release_fn)(void *context, uintptr_t base), void *context);

/* --- commit charge (bytes) --- */
/* Adds bytes unless the total would pass ceiling; false (nothing added) if it would. */
static inline bool     hm_ledger_charge(hm_ledger *ledger, uint64_t bytes, uint64_t ceiling);
static inline void     hm_ledger_uncharge(hm_ledger *ledger, uint64_t bytes);
static inline uint64_t hm_ledger_committed_bytes(const hm_ledger *ledger);
uint64_t hm_ledger_peak_committed_bytes(const hm_ledger *ledger);
uint64_t hm_ledger_reserved_bytes(const hm_ledger *ledger);
size_t   hm_ledger_region_count(const hm_ledger *ledger);
/* Bytes of bookkeeping memory the ledger holds now (records, bitmaps, radix nodes). */
size_t   hm_ledger_overhead_bytes(const hm_ledger *ledger);

/* --- new reservations, in two steps around the OS call --- */
/* Takes a record and a page bitmap for a reservation of `bytes`; NULL when the
   ledger's own memory runs out or bytes is 0. Nothing is visible to lookups yet. */
hm_region *hm_ledger_prepare_region(hm_ledger *ledger, size_t bytes);
/* Publishes a prepared region at base (granule-aligned, as the OS returns it); all
   pages committed when `committed`. Adds the reserved bytes; the caller charged the
   committed bytes already. False when a radix node cannot be allocated: the region
   is then discarded and the caller must undo the OS reservation. */
bool hm_ledger_publish_region(hm_ledger *ledger, hm_region *region, uintptr_t base, bool committed);
/* Records how a prepared region is reserved (page protection, critical level), for
   hm_ledger_snapshot; a region never described reads protect 0, level 0. */
void hm_region_set_origin(hm_region *region, uint32_t protect, unsigned level);
/* Gives back a prepared region that was never published. */
void hm_ledger_discard_region(hm_ledger *ledger, hm_region *region);

/* --- existing reservations --- */
/* The live region that contains addr, locked; NULL if no region of this ledger does. */
static inline hm_region *hm_ledger_lock_region(hm_ledger *ledger, uintptr_t addr);
static inline void       hm_ledger_unlock_region(hm_region *region);

/* The following take a locked region. start/end are clamped to the region and
   rounded outwards to pages. */
static inline uintptr_t hm_region_base(const hm_region *region);
static inline uintptr_t hm_region_end(const hm_region *region);
size_t    hm_region_committed_pages(const hm_region *region);
/* Where the bits of the page at addr lie (addr inside the region): a caller that will
   mark them after an OS call asks before it, and prefetches them right after. */
static inline const void *hm_region_bits_at(const hm_region *region, uintptr_t addr);
/* Pages of [start, end) that are not committed yet. */
static inline size_t hm_region_count_uncommitted(const hm_region *region, uintptr_t start, uintptr_t end);
/* Marks [start, end) committed; returns how many pages were newly committed. */
static inline size_t hm_region_mark_committed(hm_region *region, uintptr_t start, uintptr_t end);
/* Marks [start, end) decommitted; returns how many committed pages it cleared. */
static inline size_t hm_region_mark_decommitted(hm_region *region, uintptr_t start, uintptr_t end);
/* The region was released by the OS: drops its reserved bytes, uncharges its
   committed pages, unlocks it and recycles the record. Returns the bytes uncharged. */
uint64_t hm_ledger_retire_region(hm_ledger *ledger, hm_region *region);

/* --- snapshots --- */
typedef struct hm_region_info {
    uintptr_t base;
    size_t    reserved_bytes;
    uint64_t  committed_bytes;
    uint32_t  protect;
    unsigned  level;
} hm_region_info;
/* Copies up to `capacity` live regions into out and returns how many are live (more
   than capacity: call again with more room). Holds the ledger's lock throughout (new
   reservations wait; commits and decommits do not) and reads each region under its
   own lock, so each one is exact and no region appears twice or overlaps another; a
   region released during the walk may or may not be listed. */
size_t hm_ledger_snapshot(hm_ledger *ledger, hm_region_info *out, size_t capacity);

#include "ledger_inline.h"

#endif /* HOSTMEM_LEDGER_H */
