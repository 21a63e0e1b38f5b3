/*
 * The heap's large blocks (over HM_HEAP_SMALL_MAX): one mapping each, rounded up to
 * the page, so a large block gives all of its memory back the moment it is freed.
 * The map names the region at its base granule only: the one address Free accepts.
 *
 * One lock for every region of the heap: each region costs an OS call to make and to
 * give back, far more than the lock.
 */
#include "heap_internal.h"

#include <string.h>

static void region_insert(hm_heap *heap, heap_region *r)
{
    r->prev = NULL;
    r->next = heap->regions;
    if (heap->regions)
        heap->regions->prev = r;
    heap->regions = r;
    r->head.live = 1;
    heap_count(heap, REGION_COUNTER, r->size);
    heap->region_count++;
    hm_map_set(&heap->map, r->head.base, r);
}

static void region_remove(hm_heap *heap, heap_region *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        heap->regions = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->head.live = 0;
    heap_count(heap, REGION_COUNTER, (uint64_t)0 - r->size);
    heap->region_count--;
    hm_map_set(&heap->map, r->head.base, NULL);
}

static void region_spare(hm_heap *heap, heap_region *r)
{
    heap_lock(heap, &heap->region_lock);
    r->next = heap->spare_regions;
    heap->spare_regions = r;
    heap_unlock(heap, &heap->region_lock);
}

hm_heap_status heap_region_alloc(hm_heap *heap, size_t size, int level, const char *file, int line, void **block)
{
    size_t page = heap->config.page_size, bytes = (size + page - 1) & ~(page - 1);
    heap_region *r;
    void *base;

    if (bytes < size)
        return HM_HEAP_NO_MEMORY;
    heap_lock(heap, &heap->region_lock);
    if ((r = heap->spare_regions))
        heap->spare_regions = r->next;
    heap_unlock(heap, &heap->region_lock);
    if (!r) {
        if (!(r = heap_book_alloc(heap, sizeof(*r))))
            return HM_HEAP_NO_MEMORY;
        memset(r, 0, sizeof(*r));
        r->head.kind = SPAN_REGION;
    }
    if (!(base = heap->config.provider.map(heap->config.provider.context, bytes, level))) {
        region_spare(heap, r);
        return HM_HEAP_NO_MEMORY;
    }
    if (!hm_map_prepare(&heap->map, (uintptr_t)base)) {
        if (!heap->config.provider.unmap(heap->config.provider.context, base, bytes))
            atomic_fetch_add_explicit(&heap->lost, bytes, memory_order_relaxed);
        region_spare(heap, r);
        return HM_HEAP_NO_MEMORY;
    }
    atomic_fetch_add_explicit(&heap->committed, bytes, memory_order_relaxed);
    heap_lock(heap, &heap->region_lock);
    r->head.base = (uintptr_t)base;
    r->size = size;
    r->bytes = bytes;
    r->file = file;
    r->line = line;
    region_insert(heap, r);
    heap_unlock(heap, &heap->region_lock);
    *block = base;
    return HM_HEAP_OK;
}

hm_heap_status heap_region_free(hm_heap *heap, heap_region *r, void *block, size_t *size)
{
    uintptr_t base;
    size_t bytes;

    heap_lock(heap, &heap->region_lock);
    if (!r->head.live || r->head.base != (uintptr_t)block) {
        heap_unlock(heap, &heap->region_lock);
        return HM_HEAP_NOT_A_BLOCK;
    }
    region_remove(heap, r);
    base = r->head.base;
    bytes = r->bytes;
    if (size)
        *size = r->size;
    heap_unlock(heap, &heap->region_lock);

    if (!heap->config.provider.unmap(heap->config.provider.context, (void *)base, bytes)) {
        /* The memory is still there and still the caller's: the block stays live. */
        heap_lock(heap, &heap->region_lock);
        region_insert(heap, r);
        heap_unlock(heap, &heap->region_lock);
        return HM_HEAP_OS_REFUSED;
    }
    atomic_fetch_sub_explicit(&heap->committed, bytes, memory_order_relaxed);
    region_spare(heap, r);
    return HM_HEAP_OK;
}

bool heap_region_owns(hm_heap *heap, heap_region *r, const void *block, size_t *size)
{
    bool live;

    heap_lock(heap, &heap->region_lock);
    live = r->head.live && r->head.base == (uintptr_t)block;
    if (live && size)
        *size = r->size;
    heap_unlock(heap, &heap->region_lock);
    return live;
}

size_t heap_regions_destroy(hm_heap *heap)
{
    size_t refused = 0;
    heap_region *r, *next;

    for (r = heap->regions; r; r = next) {
        next = r->next;
        if (!heap->config.provider.unmap(heap->config.provider.context, (void *)r->head.base, r->bytes))
            refused++;
        heap_book_free(heap, r, sizeof(*r));
    }
    for (r = heap->spare_regions; r; r = next) {
        next = r->next;
        heap_book_free(heap, r, sizeof(*r));
    }
    return refused;
}
