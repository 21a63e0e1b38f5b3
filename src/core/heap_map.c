/*
 * The heap's radix map (heap_map.h): node allocation and the writers' side.
 */
#include "heap_map.h"

#include <string.h>

void hm_map_init(hm_heap_map *map, const hm_allocator *allocator)
{
    size_t i;

    map->allocator = *allocator;
    hm_spin_init(&map->lock);
    atomic_init(&map->node_bytes, 0);
    for (i = 0; i < (1u << HM_MAP_TOP_BITS); i++)
        atomic_init(&map->top[i], NULL);
}

void hm_map_destroy(hm_heap_map *map)
{
    size_t i, j;

    for (i = 0; i < (1u << HM_MAP_TOP_BITS); i++) {
        hm_map_mid *mid = atomic_load_explicit(&map->top[i], memory_order_relaxed);
        if (!mid)
            continue;
        for (j = 0; j < (1u << HM_MAP_MID_BITS); j++)
            hm_free(&map->allocator, atomic_load_explicit(&mid->leaf[j], memory_order_relaxed));
        hm_free(&map->allocator, mid);
    }
}

/* Zeroed nodes; plain stores are fine before the node is published. */
static void *new_node(hm_heap_map *map, size_t bytes)
{
    void *node = hm_alloc(&map->allocator, bytes);

    if (node) {
        memset(node, 0, bytes);
        atomic_fetch_add_explicit(&map->node_bytes, bytes, memory_order_relaxed);
    }
    return node;
}

bool hm_map_prepare(hm_heap_map *map, uintptr_t base)
{
    uintptr_t key = base >> HM_MAP_GRANULE_BITS;
    size_t t = key >> (HM_MAP_LEAF_BITS + HM_MAP_MID_BITS);
    size_t m = (key >> HM_MAP_LEAF_BITS) & ((1u << HM_MAP_MID_BITS) - 1);
    hm_map_mid *mid;
    bool ok = true;

    if (base >> (HM_MAP_ADDRESS_BITS - 1) >> 1)
        return false; /* nothing maps there; refuse rather than index out of the table */
    /* Already there: the common case, no lock. */
    mid = atomic_load_explicit(&map->top[t], memory_order_acquire);
    if (mid && atomic_load_explicit(&mid->leaf[m], memory_order_acquire))
        return true;

    hm_spin_acquire(&map->lock);
    if (!(mid = atomic_load_explicit(&map->top[t], memory_order_relaxed))) {
        if ((mid = new_node(map, sizeof(*mid))))
            atomic_store_explicit(&map->top[t], mid, memory_order_release);
    }
    if (!mid) {
        ok = false;
    } else if (!atomic_load_explicit(&mid->leaf[m], memory_order_relaxed)) {
        hm_map_leaf *leaf = new_node(map, sizeof(*leaf));
        if (leaf)
            atomic_store_explicit(&mid->leaf[m], leaf, memory_order_release);
        else
            ok = false;
    }
    hm_spin_release(&map->lock);
    return ok;
}

void hm_map_set(hm_heap_map *map, uintptr_t base, void *record)
{
    uintptr_t key = base >> HM_MAP_GRANULE_BITS;
    hm_map_mid *mid = atomic_load_explicit(&map->top[key >> (HM_MAP_LEAF_BITS + HM_MAP_MID_BITS)],
                                           memory_order_acquire);
    hm_map_leaf *leaf = atomic_load_explicit(&mid->leaf[(key >> HM_MAP_LEAF_BITS) & ((1u << HM_MAP_MID_BITS) - 1)],
                                             memory_order_acquire);

    atomic_store_explicit(&leaf->slot[key & ((1u << HM_MAP_LEAF_BITS) - 1)], record, memory_order_release);
}
