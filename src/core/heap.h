/*
 * hostmem's own allocator: the memory behind IHostMalloc. Portable C11 (no windows.h),
 * so that it also runs natively under the sanitizers and the fuzzer.
 *
 * Design (docs/heap.md has the full text):
 * - Small blocks, 0..HM_HEAP_SMALL_MAX bytes, are rounded up to one of HM_HEAP_CLASSES
 *   size classes (multiples of 16, at most 25% rounding past 128 bytes) and carved out
 *   of 64 KiB slabs; each slab serves one class. Larger blocks get a region of their
 *   own, rounded up to the page.
 * - Every slab and region is one mapping from the provider below: natively mmap, in
 *   the DLL the manager's booked VirtualAlloc path, so every byte the heap commits
 *   counts against the commit limit and takes the policy path when it does not fit.
 * - Nothing of the allocator lives inside or between blocks: each slab's record, its
 *   free list (a 16-bit index per block) and its requested sizes (16 bits per block)
 *   are in bookkeeping memory of their own, 4 bytes per block. A block that is
 *   overrun corrupts its neighbours' data, never the heap's books.
 * - Free never touches the pointer: the 64 KiB granule it lies in is looked up in the
 *   heap's own radix map (heap_map.h); then the block must start exactly on a block of
 *   that slab (or be the region's base) and be allocated. Anything else is refused and
 *   nothing changes.
 * - Thread-safe heaps have HM_HEAP_ARENAS sets of the size classes a thread can own
 *   and one shared set. The first thread to allocate in its thread number's arena
 *   (thread.h) owns it: it allocates there with no locked instruction and frees its own
 *   blocks there with one (the exchange of the block's requested size for 0, which also
 *   refuses a second Free from any thread). Others allocate in the shared set under the
 *   class locks, and free blocks of an arena they do not own under the class lock onto
 *   the slab's remote list, for the owner to take back. A thread that exits hands its
 *   arenas on (hm_heap_thread_exit). Each class has one spin lock (spin.h), the large
 *   regions one more; heaps that are not thread-safe have one set and take no lock.
 * - Empty slabs: one per class stays (so a hot class does not map and unmap at every
 *   block), a second one is given back at once.
 */
#ifndef HOSTMEM_HEAP_H
#define HOSTMEM_HEAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allocator.h"

#define HM_HEAP_SLAB_SIZE  ((size_t)64 * 1024) /* also the granule of the radix map */
#define HM_HEAP_SMALL_MAX  ((size_t)4096)      /* larger blocks get a region each */
#define HM_HEAP_CLASSES    28
#define HM_HEAP_ARENAS     8                   /* sets of classes a thread can own */
#define HM_HEAP_SHARED     HM_HEAP_ARENAS      /* the set of the threads that own none */
#define HM_HEAP_SETS       ((HM_HEAP_ARENAS + 1) * HM_HEAP_CLASSES)
#define HM_HEAP_ALIGNMENT  16
#define HM_HEAP_KEEP_EMPTY 1                   /* empty slabs kept per class */

/* Where the heap's slabs and regions come from. */
typedef struct hm_heap_provider {
    /* Reserves and commits bytes (a multiple of HM_HEAP_SLAB_SIZE for slabs, of the page
       size for regions) at an address aligned to HM_HEAP_SLAB_SIZE, for a request at
       `level` (EMemoryCriticalLevel, passed through). NULL when there is no memory. */
    void *(*map)(void *context, size_t bytes, int level);
    /* Gives back a mapping. False when the OS refused: it stays mapped (and booked). */
    bool (*unmap)(void *context, void *base, size_t bytes);
    void *context;
} hm_heap_provider;

/* The bytes requested by the heap's live blocks, counted where the owner can read them
   at any moment without a lock (mallocBytes): one counter per size class and one for the
   large blocks, each written only under the lock of what it counts (a plain load and
   store, no locked instruction), each in a cache line of its own. */
#define HM_HEAP_COUNTERS (HM_HEAP_SETS + HM_HEAP_ARENAS + 1)
typedef struct hm_heap_counter {
    _Atomic(uint64_t) bytes;
    char              pad[64 - sizeof(uint64_t)];
} hm_heap_counter;

/* Their sum (relaxed reads: exact when the heap is quiet). */
static inline uint64_t hm_heap_counters_sum(const hm_heap_counter *counters)
{
    uint64_t sum = 0;
    unsigned i;

    for (i = 0; i < HM_HEAP_COUNTERS; i++)
        sum += atomic_load_explicit(&((hm_heap_counter *)counters)[i].bytes, memory_order_relaxed);
    return sum;
}

typedef struct hm_heap_config {
    hm_allocator     allocator;  /* the heap's own bookkeeping */
    hm_heap_provider provider;
    size_t           page_size;  /* a power of two, at most HM_HEAP_SLAB_SIZE */
    bool             threadsafe; /* false: no locks at all; one thread at a time */
    /* HM_HEAP_COUNTERS zeroed counters that outlive the heap (the owner zeroes them
       again after hm_heap_destroy); NULL: the heap keeps its own. */
    hm_heap_counter *counters;
} hm_heap_config;

typedef struct hm_heap hm_heap;

/* One live block, as the leak report lists it. */
typedef struct hm_heap_block {
    void       *address;
    size_t      size;  /* bytes requested */
    const char *file;  /* DebugAlloc's, or NULL */
    int         line;
} hm_heap_block;

typedef enum hm_heap_status {
    HM_HEAP_OK = 0,
    HM_HEAP_NO_MEMORY,    /* the provider or the bookkeeping ran out: nothing changed */
    HM_HEAP_NOT_A_BLOCK,  /* Free: not a live block of this heap: nothing changed */
    HM_HEAP_OS_REFUSED    /* Free: the provider could not unmap: the block stays live */
} hm_heap_status;

/* NULL when the bookkeeping cannot be allocated. */
hm_heap *hm_heap_create(const hm_heap_config *config);
/* Unmaps every slab and region, live blocks included, and frees all bookkeeping.
   Returns how many unmaps the provider refused (those mappings are left to it). */
size_t hm_heap_destroy(hm_heap *heap);

/* size: any value up to what the provider could map; file/line kept for the leak
   report (file NULL: none). The block is 16-byte aligned and never shared with another
   live block, even for size 0. Not zeroed. */
hm_heap_status hm_heap_alloc(hm_heap *heap, size_t size, int level, const char *file, int line, void **block);
/* *size: the bytes the block was requested with (on HM_HEAP_OK; size may be NULL). */
hm_heap_status hm_heap_free(hm_heap *heap, void *block, size_t *size);
/* Gives back every empty slab the classes keep (the hysteresis' reserve, at most one
   per class of each arena), for when memory is short. Returns the bytes given back. */
size_t hm_heap_trim(hm_heap *heap);
/* Whether block is a live block of this heap (no side effects). */
bool hm_heap_owns(hm_heap *heap, const void *block, size_t *size);

/* --- the leak report: a consistent snapshot under concurrent Alloc and Free --- */
/* Stops every Alloc and Free of the heap until hm_heap_unlock_all (no-op for heaps that
   are not thread-safe). Nothing may allocate from this heap in between. */
void   hm_heap_lock_all(hm_heap *heap);
void   hm_heap_unlock_all(hm_heap *heap);
/* Under hm_heap_lock_all, around what is read (the count and the copy): begin waits
   until no arena's owner is inside a call and notes where each one is; valid says
   whether none has run since (an owner that had not yet seen the stop may finish one
   more call). Read again from begin until valid: then the reading is one consistent
   snapshot. */
void   hm_heap_snapshot_begin(hm_heap *heap);
bool   hm_heap_snapshot_valid(const hm_heap *heap);
/* Under hm_heap_lock_all: the live blocks, and a copy of at most room of them (how many
   were copied; in a valid snapshot, the count). */
size_t hm_heap_block_count(const hm_heap *heap);
size_t hm_heap_copy_blocks(const hm_heap *heap, hm_heap_block *out, size_t room);

/* The calling thread is about to exit: the arenas it owns, in every thread-safe heap,
   are handed back (the blocks other threads freed into them taken back first, empty
   slabs beyond the kept one given back), for the next thread to own. Called by the
   thread-exit hook (thread.h: src/thread_win32.c, thread_posix.c) on its own; callable
   directly. */
void   hm_heap_thread_exit(void);

/* --- figures --- */
typedef struct hm_heap_stats {
    uint64_t live_bytes;      /* requested by live blocks */
    uint64_t live_blocks;
    uint64_t rounded_bytes;   /* what the live blocks occupy after class rounding */
    uint64_t committed_bytes; /* mapped from the provider now */
    uint64_t slabs;
    uint64_t regions;
    uint64_t bookkeeping_bytes;
    uint64_t lost_bytes;      /* mapped, but the provider refused them back on an error path */
} hm_heap_stats;

/* Not a snapshot unless under hm_heap_lock_all; exact when the heap is quiet. */
void hm_heap_get_stats(const hm_heap *heap, hm_heap_stats *stats);

/* --- size classes (heap_classes.c) --- */
/* The class of a small size (<= HM_HEAP_SMALL_MAX): 16-byte steps up to 128, then the
   top bit of size - 1 picks the doubling and the next two bits the quarter within it.
   Computed, not looked up: a table would be another cache line on every Alloc. */
static inline unsigned hm_heap_class_of(size_t size)
{
    size_t n;
    unsigned bits;

    if (size <= 128)
        return size ? (unsigned)((size - 1) >> 4) : 0;
    n = size - 1;
    bits = 63u - (unsigned)__builtin_clzll((unsigned long long)n);
    return 8u + (bits - 7u) * 4u + (unsigned)((n >> (bits - 2u)) & 3u);
}

/* Each class's block size. */
size_t hm_heap_class_size(unsigned cls);

#endif /* HOSTMEM_HEAP_H */
