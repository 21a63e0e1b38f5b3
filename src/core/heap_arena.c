/*
 * An arena's ownership, apart from the owner's own Alloc and Free (heap.c): what an
 * owner does when its arena's flags ask (blocks others freed into it to take back, a
 * trim, a stop for the leak report), the Free of a block by a thread that does not
 * own the block's arena, standing in for an arena nobody owns, and a thread's exit,
 * which hands its arenas on. The registry of thread-safe heaps is here: only the
 * thread exit walks it. The claim of an arena is heap.c's (claim_arena): every Alloc
 * by a thread in the shared arena tries it, so it inlines there.
 *
 * A thread that frees a block of an arena it does not own takes the class lock and
 * hands the block to the owner: the block goes on its slab's remote list, and the
 * arena's flag tells the owner to take it back, at its next call's start or when its
 * class has no free block. An arena whose owner has left has its remote blocks taken
 * back by whichever thread stands in for it (take_back_unowned).
 */
#include "heap_internal.h"

/* Every thread-safe heap, for hm_heap_thread_exit. The lock is taken alone, or before
   class locks, never under one. */
static hm_spin  registry_lock;
static hm_heap *registry;

HM_INTERNAL void heap_registry_add(hm_heap *heap)
{
    hm_spin_acquire(&registry_lock);
    heap->registry_prev = NULL;
    heap->registry_next = registry;
    if (registry)
        registry->registry_prev = heap;
    registry = heap;
    hm_spin_release(&registry_lock);
}

HM_INTERNAL void heap_registry_remove(hm_heap *heap)
{
    hm_spin_acquire(&registry_lock);
    if (heap->registry_prev)
        heap->registry_prev->registry_next = heap->registry_next;
    else
        registry = heap->registry_next;
    if (heap->registry_next)
        heap->registry_next->registry_prev = heap->registry_prev;
    hm_spin_release(&registry_lock);
}

/* Under the class lock, by the arena's owner (or for the shared arena): the blocks
   other threads freed into cls's slabs join the slabs' free lists. Slabs that empty
   and are not kept are chained on *retired (through all_next) to be given back. */
HM_INTERNAL void heap_take_back_remote(hm_heap *heap, heap_class *cls, heap_slab **retired)
{
    heap_slab *s, *next;

    atomic_store_explicit(&cls->remote, 0, RELAXED);
    for (s = cls->all; s; s = next) {
        unsigned used, count, idx;

        next = s->all_next;
        if (!(count = s->remote_count))
            continue;
        for (idx = s->remote_head; idx != NO_BLOCK;) {
            unsigned after = s->cell[idx].next;

            s->cell[idx].next = s->free_head;
            s->free_head = (uint16_t)idx;
            idx = after;
        }
        s->remote_head = NO_BLOCK;
        s->remote_count = 0;
        used = used_of(s);
        set_used(s, used - count);
        if (used == cls->capacity)
            partial_push(cls, s);
        if (used == count && (s = emptied(heap, cls, s))) {
            s->all_next = *retired;
            *retired = s;
        }
    }
}

/* By arena a's owner, no lock held: the blocks others freed into it, every class. */
static void take_back_arena(hm_heap *heap, unsigned a)
{
    unsigned c;

    for (c = 0; c < HM_HEAP_CLASSES; c++) {
        heap_class *cls = &heap->classes[a * HM_HEAP_CLASSES + c].c;
        heap_slab *retired = NULL;

        if (!atomic_load_explicit(&cls->remote, RELAXED))
            continue;
        hm_spin_acquire(&cls->lock);
        heap_take_back_remote(heap, cls, &retired);
        hm_spin_release(&cls->lock);
        give_back_chain(heap, cls, retired);
    }
}

/* By arena a's owner, outside seq: what the flags ask. */
HM_INTERNAL HM_NOINLINE void heap_owner_flags(hm_heap *heap, unsigned a)
{
    heap_arena_slot *ar = &heap->arenas[a];
    uint32_t flags = atomic_load_explicit(&ar->a.flags, memory_order_acquire);

    if (flags & ARENA_REMOTE) {
        atomic_fetch_and_explicit(&ar->a.flags, ~ARENA_REMOTE, memory_order_acq_rel);
        take_back_arena(heap, a);
    }
    if (flags & ARENA_TRIM) {
        atomic_fetch_and_explicit(&ar->a.flags, ~ARENA_TRIM, memory_order_acq_rel);
        heap_trim_arena(heap, a);
    }
    while (atomic_load_explicit(&ar->a.flags, memory_order_acquire) & ARENA_STOP)
        hm_spin_yield();
}

/* Arena a has no owner (or is about to have none): blocks other threads freed into it
   are taken back by this thread standing in, as long as some are flagged. The flag's
   setter (heap_free_remote: fetch_or, then a look at the owner) and the owner that
   leaves (exchange, then a look at the flag) are sequentially consistent, so one of
   the two always sees the other: no block is left on a remote list of an arena nobody
   owns. */
static void take_back_unowned(hm_heap *heap, unsigned a, unsigned number)
{
    heap_arena_slot *ar = &heap->arenas[a];

    while ((atomic_load_explicit(&ar->a.flags, memory_order_seq_cst) & ARENA_REMOTE) &&
           !atomic_load_explicit(&ar->a.owner, memory_order_seq_cst) && stand_in(heap, a, number)) {
        atomic_fetch_and_explicit(&ar->a.flags, ~ARENA_REMOTE, memory_order_acq_rel);
        take_back_arena(heap, a);
        atomic_exchange_explicit(&ar->a.owner, 0, memory_order_seq_cst);
    }
}

/* A block of an owned arena, freed by a thread that is not its owner: under the class
   lock, the block's req is exchanged (the owner may be freeing it at this moment too:
   one of the two gets it) and the block goes on its slab's remote list for the owner
   to take back; the bytes come off the arena's remote counter. An arena nobody owns
   gets its blocks taken back at once by this thread standing in. */
HM_INTERNAL HM_NOINLINE hm_heap_status heap_free_remote(hm_heap *heap, heap_slab *s, void *block, size_t *size)
{
    heap_class *cls = s->cls;
    unsigned a = cls->arena, idx, req;

    hm_spin_acquire(&cls->lock);
    if ((idx = block_index(cls, s, block)) == NO_BLOCK ||
        !(req = atomic_exchange_explicit(&s->cell[idx].req, 0, memory_order_acq_rel))) {
        hm_spin_release(&cls->lock);
        return HM_HEAP_NOT_A_BLOCK;
    }
    if (size)
        *size = (size_t)req - 1;
    s->cell[idx].next = s->remote_head;
    s->remote_head = (uint16_t)idx;
    s->remote_count++;
    atomic_store_explicit(&cls->remote, 1, RELAXED);
    atomic_fetch_add_explicit(&heap->counters[REMOTE_COUNTER(a)].bytes, (uint64_t)1 - req, RELAXED);
    hm_spin_release(&cls->lock);
    atomic_fetch_or_explicit(&heap->arenas[a].a.flags, ARENA_REMOTE, memory_order_seq_cst);
    take_back_unowned(heap, a, hm_thread_number());
    return HM_HEAP_OK;
}

void hm_heap_thread_exit(void)
{
    unsigned number = hm_thread_number();
    hm_heap *heap;

    hm_spin_acquire(&registry_lock);
    for (heap = registry; heap; heap = heap->registry_next) {
        heap_arena_slot *ar = arena_of(heap, number);

        if (atomic_load_explicit(&ar->a.owner, RELAXED) != number + 1)
            continue;
        atomic_fetch_and_explicit(&ar->a.flags, ~(ARENA_REMOTE | ARENA_TRIM), memory_order_acq_rel);
        take_back_arena(heap, number & (HM_HEAP_ARENAS - 1));
        atomic_exchange_explicit(&ar->a.owner, 0, memory_order_seq_cst);
        /* What was freed into it while it was being handed on. */
        take_back_unowned(heap, number & (HM_HEAP_ARENAS - 1), number);
    }
    hm_spin_release(&registry_lock);
}
