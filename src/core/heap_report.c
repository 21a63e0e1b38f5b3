/*
 * The heap's leak report and figures (heap.h). The report is one consistent snapshot:
 * every class lock of every arena and the region lock are held together while the
 * blocks are counted and copied, which stops every Free by a thread that does not own
 * the block's arena, every slow path and the shared arena. The owners' lock-free Alloc
 * and Free are stopped by the arenas' stop flag and checked by their seq: the reading
 * is taken again until no owner ran during it (an owner that had not yet seen the flag
 * finishes one more call at most). So a block allocated or freed meanwhile is either
 * wholly in it or wholly out, and the count always matches the copy.
 */
#include "heap_internal.h"

void hm_heap_lock_all(hm_heap *heap)
{
    unsigned i;

    for (i = 0; i < HM_HEAP_SETS; i++)
        heap_lock(heap, &heap->classes[i].c.lock);
    heap_lock(heap, &heap->region_lock);
    if (heap->config.threadsafe)
        for (i = 0; i < HM_HEAP_ARENAS; i++)
            atomic_fetch_or_explicit(&heap->arenas[i].a.flags, ARENA_STOP, memory_order_seq_cst);
}

void hm_heap_snapshot_begin(hm_heap *heap)
{
    unsigned i;

    if (!heap->config.threadsafe)
        return;
    for (i = 0; i < HM_HEAP_ARENAS; i++) {
        uint32_t seq;

        while ((seq = atomic_load_explicit(&heap->arenas[i].a.seq, memory_order_acquire)) & 1)
            hm_spin_yield();
        heap->snapshot_seq[i] = seq;
    }
}

bool hm_heap_snapshot_valid(const hm_heap *heap)
{
    unsigned i;

    if (!heap->config.threadsafe)
        return true;
    atomic_thread_fence(memory_order_acquire);
    for (i = 0; i < HM_HEAP_ARENAS; i++)
        if (atomic_load_explicit(&((hm_heap *)heap)->arenas[i].a.seq, memory_order_relaxed) != heap->snapshot_seq[i])
            return false;
    return true;
}

void hm_heap_unlock_all(hm_heap *heap)
{
    unsigned i;

    if (heap->config.threadsafe)
        for (i = 0; i < HM_HEAP_ARENAS; i++)
            atomic_fetch_and_explicit(&heap->arenas[i].a.flags, ~ARENA_STOP, memory_order_release);
    heap_unlock(heap, &heap->region_lock);
    for (i = HM_HEAP_SETS; i-- > 0;)
        heap_unlock(heap, &heap->classes[i].c.lock);
}

/* Under the class lock (and a snapshot): the slab's live blocks. */
static uint64_t class_blocks_of(const heap_slab *s)
{
    return atomic_load_explicit(&((heap_slab *)s)->used, memory_order_relaxed) - s->remote_count;
}

/* Under the class lock: its live blocks (the classes do not count them on every call). */
static uint64_t class_blocks(const heap_class *cls)
{
    const heap_slab *s;
    uint64_t blocks = 0;

    for (s = cls->all; s; s = s->all_next)
        blocks += atomic_load_explicit(&((heap_slab *)s)->used, memory_order_relaxed) - s->remote_count;
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

size_t hm_heap_copy_blocks(const hm_heap *heap, hm_heap_block *out, size_t room)
{
    const heap_region *r;
    size_t n = 0;
    unsigned i;

    for (i = 0; i < HM_HEAP_SETS; i++) {
        const heap_class *cls = &heap->classes[i].c;
        const heap_slab *s;

        for (s = cls->all; s; s = s->all_next) {
            uint32_t idx, seen = 0, live = (uint32_t)class_blocks_of(s);

            for (idx = 0; idx < cls->capacity && seen < live; idx++) {
                unsigned req = atomic_load_explicit(&((heap_slab *)s)->cell[idx].req, memory_order_relaxed);

                if (!req)
                    continue;
                if (n == room)
                    return n;
                seen++;
                out[n].address = (void *)(s->head.base + (uintptr_t)idx * cls->size);
                out[n].size = (size_t)req - 1;
                out[n].file = s->sources ? atomic_load_explicit(&s->sources[idx].file, memory_order_relaxed) : NULL;
                out[n].line = s->sources ? atomic_load_explicit(&s->sources[idx].line, memory_order_relaxed) : 0;
                n++;
            }
        }
    }
    for (r = heap->regions; r && n < room; r = r->next) {
        out[n].address = (void *)r->head.base;
        out[n].size = r->size;
        out[n].file = r->file;
        out[n].line = r->line;
        n++;
    }
    return n;
}

/* Under hm_heap_lock_all. */
static void read_stats(const hm_heap *heap, hm_heap_stats *stats)
{
    const heap_region *r;
    unsigned i;

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
}

void hm_heap_get_stats(const hm_heap *heap, hm_heap_stats *stats)
{
    hm_heap_lock_all((hm_heap *)heap);
    do {
        hm_heap_snapshot_begin((hm_heap *)heap);
        read_stats(heap, stats);
    } while (!hm_heap_snapshot_valid(heap));
    hm_heap_unlock_all((hm_heap *)heap);
    stats->committed_bytes = atomic_load_explicit(&((hm_heap *)heap)->committed, memory_order_relaxed);
    stats->lost_bytes = atomic_load_explicit(&((hm_heap *)heap)->lost, memory_order_relaxed);
    stats->bookkeeping_bytes = atomic_load_explicit(&((hm_heap *)heap)->bookkeeping, memory_order_relaxed) +
                               atomic_load_explicit(&((hm_heap *)heap)->map.node_bytes, memory_order_relaxed);
}
