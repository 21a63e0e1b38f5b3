/*
 * The heap's leak report and figures (heap.h). The report is one consistent snapshot:
 * every class lock of every arena and the region lock are held together while the blocks are counted
 * and copied, so a block allocated or freed meanwhile is either wholly in it or wholly
 * out, and the count always matches the copy.
 */
#include "heap_internal.h"

void hm_heap_lock_all(hm_heap *heap)
{
    unsigned i;

    for (i = 0; i < HM_HEAP_SETS; i++)
        heap_lock(heap, &heap->classes[i].c.lock);
    heap_lock(heap, &heap->region_lock);
}

void hm_heap_unlock_all(hm_heap *heap)
{
    unsigned i;

    heap_unlock(heap, &heap->region_lock);
    for (i = HM_HEAP_SETS; i-- > 0;)
        heap_unlock(heap, &heap->classes[i].c.lock);
}

/* Under the class lock: its live blocks (the classes do not count them on every call). */
static uint64_t class_blocks(const heap_class *cls)
{
    const heap_slab *s;
    uint64_t blocks = 0;

    for (s = cls->all; s; s = s->all_next)
        blocks += s->used;
    return blocks;
}

size_t hm_heap_block_count(const hm_heap *heap)
{
    size_t count = (size_t)heap->region_count;
    unsigned i;

    for (i = 0; i < HM_HEAP_SETS; i++)
        count += (size_t)class_blocks(&heap->classes[i].c);
    return count;
}

size_t hm_heap_copy_blocks(const hm_heap *heap, hm_heap_block *out)
{
    const heap_region *r;
    size_t n = 0;
    unsigned i;

    for (i = 0; i < HM_HEAP_SETS; i++) {
        const heap_class *cls = &heap->classes[i].c;
        const heap_slab *s;

        for (s = cls->all; s; s = s->all_next) {
            uint32_t idx, seen = 0;

            for (idx = 0; idx < cls->capacity && seen < s->used; idx++) {
                if (!s->cell[idx].req)
                    continue;
                seen++;
                out[n].address = (void *)(s->head.base + (uintptr_t)idx * cls->size);
                out[n].size = (size_t)s->cell[idx].req - 1;
                out[n].file = s->sources ? s->sources[idx].file : NULL;
                out[n].line = s->sources ? s->sources[idx].line : 0;
                n++;
            }
        }
    }
    for (r = heap->regions; r; r = r->next) {
        out[n].address = (void *)r->head.base;
        out[n].size = r->size;
        out[n].file = r->file;
        out[n].line = r->line;
        n++;
    }
    return n;
}

void hm_heap_get_stats(const hm_heap *heap, hm_heap_stats *stats)
{
    const heap_region *r;
    unsigned i;

    hm_heap_lock_all((hm_heap *)heap);
    stats->live_bytes = hm_heap_counters_sum(heap->counters);
    stats->live_blocks = heap->region_count;
    stats->rounded_bytes = 0;
    stats->slabs = 0;
    for (i = 0; i < HM_HEAP_SETS; i++) {
        const heap_class *cls = &heap->classes[i].c;

        uint64_t blocks = class_blocks(cls);

        stats->live_blocks += blocks;
        stats->rounded_bytes += blocks * cls->size;
        stats->slabs += cls->slabs;
    }
    for (r = heap->regions; r; r = r->next)
        stats->rounded_bytes += r->bytes;
    stats->regions = heap->region_count;
    hm_heap_unlock_all((hm_heap *)heap);
    stats->committed_bytes = atomic_load_explicit(&((hm_heap *)heap)->committed, memory_order_relaxed);
    stats->lost_bytes = atomic_load_explicit(&((hm_heap *)heap)->lost, memory_order_relaxed);
    stats->bookkeeping_bytes = atomic_load_explicit(&((hm_heap *)heap)->bookkeeping, memory_order_relaxed) +
                               atomic_load_explicit(&((hm_heap *)heap)->map.node_bytes, memory_order_relaxed);
}
