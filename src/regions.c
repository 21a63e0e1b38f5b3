/*
 * HostMemEnumRegions: every region a manager holds, for a host that wants to see the
 * CLR's memory region by region (docs/observing.md).
 *
 * The snapshot is taken first, then the callback runs with no hostmem lock held (it
 * may call into hostmem, or release the object). VIRTUAL regions come from the
 * ledger, each read under its own lock (hm_ledger_snapshot), so a region's committed
 * bytes are exact and, when nothing runs beside the call, add up to the commit
 * charge; VIEW regions are copied from the views' table under the manager's lock;
 * HEAP regions come from the IHostMalloc allocator's hook. The OS is never asked:
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

/* Default hook: see regions.h. Replaced when the IHostMalloc slab allocator lands. */
HRESULT hm_heap_enum_regions(struct memory_manager *manager, hm_region_list *list)
{
    (void)manager;
    (void)list;
    return S_OK;
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

static HRESULT add_view_regions(struct memory_manager *manager, hm_region_list *list)
{
    hm_block *views = NULL;
    size_t count, i;

    /* The manager's lock is never held across an OS call: size the copy outside it,
       then check under it that the table did not grow meanwhile. */
    for (;;) {
        size_t room;

        hm_lock_acquire(&manager->lock);
        room = manager->views.count;
        hm_lock_release(&manager->lock);
        if (!room)
            return S_OK;
        if (room > (SIZE_T)-1 / sizeof(*views) || !(views = hm_manager_heap_alloc(manager, room * sizeof(*views))))
            return E_OUTOFMEMORY;
        hm_lock_acquire(&manager->lock);
        if (manager->views.count <= room) {
            count = hm_blocks_snapshot(&manager->views, views);
            hm_lock_release(&manager->lock);
            break;
        }
        hm_lock_release(&manager->lock);
        hm_manager_heap_free(manager, views);
    }
    for (i = 0; i < count; i++)
        if (!hm_region_list_add(list, views[i].address, views[i].size, 0, 0, eTaskCritical, HOSTMEM_REGION_VIEW)) {
            hm_manager_heap_free(manager, views);
            return E_OUTOFMEMORY;
        }
    hm_manager_heap_free(manager, views);
    return S_OK;
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
        hr = hm_heap_enum_regions(manager, &list);
    if (SUCCEEDED(hr))
        for (i = 0; i < list.count; i++)
            if (!callback(context, &list.items[i]))
                break;
    hm_manager_heap_free(manager, list.items);
    IHostMemoryManager_Release(hm_manager_iface(manager));
    return hr;
}
