/*
 * Row 6: hostmem's own memory. The bytes in use in the manager's private bookkeeping
 * heap (and a malloc's), the heaps' own headers included, walked before and after
 * making live reservations or blocks: per 64 KiB and per 256 MiB reservation (6a, 6b)
 * and per malloc block, with the size-class rounding and what is committed beyond the
 * bytes requested (6c, 6d, 6e).
 */
#include "bench.h"

#include "core/heap.h"

#include <stdlib.h>

/* Bytes in use in a private heap, the heap's own headers included. */
static SIZE_T heap_bytes(HANDLE heap)
{
    PROCESS_HEAP_ENTRY entry;
    SIZE_T bytes = 0;

    if (!HeapLock(heap))
        fatal("HeapLock failed: %lu", GetLastError());
    entry.lpData = NULL;
    while (HeapWalk(heap, &entry))
        if (entry.wFlags & PROCESS_HEAP_ENTRY_BUSY)
            bytes += entry.cbData + entry.cbOverhead;
    HeapUnlock(heap);
    return bytes;
}

/* The manager's bookkeeping heap. */
static SIZE_T bookkeeping_bytes(const host *h)
{
    return heap_bytes(h->bookkeeping);
}

static double weigh_reservations(SIZE_T size, unsigned count)
{
    host h;
    void **bases = calloc(count, sizeof(void *));
    SIZE_T before, after;
    unsigned i;

    if (!bases)
        fatal("out of memory");
    host_start(&h);
    before = bookkeeping_bytes(&h);
    for (i = 0; i < count; i++)
        check(IHostMemoryManager_VirtualAlloc(h.manager, NULL, size, MEM_RESERVE, PAGE_READWRITE, eTaskCritical,
                                              &bases[i]), "VirtualAlloc(MEM_RESERVE)");
    after = bookkeeping_bytes(&h);
    for (i = 0; i < count; i++)
        check(IHostMemoryManager_VirtualFree(h.manager, bases[i], 0, MEM_RELEASE), "VirtualFree(MEM_RELEASE)");
    host_stop(&h);
    free(bases);
    return (double)(after - before) / count;
}

static block_weight weigh_blocks(unsigned count)
{
    host h;
    IHostMalloc *malloc;
    HANDLE malloc_heap;
    void **blocks = calloc(count, sizeof(void *));
    SIZE_T before, after;
    HOSTMEM_STATS stats;
    block_weight w;
    double requested = 0, rounded = 0;
    unsigned i;

    if (!blocks)
        fatal("out of memory");
    host_start(&h);
    /* The first heap a new IHostMalloc creates is its own bookkeeping heap. */
    heap_catch_start();
    check(IHostMemoryManager_CreateMalloc(h.manager, MALLOC_THREADSAFE, &malloc), "CreateMalloc");
    malloc_heap = heap_catch_stop();
    before = bookkeeping_bytes(&h) + heap_bytes(malloc_heap);
    for (i = 0; i < count; i++) {
        SIZE_T size = sizes[i % SEQUENCE];
        check(IHostMalloc_Alloc(malloc, size, eTaskCritical, &blocks[i]), "IHostMalloc::Alloc");
        requested += (double)size;
        rounded += (double)hm_heap_class_size(hm_heap_class_of(size));
    }
    after = bookkeeping_bytes(&h) + heap_bytes(malloc_heap);
    stats = host_stats(&h);
    for (i = 0; i < count; i++)
        check(IHostMalloc_Free(malloc, blocks[i]), "IHostMalloc::Free");
    IHostMalloc_Release(malloc);
    host_stop(&h);
    free(blocks);
    w.count = count;
    w.books = (double)(after - before) / count;
    w.rounding = (rounded - requested) / count;
    w.rounding_share = (rounded - requested) / requested;
    w.committed_share = (double)stats.mallocCommittedBytes / (double)stats.mallocBytes - 1;
    return w;
}

void weight_rows(void)
{
    static const char *const ids[3] = { "6c", "6d", "6e" };
    weight weights;
    unsigned i;

    weights.per_small = weigh_reservations(64 * KIB, run->weigh_small);
    weights.per_large = weigh_reservations(256 * MIB, run->weigh_large);
    print_weight("6a", "bookkeeping bytes per live 64 KiB reservation", weights.per_small, TARGET_BOOKKEEPING);
    print_weight("6b", "bookkeeping bytes per live 256 MiB reservation", weights.per_large, 0);
    weights.per_block = 0;
    for (i = 0; i < 3; i++) {
        block_weight w = weigh_blocks(run->weigh_blocks / 10 * (i == 0 ? 1u : i == 1 ? 10u : 100u));

        if (i == 1)
            weights.per_block = w.books;
        print_block_weight(ids[i], &w);
    }
    report_weights(&weights);
}
