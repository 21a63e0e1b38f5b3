/*
 * A class's slabs, from mapping to giving back (the blocks in them are heap.c's). A new
 * slab is mapped with no lock held and published under the class lock, in the class's
 * lists and the heap's map; the sources array DebugAlloc needs is attached the first
 * time one of its blocks lands on a slab. A slab that lost its last block is kept
 * (HM_HEAP_KEEP_EMPTY per class) or retired: out of the lists and the map under the
 * lock, then given back to the provider with none held, its record kept as a spare for
 * the class's next slab. Trim gives back the kept ones, destruction all of them.
 *
 * Records are never freed while the heap lives: a Free that found a record in the map
 * just before the slab was given back takes the class lock and finds it dead (its base
 * 0, so no pointer is a block start in it) or recycled at another base, and refuses
 * the pointer. Only an arena's owner (under the class lock) retires and recycles its
 * slabs, so its own lock-free Free never meets a recycled record.
 */
#include "heap_internal.h"

#include <string.h>

static size_t slab_record_bytes(const heap_class *cls)
{
    return sizeof(heap_slab) + (size_t)cls->capacity * sizeof(heap_cell);
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
HM_INTERNAL bool heap_add_slab(hm_heap *heap, heap_class *cls, int level)
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
    atomic_store_explicit(&s->used, 0, memory_order_relaxed);
    s->remote_head = NO_BLOCK;
    s->remote_count = 0;

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
HM_INTERNAL bool heap_attach_sources(hm_heap *heap, heap_class *cls, heap_slab *s)
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

/* Under the class lock: an empty slab leaves the class and the map; its base becomes
   0, so that a Free that found the record just before is refused. */
HM_INTERNAL void heap_retire_slab(hm_heap *heap, heap_class *cls, heap_slab *s)
{
    partial_remove(cls, s);
    all_remove(cls, s);
    hm_map_set(&heap->map, s->head.base, NULL);
    s->mapped = s->head.base;
    s->head.base = 0;
    s->head.live = 0;
    cls->slabs--;
}

/* A slab taken out (heap_retire_slab) goes back to the provider, its record to the spares. */
HM_INTERNAL HM_NOINLINE bool heap_give_back_slab(hm_heap *heap, heap_class *cls, heap_slab *s)
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

/* Under cls's lock, by its arena: every empty slab of cls is taken out to be given back. */
static heap_slab *take_out_empty(hm_heap *heap, heap_class *cls)
{
    heap_slab *s, *next, *retired = NULL;

    for (s = cls->all; s; s = next) {
        next = s->all_next;
        if (used_of(s))
            continue;
        heap_retire_slab(heap, cls, s);
        cls->empty--;
        s->all_next = retired;
        retired = s;
    }
    return retired;
}

/* By arena a's owner (or whoever stands in for it), no lock held. */
HM_INTERNAL size_t heap_trim_arena(hm_heap *heap, unsigned a)
{
    size_t bytes = 0;
    unsigned c;

    for (c = 0; c < HM_HEAP_CLASSES; c++) {
        heap_class *cls = &heap->classes[a * HM_HEAP_CLASSES + c].c;
        heap_slab *retired = NULL, *more;

        heap_lock(heap, &cls->lock);
        heap_take_back_remote(heap, cls, &retired);
        if (cls->empty) {
            more = take_out_empty(heap, cls);
            while (more) {
                heap_slab *next = more->all_next;
                more->all_next = retired;
                retired = more;
                more = next;
            }
        }
        heap_unlock(heap, &cls->lock);
        bytes += give_back_chain(heap, cls, retired);
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

HM_INTERNAL size_t heap_slabs_destroy(hm_heap *heap)
{
    size_t refused = 0;
    unsigned i;

    for (i = 0; i < HM_HEAP_SETS; i++) {
        heap_class *cls = &heap->classes[i].c;

        refused += destroy_slab_list(heap, cls, cls->all, true);
        refused += destroy_slab_list(heap, cls, cls->spare, false);
    }
    return refused;
}
