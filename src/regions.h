/*
 * regions.c: HostMemEnumRegions, and the hook through which the IHostMalloc
 * allocator adds its own regions (HOSTMEM_REGION_HEAP) to the snapshot.
 */
#ifndef HOSTMEM_REGIONS_H
#define HOSTMEM_REGIONS_H

#include "hostmem_private.h"

/* The snapshot being built: a growable array in the manager's bookkeeping heap. */
typedef struct hm_region_list {
    struct memory_manager *manager;
    HOSTMEM_REGION_INFO   *items;
    size_t                 count, capacity;
} hm_region_list;

/* Appends one region; FALSE when the bookkeeping heap is exhausted. */
BOOL hm_region_list_add(hm_region_list *list, const void *base, SIZE_T reserved, SIZE_T committed, DWORD protect,
                        EMemoryCriticalLevel level, HOSTMEM_REGION_KIND kind);

/* HOOK for the IHostMalloc allocator: appends a HOSTMEM_REGION_HEAP entry for every
   region of memory hostmem's IHostMalloc objects hold (with the lock the allocator
   needs, never calling out). S_OK, or E_OUTOFMEMORY when hm_region_list_add fails.
   Today IHostMalloc draws from private Win32 heaps whose regions hostmem does not
   book, so the default implementation (regions.c) lists nothing; the slab allocator
   replaces it with one that lists its slabs. */
HRESULT hm_heap_enum_regions(struct memory_manager *manager, hm_region_list *list);

#endif /* HOSTMEM_REGIONS_H */
