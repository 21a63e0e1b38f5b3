/*
 * --costs: what the pieces of an IHostMalloc call cost on this machine, each timed
 * alone in a loop (an SRW lock, a critical section, an interlocked add, the block
 * table, HeapAlloc and HeapFree): the floor under rows 3.
 */
#include "bench.h"

#include "block_table.h"

#include <stdatomic.h>
#include <stdio.h>

static void *costs_alloc(void *context, size_t bytes) { return HeapAlloc((HANDLE)context, 0, bytes); }
static void costs_free(void *context, void *block)    { if (block) HeapFree((HANDLE)context, 0, block); }

static double per_op(LONGLONG start, unsigned n)
{
    return (double)(ticks() - start) * ns_per_tick / n;
}

/* The floor under pair 3: each Alloc and each Free takes a lock, moves the shared
   mallocBytes counter and touches the block table, around a HeapAlloc or HeapFree. */
void print_costs(void)
{
    enum { N = 2000000, LIVE = MALLOC_LIVE };
    static CRITICAL_SECTION sections[1000];
    _Atomic(uint64_t) counter = 0;
    CRITICAL_SECTION cs;
    SRWLOCK srw;
    HANDLE heap = HeapCreate(HEAP_NO_SERIALIZE, 0, 0), table_heap = HeapCreate(0, 0, 0);
    hm_allocator allocator = { costs_alloc, costs_free, table_heap };
    hm_block_table table;
    hm_block block;
    void *live[LIVE];
    LONGLONG start;
    unsigned i;

    if (!heap || !table_heap)
        fatal("HeapCreate failed");
    InitializeSRWLock(&srw);
    InitializeCriticalSectionEx(&cs, 0, CRITICAL_SECTION_NO_DEBUG_INFO);
    hm_blocks_init(&table, &allocator);
    for (i = 0; i < LIVE; i++) {
        if (!(live[i] = HeapAlloc(heap, 0, sizes[i])) || !hm_blocks_reserve(&table))
            fatal("out of memory");
        block.address = live[i];
        block.size = sizes[i];
        block.file = NULL;
        block.line = 0;
        hm_blocks_insert(&table, &block);
    }

    printf("\nwhat the pieces cost here (ns, %u runs each):\n", N);
    start = ticks();
    for (i = 0; i < N; i++) {
        AcquireSRWLockExclusive(&srw);
        ReleaseSRWLockExclusive(&srw);
    }
    printf("  SRW lock acquire+release                 %8.1f\n", per_op(start, N));
    start = ticks();
    for (i = 0; i < N; i++) {
        EnterCriticalSection(&cs);
        LeaveCriticalSection(&cs);
    }
    printf("  critical section enter+leave             %8.1f\n", per_op(start, N));
    start = ticks();
    for (i = 0; i < N; i++)
        atomic_fetch_add_explicit(&counter, i, memory_order_relaxed);
    printf("  interlocked add (mallocBytes)            %8.1f\n", per_op(start, N));
    start = ticks();
    for (i = 0; i < N; i++) {
        unsigned k = slots[i % SEQUENCE] % LIVE;
        if (!hm_blocks_remove(&table, live[k], &block) || !hm_blocks_reserve(&table))
            fatal("block table lost a block");
        hm_blocks_insert(&table, &block);
    }
    printf("  block table remove+insert, %u live      %8.1f\n", LIVE, per_op(start, N));
    start = ticks();
    for (i = 0; i < N / 4; i++) {
        unsigned k = slots[i % SEQUENCE] % LIVE;
        HeapFree(heap, 0, live[k]);
        if (!(live[k] = HeapAlloc(heap, 0, sizes[i % SEQUENCE])))
            fatal("HeapAlloc failed");
    }
    printf("  HeapFree+HeapAlloc, HEAP_NO_SERIALIZE    %8.1f\n", per_op(start, N / 4));
    for (i = 0; i < 1000; i++)
        InitializeCriticalSectionEx(&sections[i], 0, CRITICAL_SECTION_NO_DEBUG_INFO);
    start = ticks();
    for (i = 0; i < 1000; i++)
        DeleteCriticalSection(&sections[i]);
    printf("  DeleteCriticalSection                    %8.1f\n", per_op(start, 1000));
    fflush(stdout);

    hm_blocks_destroy(&table);
    DeleteCriticalSection(&cs);
    HeapDestroy(heap);
    HeapDestroy(table_heap);
}
