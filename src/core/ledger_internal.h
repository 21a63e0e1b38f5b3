/*
 * What ledger.c and ledger_pages.c share: the layout of the ledger and of its region
 * records. Not for anything outside the ledger; ledger.h is its interface.
 */
#ifndef HOSTMEM_LEDGER_INTERNAL_H
#define HOSTMEM_LEDGER_INTERNAL_H

#include "ledger.h"

#include <stdatomic.h>

#include "budget.h"
#include "sync.h"

/* Windows reserves address space in 64 KiB granules; a region never shares one. */
#define GRANULE_SHIFT 16
#define LEAF_BITS     10
#define MID_BITS      10
#define TOP_BITS      11 /* 16 + 10 + 10 + 11 = 47 bits: all of x64 user space */
#define LEAF_SLOTS    (1u << LEAF_BITS)
#define MID_SLOTS     (1u << MID_BITS)
#define TOP_SLOTS     (1u << TOP_BITS)
#define INDEX_BITS    (TOP_BITS + MID_BITS + LEAF_BITS)

typedef struct radix_leaf { _Atomic(hm_region *) slot[LEAF_SLOTS]; } radix_leaf;
typedef struct radix_mid  { _Atomic(radix_leaf *) leaf[MID_SLOTS]; } radix_mid;

struct hm_region {
    hm_small_lock lock;    /* orders every change of this region's pages with the OS call */
    bool       live;
    /* How the region was reserved, for hm_ledger_snapshot: packed into what was
       padding (after `live`, and beside page_shift), so the record does not grow. */
    uint8_t    level;
    uint16_t   protect_low;
    uintptr_t  base;
    uintptr_t  end;
    size_t     npages;
    size_t     committed;  /* pages set in bits */
    uint8_t    page_shift;
    uint16_t   protect_high;
    uint64_t  *bits;       /* one bit per page; &inline_bits for small regions */
    uint64_t   inline_bits;
    hm_region *next_free;
    hm_region *next_record; /* every record ever made, for hm_ledger_destroy */
};

struct hm_ledger {
    hm_allocator allocator;
    size_t       page_size;
    unsigned     page_shift;
    hm_lock      lock; /* radix writers, the free list, the record list */
    hm_region   *free_records;
    hm_region   *records;
    hm_budget         committed;
    _Atomic(uint64_t) reserved;
    _Atomic(size_t)   regions;
    _Atomic(size_t)   overhead;
    _Atomic(radix_mid *) top[TOP_SLOTS];
};

/* Sets (or clears) pages [first, last) of a bitmap; returns how many changed, or with
   count_only how many would, changing nothing. */
size_t hm_ledger_bits_apply(uint64_t *bits, size_t first, size_t last, bool set, bool count_only);

#endif /* HOSTMEM_LEDGER_INTERNAL_H */
