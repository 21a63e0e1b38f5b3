/*
 * IActionOnCLREvent: what HostMemConfigureRuntime registers with the CLR's
 * ICLROnEventManager for Event_DomainUnload and Event_ClrDisabled (docs
 * iclroneventmanager-registeractiononevent-method, eclrevent-enumeration). A domain
 * unload is counted (HOSTMEM_STATS.domainUnloads) and traced with the domain's id; the
 * CLR disabling itself sets HOSTMEM_STATS.clrDisabled, is traced, and calls the
 * host's escalation callback with HOSTMEM_ESCALATION_CLR_DISABLED: whether hostmem's
 * E_FAIL or the CLR's own policy disabled it, the host hears of it the same way.
 *
 * The CLR calls OnEvent on its own threads, possibly while it unwinds: nothing here
 * takes a lock but the trace's.
 */
#include "memory_manager.h"

static inline struct memory_manager *impl_from_IActionOnCLREvent(IActionOnCLREvent *iface)
{
    return CONTAINING_RECORD(iface, struct memory_manager, governance.IActionOnCLREvent_iface);
}

static HRESULT WINAPI clr_events_QueryInterface(IActionOnCLREvent *iface, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (!riid)
        return E_INVALIDARG;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IActionOnCLREvent)) {
        *ppv = iface;
        IActionOnCLREvent_AddRef(iface);
        return S_OK;
    }
    return E_NOINTERFACE;
}

static ULONG WINAPI clr_events_AddRef(IActionOnCLREvent *iface)
{
    return IHostMemoryManager_AddRef(hm_manager_iface(impl_from_IActionOnCLREvent(iface)));
}

static ULONG WINAPI clr_events_Release(IActionOnCLREvent *iface)
{
    return IHostMemoryManager_Release(hm_manager_iface(impl_from_IActionOnCLREvent(iface)));
}

static void clr_disabled(struct memory_manager *manager)
{
    HOSTMEM_ESCALATION info;

    /* Once: the CLR cannot be disabled twice, but a stand-in or a second runtime may say so. */
    if (atomic_exchange_explicit(&manager->governance.clr_disabled, 1, memory_order_relaxed))
        return;
    if (manager->trace)
        hm_trace_flush(manager->trace); /* the process may not live much longer */
    if (!manager->settings.escalation_callback)
        return;
    info.cbSize  = sizeof(info);
    info.level   = eProcessCritical;
    info.bytes   = 0;
    info.osError = 0;
    info.method  = "Event_ClrDisabled";
    info.kind    = HOSTMEM_ESCALATION_CLR_DISABLED;
    manager->settings.escalation_callback(manager->settings.escalation_context, &info);
}

static HRESULT WINAPI clr_events_OnEvent(IActionOnCLREvent *iface, EClrEvent event, PVOID data)
{
    struct memory_manager *manager = impl_from_IActionOnCLREvent(iface);

    /* The row first, so that a callback that ends the process finds it in the file. */
    HM_TRACE_CALL(manager, TRUE, .method = "OnEvent", .present = HM_TRACE_FLAGS | HM_TRACE_SIZE, .flags = (DWORD)event,
                  .size = (ULONGLONG)(ULONG_PTR)data);
    if (event == Event_DomainUnload)
        atomic_fetch_add_explicit(&manager->governance.domain_unloads, 1, memory_order_relaxed);
    else if (event == Event_ClrDisabled)
        clr_disabled(manager);
    return S_OK;
}

static const IActionOnCLREventVtbl clr_events_vtbl = {
    clr_events_QueryInterface,
    clr_events_AddRef,
    clr_events_Release,
    clr_events_OnEvent,
};

void hm_clr_events_init(struct hm_governance *governance)
{
    governance->IActionOnCLREvent_iface.lpVtbl = &clr_events_vtbl;
}

IActionOnCLREvent *hm_clr_events_iface(struct memory_manager *manager)
{
    return &manager->governance.IActionOnCLREvent_iface;
}
