/*
 * The heap's small blocks: size classes on 64 KiB slabs (heap.h has the design).
 *
 * A slab's record holds, per block, one 4-byte cell (heap_cell): a 16-bit link of the
 * free list and the 16-bit size requested plus one (0: free), all outside the slab.
 * Alloc pops the head of the first slab of its class with a free block; Free finds
 * the slab through the heap's map, checks that the pointer is the start of a block
 * that is allocated, and pushes the block back. Both hold the class's lock for a few
 * dozen instructions (one locked instruction each: the lock's exchange; the release
 * is a plain store) and never call out under it: new slabs are mapped, and empty
 * ones given back, with no lock held. Everything either touches under the lock is in
 * the class's first cache line, the slab record's first line and the block's cell;
 * plus the class's counter.
 *
 * Records are never freed while the heap lives: a Free that found a record in the map
 * just before the slab was given back takes the class lock and finds it dead (its base
 * 0, so no pointer is a block start in it) or recycled at another base, and refuses
 * the pointer.
 */
#include "heap_internal.h"

#include <string.h>

void *heap_book_alloc(hm_heap *heap, size_t bytes)
{
    void *p = hm_alloc(&heap->config.allocator, bytes);

    if (p)
        atomic_fetch_add_explicit(&heap->bookkeeping, bytes, memory_order_relaxed);
    return p;
}

void heap_book_free(hm_heap *heap, void *block, size_t bytes)
{
    if (!block)
        return;
    atomic_fetch_sub_explicit(&heap->bookkeeping, bytes, memory_order_relaxed);
    hm_free(&heap->config.allocator, block);
}

static size_t slab_record_bytes(const heap_class *cls)
{
    return sizeof(heap_slab) + (size_t)cls->capacity * sizeof(heap_cell);
}

#define HEAP_ALIGN 128 /* the class slots' size: each slot's hot fields in one line */

hm_heap *hm_heap_create(const hm_heap_config *config)
{
    hm_heap *heap;
    void *allocation;
    unsigned i;

    if (!(allocation = hm_alloc(&config->allocator, sizeof(*heap) + HEAP_ALIGN - 1)))
        return NULL;
    heap = (hm_heap *)(((uintptr_t)allocation + HEAP_ALIGN - 1) & ~(uintptr_t)(HEAP_ALIGN - 1));
    memset(heap, 0, sizeof(*heap));
    heap->config = *config;
    heap->allocation = allocation;
    heap->counters = config->counters ? config->counters : heap->own_counters;
    for (i = 0; i < HM_HEAP_SETS; i++) {
        heap_class *cls = &heap->classes[i].c;

        hm_spin_init(&cls->lock);
        cls->size = (uint32_t)hm_heap_class_size(i % HM_HEAP_CLASSES);
        cls->capacity = (uint32_t)(HM_HEAP_SLAB_SIZE / cls->size);
        cls->magic = (uint32_t)(((uint64_t)1 << 32) / cls->size + 1);
        cls->index = i;
        cls->counter = &heap->counters[i].bytes;
    }
    hm_spin_init(&heap->region_lock);
    atomic_init(&heap->committed, 0);
    atomic_init(&heap->bookkeeping, sizeof(*heap) + HEAP_ALIGN - 1);
    atomic_init(&heap->lost, 0);
    hm_map_init(&heap->map, &config->allocator);
    return heap;
}

static void partial_push(heap_class *cls, heap_slab *s)
{
    s->part_prev = NULL;
    s->part_next = cls->partial;
    if (cls->partial)
        cls->partial->part_prev = s;
    cls->partial = s;
    s->in_partial = 1;
}

static void partial_remove(heap_class *cls, heap_slab *s)
{
    if (s->part_prev)
        s->part_prev->part_next = s->part_next;
    else
        cls->partial = s->part_next;
    if (s->part_next)
        s->part_next->part_prev = s->part_prev;
    s->in_partial = 0;
}

static void all_insert(heap_class *cls, heap_slab *s)
{
    s->all_prev = NULL;
    s->all_next = cls->all;
    if (cls->all)
        cls->all->all_prev = s;
    cls->all = s;
}

static void all_remove(heap_class *cls, heap_slab *s)
{
    if (s->all_prev)
        s->all_prev->all_next = s->all_next;
    else
        cls->all = s->all_next;
    if (s->all_next)
        s->all_next->all_prev = s->all_prev;
}

/* Under the class lock: a mapped, prepared slab with every block free becomes live
   and findable (its free list as the caller left it). */
static void publish_slab(hm_heap *heap, heap_class *cls, heap_slab *s, uintptr_t base)
{
    s->head.base = base;
    s->head.live = 1;
    all_insert(cls, s);
    partial_push(cls, s);
    cls->empty++;
    cls->slabs++;
    hm_map_set(&heap->map, base, s);
}

/* A new slab for cls, with no lock held. False: no memory (nothing changed). */
static bool add_slab(hm_heap *heap, heap_class *cls, int level)
{
    heap_slab *s;
    uint32_t i;
    void *base;

    heap_lock(heap, &cls->lock);
    if ((s = cls->spare))
        cls->spare = s->all_next;
    heap_unlock(heap, &cls->lock);
    if (!s) {
        if (!(s = heap_book_alloc(heap, slab_record_bytes(cls))))
            return false;
        memset(s, 0, sizeof(*s));
        s->head.kind = SPAN_SLAB;
        s->cls = cls;
        memset(s->cell, 0, cls->capacity * sizeof(heap_cell));
    }
    /* Every block of a spare is free (its req all 0); only the links need resetting.
       A stale Free reads them only after it found the record live under the lock. */
    for (i = 0; i < cls->capacity; i++)
        s->cell[i].next = (uint16_t)(i + 1 < cls->capacity ? i + 1 : NO_BLOCK);
    s->free_head = 0;
    s->used = 0;

    if (!(base = heap->config.provider.map(heap->config.provider.context, HM_HEAP_SLAB_SIZE, level)))
        goto spare;
    if (!hm_map_prepare(&heap->map, (uintptr_t)base)) {
        if (!heap->config.provider.unmap(heap->config.provider.context, base, HM_HEAP_SLAB_SIZE))
            atomic_fetch_add_explicit(&heap->lost, HM_HEAP_SLAB_SIZE, memory_order_relaxed);
        goto spare;
    }
    atomic_fetch_add_explicit(&heap->committed, HM_HEAP_SLAB_SIZE, memory_order_relaxed);
    heap_lock(heap, &cls->lock);
    publish_slab(heap, cls, s, (uintptr_t)base);
    heap_unlock(heap, &cls->lock);
    return true;

spare:
    heap_lock(heap, &cls->lock);
    s->all_next = cls->spare;
    cls->spare = s;
    heap_unlock(heap, &cls->lock);
    return false;
}

/* The sources array of a slab that is about to hold a DebugAlloc block. */
static bool attach_sources(hm_heap *heap, heap_class *cls, heap_slab *s)
{
    size_t bytes = (size_t)cls->capacity * sizeof(heap_source);
    heap_source *sources = heap_book_alloc(heap, bytes);

    if (!sources)
        return false;
    memset(sources, 0, bytes);
    heap_lock(heap, &cls->lock);
    if (!s->sources) {
        s->sources = sources;
        sources = NULL;
    }
    heap_unlock(heap, &cls->lock);
    heap_book_free(heap, sources, bytes);
    return true;
}

static HM_NOINLINE void slab_filled(heap_class *cls, heap_slab *s)
{
    partial_remove(cls, s);
}

/* Under the class lock: the first free block of s, which has one. */
static inline void *pop_block(heap_class *cls, heap_slab *s, size_t size, const char *file, int line)
{
    unsigned idx = s->free_head;
    heap_cell *cell = &s->cell[idx];
    unsigned used = s->used;

    s->free_head = cell->next;
    cell->req = (uint16_t)(size + 1);
    s->used = (uint16_t)(used + 1);
    if (!used)
        cls->empty--;
    if (HM_UNLIKELY(used + 1 == cls->capacity))
        slab_filled(cls, s);
    if (s->sources) {
        s->sources[idx].file = file;
        s->sources[idx].line = line;
    }
    heap_count_at(cls->counter, size);
    return (void *)(s->head.base + (uintptr_t)idx * cls->size);
}

/* No slab with a free block (or none with room for a source): make one, then pop. */
static HM_NOINLINE hm_heap_status alloc_small_slow(hm_heap *heap, heap_class *cls, size_t size, int level,
                                                   const char *file, int line, void **block)
{
    heap_slab *s;

    for (;;) {
        if (!(s = cls->partial)) {
            heap_unlock(heap, &cls->lock);
            if (!add_slab(heap, cls, level)) {
                *block = NULL;
                return HM_HEAP_NO_MEMORY;
            }
        } else if (file && !s->sources) {
            heap_unlock(heap, &cls->lock);
            if (!attach_sources(heap, cls, s)) {
                *block = NULL;
                return HM_HEAP_NO_MEMORY;
            }
        } else {
            break;
        }
        heap_lock(heap, &cls->lock);
    }
    *block = pop_block(cls, s, size, file, line);
    heap_unlock(heap, &cls->lock);
    return HM_HEAP_OK;
}

static inline hm_heap_status alloc_small(hm_heap *heap, size_t size, int level, const char *file, int line,
                                         void **block)
{
    heap_class *cls = &heap->classes[heap_arena(heap) * HM_HEAP_CLASSES + hm_heap_class_of(size)].c;
    const bool threadsafe = heap->config.threadsafe;
    heap_slab *s;

    if (threadsafe)
        hm_spin_acquire(&cls->lock);
    s = cls->partial;
    if (HM_UNLIKELY(!s || (file && !s->sources)))
        return alloc_small_slow(heap, cls, size, level, file, line, block);
    *block = pop_block(cls, s, size, file, line);
    if (threadsafe)
        hm_spin_release(&cls->lock);
    return HM_HEAP_OK;
}

/* Large blocks and DebugAlloc's: out of line, so that Alloc's path is a leaf that
   saves few registers. */
static HM_NOINLINE hm_heap_status alloc_general(hm_heap *heap, size_t size, int level, const char *file, int line,
                                                void **block)
{
    if (size > HM_HEAP_SMALL_MAX) {
        *block = NULL;
        return heap_region_alloc(heap, size, level, file, line, block);
    }
    return alloc_small(heap, size, level, file, line, block);
}

/* Under the class lock: no slab of cls has a free block. */
static HM_NOINLINE hm_heap_status alloc_refill(hm_heap *heap, heap_class *cls, size_t size, int level, void **block)
{
    return alloc_small_slow(heap, cls, size, level, NULL, 0, block);
}

hm_heap_status hm_heap_alloc(hm_heap *heap, size_t size, int level, const char *file, int line, void **block)
{
    heap_class *cls;
    heap_slab *s;

    if (HM_UNLIKELY(size > HM_HEAP_SMALL_MAX || file))
        return alloc_general(heap, size, level, file, line, block);
    cls = &heap->classes[heap_arena(heap) * HM_HEAP_CLASSES + hm_heap_class_of(size)].c;
    if (heap->config.threadsafe)
        hm_spin_acquire(&cls->lock);
    if (HM_UNLIKELY(!(s = cls->partial)))
        return alloc_refill(heap, cls, size, level, block);
    *block = pop_block(cls, s, size, NULL, 0);
    if (heap->config.threadsafe)
        hm_spin_release(&cls->lock);
    return HM_HEAP_OK;
}

/* Under the class lock: an empty slab leaves the class and the map; its base becomes
   0, so that a Free that found the record just before is refused. */
static void retire_slab(hm_heap *heap, heap_class *cls, heap_slab *s)
{
    partial_remove(cls, s);
    all_remove(cls, s);
    hm_map_set(&heap->map, s->head.base, NULL);
    s->mapped = s->head.base;
    s->head.base = 0;
    s->head.live = 0;
    cls->slabs--;
}

/* Under the class lock: the block's index in s, or NO_BLOCK if p is not a live block.
   A record that is not a live slab has base 0, and no pointer the map names lies
   within a slab's size of 0 (nothing maps the first granule). */
static inline unsigned live_index(const heap_class *cls, const heap_slab *s, const void *p)
{
    uintptr_t offset = (uintptr_t)p - s->head.base;
    unsigned idx;

    if (offset >= HM_HEAP_SLAB_SIZE)
        return NO_BLOCK;
    idx = (unsigned)(((uint32_t)offset * (uint64_t)cls->magic) >> 32);
    if (idx * cls->size != (uint32_t)offset || idx >= cls->capacity || !s->cell[idx].req)
        return NO_BLOCK;
    return idx;
}

/* A slab taken out (retire_slab) goes back to the provider, its record to the spares. */
static HM_NOINLINE bool give_back_slab(hm_heap *heap, heap_class *cls, heap_slab *s)
{
    uintptr_t base = s->mapped;

    if (heap->config.provider.unmap(heap->config.provider.context, (void *)base, HM_HEAP_SLAB_SIZE)) {
        atomic_fetch_sub_explicit(&heap->committed, HM_HEAP_SLAB_SIZE, memory_order_relaxed);
        heap_lock(heap, &cls->lock);
        s->all_next = cls->spare;
        cls->spare = s;
        heap_unlock(heap, &cls->lock);
        return true;
    }
    /* The OS kept it: it stays, empty and ready for the next block. */
    heap_lock(heap, &cls->lock);
    publish_slab(heap, cls, s, base);
    heap_unlock(heap, &cls->lock);
    return false;
}

/* Under the class lock: the slab that just lost its last block stays (the class keeps
   HM_HEAP_KEEP_EMPTY empty slabs) or is taken out to be given back; returns it then. */
static HM_NOINLINE heap_slab *emptied(hm_heap *heap, heap_class *cls, heap_slab *s)
{
    if (cls->empty < HM_HEAP_KEEP_EMPTY) {
        cls->empty++;
        return NULL;
    }
    retire_slab(heap, cls, s);
    return s;
}

static HM_NOINLINE void slab_unfilled(heap_class *cls, heap_slab *s)
{
    partial_push(cls, s);
}

/* The slab just lost its last block: keep it or give it back (out of line). */
static HM_NOINLINE hm_heap_status free_emptied(hm_heap *heap, heap_class *cls, heap_slab *s)
{
    heap_slab *retire = emptied(heap, cls, s);

    heap_unlock(heap, &cls->lock);
    if (retire)
        give_back_slab(heap, cls, retire);
    return HM_HEAP_OK;
}

static inline hm_heap_status free_small(hm_heap *heap, heap_slab *s, void *block, size_t *size)
{
    heap_class *cls = s->cls;
    const bool threadsafe = heap->config.threadsafe;
    uintptr_t offset;
    heap_cell *cell;
    unsigned idx, req, used;

    if (threadsafe)
        hm_spin_acquire(&cls->lock);
    offset = (uintptr_t)block - s->head.base;
    idx = (unsigned)(((uint32_t)offset * (uint64_t)cls->magic) >> 32);
    cell = &s->cell[idx];
    /* The block-start check first (offset, index): only then is cell within the record. */
    if (HM_UNLIKELY(offset >= HM_HEAP_SLAB_SIZE || idx * cls->size != (uint32_t)offset || idx >= cls->capacity ||
                    !(req = cell->req))) {
        if (threadsafe)
            hm_spin_release(&cls->lock);
        return HM_HEAP_NOT_A_BLOCK;
    }
    if (size)
        *size = (size_t)req - 1;
    cell->req = 0;
    cell->next = s->free_head;
    s->free_head = (uint16_t)idx;
    used = s->used;
    s->used = (uint16_t)(used - 1);
    if (HM_UNLIKELY(used == cls->capacity))
        slab_unfilled(cls, s);
    heap_count_at(cls->counter, (uint64_t)1 - req);
    if (HM_UNLIKELY(used == 1))
        return free_emptied(heap, cls, s);
    if (threadsafe)
        hm_spin_release(&cls->lock);
    return HM_HEAP_OK;
}

hm_heap_status hm_heap_free(hm_heap *heap, void *block, size_t *size)
{
    span_head *span = hm_map_lookup(&heap->map, (uintptr_t)block);

    if (!span)
        return HM_HEAP_NOT_A_BLOCK;
    if (span->kind == SPAN_REGION)
        return heap_region_free(heap, (heap_region *)span, block, size);
    return free_small(heap, (heap_slab *)span, block, size);
}

bool hm_heap_owns(hm_heap *heap, const void *block, size_t *size)
{
    span_head *span = hm_map_lookup(&heap->map, (uintptr_t)block);
    heap_slab *s = (heap_slab *)span;
    unsigned idx;

    if (!span)
        return false;
    if (span->kind == SPAN_REGION)
        return heap_region_owns(heap, (heap_region *)span, block, size);
    heap_lock(heap, &s->cls->lock);
    if ((idx = live_index(s->cls, s, block)) != NO_BLOCK && size)
        *size = (size_t)s->cell[idx].req - 1;
    heap_unlock(heap, &s->cls->lock);
    return idx != NO_BLOCK;
}

size_t hm_heap_trim(hm_heap *heap)
{
    size_t bytes = 0;
    unsigned i;

    for (i = 0; i < HM_HEAP_SETS; i++) {
        heap_class *cls = &heap->classes[i].c;
        heap_slab *s, *next, *retired = NULL;

        heap_lock(heap, &cls->lock);
        if (!cls->empty) {
            heap_unlock(heap, &cls->lock);
            continue;
        }
        for (s = cls->all; s; s = next) {
            next = s->all_next;
            if (s->used)
                continue;
            retire_slab(heap, cls, s);
            cls->empty--;
            s->part_next = retired;
            retired = s;
        }
        heap_unlock(heap, &cls->lock);
        for (s = retired; s; s = next) {
            next = s->part_next;
            if (give_back_slab(heap, cls, s))
                bytes += HM_HEAP_SLAB_SIZE;
        }
    }
    return bytes;
}

static size_t destroy_slab_list(hm_heap *heap, heap_class *cls, heap_slab *s, bool live)
{
    size_t refused = 0;

    while (s) {
        heap_slab *next = s->all_next;

        if (live && !heap->config.provider.unmap(heap->config.provider.context, (void *)s->head.base,
                                                  HM_HEAP_SLAB_SIZE))
            refused++;
        heap_book_free(heap, s->sources, (size_t)cls->capacity * sizeof(heap_source));
        heap_book_free(heap, s, slab_record_bytes(cls));
        s = next;
    }
    return refused;
}

size_t hm_heap_destroy(hm_heap *heap)
{
    hm_allocator allocator = heap->config.allocator;
    size_t refused = 0;
    unsigned i;

    for (i = 0; i < HM_HEAP_SETS; i++) {
        heap_class *cls = &heap->classes[i].c;

        refused += destroy_slab_list(heap, cls, cls->all, true);
        refused += destroy_slab_list(heap, cls, cls->spare, false);
    }
    refused += heap_regions_destroy(heap);
    hm_map_destroy(&heap->map);
    hm_free(&allocator, heap->allocation);
    return refused;
}
