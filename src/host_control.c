/*
 * IHostControl: what the host hands to ICLRRuntimeHost::SetHostControl. It offers the
 * CLR two managers, the memory manager and the policy manager (which only hears of the
 * CLR's escalations, host_policy_manager.c), and says E_NOINTERFACE to every other
 * one, so the CLR keeps its own task, thread-pool, I/O, sync, assembly, GC and
 * security handling.
 */
#include "host_control.h"

#include "memory_manager.h"

struct host_control {
    IHostControl           IHostControl_iface;
    LONG                   ref;
    struct memory_manager *manager; /* holds a reference; this object lives in its heap */
};

static const IHostControlVtbl host_control_vtbl;

static inline struct host_control *impl_from_IHostControl(IHostControl *iface)
{
    return CONTAINING_RECORD(iface, struct host_control, IHostControl_iface);
}

static HRESULT WINAPI host_control_QueryInterface(IHostControl *iface, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (!riid)
        return E_INVALIDARG;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IHostControl)) {
        *ppv = iface;
        IHostControl_AddRef(iface);
        return S_OK;
    }
    return E_NOINTERFACE;
}

static ULONG WINAPI host_control_AddRef(IHostControl *iface)
{
    struct host_control *control = impl_from_IHostControl(iface);
    return (ULONG)InterlockedIncrement(&control->ref);
}

static ULONG WINAPI host_control_Release(IHostControl *iface)
{
    struct host_control *control = impl_from_IHostControl(iface);
    LONG ref = InterlockedDecrement(&control->ref);

    if (!ref) {
        struct memory_manager *manager = control->manager;

        hm_manager_heap_free(manager, control);
        IHostMemoryManager_Release(hm_manager_iface(manager));
    }
    return (ULONG)ref;
}

static HRESULT WINAPI host_control_GetHostManager(IHostControl *iface, REFIID riid, void **object)
{
    struct host_control *control = impl_from_IHostControl(iface);

    if (!object)
        return E_INVALIDARG;
    *object = NULL;
    if (!riid)
        return E_INVALIDARG;
    if (IsEqualIID(riid, &IID_IHostMemoryManager)) {
        IHostMemoryManager *manager = hm_manager_iface(control->manager);
        IHostMemoryManager_AddRef(manager);
        *object = manager;
        return S_OK;
    }
    if (IsEqualIID(riid, &IID_IHostPolicyManager)) {
        IHostPolicyManager *policy = hm_host_policy_manager_iface(control->manager);
        IHostPolicyManager_AddRef(policy);
        *object = policy;
        return S_OK;
    }
    return E_NOINTERFACE;
}

static HRESULT WINAPI host_control_SetAppDomainManager(IHostControl *iface, DWORD domain_id, IUnknown *domain_manager)
{
    (void)iface;
    (void)domain_id;
    (void)domain_manager;
    return S_OK;
}

static const IHostControlVtbl host_control_vtbl = {
    host_control_QueryInterface,
    host_control_AddRef,
    host_control_Release,
    host_control_GetHostManager,
    host_control_SetAppDomainManager,
};

struct memory_manager *hm_host_control_manager(IUnknown *object)
{
    if (object && ((IHostControl *)object)->lpVtbl == &host_control_vtbl)
        return impl_from_IHostControl((IHostControl *)object)->manager;
    return NULL;
}

HRESULT hm_host_control_create(struct memory_manager *manager, IHostControl **result)
{
    struct host_control *control;

    *result = NULL;
    if (!(control = hm_manager_heap_alloc(manager, sizeof(*control)))) {
        IHostMemoryManager_Release(hm_manager_iface(manager));
        return E_OUTOFMEMORY;
    }
    control->IHostControl_iface.lpVtbl = &host_control_vtbl;
    control->ref = 1;
    control->manager = manager; /* takes over the creation reference */
    *result = &control->IHostControl_iface;
    return S_OK;
}
