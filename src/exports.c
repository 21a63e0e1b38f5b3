/*
 * The DLL's exported functions that are not a COM method: creating the objects a host
 * hands to the CLR, reading the books, and telling whether an object is one of ours.
 * (HostMemEnumMallocBlocks, the leak report, lives in host_malloc.c beside the blocks
 * it lists; HostMemEnumRegions in regions.c.)
 */
#include "exports.h"

#include "host_control.h"
#include "memory_manager.h"

struct memory_manager *hm_exports_manager_of(IUnknown *object)
{
    struct memory_manager *manager = hm_host_control_manager(object);

    return manager ? manager : hm_manager_from_iface(object);
}

/* The configuration checked, a manager made from it. */
static HRESULT create_manager(const HOSTMEM_CONFIG *config, struct memory_manager **manager)
{
    hm_settings settings;
    HRESULT hr;

    if (FAILED(hr = hm_settings_from_config(config, &settings)))
        return hr;
    return hm_manager_create(&settings, manager);
}

HRESULT WINAPI HostMemCreateMemoryManager(const HOSTMEM_CONFIG *config, IHostMemoryManager **ppManager)
{
    struct memory_manager *manager;
    HRESULT hr;

    if (!ppManager)
        return E_POINTER;
    *ppManager = NULL;
    if (FAILED(hr = create_manager(config, &manager)))
        return hr;
    *ppManager = hm_manager_iface(manager);
    return S_OK;
}

HRESULT WINAPI HostMemCreateHostControl(const HOSTMEM_CONFIG *config, IHostControl **ppHostControl)
{
    struct memory_manager *manager;
    HRESULT hr;

    if (!ppHostControl)
        return E_POINTER;
    *ppHostControl = NULL;
    if (FAILED(hr = create_manager(config, &manager)))
        return hr;
    return hm_host_control_create(manager, ppHostControl);
}

HRESULT WINAPI HostMemGetStats(IUnknown *object, HOSTMEM_STATS *stats)
{
    struct memory_manager *manager;

    if (!object || !stats)
        return E_POINTER;
    if (stats->cbSize != sizeof(*stats) || !(manager = hm_exports_manager_of(object)))
        return E_INVALIDARG;
    hm_exports_read_stats(manager, stats);
    return S_OK;
}

void hm_exports_read_stats(struct memory_manager *manager, HOSTMEM_STATS *stats)
{
    int i;

    /* Committed before peak, and peak never below it: committed never reads above peak. */
    stats->committedBytes = hm_ledger_committed_bytes(manager->ledger);
    stats->peakCommittedBytes = hm_ledger_peak_committed_bytes(manager->ledger);
    if (stats->peakCommittedBytes < stats->committedBytes)
        stats->peakCommittedBytes = stats->committedBytes;
    stats->reservedBytes = hm_ledger_reserved_bytes(manager->ledger);
    stats->mallocBytes = atomic_load_explicit(&manager->malloc_bytes, memory_order_relaxed);
    stats->mappedBytes = atomic_load_explicit(&manager->mapped_bytes, memory_order_relaxed);
    for (i = 0; i < 3; i++) {
        stats->failures[i] = atomic_load_explicit(&manager->failures[i], memory_order_relaxed);
        stats->notifications[i] = atomic_load_explicit(&manager->notifications[i], memory_order_relaxed);
    }
    stats->escalations = atomic_load_explicit(&manager->escalations, memory_order_relaxed);
}
