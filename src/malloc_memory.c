/*
 * What the IHostMalloc heaps take from the manager: their pages, booked like the CLR's
 * own commits, and the counters their mallocBytes is summed from.
 *
 * Pages: the same commit charge as VirtualAlloc's (the ledger), so the limit, the
 * memory load and the water marks cover the heaps too, and a charge that does not fit
 * is refused before the OS is asked. The mappings are not ledger regions: the CLR
 * cannot VirtualFree a heap's slab through the manager, and reservedBytes stays the
 * CLR's own. The heaps' share of the charge is counted apart (malloc_committed), so
 * HOSTMEM_STATS.committedBytes stays what the CLR committed through VirtualAlloc.
 *
 * Counters: every Alloc and Free of every IHostMalloc changes mallocBytes, from every
 * thread; one shared counter would be a cache line every core fights for and a locked
 * instruction on every call. Each heap counts in counters of its own, one per size
 * class, written under that class's lock (src/core/heap.h), and the manager sums them.
 * The counter blocks live in the manager's heap until the manager goes: a block is
 * only ever added to the list, and a released malloc's block, zeroed, waits for the
 * next CreateMalloc. So a reader walks the list with no lock.
 */
#include "memory_manager.h"

#include <string.h>

#include "os.h"

struct malloc_counters {
    struct malloc_counters *next;       /* every block; never unlinked */
    struct malloc_counters *next_spare;
    hm_heap_counter         counter[HM_HEAP_COUNTERS];
};

uint64_t hm_malloc_memory_bytes(struct memory_manager *manager)
{
    const struct malloc_counters *block = atomic_load_explicit(&manager->counters, memory_order_acquire);
    uint64_t sum = 0;

    for (; block; block = block->next)
        sum += hm_heap_counters_sum(block->counter);
    return sum;
}

hm_heap_counter *hm_malloc_memory_acquire_counters(struct memory_manager *manager)
{
    struct malloc_counters *block;

    hm_lock_acquire(&manager->lock);
    if ((block = manager->spare_counters))
        manager->spare_counters = block->next_spare;
    hm_lock_release(&manager->lock);
    if (block)
        return block->counter;
    if (!(block = hm_manager_heap_alloc(manager, sizeof(*block))))
        return NULL;
    memset(block, 0, sizeof(*block));
    hm_lock_acquire(&manager->lock);
    block->next = atomic_load_explicit(&manager->counters, memory_order_relaxed);
    atomic_store_explicit(&manager->counters, block, memory_order_release);
    hm_lock_release(&manager->lock);
    return block->counter;
}

void hm_malloc_memory_release_counters(struct memory_manager *manager, hm_heap_counter *counter)
{
    struct malloc_counters *block = CONTAINING_RECORD(counter, struct malloc_counters, counter);
    unsigned i;

    for (i = 0; i < HM_HEAP_COUNTERS; i++)
        atomic_store_explicit(&counter[i].bytes, 0, memory_order_relaxed);
    hm_lock_acquire(&manager->lock);
    block->next_spare = manager->spare_counters;
    manager->spare_counters = block;
    hm_lock_release(&manager->lock);
}

static SIZE_T round_up(SIZE_T value, SIZE_T unit)
{
    return (value + unit - 1) & ~(unit - 1);
}

void *hm_malloc_memory_map(struct memory_manager *manager, SIZE_T bytes, DWORD protect, EMemoryCriticalLevel level)
{
    SIZE_T span = round_up(bytes, manager->page_size);
    hm_block mapping;
    BOOL listed;
    DWORD error;
    void *base;

    if (!hm_manager_charge_address_space(manager, span))
        return NULL;
    if (!hm_ledger_charge(manager->ledger, span, hm_limit_ceiling(manager, level))) {
        hm_manager_uncharge_address_space(manager, span);
        return NULL;
    }
    if (!(base = hm_os.VirtualAlloc(NULL, span, MEM_RESERVE | MEM_COMMIT, protect))) {
        error = GetLastError();
        hm_ledger_uncharge(manager->ledger, span);
        hm_manager_uncharge_address_space(manager, span);
        hm_limit_commit_changed(manager, FALSE);
        SetLastError(error);
        return NULL;
    }
    /* Every mapping is listed for HostMemEnumRegions; one the books cannot list is not
       kept, so the list is never short of what the heaps hold. */
    mapping.address = base;
    mapping.size = span;
    mapping.file = NULL;
    mapping.line = HM_HEAP_MAPPING_LINE(protect, level);
    hm_lock_acquire(&manager->lock);
    if ((listed = hm_blocks_reserve(&manager->heap_mappings)))
        hm_blocks_insert(&manager->heap_mappings, &mapping);
    hm_lock_release(&manager->lock);
    if (!listed) {
        hm_os.VirtualFree(base, 0, MEM_RELEASE);
        hm_ledger_uncharge(manager->ledger, span);
        hm_manager_uncharge_address_space(manager, span);
        hm_limit_commit_changed(manager, FALSE);
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    atomic_fetch_add_explicit(&manager->malloc_committed, span, memory_order_relaxed);
    hm_limit_commit_changed(manager, FALSE);
    return base;
}

BOOL hm_malloc_memory_unmap(struct memory_manager *manager, void *base, SIZE_T bytes)
{
    SIZE_T span = round_up(bytes, manager->page_size);

    if (!hm_os.VirtualFree(base, 0, MEM_RELEASE))
        return FALSE;
    hm_lock_acquire(&manager->lock);
    hm_blocks_remove(&manager->heap_mappings, base, NULL);
    hm_lock_release(&manager->lock);
    atomic_fetch_sub_explicit(&manager->malloc_committed, span, memory_order_relaxed);
    hm_ledger_uncharge(manager->ledger, span);
    hm_manager_uncharge_address_space(manager, span);
    hm_limit_commit_changed(manager, TRUE);
    return TRUE;
}
