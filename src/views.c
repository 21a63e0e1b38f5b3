/*
 * Mapped views: the CLR maps files itself and tells the host around it
 * (NeedsVirtualAddressSpace before a retry, AcquiredVirtualAddressSpace after a map,
 * ReleasedVirtualAddressSpace after an unmap; docs/clr-contract.md, "Mapped views").
 * hostmem books each view's bytes in HOSTMEM_STATS.mappedBytes and against
 * addressSpaceLimit, beside the reservations of virtual.c.
 */
#include "memory_manager.h"

HRESULT hm_views_needs(struct memory_manager *manager, void *start, SIZE_T size)
{
    uint64_t limit = manager->settings.address_space_limit, used;

    (void)start;
    if (!limit)
        return S_OK;
    used = hm_budget_used(&manager->address_space);
    if (size > limit - (used < limit ? used : limit))
        return E_OUTOFMEMORY;
    return S_OK;
}

HRESULT hm_views_acquired(struct memory_manager *manager, void *start, SIZE_T size)
{
    hm_block view, previous;
    BOOL replaced, recorded;

    /* A view lies in user address space; booking anything else would keep bytes that
       no view holds. */
    if (!start || (uintptr_t)start < manager->min_address || (uintptr_t)start > manager->max_address ||
        size > manager->max_address - (uintptr_t)start + 1)
        return E_INVALIDARG;
    view.address = start;
    view.size = size;
    view.file = NULL;
    view.line = 0;
    hm_lock_acquire(&manager->lock);
    replaced = hm_blocks_remove(&manager->views, start, &previous);
    if ((recorded = hm_blocks_reserve(&manager->views)))
        hm_blocks_insert(&manager->views, &view);
    hm_lock_release(&manager->lock);

    /* The view exists whether or not hostmem could book it; only booked views count,
       so the books never keep bytes that no Released call could take back. */
    if (replaced) {
        atomic_fetch_sub_explicit(&manager->mapped_bytes, previous.size, memory_order_relaxed);
        hm_manager_uncharge_address_space(manager, previous.size);
    }
    if (!recorded)
        return E_OUTOFMEMORY;
    atomic_fetch_add_explicit(&manager->mapped_bytes, size, memory_order_relaxed);
    /* Past the limit too: the view exists, and its release will uncharge it. */
    if (manager->settings.address_space_limit)
        hm_budget_charge(&manager->address_space, size, UINT64_MAX);
    return S_OK;
}

HRESULT hm_views_released(struct memory_manager *manager, void *start)
{
    hm_block view;
    BOOL found;

    hm_lock_acquire(&manager->lock);
    found = hm_blocks_remove(&manager->views, start, &view);
    hm_lock_release(&manager->lock);
    if (!found)
        return HOST_E_INVALIDOPERATION;
    atomic_fetch_sub_explicit(&manager->mapped_bytes, view.size, memory_order_relaxed);
    hm_manager_uncharge_address_space(manager, view.size);
    return S_OK;
}
