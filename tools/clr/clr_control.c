/*
 * The CLR's ICLRControl and the three managers HostMemConfigureRuntime asks it for,
 * as a stand-in or as a recorder in front of a real CLR; see clr_control.h.
 * Wine-style COM in plain C: one struct, one interface per manager, CONTAINING_RECORD
 * back to it.
 */
#define COBJMACROS
#include "clr_control.h"

#include <string.h>

#define IMPL(iface_type, iface) CONTAINING_RECORD(iface, clr_runtime, iface_type##_iface)

static const char *const action_names[] = {
    "eNoAction", "eThrowException", "eAbortThread", "eRudeAbortThread", "eUnloadAppDomain",
    "eRudeUnloadAppDomain", "eExitProcess", "eFastExitProcess", "eRudeExitProcess", "eDisableRuntime",
};
static const char *const failure_names[] = {
    "FAIL_NonCriticalResource", "FAIL_CriticalResource", "FAIL_FatalRuntime", "FAIL_OrphanedLock",
    "FAIL_StackOverflow", "FAIL_AccessViolation", "FAIL_CodeContract",
};
static const char *const operation_names[] = {
    "OPR_ThreadAbort", "OPR_ThreadRudeAbortInNonCriticalRegion", "OPR_ThreadRudeAbortInCriticalRegion",
    "OPR_AppDomainUnload", "OPR_AppDomainRudeUnload", "OPR_ProcessExit", "OPR_FinalizerRun",
};
static const char *const event_names[] = { "Event_DomainUnload", "Event_ClrDisabled", "Event_MDAFired",
                                           "Event_StackOverflow" };

#define NAME(table, value) ((value) < sizeof(table) / sizeof(table[0]) ? table[value] : "(out of range)")

const char *clr_action_name(DWORD action) { return NAME(action_names, action); }
const char *clr_failure_name(DWORD failure) { return NAME(failure_names, failure); }
const char *clr_operation_name(DWORD operation) { return NAME(operation_names, operation); }
const char *clr_event_name(DWORD event) { return NAME(event_names, event); }

static HRESULT record(clr_runtime *clr, const char *method, const char *manager, DWORD a0, DWORD a1, DWORD a2,
                      HRESULT hr)
{
    if (clr->call_count < CLR_MAX_CALLS) {
        clr_call *call = &clr->calls[clr->call_count++];
        call->method = method;
        call->manager = manager;
        call->arg[0] = a0;
        call->arg[1] = a1;
        call->arg[2] = a2;
        call->hr = hr;
    }
    return hr;
}

/* The stand-in's answer: fail_hr for the method named (or "GetCLRManager:ICLRGCManager"). */
static HRESULT stand_in(const clr_runtime *clr, const char *method, const char *manager)
{
    char key[64];

    if (!clr->fail_method)
        return S_OK;
    snprintf(key, sizeof(key), "%s:%s", method, manager ? manager : "");
    return !strcmp(clr->fail_method, method) || !strcmp(clr->fail_method, key) ? clr->fail_hr : S_OK;
}

static ULONG add_ref(clr_runtime *clr)
{
    return (ULONG)InterlockedIncrement(&clr->outstanding) + 1;
}

static ULONG release(clr_runtime *clr)
{
    return (ULONG)InterlockedDecrement(&clr->outstanding) + 1;
}

/* --- ICLRPolicyManager --- */

static HRESULT WINAPI policy_QueryInterface(ICLRPolicyManager *iface, REFIID riid, void **ppv)
{
    *ppv = NULL;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ICLRPolicyManager)) {
        *ppv = iface;
        add_ref(IMPL(ICLRPolicyManager, iface));
        return S_OK;
    }
    return E_NOINTERFACE;
}
static ULONG WINAPI policy_AddRef(ICLRPolicyManager *iface) { return add_ref(IMPL(ICLRPolicyManager, iface)); }
static ULONG WINAPI policy_Release(ICLRPolicyManager *iface) { return release(IMPL(ICLRPolicyManager, iface)); }

static HRESULT WINAPI policy_SetDefaultAction(ICLRPolicyManager *iface, EClrOperation operation, EPolicyAction action)
{
    clr_runtime *clr = IMPL(ICLRPolicyManager, iface);
    HRESULT hr = clr->inner_policy ? ICLRPolicyManager_SetDefaultAction(clr->inner_policy, operation, action)
                                   : stand_in(clr, "SetDefaultAction", NULL);
    return record(clr, "SetDefaultAction", NULL, operation, action, 0, hr);
}

static HRESULT WINAPI policy_SetTimeout(ICLRPolicyManager *iface, EClrOperation operation, DWORD ms)
{
    clr_runtime *clr = IMPL(ICLRPolicyManager, iface);
    HRESULT hr = clr->inner_policy ? ICLRPolicyManager_SetTimeout(clr->inner_policy, operation, ms)
                                   : stand_in(clr, "SetTimeout", NULL);
    if (hr == S_OK && operation < MaxClrOperation) {
        clr->timeout_set[operation] = TRUE;
        clr->timeout_ms[operation] = ms;
    }
    return record(clr, "SetTimeout", NULL, operation, ms, 0, hr);
}

static HRESULT WINAPI policy_SetActionOnTimeout(ICLRPolicyManager *iface, EClrOperation operation,
                                                EPolicyAction action)
{
    clr_runtime *clr = IMPL(ICLRPolicyManager, iface);
    HRESULT hr = clr->inner_policy ? ICLRPolicyManager_SetActionOnTimeout(clr->inner_policy, operation, action)
                                   : stand_in(clr, "SetActionOnTimeout", NULL);
    if (hr == S_OK && operation < MaxClrOperation)
        clr->timeout_action[operation] = action;
    return record(clr, "SetActionOnTimeout", NULL, operation, action, 0, hr);
}

static HRESULT WINAPI policy_SetTimeoutAndAction(ICLRPolicyManager *iface, EClrOperation operation, DWORD ms,
                                                 EPolicyAction action)
{
    clr_runtime *clr = IMPL(ICLRPolicyManager, iface);
    HRESULT hr = clr->inner_policy ? ICLRPolicyManager_SetTimeoutAndAction(clr->inner_policy, operation, ms, action)
                                   : stand_in(clr, "SetTimeoutAndAction", NULL);
    if (hr == S_OK && operation < MaxClrOperation) {
        clr->timeout_set[operation] = TRUE;
        clr->timeout_ms[operation] = ms;
        clr->timeout_action[operation] = action;
    }
    return record(clr, "SetTimeoutAndAction", NULL, operation, ms, action, hr);
}

static HRESULT WINAPI policy_SetActionOnFailure(ICLRPolicyManager *iface, EClrFailure failure, EPolicyAction action)
{
    clr_runtime *clr = IMPL(ICLRPolicyManager, iface);
    HRESULT hr = clr->inner_policy ? ICLRPolicyManager_SetActionOnFailure(clr->inner_policy, failure, action)
                                   : stand_in(clr, "SetActionOnFailure", NULL);
    if (hr == S_OK && failure < MaxClrFailure) {
        clr->failure_set[failure] = TRUE;
        clr->failure_action[failure] = action;
    }
    return record(clr, "SetActionOnFailure", NULL, failure, action, 0, hr);
}

static HRESULT WINAPI policy_SetUnhandledExceptionPolicy(ICLRPolicyManager *iface, EClrUnhandledException policy)
{
    clr_runtime *clr = IMPL(ICLRPolicyManager, iface);
    HRESULT hr = clr->inner_policy ? ICLRPolicyManager_SetUnhandledExceptionPolicy(clr->inner_policy, policy)
                                   : stand_in(clr, "SetUnhandledExceptionPolicy", NULL);
    return record(clr, "SetUnhandledExceptionPolicy", NULL, policy, 0, 0, hr);
}

static ICLRPolicyManagerVtbl policy_vtbl = {
    policy_QueryInterface, policy_AddRef, policy_Release, policy_SetDefaultAction, policy_SetTimeout,
    policy_SetActionOnTimeout, policy_SetTimeoutAndAction, policy_SetActionOnFailure,
    policy_SetUnhandledExceptionPolicy,
};

/* --- ICLRGCManager --- */

static HRESULT WINAPI gc_QueryInterface(ICLRGCManager *iface, REFIID riid, void **ppv)
{
    *ppv = NULL;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ICLRGCManager)) {
        *ppv = iface;
        add_ref(IMPL(ICLRGCManager, iface));
        return S_OK;
    }
    return E_NOINTERFACE;
}
static ULONG WINAPI gc_AddRef(ICLRGCManager *iface) { return add_ref(IMPL(ICLRGCManager, iface)); }
static ULONG WINAPI gc_Release(ICLRGCManager *iface) { return release(IMPL(ICLRGCManager, iface)); }

static HRESULT WINAPI gc_Collect(ICLRGCManager *iface, LONG generation)
{
    clr_runtime *clr = IMPL(ICLRGCManager, iface);
    HRESULT hr = clr->inner_gc ? ICLRGCManager_Collect(clr->inner_gc, generation) : stand_in(clr, "Collect", NULL);
    return record(clr, "Collect", NULL, (DWORD)generation, 0, 0, hr);
}

static HRESULT WINAPI gc_GetStats(ICLRGCManager *iface, COR_GC_STATS *stats)
{
    clr_runtime *clr = IMPL(ICLRGCManager, iface);
    HRESULT hr = clr->inner_gc ? ICLRGCManager_GetStats(clr->inner_gc, stats) : E_NOTIMPL;
    return record(clr, "GetStats", NULL, 0, 0, 0, hr);
}

static HRESULT WINAPI gc_SetGCStartupLimits(ICLRGCManager *iface, DWORD segment, DWORD gen0)
{
    clr_runtime *clr = IMPL(ICLRGCManager, iface);
    HRESULT hr = clr->inner_gc ? ICLRGCManager_SetGCStartupLimits(clr->inner_gc, segment, gen0)
                               : stand_in(clr, "SetGCStartupLimits", NULL);
    if (hr == S_OK) {
        clr->gc_set = TRUE;
        clr->gc_segment = segment;
        clr->gc_gen0 = gen0;
    }
    return record(clr, "SetGCStartupLimits", NULL, segment, gen0, 0, hr);
}

static ICLRGCManagerVtbl gc_vtbl = {
    gc_QueryInterface, gc_AddRef, gc_Release, gc_Collect, gc_GetStats, gc_SetGCStartupLimits,
};

/* --- ICLROnEventManager --- */

static HRESULT WINAPI events_QueryInterface(ICLROnEventManager *iface, REFIID riid, void **ppv)
{
    *ppv = NULL;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ICLROnEventManager)) {
        *ppv = iface;
        add_ref(IMPL(ICLROnEventManager, iface));
        return S_OK;
    }
    return E_NOINTERFACE;
}
static ULONG WINAPI events_AddRef(ICLROnEventManager *iface) { return add_ref(IMPL(ICLROnEventManager, iface)); }
static ULONG WINAPI events_Release(ICLROnEventManager *iface) { return release(IMPL(ICLROnEventManager, iface)); }

static HRESULT WINAPI events_RegisterActionOnEvent(ICLROnEventManager *iface, EClrEvent event,
                                                   IActionOnCLREvent *action)
{
    clr_runtime *clr = IMPL(ICLROnEventManager, iface);
    HRESULT hr = clr->inner_events ? ICLROnEventManager_RegisterActionOnEvent(clr->inner_events, event, action)
                                   : !action ? E_POINTER : stand_in(clr, "RegisterActionOnEvent", NULL);
    /* The CLR keeps the action: one reference, until it is unregistered. */
    if (hr == S_OK && event < MaxClrEvent && action) {
        IActionOnCLREvent_AddRef(action);
        if (clr->action[event])
            IActionOnCLREvent_Release(clr->action[event]);
        clr->action[event] = action;
    }
    return record(clr, "RegisterActionOnEvent", NULL, event, 0, 0, hr);
}

static HRESULT WINAPI events_UnregisterActionOnEvent(ICLROnEventManager *iface, EClrEvent event,
                                                     IActionOnCLREvent *action)
{
    clr_runtime *clr = IMPL(ICLROnEventManager, iface);
    HRESULT hr = clr->inner_events ? ICLROnEventManager_UnregisterActionOnEvent(clr->inner_events, event, action)
                                   : stand_in(clr, "UnregisterActionOnEvent", NULL);
    if (hr == S_OK && event < MaxClrEvent && clr->action[event] == action && action) {
        IActionOnCLREvent_Release(action);
        clr->action[event] = NULL;
    }
    return record(clr, "UnregisterActionOnEvent", NULL, event, 0, 0, hr);
}

static ICLROnEventManagerVtbl events_vtbl = {
    events_QueryInterface, events_AddRef, events_Release, events_RegisterActionOnEvent,
    events_UnregisterActionOnEvent,
};

/* --- ICLRControl --- */

static HRESULT WINAPI control_QueryInterface(ICLRControl *iface, REFIID riid, void **ppv)
{
    *ppv = NULL;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ICLRControl)) {
        *ppv = iface;
        add_ref(IMPL(ICLRControl, iface));
        return S_OK;
    }
    return E_NOINTERFACE;
}
static ULONG WINAPI control_AddRef(ICLRControl *iface) { return add_ref(IMPL(ICLRControl, iface)); }
static ULONG WINAPI control_Release(ICLRControl *iface) { return release(IMPL(ICLRControl, iface)); }

/* One of the three managers: ours in front, the real one (if any) behind. */
static HRESULT get_manager(clr_runtime *clr, REFIID riid, const char *name, unsigned offer, IUnknown **inner,
                           IUnknown *ours, void **object)
{
    HRESULT hr;

    if (clr->inner_control) {
        IUnknown *real = NULL;
        hr = ICLRControl_GetCLRManager(clr->inner_control, riid, (void **)&real);
        if (hr == S_OK && !real)
            hr = E_NOINTERFACE; /* nothing handed out: not offered */
        if (hr == S_OK) {
            if (*inner)
                IUnknown_Release(*inner);
            *inner = real;
        }
    } else {
        hr = (clr->offers & offer) ? stand_in(clr, "GetCLRManager", name) : E_NOINTERFACE;
    }
    if (hr == S_OK && !clr->inner_control && clr->null_managers)
        return record(clr, "GetCLRManager", name, 0, 0, 0, hr);
    if (hr == S_OK) {
        add_ref(clr);
        *object = ours;
    }
    return record(clr, "GetCLRManager", name, 0, 0, 0, hr);
}

static HRESULT WINAPI control_GetCLRManager(ICLRControl *iface, REFIID riid, void **object)
{
    clr_runtime *clr = IMPL(ICLRControl, iface);

    if (!object)
        return E_POINTER;
    *object = NULL;
    if (IsEqualIID(riid, &IID_ICLRPolicyManager))
        return get_manager(clr, riid, "ICLRPolicyManager", CLR_OFFERS_POLICY, (IUnknown **)&clr->inner_policy,
                           (IUnknown *)&clr->ICLRPolicyManager_iface, object);
    if (IsEqualIID(riid, &IID_ICLRGCManager))
        return get_manager(clr, riid, "ICLRGCManager", CLR_OFFERS_GC, (IUnknown **)&clr->inner_gc,
                           (IUnknown *)&clr->ICLRGCManager_iface, object);
    if (IsEqualIID(riid, &IID_ICLROnEventManager))
        return get_manager(clr, riid, "ICLROnEventManager", CLR_OFFERS_EVENTS, (IUnknown **)&clr->inner_events,
                           (IUnknown *)&clr->ICLROnEventManager_iface, object);
    /* Any other manager: the real CLR's own, or none. */
    return record(clr, "GetCLRManager", "(other)", 0, 0, 0,
                  clr->inner_control ? ICLRControl_GetCLRManager(clr->inner_control, riid, object) : E_NOINTERFACE);
}

static HRESULT WINAPI control_SetAppDomainManagerType(ICLRControl *iface, LPCWSTR assembly, LPCWSTR type)
{
    clr_runtime *clr = IMPL(ICLRControl, iface);
    HRESULT hr = clr->inner_control ? ICLRControl_SetAppDomainManagerType(clr->inner_control, assembly, type)
                                    : stand_in(clr, "SetAppDomainManagerType", NULL);
    return record(clr, "SetAppDomainManagerType", NULL, 0, 0, 0, hr);
}

static ICLRControlVtbl control_vtbl = {
    control_QueryInterface, control_AddRef, control_Release, control_GetCLRManager, control_SetAppDomainManagerType,
};

/* --- ICLRRuntimeHost: only GetCLRControl matters here --- */

static HRESULT WINAPI host_QueryInterface(ICLRRuntimeHost *iface, REFIID riid, void **ppv)
{
    *ppv = NULL;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ICLRRuntimeHost)) {
        *ppv = iface;
        add_ref(IMPL(ICLRRuntimeHost, iface));
        return S_OK;
    }
    return E_NOINTERFACE;
}
static ULONG WINAPI host_AddRef(ICLRRuntimeHost *iface) { return add_ref(IMPL(ICLRRuntimeHost, iface)); }
static ULONG WINAPI host_Release(ICLRRuntimeHost *iface) { return release(IMPL(ICLRRuntimeHost, iface)); }

static HRESULT WINAPI host_Start(ICLRRuntimeHost *iface) { (void)iface; return E_NOTIMPL; }
static HRESULT WINAPI host_Stop(ICLRRuntimeHost *iface) { (void)iface; return E_NOTIMPL; }
static HRESULT WINAPI host_SetHostControl(ICLRRuntimeHost *iface, IHostControl *control)
{
    (void)iface;
    (void)control;
    return E_NOTIMPL;
}

static HRESULT WINAPI host_GetCLRControl(ICLRRuntimeHost *iface, ICLRControl **control)
{
    clr_runtime *clr = IMPL(ICLRRuntimeHost, iface);
    HRESULT hr;

    if (!control)
        return E_POINTER;
    *control = NULL;
    if (clr->inner) {
        ICLRControl *real = NULL;
        hr = ICLRRuntimeHost_GetCLRControl(clr->inner, &real);
        if (hr == S_OK && real) {
            if (clr->inner_control)
                ICLRControl_Release(clr->inner_control);
            clr->inner_control = real;
        }
    } else {
        hr = clr->control_hr;
        if (hr == S_OK && clr->null_control)
            return record(clr, "GetCLRControl", NULL, 0, 0, 0, hr);
    }
    if (hr == S_OK) {
        add_ref(clr);
        *control = &clr->ICLRControl_iface;
    }
    return record(clr, "GetCLRControl", NULL, 0, 0, 0, hr);
}

static HRESULT WINAPI host_UnloadAppDomain(ICLRRuntimeHost *iface, DWORD id, WINBOOL wait)
{
    (void)iface;
    (void)id;
    (void)wait;
    return E_NOTIMPL;
}
static HRESULT WINAPI host_ExecuteInAppDomain(ICLRRuntimeHost *iface, DWORD id, FExecuteInAppDomainCallback callback,
                                              void *cookie)
{
    (void)iface;
    (void)id;
    (void)callback;
    (void)cookie;
    return E_NOTIMPL;
}
static HRESULT WINAPI host_GetCurrentAppDomainId(ICLRRuntimeHost *iface, DWORD *id)
{
    (void)iface;
    (void)id;
    return E_NOTIMPL;
}
static HRESULT WINAPI host_ExecuteApplication(ICLRRuntimeHost *iface, LPCWSTR name, DWORD paths_count, LPCWSTR *paths,
                                              DWORD data_count, LPCWSTR *data, int *result)
{
    (void)iface;
    (void)name;
    (void)paths_count;
    (void)paths;
    (void)data_count;
    (void)data;
    (void)result;
    return E_NOTIMPL;
}
static HRESULT WINAPI host_ExecuteInDefaultAppDomain(ICLRRuntimeHost *iface, LPCWSTR assembly, LPCWSTR type,
                                                     LPCWSTR method, LPCWSTR argument, DWORD *result)
{
    (void)iface;
    (void)assembly;
    (void)type;
    (void)method;
    (void)argument;
    (void)result;
    return E_NOTIMPL;
}

static ICLRRuntimeHostVtbl host_vtbl = {
    host_QueryInterface, host_AddRef, host_Release, host_Start, host_Stop, host_SetHostControl, host_GetCLRControl,
    host_UnloadAppDomain, host_ExecuteInAppDomain, host_GetCurrentAppDomainId, host_ExecuteApplication,
    host_ExecuteInDefaultAppDomain,
};

/* --- the runtime --- */

void clr_runtime_init(clr_runtime *clr, ICLRRuntimeHost *inner)
{
    memset(clr, 0, sizeof(*clr));
    clr->ICLRRuntimeHost_iface.lpVtbl = &host_vtbl;
    clr->ICLRControl_iface.lpVtbl = &control_vtbl;
    clr->ICLRPolicyManager_iface.lpVtbl = &policy_vtbl;
    clr->ICLRGCManager_iface.lpVtbl = &gc_vtbl;
    clr->ICLROnEventManager_iface.lpVtbl = &events_vtbl;
    clr->inner = inner;
    clr->offers = CLR_OFFERS_ALL;
    clr->control_hr = S_OK;
}

ICLRRuntimeHost *clr_runtime_host(clr_runtime *clr)
{
    return &clr->ICLRRuntimeHost_iface;
}

void clr_runtime_clear(clr_runtime *clr)
{
    unsigned i;

    for (i = 0; i < MaxClrEvent; i++)
        if (clr->action[i]) {
            IActionOnCLREvent_Release(clr->action[i]);
            clr->action[i] = NULL;
        }
    if (clr->inner_policy)
        ICLRPolicyManager_Release(clr->inner_policy);
    if (clr->inner_gc)
        ICLRGCManager_Release(clr->inner_gc);
    if (clr->inner_events)
        ICLROnEventManager_Release(clr->inner_events);
    if (clr->inner_control)
        ICLRControl_Release(clr->inner_control);
    clr->inner_policy = NULL;
    clr->inner_gc = NULL;
    clr->inner_events = NULL;
    clr->inner_control = NULL;
}

EPolicyAction clr_runtime_failure_action(const clr_runtime *clr, EClrFailure failure)
{
    if (failure < MaxClrFailure && clr->failure_set[failure])
        return clr->failure_action[failure];
    return eThrowException;
}

BOOL clr_runtime_raise(clr_runtime *clr, EClrEvent event, void *data)
{
    IActionOnCLREvent *action = event < MaxClrEvent ? clr->action[event] : NULL;

    if (!action)
        return FALSE;
    IActionOnCLREvent_OnEvent(action, event, data);
    return TRUE;
}

void clr_runtime_print(const clr_runtime *clr, FILE *out)
{
    static const EClrFailure failures[] = { FAIL_CriticalResource, FAIL_OrphanedLock, FAIL_NonCriticalResource };
    char label[64];
    unsigned i;
    BOOL any = FALSE;

    for (i = 0; i < sizeof(failures) / sizeof(failures[0]); i++) {
        snprintf(label, sizeof(label), "policy %s", clr_failure_name(failures[i]));
        if (clr->failure_set[failures[i]])
            fprintf(out, "  %-34s %s\n", label, clr_action_name(clr->failure_action[failures[i]]));
        else
            fprintf(out, "  %-34s %s (the CLR's default)\n", label, clr_action_name(eThrowException));
    }
    snprintf(label, sizeof(label), "policy %s", clr_operation_name(OPR_AppDomainUnload));
    if (clr->timeout_set[OPR_AppDomainUnload])
        fprintf(out, "  %-34s %s after %lu ms\n", label, clr_action_name(clr->timeout_action[OPR_AppDomainUnload]),
                (unsigned long)clr->timeout_ms[OPR_AppDomainUnload]);
    else
        fprintf(out, "  %-34s no timeout (the CLR's default)\n", label);
    if (clr->gc_set)
        fprintf(out, "  %-34s segment %lu KiB, gen0 %lu KiB\n", "GC start-up limits",
                (unsigned long)(clr->gc_segment >> 10), (unsigned long)(clr->gc_gen0 >> 10));
    else
        fprintf(out, "  %-34s none (the GC sizes itself)\n", "GC start-up limits");
    fprintf(out, "  %-34s", "CLR events registered");
    for (i = 0; i < MaxClrEvent; i++)
        if (clr->action[i]) {
            fprintf(out, "%s %s", any ? "," : "", clr_event_name(i));
            any = TRUE;
        }
    fprintf(out, "%s\n", any ? "" : " none");
}

void clr_call_describe(const clr_call *call, char *text, size_t size)
{
    const char *m = call->method;

    if (!strcmp(m, "GetCLRManager"))
        snprintf(text, size, "ICLRControl::GetCLRManager(IID_%s)", call->manager);
    else if (!strcmp(m, "GetCLRControl"))
        snprintf(text, size, "ICLRRuntimeHost::GetCLRControl");
    else if (!strcmp(m, "SetActionOnFailure"))
        snprintf(text, size, "SetActionOnFailure(%s, %s)", clr_failure_name(call->arg[0]),
                 clr_action_name(call->arg[1]));
    else if (!strcmp(m, "SetTimeoutAndAction"))
        snprintf(text, size, "SetTimeoutAndAction(%s, %lu, %s)", clr_operation_name(call->arg[0]),
                 (unsigned long)call->arg[1], clr_action_name(call->arg[2]));
    else if (!strcmp(m, "SetGCStartupLimits"))
        snprintf(text, size, "SetGCStartupLimits(%lu KiB, %lu KiB)", (unsigned long)(call->arg[0] >> 10),
                 (unsigned long)(call->arg[1] >> 10));
    else if (!strcmp(m, "RegisterActionOnEvent") || !strcmp(m, "UnregisterActionOnEvent"))
        snprintf(text, size, "%s(%s, &action)", m, clr_event_name(call->arg[0]));
    else
        snprintf(text, size, "%s(%lu, %lu, %lu)", m, (unsigned long)call->arg[0], (unsigned long)call->arg[1],
                 (unsigned long)call->arg[2]);
}
