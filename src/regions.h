/*
 * regions.c: HostMemEnumRegions, and the list its snapshot is built in.
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


#endif /* HOSTMEM_REGIONS_H */
