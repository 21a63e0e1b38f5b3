/*
 * The DLL's exported functions that are not a COM method: creating the objects a host
 * hands to the CLR, reading the books, and telling whether an object is one of ours.
 * (HostMemEnumMallocBlocks, the leak report, lives in host_malloc.c beside the blocks
 * it lists; HostMemEnumRegions in regions.c.)
 */
#include "exports.h"

#include <string.h>

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

/* Every field of the current HOSTMEM_STATS, read from the manager's books. */
void hm_exports_read_stats(struct memory_manager *manager, HOSTMEM_STATS *stats)
{
    uint64_t charge;
    int i;

    /* The charge covers the CLR's VirtualAlloc commits and the heaps' pages; the heaps'
       share is counted apart. While a heap maps or unmaps a slab the two may disagree by
       that slab for an instant; a quiet manager's figures are exact. Committed before
       peak, and peak (of the whole charge) never below it. */
    stats->mallocCommittedBytes = atomic_load_explicit(&manager->malloc_committed, memory_order_relaxed);
    charge = hm_ledger_committed_bytes(manager->ledger);
    stats->committedBytes = charge > stats->mallocCommittedBytes ? charge - stats->mallocCommittedBytes : 0;
    stats->peakCommittedBytes = hm_ledger_peak_committed_bytes(manager->ledger);
    if (stats->peakCommittedBytes < charge)
        stats->peakCommittedBytes = charge;
    stats->reservedBytes = hm_ledger_reserved_bytes(manager->ledger);
    stats->mallocBytes = hm_malloc_memory_bytes(manager);
    stats->mappedBytes = atomic_load_explicit(&manager->mapped_bytes, memory_order_relaxed);
    for (i = 0; i < 3; i++) {
        stats->failures[i] = atomic_load_explicit(&manager->failures[i], memory_order_relaxed);
        stats->notifications[i] = atomic_load_explicit(&manager->notifications[i], memory_order_relaxed);
    }
    stats->escalations = atomic_load_explicit(&manager->escalations, memory_order_relaxed);
    /* --- governance --- */
    stats->domainUnloads = atomic_load_explicit(&manager->governance.domain_unloads, memory_order_relaxed);
    stats->policyFailures = atomic_load_explicit(&manager->governance.policy_failures, memory_order_relaxed);
    stats->policyTimeouts = atomic_load_explicit(&manager->governance.policy_timeouts, memory_order_relaxed);
    stats->policyDefaultActions =
        atomic_load_explicit(&manager->governance.policy_default_actions, memory_order_relaxed);
    stats->commitLimit = manager->settings.commit_limit;
    stats->clrDisabled = atomic_load_explicit(&manager->governance.clr_disabled, memory_order_relaxed);
    stats->limitSource = manager->settings.limit_source;
    /* --- notifications and the trace --- */
    stats->traceRowsDropped = manager->trace ? hm_trace_dropped(manager->trace) : 0;
}

HRESULT WINAPI HostMemGetStats(IUnknown *object, HOSTMEM_STATS *stats)
{
    struct memory_manager *manager;
    HOSTMEM_STATS all;
    DWORD size, fit;

    if (!object || !stats)
        return E_POINTER;
    size = stats->cbSize;
    if (size < HOSTMEM_STATS_V1_SIZE || size > sizeof(all) || !(manager = hm_exports_manager_of(object)))
        return E_INVALIDARG;
    hm_exports_read_stats(manager, &all);
    /* A caller built against an older header passes a smaller struct: write what lies
       within cbSize, except a field that cbSize cuts (only an odd size cuts one). */
    fit = size;
#define CUT(field)                                                                     \
    if (offsetof(HOSTMEM_STATS, field) < size &&                                       \
        offsetof(HOSTMEM_STATS, field) + sizeof(all.field) > size)                     \
        fit = (DWORD)offsetof(HOSTMEM_STATS, field)
    CUT(domainUnloads);
    CUT(policyFailures);
    CUT(policyTimeouts);
    CUT(policyDefaultActions);
    CUT(commitLimit);
    CUT(clrDisabled);
    CUT(limitSource);
    CUT(traceRowsDropped);
    CUT(mallocCommittedBytes);
#undef CUT
    memcpy((char *)stats + sizeof(stats->cbSize), (const char *)&all + sizeof(all.cbSize),
           fit - sizeof(stats->cbSize));
    return S_OK;
}
