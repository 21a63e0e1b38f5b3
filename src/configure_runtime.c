/*
 * HostMemConfigureRuntime: the calls a host makes, after SetHostControl and before
 * Start, so that the CLR reacts to memory pressure as SQL Server's CLR does
 * (docs/governance.md). Through ICLRRuntimeHost::GetCLRControl and
 * ICLRControl::GetCLRManager, in this order:
 *
 *   ICLRPolicyManager   SetActionOnFailure(FAIL_CriticalResource, ...)
 *                       SetActionOnFailure(FAIL_OrphanedLock, ...)
 *                       SetActionOnFailure(FAIL_NonCriticalResource, ...)
 *                       SetTimeoutAndAction(OPR_AppDomainUnload, ms, ...)
 *   ICLRGCManager       SetGCStartupLimits(segment, gen0)        (when there are limits)
 *   ICLROnEventManager  RegisterActionOnEvent(Event_DomainUnload, action)
 *                       RegisterActionOnEvent(Event_ClrDisabled, action)
 *
 * A manager the CLR does not offer (GetCLRManager answers E_NOINTERFACE, or S_OK with
 * nothing) is skipped; the first other failure stops the sequence and is returned,
 * leaving what was set before it in place (the CLR has no way to undo a setting).
 */
#include "memory_manager.h"

#include "exports.h"

/* In the trace's ConfigureRuntime row: what was configured. */
enum { CONFIGURED_POLICY = 0x1, CONFIGURED_GC = 0x2, CONFIGURED_EVENTS = 0x4 };

/* S_OK and a manager, S_FALSE when the CLR does not offer it, or the failure. */
static HRESULT get_manager(ICLRControl *control, REFIID riid, void **manager)
{
    HRESULT hr;

    *manager = NULL;
    hr = ICLRControl_GetCLRManager(control, riid, manager);
    if (hr == E_NOINTERFACE || (SUCCEEDED(hr) && !*manager)) {
        *manager = NULL;
        return S_FALSE;
    }
    return FAILED(hr) ? hr : S_OK;
}

static HRESULT set_policy(const hm_runtime_settings *settings, ICLRPolicyManager *policy)
{
    static const EClrFailure failures[3] = { FAIL_CriticalResource, FAIL_OrphanedLock, FAIL_NonCriticalResource };
    HRESULT hr;
    int i;

    for (i = 0; i < 3; i++)
        if (settings->failure_action[i] != HOSTMEM_POLICY_UNCHANGED &&
            FAILED(hr = ICLRPolicyManager_SetActionOnFailure(policy, failures[i],
                                                             (EPolicyAction)settings->failure_action[i])))
            return hr;
    if (settings->unload_timeout_ms != HOSTMEM_POLICY_UNCHANGED &&
        FAILED(hr = ICLRPolicyManager_SetTimeoutAndAction(policy, OPR_AppDomainUnload, settings->unload_timeout_ms,
                                                          (EPolicyAction)settings->unload_timeout_action)))
        return hr;
    return S_OK;
}

static HRESULT register_events(struct memory_manager *manager, ICLROnEventManager *events)
{
    IActionOnCLREvent *action = hm_clr_events_iface(manager);
    HRESULT hr;

    if (FAILED(hr = ICLROnEventManager_RegisterActionOnEvent(events, Event_DomainUnload, action)))
        return hr;
    return ICLROnEventManager_RegisterActionOnEvent(events, Event_ClrDisabled, action);
}

static HRESULT configure(struct memory_manager *manager, ICLRControl *control, DWORD *configured)
{
    const hm_runtime_settings *settings = &manager->settings.runtime;
    ICLRPolicyManager *policy;
    ICLRGCManager *gc;
    ICLROnEventManager *events;
    HRESULT hr;

    if (FAILED(hr = get_manager(control, &IID_ICLRPolicyManager, (void **)&policy)))
        return hr;
    if (policy) {
        hr = set_policy(settings, policy);
        ICLRPolicyManager_Release(policy);
        if (FAILED(hr))
            return hr;
        *configured |= CONFIGURED_POLICY;
    }

    if (settings->gc_segment_size || settings->gc_max_gen0_size) {
        if (FAILED(hr = get_manager(control, &IID_ICLRGCManager, (void **)&gc)))
            return hr;
        if (gc) {
            hr = ICLRGCManager_SetGCStartupLimits(gc, settings->gc_segment_size, settings->gc_max_gen0_size);
            ICLRGCManager_Release(gc);
            if (FAILED(hr))
                return hr;
            *configured |= CONFIGURED_GC;
        }
    }

    if (FAILED(hr = get_manager(control, &IID_ICLROnEventManager, (void **)&events)))
        return hr;
    if (events) {
        hr = register_events(manager, events);
        ICLROnEventManager_Release(events);
        if (FAILED(hr))
            return hr;
        *configured |= CONFIGURED_EVENTS;
    }
    return S_OK;
}

HRESULT WINAPI HostMemConfigureRuntime(IUnknown *object, ICLRRuntimeHost *runtimeHost)
{
    struct memory_manager *manager;
    ICLRControl *control = NULL;
    DWORD configured = 0;
    HRESULT hr;

    if (!object || !runtimeHost)
        return E_POINTER;
    if (!(manager = hm_exports_manager_of(object)))
        return E_INVALIDARG;
    hr = ICLRRuntimeHost_GetCLRControl(runtimeHost, &control);
    if (SUCCEEDED(hr) && !control)
        hr = E_NOINTERFACE; /* a CLR control that is not there cannot be configured */
    if (SUCCEEDED(hr)) {
        hr = configure(manager, control, &configured);
        ICLRControl_Release(control);
    }
    /* flags: what was configured; size: the GC segment asked for; hresult in the result
       column, so that a failing CLR call is not read as an escalation. */
    HM_TRACE_CALL(manager, TRUE, .method = "ConfigureRuntime", .present = HM_TRACE_FLAGS | HM_TRACE_SIZE |
                  HM_TRACE_PROTECT | HM_TRACE_RESULT, .flags = configured,
                  .size = (configured & CONFIGURED_GC) ? manager->settings.runtime.gc_segment_size : 0,
                  .protect = (configured & CONFIGURED_GC) ? manager->settings.runtime.gc_max_gen0_size : 0,
                  .result = (const void *)(ULONG_PTR)(ULONG)hr);
    return hr;
}
