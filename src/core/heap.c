/*
 * The heap's entry points and the paths they take most: creation and destruction,
 * Alloc, Free, owns and trim of small blocks (heap.h has the design). The common Alloc
 * and Free and the inline helpers they are made of stay in this one file so that they
 * inline into each other; what they call out to for the rare cases lives in
 * heap_slab.c (making, retiring, giving back and trimming slabs), heap_arena.c (an
 * arena's ownership: blocks freed by other threads, standing in, thread exit) and
 * heap_region.c (large blocks).
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
 * Thread-safe heaps: a thread that owns an arena (its thread number's, claimed with
 * one compare-exchange the first time) allocates there and frees its own blocks there
 * without the class lock: Alloc has no locked instruction, Free one (the exchange of
 * the block's req, which is what refuses a second Free of the block from any thread).
 * Its call's lock-free part is bracketed by the arena's seq (odd inside), which the
 * leak report validates its copy against, and starts with a look at the arena's flags
 * (stop for the report, blocks freed by others to take back, a trim asked for). A
 * thread that frees a block of an arena it does not own takes the class lock and
 * hands the block to the owner (the slab's remote list); a thread whose arena is
 * owned by another allocates in the shared arena, under the class locks. Everything
 * an owner's lock-free part changes that others read is atomic (req, used, sources);
 * the lists and the slab records change only under the class lock.
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
        cls->arena = i / HM_HEAP_CLASSES;
        cls->counter = &heap->counters[i].bytes;
    }
    for (i = 0; i < HM_HEAP_ARENAS; i++) {
        atomic_init(&heap->arenas[i].a.owner, 0);
        atomic_init(&heap->arenas[i].a.seq, 0);
        atomic_init(&heap->arenas[i].a.flags, 0);
    }
    hm_spin_init(&heap->region_lock);
    atomic_init(&heap->committed, 0);
    atomic_init(&heap->bookkeeping, sizeof(*heap) + HEAP_ALIGN - 1);
    atomic_init(&heap->lost, 0);
    hm_map_init(&heap->map, &config->allocator);
    if (config->threadsafe)
        heap_registry_add(heap);
    return heap;
}

static HM_NOINLINE void slab_filled(heap_class *cls, heap_slab *s)
{
    partial_remove(cls, s);
}

/* By the class's arena (its owner, or under the lock): the first free block of s,
   which has one. */
static inline void *pop_block(heap_class *cls, heap_slab *s, size_t size, const char *file, int line)
{
    unsigned idx = s->free_head;
    heap_cell *cell = &s->cell[idx];
    unsigned used = used_of(s);

    s->free_head = cell->next;
    atomic_store_explicit(&cell->req, (uint16_t)(size + 1), memory_order_release);
    set_used(s, used + 1);
    if (!used)
        cls->empty--;
    if (HM_UNLIKELY(used + 1 == cls->capacity))
        slab_filled(cls, s);
    if (s->sources) {
        atomic_store_explicit(&s->sources[idx].file, file, RELAXED);
        atomic_store_explicit(&s->sources[idx].line, line, RELAXED);
    }
    heap_count_at(cls->counter, size);
    return (void *)(s->head.base + (uintptr_t)idx * cls->size);
}

/* The calling thread (number) owns its arena now, or could not: another thread owns
   it, or the thread-exit hook could not be set. */
static bool claim_arena(hm_heap *heap, unsigned number)
{
    heap_arena_slot *ar = arena_of(heap, number);
    uint32_t none = 0;

    if (atomic_load_explicit(&ar->a.owner, RELAXED))
        return false;
    if (!hm_thread_watch())
        return false;
    return atomic_compare_exchange_strong_explicit(&ar->a.owner, &none, number + 1, memory_order_acquire, RELAXED);
}

static inline void seq_begin(heap_arena_slot *ar, uint32_t seq)
{
    atomic_store_explicit(&ar->a.seq, seq + 1, RELAXED);
    atomic_thread_fence(memory_order_release);
}

static inline void seq_end(heap_arena_slot *ar, uint32_t seq)
{
    atomic_store_explicit(&ar->a.seq, seq + 2, memory_order_release);
}

/* --- Alloc --- */

/* Under the class lock (when thread-safe): no slab with a free block (or none with room
   for a source): make one, then pop. Unlocks. */
static HM_NOINLINE hm_heap_status alloc_small_slow(hm_heap *heap, heap_class *cls, size_t size, int level,
                                                   const char *file, int line, void **block)
{
    heap_slab *s;

    for (;;) {
        if (!(s = cls->partial)) {
            heap_unlock(heap, &cls->lock);
            if (!heap_add_slab(heap, cls, level)) {
                *block = NULL;
                return HM_HEAP_NO_MEMORY;
            }
        } else if (file && !s->sources) {
            heap_unlock(heap, &cls->lock);
            if (!heap_attach_sources(heap, cls, s)) {
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

/* Under the class lock: pop when a slab can give the block, else the slow path. */
static hm_heap_status alloc_locked(hm_heap *heap, heap_class *cls, size_t size, int level, const char *file,
                                   int line, void **block)
{
    heap_slab *s = cls->partial;

    if (!s || (file && !s->sources))
        return alloc_small_slow(heap, cls, size, level, file, line, block);
    *block = pop_block(cls, s, size, file, line);
    heap_unlock(heap, &cls->lock);
    return HM_HEAP_OK;
}

/* Every small Alloc the common path does not finish: DebugAlloc's, a class with no
   free block, flags to see to, a thread that does not own its arena. */
static HM_NOINLINE hm_heap_status alloc_small_any(hm_heap *heap, size_t size, int level, const char *file,
                                                  int line, void **block)
{
    unsigned c = hm_heap_class_of(size), number, a;
    heap_arena_slot *ar;
    heap_class *cls;

    if (!heap->config.threadsafe)
        return alloc_locked(heap, &heap->classes[c].c, size, level, file, line, block);
    number = hm_thread_number();
    a = number & (HM_HEAP_ARENAS - 1);
    ar = &heap->arenas[a];
    if (atomic_load_explicit(&ar->a.owner, RELAXED) != number + 1 && !claim_arena(heap, number)) {
        cls = &heap->classes[HM_HEAP_SHARED * HM_HEAP_CLASSES + c].c;
        hm_spin_acquire(&cls->lock);
        return alloc_locked(heap, cls, size, level, file, line, block);
    }
    cls = &heap->classes[a * HM_HEAP_CLASSES + c].c;
    for (;;) {
        uint32_t seq = atomic_load_explicit(&ar->a.seq, RELAXED);
        heap_slab *s;

        seq_begin(ar, seq);
        if (HM_UNLIKELY(atomic_load_explicit(&ar->a.flags, RELAXED))) {
            seq_end(ar, seq);
            heap_owner_flags(heap, a);
            continue;
        }
        s = cls->partial;
        if (s && (!file || s->sources)) {
            *block = pop_block(cls, s, size, file, line);
            seq_end(ar, seq);
            return HM_HEAP_OK;
        }
        seq_end(ar, seq);
        break;
    }
    /* No block at hand: take back what others freed here, then refill. */
    {
        heap_slab *retired = NULL;
        hm_heap_status status;

        hm_spin_acquire(&cls->lock);
        heap_take_back_remote(heap, cls, &retired);
        status = alloc_locked(heap, cls, size, level, file, line, block);
        give_back_chain(heap, cls, retired);
        return status;
    }
}

/* Large blocks and DebugAlloc's: out of line. */
static HM_NOINLINE hm_heap_status alloc_general(hm_heap *heap, size_t size, int level, const char *file, int line,
                                                void **block)
{
    if (size > HM_HEAP_SMALL_MAX) {
        *block = NULL;
        return heap_region_alloc(heap, size, level, file, line, block);
    }
    return alloc_small_any(heap, size, level, file, line, block);
}

hm_heap_status hm_heap_alloc(hm_heap *heap, size_t size, int level, const char *file, int line, void **block)
{
    heap_arena_slot *ar;
    heap_class *cls;
    heap_slab *s;
    unsigned number;
    uint32_t seq;

    if (HM_UNLIKELY(size > HM_HEAP_SMALL_MAX || file))
        return alloc_general(heap, size, level, file, line, block);
    if (!heap->config.threadsafe) {
        cls = &heap->classes[hm_heap_class_of(size)].c;
        if (HM_UNLIKELY(!(s = cls->partial)))
            return alloc_small_any(heap, size, level, NULL, 0, block);
        *block = pop_block(cls, s, size, NULL, 0);
        return HM_HEAP_OK;
    }
    /* The owner of the thread's arena: no lock. */
    number = hm_thread_number();
    ar = arena_of(heap, number);
    if (HM_UNLIKELY(atomic_load_explicit(&ar->a.owner, RELAXED) != number + 1))
        return alloc_small_any(heap, size, level, NULL, 0, block);
    seq = atomic_load_explicit(&ar->a.seq, RELAXED);
    seq_begin(ar, seq);
    cls = &heap->classes[(number & (HM_HEAP_ARENAS - 1)) * HM_HEAP_CLASSES + hm_heap_class_of(size)].c;
    if (HM_UNLIKELY(atomic_load_explicit(&ar->a.flags, RELAXED) || !(s = cls->partial))) {
        seq_end(ar, seq);
        return alloc_small_any(heap, size, level, NULL, 0, block);
    }
    *block = pop_block(cls, s, size, NULL, 0);
    seq_end(ar, seq);
    return HM_HEAP_OK;
}

/* --- Free --- */

/* Under the class lock: the block's index in s, or NO_BLOCK if p is not a live block. */
static inline unsigned live_index(const heap_class *cls, const heap_slab *s, const void *p)
{
    unsigned idx = block_index(cls, s, p);

    return idx != NO_BLOCK && req_of(&s->cell[idx]) ? idx : NO_BLOCK;
}

static HM_NOINLINE void slab_unfilled(heap_class *cls, heap_slab *s)
{
    partial_push(cls, s);
}

/* The slab just lost its last block (its arena's side; the lock held when
   thread-safe): keep it or give it back. Unlocks. */
static HM_NOINLINE hm_heap_status free_emptied(hm_heap *heap, heap_class *cls, heap_slab *s)
{
    heap_slab *retire = emptied(heap, cls, s);

    heap_unlock(heap, &cls->lock);
    if (retire)
        heap_give_back_slab(heap, cls, retire);
    return HM_HEAP_OK;
}

/* By the arena's side (its owner, or under the lock): the block at idx, whose req was
   just taken (req, not 0), joins the free list. True when the slab is now empty. */
static inline bool push_block(heap_class *cls, heap_slab *s, unsigned idx, unsigned req)
{
    unsigned used = used_of(s);

    s->cell[idx].next = s->free_head;
    s->free_head = (uint16_t)idx;
    set_used(s, used - 1);
    if (HM_UNLIKELY(used == cls->capacity))
        slab_unfilled(cls, s);
    heap_count_at(cls->counter, (uint64_t)1 - req);
    return used == 1;
}

/* The shared arena, or a heap that is not thread-safe: everything under the class lock
   (none for the latter). */
static hm_heap_status free_locked(hm_heap *heap, heap_slab *s, void *block, size_t *size)
{
    heap_class *cls = s->cls;
    unsigned idx, req;

    heap_lock(heap, &cls->lock);
    if (HM_UNLIKELY((idx = live_index(cls, s, block)) == NO_BLOCK)) {
        heap_unlock(heap, &cls->lock);
        return HM_HEAP_NOT_A_BLOCK;
    }
    req = req_of(&s->cell[idx]);
    atomic_store_explicit(&s->cell[idx].req, 0, RELAXED);
    if (size)
        *size = (size_t)req - 1;
    if (HM_UNLIKELY(push_block(cls, s, idx, req)))
        return free_emptied(heap, cls, s);
    heap_unlock(heap, &cls->lock);
    return HM_HEAP_OK;
}

/* The owner's slab just emptied: under the lock, keep it or give it back. */
static HM_NOINLINE hm_heap_status free_owner_emptied(hm_heap *heap, heap_class *cls, heap_slab *s)
{
    hm_spin_acquire(&cls->lock);
    return free_emptied(heap, cls, s);
}

hm_heap_status hm_heap_free(hm_heap *heap, void *block, size_t *size)
{
    span_head *span = hm_map_lookup(&heap->map, (uintptr_t)block);
    heap_arena_slot *ar;
    heap_slab *s;
    heap_class *cls;
    unsigned number, idx, req;
    uint32_t seq;

    if (!span)
        return HM_HEAP_NOT_A_BLOCK;
    if (span->kind == SPAN_REGION)
        return heap_region_free(heap, (heap_region *)span, block, size);
    s = (heap_slab *)span;
    cls = s->cls;
    if (!heap->config.threadsafe || cls->arena == HM_HEAP_SHARED)
        return free_locked(heap, s, block, size);
    number = hm_thread_number();
    ar = &heap->arenas[cls->arena];
    if (HM_UNLIKELY(cls->arena != (number & (HM_HEAP_ARENAS - 1)) ||
                    atomic_load_explicit(&ar->a.owner, RELAXED) != number + 1))
        return heap_free_remote(heap, s, block, size);
    /* The owner: no lock, one exchange. */
    for (;;) {
        seq = atomic_load_explicit(&ar->a.seq, RELAXED);
        seq_begin(ar, seq);
        if (HM_LIKELY(!atomic_load_explicit(&ar->a.flags, RELAXED)))
            break;
        seq_end(ar, seq);
        heap_owner_flags(heap, cls->arena);
    }
    if (HM_UNLIKELY((idx = block_index(cls, s, block)) == NO_BLOCK ||
                    !(req = atomic_exchange_explicit(&s->cell[idx].req, 0, memory_order_acq_rel)))) {
        seq_end(ar, seq);
        return HM_HEAP_NOT_A_BLOCK;
    }
    if (size)
        *size = (size_t)req - 1;
    if (HM_UNLIKELY(push_block(cls, s, idx, req))) {
        seq_end(ar, seq);
        return free_owner_emptied(heap, cls, s);
    }
    seq_end(ar, seq);
    return HM_HEAP_OK;
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
        *size = (size_t)req_of(&s->cell[idx]) - 1;
    heap_unlock(heap, &s->cls->lock);
    return idx != NO_BLOCK;
}

/* The kept empty slabs go back: those of the shared arena and of arenas nobody owns at
   once, the calling thread's own arena's at once, other owners' at their next call. */
size_t hm_heap_trim(hm_heap *heap)
{
    size_t bytes = 0;
    unsigned a, number;

    if (!heap->config.threadsafe)
        return heap_trim_arena(heap, 0);
    number = hm_thread_number();
    for (a = 0; a < HM_HEAP_ARENAS; a++) {
        uint32_t owner = atomic_load_explicit(&heap->arenas[a].a.owner, RELAXED);

        if (owner == number + 1 && a == (number & (HM_HEAP_ARENAS - 1))) {
            bytes += heap_trim_arena(heap, a);
        } else if (!owner && stand_in(heap, a, number)) {
            bytes += heap_trim_arena(heap, a);
            stand_down(heap, a);
        } else {
            atomic_fetch_or_explicit(&heap->arenas[a].a.flags, ARENA_TRIM, memory_order_acq_rel);
        }
    }
    bytes += heap_trim_arena(heap, HM_HEAP_SHARED);
    return bytes;
}

size_t hm_heap_destroy(hm_heap *heap)
{
    hm_allocator allocator = heap->config.allocator;
    size_t refused = 0;

    if (heap->config.threadsafe)
        heap_registry_remove(heap);
    refused += heap_slabs_destroy(heap);
    refused += heap_regions_destroy(heap);
    hm_map_destroy(&heap->map);
    hm_free(&allocator, heap->allocation);
    return refused;
}
