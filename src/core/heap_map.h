/*
 * The heap's own map from 64 KiB granules to the record of the slab or region that
 * starts there (heap_slab.c, heap_region.c), so that Free can tell its blocks from any
 * other pointer without touching the memory.
 *
 * A three-level radix table over the granule number: lookups take no lock and never
 * walk a list (three dependent loads); writers (a new slab or region, a slab given
 * back) hold the map's lock only to add nodes. Nodes are never freed while the map
 * lives, so a reader never follows a dangling pointer; a slot it reads may be stale,
 * which the caller settles under the lock of what the slot names.
 *
 * One map per heap: a block of another IHostMalloc is simply not found.
 * Addresses at or above 2^48 are never in the map (no user address space there).
 */
#ifndef HOSTMEM_HEAP_MAP_H
#define HOSTMEM_HEAP_MAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "allocator.h"
#include "spin.h"

#define HM_MAP_GRANULE_BITS 16
#if UINTPTR_MAX > 0xFFFFFFFFu
#define HM_MAP_ADDRESS_BITS 48
#else
#define HM_MAP_ADDRESS_BITS 32
#endif
#define HM_MAP_LEAF_BITS 10
#define HM_MAP_KEY_BITS  (HM_MAP_ADDRESS_BITS - HM_MAP_GRANULE_BITS)
#define HM_MAP_MID_BITS  (HM_MAP_KEY_BITS - HM_MAP_LEAF_BITS > 10 ? 10 : HM_MAP_KEY_BITS - HM_MAP_LEAF_BITS)
#define HM_MAP_TOP_BITS  (HM_MAP_KEY_BITS - HM_MAP_LEAF_BITS - HM_MAP_MID_BITS)

typedef struct hm_map_leaf { _Atomic(void *) slot[1u << HM_MAP_LEAF_BITS]; } hm_map_leaf;
typedef struct hm_map_mid  { _Atomic(hm_map_leaf *) leaf[1u << HM_MAP_MID_BITS]; } hm_map_mid;

typedef struct hm_heap_map {
    hm_allocator         allocator;
    hm_spin              lock;      /* writers that add nodes */
    _Atomic(size_t)      node_bytes; /* for the figures */
    _Atomic(hm_map_mid *) top[1u << HM_MAP_TOP_BITS];
} hm_heap_map;

/* The map lives inside its owner (heap.c); init cannot fail. */
void hm_map_init(hm_heap_map *map, const hm_allocator *allocator);
void hm_map_destroy(hm_heap_map *map);

/* Makes sure the nodes for the granule at base exist; false when they cannot be
   allocated. base is granule-aligned. */
bool hm_map_prepare(hm_heap_map *map, uintptr_t base);
/* Sets the granule's slot (its nodes prepared) to record, or to NULL. */
void hm_map_set(hm_heap_map *map, uintptr_t base, void *record);

static inline void *hm_map_lookup(const hm_heap_map *map, uintptr_t address)
{
    uintptr_t key = address >> HM_MAP_GRANULE_BITS;
    hm_map_mid *mid;
    hm_map_leaf *leaf;

#if UINTPTR_MAX > 0xFFFFFFFFu
    if (address >> HM_MAP_ADDRESS_BITS)
        return NULL;
#endif
    mid = atomic_load_explicit(&((hm_heap_map *)map)->top[key >> (HM_MAP_LEAF_BITS + HM_MAP_MID_BITS)],
                               memory_order_acquire);
    if (!mid)
        return NULL;
    leaf = atomic_load_explicit(&mid->leaf[(key >> HM_MAP_LEAF_BITS) & ((1u << HM_MAP_MID_BITS) - 1)],
                                memory_order_acquire);
    if (!leaf)
        return NULL;
    return atomic_load_explicit(&leaf->slot[key & ((1u << HM_MAP_LEAF_BITS) - 1)], memory_order_acquire);
}

#endif /* HOSTMEM_HEAP_MAP_H */
