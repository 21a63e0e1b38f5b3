/*
 * The heap's records and the helpers its files share: heap.c (the entry points, Alloc
 * and Free of small blocks), heap_slab.c (a class's slabs, made to given back),
 * heap_arena.c (an arena's ownership: remote frees, standing in, thread exit),
 * heap_region.c (large blocks) and heap_report.c (the leak report and the figures).
 * Not for the heap's users.
 *
 * Locks: a class's lock, the region lock, the map's lock, the registry's
 * (heap_arena.c); none is ever taken while another is held, except by the leak report,
 * which takes every class lock in class order, then the region lock, and by
 * hm_heap_thread_exit, which takes one class lock at a time under the registry's. An
 * arena's owner holds no lock in its lock-free part and never waits there. No class or
 * region lock is held across a call to the provider; the registry's is, by
 * hm_heap_thread_exit giving back an exiting owner's emptied slabs (it keeps the heap
 * from going meanwhile; only heap creation and destruction wait for it). Only the map's
 * lock is held across the bookkeeping allocator (a new radix node, rare), and nothing
 * under that allocator takes a heap lock.
 */
#ifndef HOSTMEM_HEAP_INTERNAL_H
#define HOSTMEM_HEAP_INTERNAL_H

#include "heap.h"
#include "heap_map.h"
#include "hints.h"
#include "spin.h"
#include "thread.h"

/* The functions heap.c, heap_slab.c and heap_arena.c share (below) keep, on i686, the
   convention GCC gives a file's own static functions: the first three arguments in
   registers. So the fast paths that call out to them compile as they did when all was
   in heap.c, tail calls included (a stack argument more than the caller's own rules
   one out). On x86_64 the arguments are in registers anyway. */
#if defined(__GNUC__) && defined(__i386__)
#define HM_INTERNAL __attribute__((regparm(3)))
#else
#define HM_INTERNAL
#endif

enum span_kind { SPAN_SLAB = 1, SPAN_REGION = 2 };

/* What the map names: the first fields of both records. kind never changes. */
typedef struct span_head {
    uintptr_t base;  /* under the owner's lock: a record is recycled at another base */
    uint32_t  kind;
    uint32_t  live;  /* under the owner's lock */
} span_head;

/* Written by an arena's owner without a lock, read by the leak report: atomics. */
typedef struct heap_source {
    _Atomic(const char *) file;
    _Atomic(int)          line;
} heap_source;

#define NO_BLOCK 0xFFFFu

struct heap_class;

/* Per block, outside the slab: its link in the slab's free list (or in its list of
   blocks freed by other threads) and the bytes it was requested with plus one (0:
   free). One 4-byte cell, so Alloc and Free touch one cache line of them, found at a
   fixed place (right after the record). req is what a Free exchanges to 0: of two
   Frees of one block, from any threads, exactly one gets the size back. */
typedef struct heap_cell {
    uint16_t          next;
    _Atomic(uint16_t) req;
} heap_cell;

typedef struct heap_slab {
    span_head          head;     /* base: 0 while the record is not a live slab */
    struct heap_class *cls;      /* never changes: records stay with their class */
    uint16_t           free_head;    /* the arena's side: its owner, or under the lock */
    _Atomic(uint16_t)  used;         /* blocks not on free_head's list; read by the report */
    uint16_t           remote_head;  /* under the class lock: freed by threads other than */
    uint16_t           remote_count; /*   the owner, for it to take back (cell.next links) */
    uint32_t           in_partial;
    struct heap_slab  *part_prev, *part_next; /* live slabs with a free block */
    struct heap_slab  *all_prev, *all_next;   /* every live slab; spares via all_next */
    heap_source       *sources;  /* per block, once a DebugAlloc block lands here */
    uintptr_t          mapped;   /* the base of a slab retired, until it is given back */
    heap_cell          cell[];   /* capacity of them */
} heap_slab;

/* The fields Alloc and Free use come first: with the slots aligned to 128 bytes they
   share the lock's cache line. */
typedef struct heap_class {
    hm_spin            lock;
    uint32_t           size;      /* block size */
    uint32_t           capacity;  /* blocks per slab */
    uint32_t           magic;     /* 2^32 / size + 1: offset -> index without a division */
    heap_slab         *partial;
    _Atomic(uint64_t) *counter;   /* its counter's bytes */
    uint32_t           empty;     /* live slabs with no block */
    uint32_t           index;     /* its counter */
    uint32_t           arena;     /* HM_HEAP_SHARED: the locked arena */
    _Atomic(uint32_t)  remote;    /* set under the lock: a slab has blocks on its remote list */
    heap_slab         *all;
    heap_slab         *spare;     /* records of slabs given back, for the next slab */
    uint64_t           slabs;
} heap_class;

/* One class per 128 bytes: no two class locks share a cache line. */
typedef union heap_class_slot {
    heap_class c;
    char       pad[128];
} heap_class_slot;

typedef struct heap_region {
    span_head           head;
    size_t              size;   /* requested */
    size_t              bytes;  /* mapped */
    const char         *file;
    int                 line;
    struct heap_region *prev, *next; /* live regions; spares via next */
} heap_region;

/* An arena one thread may own: it allocates there, and frees its blocks there, without
   a lock (docs/heap.md, "Threads"). */
#define ARENA_STOP   1u /* the leak report or the figures: the owner waits outside */
#define ARENA_REMOTE 2u /* other threads freed blocks here: the owner takes them back */
#define ARENA_TRIM   4u /* hm_heap_trim from another thread: the owner trims */

typedef union heap_arena_slot {
    struct {
        _Atomic(uint32_t) owner; /* the owner's thread number + 1; 0: none */
        _Atomic(uint32_t) seq;   /* odd while the owner is inside a call's lock-free part */
        _Atomic(uint32_t) flags;
    } a;
    char pad[64];
} heap_arena_slot;

struct hm_heap {
    heap_class_slot   classes[HM_HEAP_SETS]; /* arena a's class c at a * HM_HEAP_CLASSES + c */
    heap_arena_slot   arenas[HM_HEAP_ARENAS];
    uint32_t          snapshot_seq[HM_HEAP_ARENAS]; /* under hm_heap_lock_all */
    struct hm_heap   *registry_prev, *registry_next; /* every thread-safe heap (heap_arena.c) */
    hm_heap_config    config;
    void             *allocation; /* what hm_alloc returned: the heap is aligned to 128 */
    hm_spin           region_lock;
    heap_region      *regions;
    heap_region      *spare_regions;
    uint64_t          region_count;
    _Atomic(uint64_t) committed;
    _Atomic(uint64_t) bookkeeping;
    _Atomic(uint64_t) lost;  /* bytes the provider refused to take back on an error path */
    hm_heap_counter  *counters;           /* config.counters, or own_counters */
    hm_heap_counter   own_counters[HM_HEAP_COUNTERS];
    hm_heap_map       map;
};

/* Under the lock of what the counter counts: the only writer, so no locked add. */
static inline void heap_count_at(_Atomic(uint64_t) *bytes, uint64_t delta)
{
    atomic_store_explicit(bytes, atomic_load_explicit(bytes, memory_order_relaxed) + delta, memory_order_relaxed);
}

static inline void heap_count(hm_heap *heap, unsigned i, uint64_t delta)
{
    heap_count_at(&heap->counters[i].bytes, delta);
}

#define REMOTE_COUNTER(a) (HM_HEAP_SETS + (a)) /* frees by other threads into arena a */
#define REGION_COUNTER    (HM_HEAP_SETS + HM_HEAP_ARENAS)

static inline void heap_lock(const hm_heap *heap, hm_spin *lock)
{
    if (heap->config.threadsafe)
        hm_spin_acquire(lock);
}

static inline void heap_unlock(const hm_heap *heap, hm_spin *lock)
{
    if (heap->config.threadsafe)
        hm_spin_release(lock);
}

/* heap.c: the bookkeeping allocator, counted in the heap's bookkeeping bytes. */
void *heap_book_alloc(hm_heap *heap, size_t bytes);
void  heap_book_free(hm_heap *heap, void *block, size_t bytes);

#define RELAXED memory_order_relaxed

/* A slab's blocks not on its free list: written by its arena's side, read by anyone. */
static inline unsigned used_of(const heap_slab *s)
{
    return atomic_load_explicit(&((heap_slab *)s)->used, RELAXED);
}

static inline void set_used(heap_slab *s, unsigned used)
{
    atomic_store_explicit(&s->used, (uint16_t)used, RELAXED);
}

/* A block's requested size plus one; 0: free. */
static inline unsigned req_of(const heap_cell *cell)
{
    return atomic_load_explicit(&((heap_cell *)cell)->req, RELAXED);
}

/* Under the class lock: the class's list of live slabs with a free block. */
static inline void partial_push(heap_class *cls, heap_slab *s)
{
    s->part_prev = NULL;
    s->part_next = cls->partial;
    if (cls->partial)
        cls->partial->part_prev = s;
    cls->partial = s;
    s->in_partial = 1;
}

static inline void partial_remove(heap_class *cls, heap_slab *s)
{
    if (s->part_prev)
        s->part_prev->part_next = s->part_next;
    else
        cls->partial = s->part_next;
    if (s->part_next)
        s->part_next->part_prev = s->part_prev;
    s->in_partial = 0;
}

/* The block's index in s, or NO_BLOCK if p is not the start of a block (allocated or
   not). A record that is not a live slab has base 0, and no pointer the map names lies
   within a slab's size of 0 (nothing maps the first granule). */
static inline unsigned block_index(const heap_class *cls, const heap_slab *s, const void *p)
{
    uintptr_t offset = (uintptr_t)p - s->head.base;
    unsigned idx;

    if (offset >= HM_HEAP_SLAB_SIZE)
        return NO_BLOCK;
    idx = (unsigned)(((uint32_t)offset * (uint64_t)cls->magic) >> 32);
    if (idx * cls->size != (uint32_t)offset || idx >= cls->capacity)
        return NO_BLOCK;
    return idx;
}

/* The arena of the thread numbered number. */
static inline heap_arena_slot *arena_of(hm_heap *heap, unsigned number)
{
    return &heap->arenas[number & (HM_HEAP_ARENAS - 1)];
}

/* Lets another thread stand in for arena a's missing owner (a trim, blocks freed into
   it) when nobody owns it: claimed and handed back around fn. */
static inline bool stand_in(hm_heap *heap, unsigned a, unsigned number)
{
    uint32_t none = 0;

    return atomic_compare_exchange_strong_explicit(&heap->arenas[a].a.owner, &none, number + 1,
                                                   memory_order_acquire, RELAXED);
}

static inline void stand_down(hm_heap *heap, unsigned a)
{
    atomic_store_explicit(&heap->arenas[a].a.owner, 0, memory_order_release);
}

/* heap_slab.c */
/* No lock held: a new slab for cls. False: no memory (nothing changed). */
HM_INTERNAL bool   heap_add_slab(hm_heap *heap, heap_class *cls, int level);
/* No lock held: s gets the sources array a DebugAlloc block needs. False: no memory. */
HM_INTERNAL bool   heap_attach_sources(hm_heap *heap, heap_class *cls, heap_slab *s);
/* Under the class lock: an empty slab leaves the class and the map (its base 0). */
HM_INTERNAL void   heap_retire_slab(hm_heap *heap, heap_class *cls, heap_slab *s);
/* No lock held: a retired slab goes back to the provider (false: it refused; kept). */
HM_INTERNAL bool   heap_give_back_slab(hm_heap *heap, heap_class *cls, heap_slab *s);
/* By arena a's owner (or a stand-in), no lock held: its kept empty slabs go back. */
HM_INTERNAL size_t heap_trim_arena(hm_heap *heap, unsigned a);
/* hm_heap_destroy: every slab and record; the slabs the provider refused to unmap. */
HM_INTERNAL size_t heap_slabs_destroy(hm_heap *heap);

/* Under the class lock: the slab that just lost its last block stays (the class keeps
   HM_HEAP_KEEP_EMPTY empty slabs) or is taken out to be given back; returns it then. */
static inline heap_slab *emptied(hm_heap *heap, heap_class *cls, heap_slab *s)
{
    if (cls->empty < HM_HEAP_KEEP_EMPTY) {
        cls->empty++;
        return NULL;
    }
    heap_retire_slab(heap, cls, s);
    return s;
}

/* No lock held: a chain of retired slabs (through all_next) goes back; the bytes given. */
static inline size_t give_back_chain(hm_heap *heap, heap_class *cls, heap_slab *s)
{
    size_t bytes = 0;

    while (s) {
        heap_slab *next = s->all_next;

        if (heap_give_back_slab(heap, cls, s))
            bytes += HM_HEAP_SLAB_SIZE;
        s = next;
    }
    return bytes;
}

/* heap_arena.c */
/* heap creation and destruction: the registry hm_heap_thread_exit walks. */
HM_INTERNAL void           heap_registry_add(hm_heap *heap);
HM_INTERNAL void           heap_registry_remove(hm_heap *heap);
/* Under the class lock: blocks other threads freed into cls rejoin their free lists. */
HM_INTERNAL void           heap_take_back_remote(hm_heap *heap, heap_class *cls, heap_slab **retired);
/* By arena a's owner, outside seq: what its flags ask (take back, trim, stop). */
HM_INTERNAL void           heap_owner_flags(hm_heap *heap, unsigned a);
/* Free of a block of an owned arena by a thread that is not its owner. */
HM_INTERNAL hm_heap_status heap_free_remote(hm_heap *heap, heap_slab *s, void *block, size_t *size);

/* heap_region.c */
hm_heap_status heap_region_alloc(hm_heap *heap, size_t size, int level, const char *file, int line, void **block);
hm_heap_status heap_region_free(hm_heap *heap, heap_region *region, void *block, size_t *size);
bool           heap_region_owns(hm_heap *heap, heap_region *region, const void *block, size_t *size);
size_t         heap_regions_destroy(hm_heap *heap);

#endif /* HOSTMEM_HEAP_INTERNAL_H */
