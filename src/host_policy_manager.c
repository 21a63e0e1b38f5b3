/*
 * IHostPolicyManager: the CLR tells the host each time it takes an escalation-policy
 * action (docs ihostpolicymanager-onfailure-method, -ontimeout-method,
 * -ondefaultaction-method): before it acts on a resource failure (OnFailure), when an
 * operation such as a domain unload timed out (OnTimeout), and when it took the
 * default action of an operation (OnDefaultAction). hostmem counts and traces each
 * call, so the host's statistics show how often the CLR escalated and the trace shows
 * where; it never changes what the CLR does (the methods only inform).
 *
 * The CLR asks the IHostControl for it during SetHostControl (last of the managers).
 * The object lives inside the memory manager and shares its reference count.
 */
#include "memory_manager.h"

static inline struct memory_manager *impl_from_IHostPolicyManager(IHostPolicyManager *iface)
{
    return CONTAINING_RECORD(iface, struct memory_manager, governance.IHostPolicyManager_iface);
}

static HRESULT WINAPI host_policy_manager_QueryInterface(IHostPolicyManager *iface, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (!riid)
        return E_INVALIDARG;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IHostPolicyManager)) {
        *ppv = iface;
        IHostPolicyManager_AddRef(iface);
        return S_OK;
    }
    return E_NOINTERFACE;
}

static ULONG WINAPI host_policy_manager_AddRef(IHostPolicyManager *iface)
{
    return IHostMemoryManager_AddRef(hm_manager_iface(impl_from_IHostPolicyManager(iface)));
}

static ULONG WINAPI host_policy_manager_Release(IHostPolicyManager *iface)
{
    return IHostMemoryManager_Release(hm_manager_iface(impl_from_IHostPolicyManager(iface)));
}

/* One trace row: the operation or failure in flags, the action in protect. */
static void trace_policy(struct memory_manager *manager, const char *method, DWORD what, EPolicyAction action)
{
    HM_TRACE_CALL(manager, TRUE, .method = method, .present = HM_TRACE_FLAGS | HM_TRACE_PROTECT, .flags = what,
                  .protect = (DWORD)action);
}

static HRESULT WINAPI host_policy_manager_OnDefaultAction(IHostPolicyManager *iface, EClrOperation operation,
                                                          EPolicyAction action)
{
    struct memory_manager *manager = impl_from_IHostPolicyManager(iface);

    atomic_fetch_add_explicit(&manager->governance.policy_default_actions, 1, memory_order_relaxed);
    trace_policy(manager, "OnDefaultAction", (DWORD)operation, action);
    return S_OK;
}

static HRESULT WINAPI host_policy_manager_OnTimeout(IHostPolicyManager *iface, EClrOperation operation,
                                                    EPolicyAction action)
{
    struct memory_manager *manager = impl_from_IHostPolicyManager(iface);

    atomic_fetch_add_explicit(&manager->governance.policy_timeouts, 1, memory_order_relaxed);
    trace_policy(manager, "OnTimeout", (DWORD)operation, action);
    return S_OK;
}

static HRESULT WINAPI host_policy_manager_OnFailure(IHostPolicyManager *iface, EClrFailure failure,
                                                    EPolicyAction action)
{
    struct memory_manager *manager = impl_from_IHostPolicyManager(iface);

    atomic_fetch_add_explicit(&manager->governance.policy_failures, 1, memory_order_relaxed);
    trace_policy(manager, "OnFailure", (DWORD)failure, action);
    return S_OK;
}

static const IHostPolicyManagerVtbl host_policy_manager_vtbl = {
    host_policy_manager_QueryInterface,
    host_policy_manager_AddRef,
    host_policy_manager_Release,
    host_policy_manager_OnDefaultAction,
    host_policy_manager_OnTimeout,
    host_policy_manager_OnFailure,
};

void hm_host_policy_manager_init(struct hm_governance *governance)
{
    governance->IHostPolicyManager_iface.lpVtbl = &host_policy_manager_vtbl;
}

IHostPolicyManager *hm_host_policy_manager_iface(struct memory_manager *manager)
{
    return &manager->governance.IHostPolicyManager_iface;
}
