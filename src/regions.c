/*
 * HostMemEnumRegions: every region a manager holds, for a host that wants to see the
 * CLR's memory region by region (docs/observing.md).
 *
 * The snapshot is taken first, then the callback runs with no hostmem lock held (it
 * may call into hostmem, or release the object). VIRTUAL regions come from the
 * ledger, each read under its own lock (hm_ledger_snapshot), so a region's committed
 * bytes are exact and, when nothing runs beside the call, add up to the commit
 * CLR's VirtualAlloc charge; VIEW regions are copied from the views' table and HEAP
 * regions (the IHostMalloc heaps' slabs and large blocks) from the heaps' mapping
 * table, each under the manager's lock. The OS is never asked:
 * these are hostmem's books, the same ones the limit is enforced on.
 */
#include "regions.h"

#include <string.h>

#include "exports.h"
#include "memory_manager.h"

BOOL hm_region_list_add(hm_region_list *list, const void *base, SIZE_T reserved, SIZE_T committed, DWORD protect,
                        EMemoryCriticalLevel level, HOSTMEM_REGION_KIND kind)
{
    HOSTMEM_REGION_INFO *info;

    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 64;
        HOSTMEM_REGION_INFO *items;

        if (capacity > (SIZE_T)-1 / sizeof(*items) ||
            !(items = hm_manager_heap_alloc(list->manager, capacity * sizeof(*items))))
            return FALSE;
        if (list->count)
            memcpy(items, list->items, list->count * sizeof(*items));
        hm_manager_heap_free(list->manager, list->items);
        list->items = items;
        list->capacity = capacity;
    }
    info = &list->items[list->count++];
    info->cbSize = sizeof(*info);
    info->base = base;
    info->reservedBytes = reserved;
    info->committedBytes = committed;
    info->protect = protect;
    info->level = level;
    info->kind = kind;
    return TRUE;
}

static HRESULT add_virtual_regions(struct memory_manager *manager, hm_region_list *list)
{
    hm_region_info *infos = NULL;
    size_t capacity = hm_ledger_region_count(manager->ledger) + 16, live, i;

    /* Regions may come into being while the ledger is walked: make room and walk
       again until they fit. */
    for (;;) {
        if (capacity > (SIZE_T)-1 / sizeof(*infos) ||
            !(infos = hm_manager_heap_alloc(manager, capacity * sizeof(*infos))))
            return E_OUTOFMEMORY;
        live = hm_ledger_snapshot(manager->ledger, infos, capacity);
        if (live <= capacity)
            break;
        hm_manager_heap_free(manager, infos);
        capacity = live + live / 4 + 16;
    }
    for (i = 0; i < live; i++)
        if (!hm_region_list_add(list, (const void *)infos[i].base, infos[i].reserved_bytes,
                                (SIZE_T)infos[i].committed_bytes, infos[i].protect,
                                (EMemoryCriticalLevel)infos[i].level, HOSTMEM_REGION_VIRTUAL)) {
            hm_manager_heap_free(manager, infos);
            return E_OUTOFMEMORY;
        }
    hm_manager_heap_free(manager, infos);
    return S_OK;
}

/* A copy of one of the manager's block tables (the views, the heaps' mappings), made
   under the manager's lock, which is never held across an OS call: the copy is sized
   outside it, then checked under it that the table did not grow meanwhile. *blocks is
   NULL when the table is empty. */
static HRESULT copy_table(struct memory_manager *manager, const hm_block_table *table, hm_block **blocks,
                          size_t *count)
{
    *blocks = NULL;
    *count = 0;
    for (;;) {
        size_t room;

        hm_lock_acquire(&manager->lock);
        room = table->count;
        hm_lock_release(&manager->lock);
        if (!room)
            return S_OK;
        if (room > (SIZE_T)-1 / sizeof(**blocks) || !(*blocks = hm_manager_heap_alloc(manager, room * sizeof(**blocks))))
            return E_OUTOFMEMORY;
        hm_lock_acquire(&manager->lock);
        if (table->count <= room) {
            *count = hm_blocks_snapshot(table, *blocks);
            hm_lock_release(&manager->lock);
            return S_OK;
        }
        hm_lock_release(&manager->lock);
        hm_manager_heap_free(manager, *blocks);
    }
}

/* VIEW regions: hostmem books a view's size, not its pages. */
static HRESULT add_view_regions(struct memory_manager *manager, hm_region_list *list)
{
    hm_block *views;
    size_t count, i;
    HRESULT hr = copy_table(manager, &manager->views, &views, &count);

    for (i = 0; SUCCEEDED(hr) && i < count; i++)
        if (!hm_region_list_add(list, views[i].address, views[i].size, 0, 0, eTaskCritical, HOSTMEM_REGION_VIEW))
            hr = E_OUTOFMEMORY;
    hm_manager_heap_free(manager, views);
    return hr;
}

/* HEAP regions: the IHostMalloc heaps' slabs and large blocks, each committed whole
   (malloc_memory.c keeps the table). */
static HRESULT add_heap_regions(struct memory_manager *manager, hm_region_list *list)
{
    hm_block *maps;
    size_t count, i;
    HRESULT hr = copy_table(manager, &manager->heap_mappings, &maps, &count);

    for (i = 0; SUCCEEDED(hr) && i < count; i++)
        if (!hm_region_list_add(list, maps[i].address, maps[i].size, maps[i].size, HM_HEAP_MAPPING_PROTECT(maps[i].line),
                                HM_HEAP_MAPPING_LEVEL(maps[i].line), HOSTMEM_REGION_HEAP))
            hr = E_OUTOFMEMORY;
    hm_manager_heap_free(manager, maps);
    return hr;
}

HRESULT WINAPI HostMemEnumRegions(IUnknown *object, HOSTMEM_REGION_CALLBACK callback, void *context)
{
    struct memory_manager *manager;
    hm_region_list list;
    HRESULT hr;
    size_t i;

    if (!object || !callback)
        return E_POINTER;
    if (!(manager = hm_exports_manager_of(object)))
        return E_INVALIDARG;

    /* The callback may release the last outside reference to the object. */
    IHostMemoryManager_AddRef(hm_manager_iface(manager));
    list.manager = manager;
    list.items = NULL;
    list.count = list.capacity = 0;
    hr = add_virtual_regions(manager, &list);
    if (SUCCEEDED(hr))
        hr = add_view_regions(manager, &list);
    if (SUCCEEDED(hr))
        hr = add_heap_regions(manager, &list);
    if (SUCCEEDED(hr))
        for (i = 0; i < list.count; i++)
            if (!callback(context, &list.items[i]))
                break;
    hm_manager_heap_free(manager, list.items);
    IHostMemoryManager_Release(hm_manager_iface(manager));
    return hr;
}
