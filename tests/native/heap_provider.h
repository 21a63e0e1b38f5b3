/*
 * What the native heap tests and the fuzzer run the allocator on: bookkeeping from
 * malloc and slabs from aligned_alloc (C11), each able to fail when told to, with
 * counts of what is live. The heap never touches its blocks' memory, so the fuzzer may
 * also hand out made-up addresses (fake = true): nothing is mapped at all, and a test
 * that writes into blocks uses real memory (fake = false) under the sanitizers.
 */
#ifndef HOSTMEM_HEAP_PROVIDER_H
#define HOSTMEM_HEAP_PROVIDER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "heap.h"

typedef struct test_provider {
    bool              fake;
    uintptr_t         next_fake;      /* the next made-up base */
    _Atomic(long)     maps, unmaps;   /* successful calls */
    _Atomic(long)     live_mappings;
    _Atomic(uint64_t) live_bytes;
    _Atomic(long)     alloc_live;     /* bookkeeping blocks */
    _Atomic(int)      fail_maps;      /* this many map calls fail */
    _Atomic(int)      fail_unmaps;
    _Atomic(int)      fail_allocs;
    _Atomic(int)      last_level;
} test_provider;

static inline void *prov_map(void *context, size_t bytes, int level)
{
    test_provider *p = context;
    void *base;

    atomic_store(&p->last_level, level);
    if (atomic_load(&p->fail_maps) > 0 && atomic_fetch_sub(&p->fail_maps, 1) > 0)
        return NULL;
    if (p->fake) {
        /* Granule-aligned, never reused, a granule of gap between mappings. */
        base = (void *)p->next_fake;
        p->next_fake += (bytes + 2 * HM_HEAP_SLAB_SIZE - 1) & ~(HM_HEAP_SLAB_SIZE - 1);
    } else if (!(base = aligned_alloc(HM_HEAP_SLAB_SIZE, (bytes + HM_HEAP_SLAB_SIZE - 1) & ~(HM_HEAP_SLAB_SIZE - 1)))) {
        return NULL;
    }
    atomic_fetch_add(&p->maps, 1);
    atomic_fetch_add(&p->live_mappings, 1);
    atomic_fetch_add(&p->live_bytes, bytes);
    return base;
}

static inline bool prov_unmap(void *context, void *base, size_t bytes)
{
    test_provider *p = context;

    if (atomic_load(&p->fail_unmaps) > 0 && atomic_fetch_sub(&p->fail_unmaps, 1) > 0)
        return false;
    if (!p->fake)
        free(base);
    atomic_fetch_add(&p->unmaps, 1);
    atomic_fetch_sub(&p->live_mappings, 1);
    atomic_fetch_sub(&p->live_bytes, bytes);
    return true;
}

static inline void *prov_alloc(void *context, size_t bytes)
{
    test_provider *p = context;
    void *block;

    if (atomic_load(&p->fail_allocs) > 0 && atomic_fetch_sub(&p->fail_allocs, 1) > 0)
        return NULL;
    if ((block = malloc(bytes)))
        atomic_fetch_add(&p->alloc_live, 1);
    return block;
}

static inline void prov_free(void *context, void *block)
{
    test_provider *p = context;

    if (block) {
        atomic_fetch_sub(&p->alloc_live, 1);
        free(block);
    }
}

static inline hm_heap *test_heap_create(test_provider *p, bool threadsafe, bool fake)
{
    hm_heap_config config;

    atomic_init(&p->maps, 0);
    atomic_init(&p->unmaps, 0);
    atomic_init(&p->live_mappings, 0);
    atomic_init(&p->live_bytes, 0);
    atomic_init(&p->alloc_live, 0);
    atomic_init(&p->fail_maps, 0);
    atomic_init(&p->fail_unmaps, 0);
    atomic_init(&p->fail_allocs, 0);
    atomic_init(&p->last_level, -1);
    p->fake = fake;
    p->next_fake = (uintptr_t)1 << 36;
    config.allocator.alloc = prov_alloc;
    config.allocator.free = prov_free;
    config.allocator.context = p;
    config.provider.map = prov_map;
    config.provider.unmap = prov_unmap;
    config.provider.context = p;
    config.page_size = 4096;
    config.threadsafe = threadsafe;
    config.counters = NULL;
    return hm_heap_create(&config);
}

#endif /* HOSTMEM_HEAP_PROVIDER_H */
