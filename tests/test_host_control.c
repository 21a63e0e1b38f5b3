/*
 * HostMemCreateHostControl, HostMemCreateMemoryManager and IHostControl: the
 * configuration checks, the managers the CLR asks for, reference counting, and the
 * CLR's SetHostControl sequence (docs/clr-contract.md, "Sequence of SetHostControl").
 */
#include "test_support.h"

#include <string.h>

/* The host managers the CLR asks for after IHostMemoryManager, in its order. */
#include "clr/clr_callback.h"
#include "clr/clr_managers.h"
#define other_managers      clr_other_managers
#define OTHER_MANAGER_COUNT CLR_OTHER_MANAGER_COUNT

/* --- helpers --------------------------------------------------------------------- */

static ULONG ref_count(IUnknown *object)
{
    IUnknown_AddRef(object);
    return IUnknown_Release(object);
}

static void assert_no_heap_left(void)
{
    assert_int_equal(os_call_count(OS_HEAP_CREATE), os_call_count(OS_HEAP_DESTROY));
}

/* Both creation functions with this config must answer `expected`, with a NULL out
   pointer on failure and nothing left behind. */
static void assert_creation_result(const HOSTMEM_CONFIG *config, HRESULT expected)
{
    IHostControl *control = (IHostControl *)(ULONG_PTR)1;
    IHostMemoryManager *manager = (IHostMemoryManager *)(ULONG_PTR)1;

    assert_int_equal(HostMemCreateHostControl(config, &control), expected);
    assert_int_equal(HostMemCreateMemoryManager(config, &manager), expected);
    if (SUCCEEDED(expected)) {
        assert_non_null(control);
        assert_non_null(manager);
        release_last((IUnknown *)control);
        release_last((IUnknown *)manager);
    } else {
        assert_null(control);
        assert_null(manager);
    }
    assert_no_heap_left();
}

/* What one injected HeapAlloc failure on a fresh malloc returns at `level`, through a
   manager made from `config` by HostMemCreateHostControl. */
static HRESULT alloc_failure_result(const HOSTMEM_CONFIG *config, EMemoryCriticalLevel level)
{
    IHostControl *control = new_control(config);
    IHostMemoryManager *manager = manager_of(control);
    IHostMalloc *malloc = NULL;
    void *warm = NULL, *p = (void *)(ULONG_PTR)1;
    HRESULT hr;

    assert_int_equal(IHostMemoryManager_CreateMalloc(manager, MALLOC_THREADSAFE, &malloc), S_OK);
    assert_int_equal(IHostMalloc_Alloc(malloc, 8, eTaskCritical, &warm), S_OK);
    /* Twice: the critical levels try once more before they fail. */
    fault_repeat(OS_HEAP_ALLOC, 0, 2, 0);
    hr = IHostMalloc_Alloc(malloc, 100, level, &p);
    fault_clear(); /* the task level tried only once */
    assert_null(p);
    assert_int_equal(IHostMalloc_Free(malloc, warm), S_OK);
    release_last((IUnknown *)malloc);
    assert_int_equal(IHostMemoryManager_Release(manager), 1);
    release_last((IUnknown *)control);
    return hr;
}

static unsigned escalations;

static void WINAPI count_escalation(void *context, const HOSTMEM_ESCALATION *info)
{
    (void)info;
    assert_ptr_equal(context, &escalations);
    escalations++;
}

/* A HOSTMEM_CONFIG followed by room, so that cbSize can be set past the struct. */
typedef struct padded_config {
    HOSTMEM_CONFIG config;
    unsigned char  padding[64];
} padded_config;

/* --- creation: arguments --------------------------------------------------------- */

static void create_with_null_out_returns_e_pointer(void **state)
{
    HOSTMEM_CONFIG config;
    (void)state;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    assert_int_equal(HostMemCreateHostControl(NULL, NULL), E_POINTER);
    assert_int_equal(HostMemCreateMemoryManager(NULL, NULL), E_POINTER);
    assert_int_equal(HostMemCreateHostControl(&config, NULL), E_POINTER);
    assert_int_equal(HostMemCreateMemoryManager(&config, NULL), E_POINTER);
    /* A bad config does not hide the NULL out pointer. */
    config.cbSize = 1;
    assert_int_equal(HostMemCreateHostControl(&config, NULL), E_POINTER);
    assert_int_equal(HostMemCreateMemoryManager(&config, NULL), E_POINTER);
    assert_int_equal(os_call_count(OS_HEAP_CREATE), 0);
}

static void create_with_null_config_uses_the_defaults(void **state)
{
    (void)state;
    assert_creation_result(NULL, S_OK);
    assert_int_equal(alloc_failure_result(NULL, eTaskCritical), E_OUTOFMEMORY);
    assert_int_equal(alloc_failure_result(NULL, eAppDomainCritical), E_OUTOFMEMORY);
    assert_int_equal(alloc_failure_result(NULL, eProcessCritical), E_FAIL);
    assert_no_heap_left();
}

static void create_with_zeroed_full_config_uses_the_defaults(void **state)
{
    HOSTMEM_CONFIG config;
    (void)state;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    assert_creation_result(&config, S_OK);
    assert_int_equal(alloc_failure_result(&config, eTaskCritical), E_OUTOFMEMORY);
    assert_int_equal(alloc_failure_result(&config, eAppDomainCritical), E_OUTOFMEMORY);
    assert_int_equal(alloc_failure_result(&config, eProcessCritical), E_FAIL);
}

static void create_with_cb_size_too_small_returns_e_invalidarg(void **state)
{
    static const DWORD sizes[] = { 0, 1, sizeof(DWORD), HOSTMEM_CONFIG_MIN_SIZE - 1 };
    HOSTMEM_CONFIG config;
    unsigned i;
    (void)state;

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        memset(&config, 0, sizeof(config));
        config.cbSize = sizes[i];
        assert_creation_result(&config, E_INVALIDARG);
    }
    assert_int_equal(os_call_count(OS_HEAP_CREATE), 0);
}

static void create_with_cb_size_too_large_returns_e_invalidarg(void **state)
{
    static const DWORD sizes[] = { sizeof(HOSTMEM_CONFIG) + 1, sizeof(HOSTMEM_CONFIG) + 8,
                                   sizeof(padded_config), 0xFFFFFFFFu };
    padded_config padded;
    unsigned i;
    (void)state;

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        memset(&padded, 0, sizeof(padded));
        padded.config.cbSize = sizes[i];
        assert_creation_result(&padded.config, E_INVALIDARG);
    }
    assert_int_equal(os_call_count(OS_HEAP_CREATE), 0);
}

static void create_with_min_cb_size_ignores_fields_beyond_it(void **state)
{
    HOSTMEM_CONFIG config;
    (void)state;

    /* Garbage in every field past cbSize, as an older host's stack would hold. */
    memset(&config, 0xCC, sizeof(config));
    config.cbSize = HOSTMEM_CONFIG_MIN_SIZE;
    config.commitLimit = 0;
    config.failureAction[eTaskCritical] = 7; /* invalid, but beyond cbSize */
    config.failureAction[eAppDomainCritical] = 0xFFFFFFFFu;
    config.failureAction[eProcessCritical] = HOSTMEM_ACTION_OUTOFMEMORY;
    config.escalationCallback = count_escalation;
    config.escalationContext = &escalations;
    assert_creation_result(&config, S_OK);

    /* The defaults apply and the callback is never called. */
    escalations = 0;
    assert_int_equal(alloc_failure_result(&config, eTaskCritical), E_OUTOFMEMORY);
    assert_int_equal(alloc_failure_result(&config, eProcessCritical), E_FAIL);
    assert_int_equal(escalations, 0);
}

static void create_with_cb_size_cutting_a_field_ignores_that_field(void **state)
{
    HOSTMEM_CONFIG config;
    (void)state;

    /* failureAction only partly inside cbSize: the whole array counts as zero. */
    memset(&config, 0, sizeof(config));
    config.cbSize = (DWORD)(offsetof(HOSTMEM_CONFIG, failureAction) + sizeof(DWORD));
    config.failureAction[eTaskCritical] = HOSTMEM_ACTION_ESCALATE;
    config.failureAction[eAppDomainCritical] = 9;
    config.failureAction[eProcessCritical] = 9;
    assert_creation_result(&config, S_OK);
    assert_int_equal(alloc_failure_result(&config, eTaskCritical), E_OUTOFMEMORY);
    assert_int_equal(alloc_failure_result(&config, eProcessCritical), E_FAIL);

    /* failureAction inside, escalationCallback outside: actions apply, no callback. */
    memset(&config, 0, sizeof(config));
    config.cbSize = (DWORD)offsetof(HOSTMEM_CONFIG, escalationCallback);
    config.failureAction[eTaskCritical] = HOSTMEM_ACTION_ESCALATE;
    config.failureAction[eProcessCritical] = HOSTMEM_ACTION_OUTOFMEMORY;
    config.escalationCallback = count_escalation;
    config.escalationContext = &escalations;
    escalations = 0;
    assert_int_equal(alloc_failure_result(&config, eTaskCritical), E_FAIL);
    assert_int_equal(alloc_failure_result(&config, eProcessCritical), E_OUTOFMEMORY);
    assert_int_equal(escalations, 0);

    /* And with the whole struct the callback is called. */
    config.cbSize = sizeof(config);
    assert_int_equal(alloc_failure_result(&config, eTaskCritical), E_FAIL);
    assert_int_equal(escalations, 1);
}

static void create_with_bad_failure_action_returns_e_invalidarg(void **state)
{
    static const DWORD bad[] = { 3, 4, 0x80000000u, 0xFFFFFFFFu };
    HOSTMEM_CONFIG config;
    unsigned level, i;
    (void)state;

    for (level = 0; level < 3; level++)
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            memset(&config, 0, sizeof(config));
            config.cbSize = sizeof(config);
            config.failureAction[level] = bad[i];
            assert_creation_result(&config, E_INVALIDARG);
        }
    assert_int_equal(os_call_count(OS_HEAP_CREATE), 0);
}

static void create_with_every_valid_failure_action_succeeds(void **state)
{
    HOSTMEM_CONFIG config;
    unsigned level, action;
    (void)state;

    for (level = 0; level < 3; level++)
        for (action = HOSTMEM_ACTION_DEFAULT; action <= HOSTMEM_ACTION_ESCALATE; action++) {
            memset(&config, 0, sizeof(config));
            config.cbSize = sizeof(config);
            config.failureAction[level] = action;
            assert_creation_result(&config, S_OK);
        }
}

/* --- creation: out of memory -------------------------------------------------------- */

static void create_heap_create_failure_returns_e_outofmemory(void **state)
{
    IHostControl *control = (IHostControl *)(ULONG_PTR)1;
    IHostMemoryManager *manager = (IHostMemoryManager *)(ULONG_PTR)1;
    (void)state;

    fault_always(OS_HEAP_CREATE, ERROR_NOT_ENOUGH_MEMORY);
    assert_int_equal(HostMemCreateHostControl(NULL, &control), E_OUTOFMEMORY);
    assert_null(control);
    assert_int_equal(HostMemCreateMemoryManager(NULL, &manager), E_OUTOFMEMORY);
    assert_null(manager);
    fault_clear();
    assert_int_equal(os_call_count(OS_HEAP_DESTROY), 0); /* no heap was made */
}

/* Fails the creation's 1st, 2nd, ... HeapAlloc until creation succeeds: each failure
   gives E_OUTOFMEMORY, a NULL out pointer and every heap destroyed again. */
static unsigned fail_each_heap_alloc(BOOL host_control)
{
    unsigned skip;

    for (skip = 0; skip < 64; skip++) {
        IUnknown *object = (IUnknown *)(ULONG_PTR)1;
        HRESULT hr;

        fault_setup(NULL);
        fault_once(OS_HEAP_ALLOC, skip, 0);
        hr = host_control ? HostMemCreateHostControl(NULL, (IHostControl **)&object)
                          : HostMemCreateMemoryManager(NULL, (IHostMemoryManager **)&object);
        if (hr == S_OK) {
            assert_non_null(object);
            release_last(object);
            assert_no_heap_left();
            return skip;
        }
        assert_int_equal(hr, E_OUTOFMEMORY);
        assert_null(object);
        assert_true(os_call_count(OS_HEAP_CREATE) >= 1);
        assert_no_heap_left();
    }
    fail();
    return 0;
}

static void create_heap_alloc_failure_returns_e_outofmemory_without_leak(void **state)
{
    (void)state;
    /* The manager and its ledger at least; the control one more. */
    assert_true(fail_each_heap_alloc(FALSE) >= 2);
    assert_true(fail_each_heap_alloc(TRUE) >= 3);
}

/* --- IHostControl::GetHostManager ----------------------------------------------------- */

static void get_host_manager_for_memory_manager_returns_the_same_manager_with_a_new_reference(void **state)
{
    IHostControl *control = new_control(NULL);
    IHostMemoryManager *first = NULL, *second = NULL;
    (void)state;

    assert_int_equal(IHostControl_GetHostManager(control, &IID_IHostMemoryManager, (void **)&first), S_OK);
    assert_non_null(first);
    assert_int_equal(ref_count((IUnknown *)first), 2); /* the control's and ours */
    assert_int_equal(IHostControl_GetHostManager(control, &IID_IHostMemoryManager, (void **)&second), S_OK);
    assert_ptr_equal(first, second);
    assert_int_equal(ref_count((IUnknown *)first), 3);
    /* It is a real IHostMemoryManager. */
    {
        void *p = NULL;
        assert_int_equal(IHostMemoryManager_QueryInterface(first, &IID_IHostMemoryManager, &p), S_OK);
        assert_ptr_equal(p, first);
        IHostMemoryManager_Release(first);
    }
    assert_int_equal(IHostMemoryManager_Release(second), 2);
    assert_int_equal(IHostMemoryManager_Release(first), 1);
    assert_int_equal(ref_count((IUnknown *)control), 1); /* GetHostManager took none on the control */
    release_last((IUnknown *)control);
    assert_no_heap_left();
}

static void get_host_manager_for_other_clr_managers_returns_e_nointerface(void **state)
{
    IHostControl *control = new_control(NULL);
    IHostMemoryManager *manager = manager_of(control);
    unsigned i;
    (void)state;

    for (i = 0; i < OTHER_MANAGER_COUNT; i++) {
        void *object = (void *)(ULONG_PTR)1;

        if (IsEqualIID(&other_managers[i].iid, &IID_IHostPolicyManager))
            continue; /* hostmem's own (get_host_manager_for_policy_manager_...) */
        if (IHostControl_GetHostManager(control, &other_managers[i].iid, &object) != E_NOINTERFACE)
            fail_msg("GetHostManager(IID_%s) is not E_NOINTERFACE", other_managers[i].name);
        if (object)
            fail_msg("GetHostManager(IID_%s) left the out pointer set", other_managers[i].name);
    }
    /* No reference was handed out. */
    assert_int_equal(ref_count((IUnknown *)manager), 2);
    IHostMemoryManager_Release(manager);
    release_last((IUnknown *)control);
}

static void get_host_manager_for_policy_manager_returns_hostmem_s_policy_manager(void **state)
{
    IHostControl *control = new_control(NULL);
    IHostMemoryManager *manager = manager_of(control);
    IHostPolicyManager *policy = NULL, *again = NULL;
    IUnknown *unknown = NULL;
    void *other = (void *)(ULONG_PTR)1;
    (void)state;

    assert_int_equal(IHostControl_GetHostManager(control, &IID_IHostPolicyManager, (void **)&policy), S_OK);
    assert_non_null(policy);
    /* It shares the memory manager's count: one reference more on the manager. */
    assert_int_equal(ref_count((IUnknown *)manager), 3);
    assert_int_equal(IHostControl_GetHostManager(control, &IID_IHostPolicyManager, (void **)&again), S_OK);
    assert_ptr_equal(again, policy);
    assert_int_equal(IHostPolicyManager_Release(again), 3);
    /* COM rules: itself for IUnknown and IHostPolicyManager, nothing else. */
    assert_int_equal(IHostPolicyManager_QueryInterface(policy, &IID_IUnknown, (void **)&unknown), S_OK);
    assert_ptr_equal(unknown, policy);
    IUnknown_Release(unknown);
    assert_int_equal(IHostPolicyManager_QueryInterface(policy, &IID_IHostMemoryManager, &other), E_NOINTERFACE);
    assert_null(other);
    assert_int_equal(IHostPolicyManager_QueryInterface(policy, &IID_IHostPolicyManager, NULL), E_POINTER);
    assert_int_equal(IHostPolicyManager_QueryInterface(policy, NULL, &other), E_INVALIDARG);
    assert_int_equal(IHostPolicyManager_Release(policy), 2);
    IHostMemoryManager_Release(manager);
    release_last((IUnknown *)control);
    assert_no_heap_left();
}

static void get_host_manager_for_non_manager_iids_returns_e_nointerface(void **state)
{
    const IID *iids[] = { &IID_IUnknown, &IID_IHostControl, &IID_IHostMalloc, &IID_ICLRMemoryNotificationCallback,
                          &IID_ICLRRuntimeHost, &IID_IClassFactory };
    IHostControl *control = new_control(NULL);
    unsigned i;
    (void)state;

    for (i = 0; i < sizeof(iids) / sizeof(iids[0]); i++) {
        void *object = (void *)(ULONG_PTR)1;
        assert_int_equal(IHostControl_GetHostManager(control, iids[i], &object), E_NOINTERFACE);
        assert_null(object);
    }
    assert_int_equal(ref_count((IUnknown *)control), 1);
    release_last((IUnknown *)control);
}

static void get_host_manager_with_null_out_returns_e_invalidarg(void **state)
{
    IHostControl *control = new_control(NULL);
    IHostMemoryManager *manager = manager_of(control);
    (void)state;

    assert_int_equal(IHostControl_GetHostManager(control, &IID_IHostMemoryManager, NULL), E_INVALIDARG);
    assert_int_equal(IHostControl_GetHostManager(control, &other_managers[0].iid, NULL), E_INVALIDARG);
    assert_int_equal(ref_count((IUnknown *)manager), 2); /* no reference leaked */
    IHostMemoryManager_Release(manager);
    release_last((IUnknown *)control);
}

static void get_host_manager_with_null_iid_returns_e_invalidarg(void **state)
{
    IHostControl *control = new_control(NULL);
    void *object = (void *)(ULONG_PTR)1;
    (void)state;

    assert_int_equal(IHostControl_GetHostManager(control, NULL, &object), E_INVALIDARG);
    assert_null(object);
    release_last((IUnknown *)control);
}

/* An app domain manager the CLR would pass; counts what is done to it. */
static LONG domain_manager_refs;
static HRESULT WINAPI domain_QueryInterface(IUnknown *iface, REFIID riid, void **ppv)
{
    (void)iface;
    (void)riid;
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG WINAPI domain_AddRef(IUnknown *iface) { (void)iface; return (ULONG)InterlockedIncrement(&domain_manager_refs); }
static ULONG WINAPI domain_Release(IUnknown *iface) { (void)iface; return (ULONG)InterlockedDecrement(&domain_manager_refs); }
static IUnknownVtbl domain_vtbl = { domain_QueryInterface, domain_AddRef, domain_Release };

static void set_app_domain_manager_returns_s_ok(void **state)
{
    IUnknown domain_manager = { &domain_vtbl };
    IHostControl *control = new_control(NULL);
    (void)state;

    domain_manager_refs = 1;
    assert_int_equal(IHostControl_SetAppDomainManager(control, 1, &domain_manager), S_OK);
    assert_int_equal(IHostControl_SetAppDomainManager(control, 2, NULL), S_OK);
    assert_int_equal(IHostControl_SetAppDomainManager(control, 0xFFFFFFFFu, &domain_manager), S_OK);
    release_last((IUnknown *)control);
    assert_int_equal(domain_manager_refs, 1); /* any reference taken was given back */
}

/* --- IUnknown --------------------------------------------------------------------------- */

static void query_interface_on_host_control_follows_the_com_rules(void **state)
{
    const IID *others[] = { &IID_IHostMemoryManager, &IID_IHostMalloc, &IID_IClassFactory, &IID_ICLRRuntimeHost };
    IHostControl *control = new_control(NULL);
    void *p;
    unsigned i;
    (void)state;

    p = NULL;
    assert_int_equal(IHostControl_QueryInterface(control, &IID_IUnknown, &p), S_OK);
    assert_ptr_equal(p, control);
    assert_int_equal(ref_count((IUnknown *)control), 2);
    p = NULL;
    assert_int_equal(IHostControl_QueryInterface(control, &IID_IHostControl, &p), S_OK);
    assert_ptr_equal(p, control);
    assert_int_equal(ref_count((IUnknown *)control), 3);
    IHostControl_Release(control);
    IHostControl_Release(control);

    for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        p = (void *)(ULONG_PTR)1;
        assert_int_equal(IHostControl_QueryInterface(control, others[i], &p), E_NOINTERFACE);
        assert_null(p);
    }
    assert_int_equal(IHostControl_QueryInterface(control, &IID_IHostControl, NULL), E_POINTER);
    p = (void *)(ULONG_PTR)1;
    assert_int_equal(IHostControl_QueryInterface(control, NULL, &p), E_INVALIDARG);
    assert_null(p);
    assert_int_equal(ref_count((IUnknown *)control), 1);
    release_last((IUnknown *)control);
    assert_no_heap_left();
}

static void query_interface_on_memory_manager_follows_the_com_rules(void **state)
{
    const IID *others[] = { &IID_IHostControl, &IID_IHostMalloc, &IID_IClassFactory,
                            &IID_ICLRMemoryNotificationCallback };
    IHostMemoryManager *manager = new_manager(NULL);
    void *p;
    unsigned i;
    (void)state;

    p = NULL;
    assert_int_equal(IHostMemoryManager_QueryInterface(manager, &IID_IUnknown, &p), S_OK);
    assert_ptr_equal(p, manager);
    assert_int_equal(ref_count((IUnknown *)manager), 2);
    p = NULL;
    assert_int_equal(IHostMemoryManager_QueryInterface(manager, &IID_IHostMemoryManager, &p), S_OK);
    assert_ptr_equal(p, manager);
    assert_int_equal(ref_count((IUnknown *)manager), 3);
    IHostMemoryManager_Release(manager);
    IHostMemoryManager_Release(manager);

    for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        p = (void *)(ULONG_PTR)1;
        assert_int_equal(IHostMemoryManager_QueryInterface(manager, others[i], &p), E_NOINTERFACE);
        assert_null(p);
    }
    for (i = 0; i < OTHER_MANAGER_COUNT; i++) {
        p = (void *)(ULONG_PTR)1;
        assert_int_equal(IHostMemoryManager_QueryInterface(manager, &other_managers[i].iid, &p), E_NOINTERFACE);
        assert_null(p);
    }
    assert_int_equal(IHostMemoryManager_QueryInterface(manager, &IID_IUnknown, NULL), E_POINTER);
    p = (void *)(ULONG_PTR)1;
    assert_int_equal(IHostMemoryManager_QueryInterface(manager, NULL, &p), E_INVALIDARG);
    assert_null(p);
    assert_int_equal(ref_count((IUnknown *)manager), 1);
    release_last((IUnknown *)manager);
    assert_no_heap_left();
}

static void add_ref_and_release_return_the_new_count(void **state)
{
    IHostControl *control = new_control(NULL);
    unsigned control_heaps = os_call_count(OS_HEAP_CREATE);
    IHostMemoryManager *manager = new_manager(NULL);
    unsigned all_heaps = os_call_count(OS_HEAP_CREATE);
    (void)state;

    assert_int_equal(IHostControl_AddRef(control), 2);
    assert_int_equal(IHostControl_AddRef(control), 3);
    assert_int_equal(IHostControl_Release(control), 2);
    assert_int_equal(IHostControl_Release(control), 1);
    assert_int_equal(IHostMemoryManager_AddRef(manager), 2);
    assert_int_equal(IHostMemoryManager_Release(manager), 1);
    assert_int_equal(os_call_count(OS_HEAP_DESTROY), 0);
    assert_int_equal(IHostControl_Release(control), 0);
    assert_int_equal(os_call_count(OS_HEAP_DESTROY), control_heaps);
    assert_int_equal(IHostMemoryManager_Release(manager), 0);
    assert_int_equal(os_call_count(OS_HEAP_DESTROY), all_heaps);
    assert_no_heap_left();
}

static void manager_outlives_the_host_control_while_the_clr_holds_it(void **state)
{
    IHostControl *control = new_control(NULL);
    IHostMemoryManager *manager = manager_of(control);
    IHostMalloc *malloc = NULL;
    void *block = NULL, *region = NULL;
    (void)state;

    assert_int_equal(IHostControl_Release(control), 0);
    assert_int_equal(os_call_count(OS_HEAP_DESTROY), 0); /* the manager's heap is still there */
    assert_int_equal(ref_count((IUnknown *)manager), 1);

    /* Everything still works. */
    assert_int_equal(IHostMemoryManager_CreateMalloc(manager, MALLOC_THREADSAFE, &malloc), S_OK);
    assert_int_equal(IHostMalloc_Alloc(malloc, 64, eProcessCritical, &block), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 65536, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
                                                     eProcessCritical, &region),
                     S_OK);
    memset(region, 1, 65536);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, region, 0, MEM_RELEASE), S_OK);
    assert_int_equal(IHostMalloc_Free(malloc, block), S_OK);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
    assert_no_heap_left();
}

/* Releases control, manager and malloc in the order given by order[] (0, 1, 2);
   every heap is gone afterwards and only the last release reaches zero. */
static void release_in_order(const unsigned order[3])
{
    IHostControl *control = new_control(NULL);
    IHostMemoryManager *manager = manager_of(control);
    IHostMalloc *malloc = NULL;
    IUnknown *objects[3];
    void *block = NULL;
    unsigned i, creates;

    assert_int_equal(IHostMemoryManager_CreateMalloc(manager, MALLOC_THREADSAFE, &malloc), S_OK);
    assert_int_equal(IHostMalloc_Alloc(malloc, 64, eTaskCritical, &block), S_OK);
    creates = os_call_count(OS_HEAP_CREATE);
    assert_true(creates >= 2); /* the manager's and the malloc's at least */
    objects[0] = (IUnknown *)control;
    objects[1] = (IUnknown *)manager;
    objects[2] = (IUnknown *)malloc;
    for (i = 0; i < 3; i++) {
        IUnknown *object = objects[order[i]];
        ULONG left = IUnknown_Release(object);

        /* The control and the malloc have only our reference; the manager has ours,
           the control's and the malloc's until they go. */
        if (order[i] != 1)
            assert_int_equal(left, 0);
        if (i < 2)
            assert_true(os_call_count(OS_HEAP_DESTROY) < creates);
    }
    assert_int_equal(os_call_count(OS_HEAP_DESTROY), creates);
}

static void releasing_in_any_order_frees_everything(void **state)
{
    static const unsigned orders[6][3] = {
        { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
    };
    unsigned i;
    (void)state;

    for (i = 0; i < 6; i++) {
        fault_setup(NULL);
        release_in_order(orders[i]);
    }
}

/* --- the CLR's SetHostControl sequence ----------------------------------------------------- */

/* The CLR's static notification callback: AddRef/Release return 1
   (docs/clr-contract.md, "Sequence of SetHostControl"); these also count, so the test
   can see hostmem's references. */
static LONG clr_callback_addrefs, clr_callback_releases;
static ULONG WINAPI counting_AddRef(ICLRMemoryNotificationCallback *iface)
{
    (void)iface;
    InterlockedIncrement(&clr_callback_addrefs);
    return 1;
}
static ULONG WINAPI counting_Release(ICLRMemoryNotificationCallback *iface)
{
    (void)iface;
    InterlockedIncrement(&clr_callback_releases);
    return 1;
}
static HRESULT WINAPI clr_callback_OnMemoryNotification(ICLRMemoryNotificationCallback *iface, EMemoryAvailable level)
{
    (void)iface;
    (void)level;
    return S_OK;
}
static ICLRMemoryNotificationCallbackVtbl clr_callback_vtbl = {
    clr_callback_QueryInterface, counting_AddRef, counting_Release, clr_callback_OnMemoryNotification,
};

static void clr_set_host_control_sequence_succeeds(void **state)
{
    ICLRMemoryNotificationCallback clr_callback = { &clr_callback_vtbl };
    IHostControl *control = new_control(NULL);
    IHostMemoryManager *manager = NULL;
    IHostPolicyManager *policy = NULL;
    IHostMalloc *malloc = NULL;
    void *block = NULL;
    unsigned i;
    (void)state;

    clr_callback_addrefs = clr_callback_releases = 0;

    /* 1. Accepted only with exactly S_OK and a non-NULL manager. */
    assert_int_equal(IHostControl_GetHostManager(control, &IID_IHostMemoryManager, (void **)&manager), S_OK);
    assert_non_null(manager);
    /* 2. Anything but S_OK fails SetHostControl. */
    assert_int_equal(IHostMemoryManager_CreateMalloc(manager, MALLOC_THREADSAFE, &malloc), S_OK);
    assert_non_null(malloc);
    /* 3. Result ignored by the CLR, but hostmem says S_OK. */
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &clr_callback), S_OK);
    /* 4. The other managers, in the CLR's order: the CLR keeps its own, except the
       policy manager, which only hears of the CLR's escalations. */
    for (i = 0; i < OTHER_MANAGER_COUNT; i++) {
        void *object = (void *)(ULONG_PTR)1;

        if (IsEqualIID(&other_managers[i].iid, &IID_IHostPolicyManager)) {
            if (IHostControl_GetHostManager(control, &other_managers[i].iid, &object) != S_OK || !object)
                fail_msg("GetHostManager(IID_%s): not S_OK with a manager", other_managers[i].name);
            policy = object;
            continue;
        }
        if (IHostControl_GetHostManager(control, &other_managers[i].iid, &object) != E_NOINTERFACE || object)
            fail_msg("GetHostManager(IID_%s): not E_NOINTERFACE with NULL", other_managers[i].name);
    }
    assert_non_null(policy);

    /* Start-up then allocates at eProcessCritical through the malloc. */
    assert_int_equal(IHostMalloc_Alloc(malloc, 256, eProcessCritical, &block), S_OK);
    assert_int_equal(IHostMalloc_Free(malloc, block), S_OK);
    assert_int_equal(IHostMalloc_Free(malloc, NULL), S_OK);

    /* The CLR never releases its managers; the host tears down here to check the books. */
    release_last((IUnknown *)malloc);
    assert_int_equal(IHostPolicyManager_Release(policy), 2);
    assert_int_equal(IHostMemoryManager_Release(manager), 1);
    release_last((IUnknown *)control);
    assert_int_equal(clr_callback_addrefs, clr_callback_releases);
    assert_no_heap_left();
}

#define T(name) cmocka_unit_test_setup_teardown(name, fault_setup, fault_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(create_with_null_out_returns_e_pointer),
        T(create_with_null_config_uses_the_defaults),
        T(create_with_zeroed_full_config_uses_the_defaults),
        T(create_with_cb_size_too_small_returns_e_invalidarg),
        T(create_with_cb_size_too_large_returns_e_invalidarg),
        T(create_with_min_cb_size_ignores_fields_beyond_it),
        T(create_with_cb_size_cutting_a_field_ignores_that_field),
        T(create_with_bad_failure_action_returns_e_invalidarg),
        T(create_with_every_valid_failure_action_succeeds),
        T(create_heap_create_failure_returns_e_outofmemory),
        T(create_heap_alloc_failure_returns_e_outofmemory_without_leak),
        T(get_host_manager_for_memory_manager_returns_the_same_manager_with_a_new_reference),
        T(get_host_manager_for_other_clr_managers_returns_e_nointerface),
        T(get_host_manager_for_policy_manager_returns_hostmem_s_policy_manager),
        T(get_host_manager_for_non_manager_iids_returns_e_nointerface),
        T(get_host_manager_with_null_out_returns_e_invalidarg),
        T(get_host_manager_with_null_iid_returns_e_invalidarg),
        T(set_app_domain_manager_returns_s_ok),
        T(query_interface_on_host_control_follows_the_com_rules),
        T(query_interface_on_memory_manager_follows_the_com_rules),
        T(add_ref_and_release_return_the_new_count),
        T(manager_outlives_the_host_control_while_the_clr_holds_it),
        T(releasing_in_any_order_frees_everything),
        T(clr_set_host_control_sequence_succeeds),
    };

    return cmocka_run_group_tests_name("host_control", tests, NULL, NULL);
}
