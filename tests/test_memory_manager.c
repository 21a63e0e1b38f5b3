/*
 * IHostMemoryManager, method by method: one test per documented behaviour
 * (docs/behaviour.md, docs/clr-contract.md). Every claim about memory is checked against
 * the OS itself (os_page_state, os_committed_in_reservation, raw kernel32 calls side
 * by side), never against hostmem's own word.
 */
#include "test_support.h"

#include <string.h>

#define KIB ((SIZE_T)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

#define ARRAY_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const EMemoryCriticalLevel all_levels[] = { eTaskCritical, eAppDomainCritical, eProcessCritical };

/* What each level returns by default when memory runs out (docs/clr-contract.md,
   "What each critical level means"). */
static HRESULT default_policy(EMemoryCriticalLevel level)
{
    return level == eProcessCritical ? E_FAIL : E_OUTOFMEMORY;
}

/* --- helpers --------------------------------------------------------------------- */

static SIZE_T page_size(void)
{
    SYSTEM_INFO info;

    GetSystemInfo(&info);
    return info.dwPageSize;
}

static SIZE_T granularity(void)
{
    SYSTEM_INFO info;

    GetSystemInfo(&info);
    return info.dwAllocationGranularity;
}

/* An address above user space that kernel32 refuses to reserve or query. On x64: the
   first allocation boundary past lpMaximumApplicationAddress. A 32-bit process's user
   space ends at 2 or 3 GiB (or, large-address-aware under WoW64, 64 KiB short of 4 GiB),
   and Wine lets a 32-bit process reserve above the 2 GiB it reports (it keeps that space
   for itself); so there the top 64 KiB of the 4 GiB, beyond every 32-bit user space. */
static void *beyond_user_space(void)
{
#ifdef _WIN64
    SYSTEM_INFO info;

    GetSystemInfo(&info);
    return (void *)(((uintptr_t)info.lpMaximumApplicationAddress + 1) & ~(uintptr_t)(granularity() - 1));
#else
    return (void *)(uintptr_t)0xFFFF0000u;
#endif
}

/* The reference count, read by an AddRef/Release pair. */
static ULONG ref_count(IUnknown *object)
{
    IUnknown_AddRef(object);
    return IUnknown_Release(object);
}

/* A region through hostmem; the test fails unless it succeeds. */
static void *hm_reserve(IHostMemoryManager *manager, SIZE_T size, DWORD type)
{
    void *p = NULL;

    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, size, type, PAGE_READWRITE, eTaskCritical, &p),
                     S_OK);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % granularity(), 0);
    return p;
}

static void hm_commit(IHostMemoryManager *manager, void *address, SIZE_T size)
{
    void *p = NULL;

    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, address, size, MEM_COMMIT, PAGE_READWRITE,
                                                     eTaskCritical, &p), S_OK);
    assert_ptr_equal(p, (void *)((uintptr_t)address & ~(uintptr_t)(page_size() - 1)));
}

/* An address range of `size` bytes that is free right now (reserved and released again). */
static void *free_address(SIZE_T size)
{
    void *p = VirtualAlloc(NULL, size, MEM_RESERVE, PAGE_NOACCESS);

    assert_non_null(p);
    assert_true(VirtualFree(p, 0, MEM_RELEASE));
    assert_int_equal(os_page_state(p), MEM_FREE);
    return p;
}

/* Every page of [p, p + size) is in `state` per the OS. */
static void assert_pages_state(const void *p, SIZE_T size, DWORD state)
{
    SIZE_T offset;

    for (offset = 0; offset < size; offset += page_size())
        assert_int_equal(os_page_state((const char *)p + offset), state);
}

/* The test exe's own code: memory hostmem never allocated. */
static void a_function_of_the_test(void)
{
}

/* --- the escalation callback ----------------------------------------------------- */

static struct {
    unsigned           calls;
    HOSTMEM_ESCALATION info;
    char               method[32];
    DWORD              thread;
    void             (*reenter)(void); /* when set, called from inside the callback */
} escalation;

static void WINAPI on_escalation(void *context, const HOSTMEM_ESCALATION *info)
{
    assert_ptr_equal(context, &escalation);
    escalation.calls++;
    escalation.info = *info;
    strncpy(escalation.method, info->method ? info->method : "(null)", sizeof(escalation.method) - 1);
    escalation.info.method = escalation.method;
    escalation.thread = GetCurrentThreadId();
    if (escalation.reenter)
        escalation.reenter();
    /* hostmem must put the OS's cause back afterwards. */
    SetLastError(ERROR_INVALID_FUNCTION);
}

static HOSTMEM_CONFIG config_with_callback(void)
{
    HOSTMEM_CONFIG config;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.escalationCallback = on_escalation;
    config.escalationContext = &escalation;
    memset(&escalation, 0, sizeof(escalation));
    return config;
}

static void assert_escalated_once(EMemoryCriticalLevel level, SIZE_T bytes, DWORD os_error)
{
    assert_int_equal(escalation.calls, 1);
    assert_int_equal(escalation.info.cbSize, sizeof(HOSTMEM_ESCALATION));
    assert_int_equal(escalation.info.level, level);
    assert_int_equal(escalation.info.bytes, bytes);
    assert_int_equal(escalation.info.osError, os_error);
    assert_string_equal(escalation.method, "VirtualAlloc");
    assert_int_equal(escalation.thread, GetCurrentThreadId());
}

/* --- a small ICLRMemoryNotificationCallback -------------------------------------- */

typedef struct test_callback {
    ICLRMemoryNotificationCallback iface;
    LONG ref;      /* references held by anyone but the test's own one */
    LONG addrefs;
    LONG releases;
    LONG notifications;
} test_callback;

static test_callback *impl_from_callback(ICLRMemoryNotificationCallback *iface)
{
    return CONTAINING_RECORD(iface, test_callback, iface);
}

static HRESULT WINAPI callback_QueryInterface(ICLRMemoryNotificationCallback *iface, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ICLRMemoryNotificationCallback)) {
        *ppv = iface;
        ICLRMemoryNotificationCallback_AddRef(iface);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI callback_AddRef(ICLRMemoryNotificationCallback *iface)
{
    test_callback *cb = impl_from_callback(iface);

    InterlockedIncrement(&cb->addrefs);
    return (ULONG)InterlockedIncrement(&cb->ref);
}

static ULONG WINAPI callback_Release(ICLRMemoryNotificationCallback *iface)
{
    test_callback *cb = impl_from_callback(iface);

    InterlockedIncrement(&cb->releases);
    return (ULONG)InterlockedDecrement(&cb->ref);
}

static HRESULT WINAPI callback_OnMemoryNotification(ICLRMemoryNotificationCallback *iface, EMemoryAvailable available)
{
    (void)available;
    InterlockedIncrement(&impl_from_callback(iface)->notifications);
    return S_OK;
}

static ICLRMemoryNotificationCallbackVtbl callback_vtbl = {
    callback_QueryInterface, callback_AddRef, callback_Release, callback_OnMemoryNotification,
};

static void callback_init(test_callback *cb)
{
    memset(cb, 0, sizeof(*cb));
    cb->iface.lpVtbl = &callback_vtbl;
}

/* --- running a call on another thread, with a deadline ----------------------------- */

typedef struct side_call {
    void (*fn)(struct side_call *call);
    IHostMemoryManager *manager;
    void *address;
    SIZE_T size;
    HRESULT hr;
    SIZE_T result;
    MEMORY_BASIC_INFORMATION info;
} side_call;

static DWORD WINAPI side_call_thread(void *arg)
{
    side_call *call = arg;

    call->fn(call);
    return 0;
}

/* Runs call->fn on a new thread; TRUE when it finished within `ms`. A thread that is
   stuck (on a lock hostmem should not hold) is left behind: the test fails anyway. */
static BOOL run_on_other_thread(side_call *call, DWORD ms)
{
    HANDLE thread = CreateThread(NULL, 0, side_call_thread, call, 0, NULL);
    DWORD wait;

    assert_non_null(thread);
    wait = WaitForSingleObject(thread, ms);
    CloseHandle(thread);
    return wait == WAIT_OBJECT_0;
}

/* --- HostMemCreateMemoryManager -------------------------------------------------- */

static void create_manager_with_null_config_returns_one_reference(void **state)
{
    IHostMemoryManager *manager = NULL;
    (void)state;

    assert_int_equal(HostMemCreateMemoryManager(NULL, &manager), S_OK);
    assert_non_null(manager);
    assert_int_equal(ref_count((IUnknown *)manager), 1);
    release_last((IUnknown *)manager);
    assert_int_equal(os_call_count(OS_HEAP_CREATE), os_call_count(OS_HEAP_DESTROY));
}

static void create_manager_null_out_returns_e_pointer(void **state)
{
    (void)state;
    assert_int_equal(HostMemCreateMemoryManager(NULL, NULL), E_POINTER);
}

static void create_manager_bad_cbsize_returns_e_invalidarg_and_null(void **state)
{
    const DWORD bad[] = { 0, (DWORD)HOSTMEM_CONFIG_MIN_SIZE - 1, (DWORD)sizeof(HOSTMEM_CONFIG) + 1, 0xFFFFFFFFu };
    HOSTMEM_CONFIG config;
    unsigned i;
    (void)state;

    for (i = 0; i < ARRAY_COUNT(bad); i++) {
        IHostMemoryManager *manager = (IHostMemoryManager *)(ULONG_PTR)1;

        memset(&config, 0, sizeof(config));
        config.cbSize = bad[i];
        assert_int_equal(HostMemCreateMemoryManager(&config, &manager), E_INVALIDARG);
        assert_null(manager);
    }
    assert_int_equal(os_call_count(OS_HEAP_CREATE), 0);
}

static void create_manager_failure_action_above_2_returns_e_invalidarg(void **state)
{
    unsigned level;
    (void)state;

    for (level = 0; level < 3; level++) {
        HOSTMEM_CONFIG config = config_with_callback();
        IHostMemoryManager *manager = (IHostMemoryManager *)(ULONG_PTR)1;

        config.failureAction[level] = 3;
        assert_int_equal(HostMemCreateMemoryManager(&config, &manager), E_INVALIDARG);
        assert_null(manager);
    }
}

static void create_manager_heap_create_failure_returns_e_outofmemory(void **state)
{
    IHostMemoryManager *manager = (IHostMemoryManager *)(ULONG_PTR)1;
    (void)state;

    fault_once(OS_HEAP_CREATE, 0, ERROR_NOT_ENOUGH_MEMORY);
    assert_int_equal(HostMemCreateMemoryManager(NULL, &manager), E_OUTOFMEMORY);
    assert_null(manager);
}

static void create_manager_heap_alloc_failure_returns_e_outofmemory_and_leaks_no_heap(void **state)
{
    unsigned skip;
    (void)state;

    /* The manager itself, then the ledger: each failure gives E_OUTOFMEMORY and
       destroys the heap it made. */
    for (skip = 0; skip < 2; skip++) {
        IHostMemoryManager *manager = (IHostMemoryManager *)(ULONG_PTR)1;

        fault_once(OS_HEAP_ALLOC, skip, ERROR_NOT_ENOUGH_MEMORY);
        assert_int_equal(HostMemCreateMemoryManager(NULL, &manager), E_OUTOFMEMORY);
        assert_null(manager);
        fault_clear();
        assert_int_equal(os_call_count(OS_HEAP_CREATE), os_call_count(OS_HEAP_DESTROY));
    }
}

/* --- IUnknown -------------------------------------------------------------------- */

static void query_interface_iunknown_and_own_iid_return_same_pointer_and_add_ref(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    const IID *iids[] = { &IID_IUnknown, &IID_IHostMemoryManager };
    unsigned i;
    (void)state;

    for (i = 0; i < ARRAY_COUNT(iids); i++) {
        void *p = NULL;

        assert_int_equal(IHostMemoryManager_QueryInterface(manager, iids[i], &p), S_OK);
        assert_ptr_equal(p, manager);
        assert_int_equal(ref_count((IUnknown *)manager), 2);
        assert_int_equal(IUnknown_Release((IUnknown *)p), 1);
    }
    release_last((IUnknown *)manager);
}

static void query_interface_other_iid_returns_e_nointerface_and_null(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    static const IID unrelated = { 0x0c733a30, 0x2a1c, 0x11ce, { 0xad, 0xe5, 0x00, 0xaa, 0x00, 0x44, 0x77, 0x3d } };
    const IID *iids[] = { &IID_IHostMalloc, &IID_IHostControl, &IID_ICLRMemoryNotificationCallback, &unrelated };
    unsigned i;
    (void)state;

    for (i = 0; i < ARRAY_COUNT(iids); i++) {
        void *p = (void *)(ULONG_PTR)1;

        assert_int_equal(IHostMemoryManager_QueryInterface(manager, iids[i], &p), E_NOINTERFACE);
        assert_null(p);
    }
    assert_int_equal(ref_count((IUnknown *)manager), 1);
    release_last((IUnknown *)manager);
}

static void query_interface_null_ppv_returns_e_pointer(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    (void)state;

    assert_int_equal(IHostMemoryManager_QueryInterface(manager, &IID_IUnknown, NULL), E_POINTER);
    assert_int_equal(ref_count((IUnknown *)manager), 1);
    release_last((IUnknown *)manager);
}

static void query_interface_null_riid_returns_e_invalidarg_and_null(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    void *p = (void *)(ULONG_PTR)1;
    (void)state;

    assert_int_equal(IHostMemoryManager_QueryInterface(manager, NULL, &p), E_INVALIDARG);
    assert_null(p);
    assert_int_equal(ref_count((IUnknown *)manager), 1);
    release_last((IUnknown *)manager);
}

static void add_ref_and_release_return_the_new_count(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    (void)state;

    assert_int_equal(IHostMemoryManager_AddRef(manager), 2);
    assert_int_equal(IHostMemoryManager_AddRef(manager), 3);
    assert_int_equal(IHostMemoryManager_Release(manager), 2);
    assert_int_equal(IHostMemoryManager_Release(manager), 1);
    assert_int_equal(os_call_count(OS_HEAP_DESTROY), 0); /* still alive */
    release_last((IUnknown *)manager);
    assert_int_equal(os_call_count(OS_HEAP_CREATE), os_call_count(OS_HEAP_DESTROY));
}

static void last_release_frees_leftover_reservations(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    void *reserved, *committed, *large, *partly;
    unsigned frees;
    (void)state;

    reserved = hm_reserve(manager, 64 * KIB, MEM_RESERVE);
    committed = hm_reserve(manager, 128 * KIB, MEM_RESERVE | MEM_COMMIT);
    large = hm_reserve(manager, 8 * MIB, MEM_RESERVE);          /* more than 64 pages */
    partly = hm_reserve(manager, 1 * MIB, MEM_RESERVE);
    hm_commit(manager, (char *)partly + 64 * KIB, 64 * KIB);
    assert_int_equal(os_page_state(committed), MEM_COMMIT);

    frees = os_call_count(OS_VIRTUAL_FREE);
    release_last((IUnknown *)manager);
    assert_int_equal(os_call_count(OS_VIRTUAL_FREE) - frees, 4); /* one MEM_RELEASE each */
    assert_int_equal(os_page_state(reserved), MEM_FREE);
    assert_int_equal(os_page_state(committed), MEM_FREE);
    assert_int_equal(os_page_state(large), MEM_FREE);
    assert_int_equal(os_page_state((char *)large + 8 * MIB - page_size()), MEM_FREE);
    assert_int_equal(os_page_state(partly), MEM_FREE);
    assert_int_equal(os_page_state((char *)partly + 64 * KIB), MEM_FREE);
}

static void last_release_does_not_free_released_regions_again(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    void *kept, *gone;
    unsigned frees;
    (void)state;

    gone = hm_reserve(manager, 64 * KIB, MEM_RESERVE);
    kept = hm_reserve(manager, 64 * KIB, MEM_RESERVE);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, gone, 0, MEM_RELEASE), S_OK);
    frees = os_call_count(OS_VIRTUAL_FREE);
    release_last((IUnknown *)manager);
    assert_int_equal(os_call_count(OS_VIRTUAL_FREE) - frees, 1);
    assert_int_equal(os_page_state(kept), MEM_FREE);
}

static void create_malloc_keeps_the_manager_and_its_reservations_alive(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = NULL;
    void *region;
    (void)state;

    region = hm_reserve(manager, 64 * KIB, MEM_RESERVE | MEM_COMMIT);
    assert_int_equal(IHostMemoryManager_CreateMalloc(manager, MALLOC_THREADSAFE, &malloc), S_OK);
    assert_non_null(malloc);
    assert_int_equal(ref_count((IUnknown *)manager), 2);
    /* The host lets go of the manager; the malloc still holds it. */
    assert_int_equal(IHostMemoryManager_Release(manager), 1);
    assert_int_equal(os_page_state(region), MEM_COMMIT);
    release_last((IUnknown *)malloc);
    assert_int_equal(os_page_state(region), MEM_FREE);
    assert_int_equal(os_call_count(OS_HEAP_CREATE), os_call_count(OS_HEAP_DESTROY));
}

/* --- VirtualAlloc: arguments ----------------------------------------------------- */

static void virtual_alloc_null_out_pointer_returns_e_pointer(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    (void)state;

    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 64 * KIB, MEM_RESERVE, PAGE_READWRITE,
                                                     eTaskCritical, NULL), E_POINTER);
    assert_int_equal(os_call_count(OS_VIRTUAL_ALLOC), 0);
    release_last((IUnknown *)manager);
}

static void virtual_alloc_level_outside_0_to_2_returns_e_invalidarg_and_asks_nothing(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    const int bad[] = { 3, 4, -1, 0x7FFFFFFF };
    unsigned i, heap_allocs = os_call_count(OS_HEAP_ALLOC);
    (void)state;

    for (i = 0; i < ARRAY_COUNT(bad); i++) {
        void *p = (void *)(ULONG_PTR)1;

        assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 64 * KIB, MEM_RESERVE | MEM_COMMIT,
                                                         PAGE_READWRITE, (EMemoryCriticalLevel)bad[i], &p),
                         E_INVALIDARG);
        assert_null(p);
    }
    assert_int_equal(os_call_count(OS_VIRTUAL_ALLOC), 0);
    assert_int_equal(os_call_count(OS_HEAP_ALLOC), heap_allocs);
    release_last((IUnknown *)manager);
}

static void virtual_alloc_new_reservation_of_size_0_returns_e_invalidarg_without_os_call(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    const DWORD types[] = { MEM_RESERVE, MEM_RESERVE | MEM_COMMIT, MEM_COMMIT };
    unsigned i;
    (void)state;

    for (i = 0; i < ARRAY_COUNT(types); i++) {
        void *p = (void *)(ULONG_PTR)1;

        SetLastError(0);
        assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 0, types[i], PAGE_READWRITE,
                                                         eProcessCritical, &p), E_INVALIDARG);
        assert_null(p);
        assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    }
    assert_int_equal(os_call_count(OS_VIRTUAL_ALLOC), 0);
    release_last((IUnknown *)manager);
}

static void virtual_alloc_new_reservation_larger_than_user_space_returns_e_invalidarg_without_os_call(void **state)
{
    HOSTMEM_CONFIG config = config_with_callback();
    IHostMemoryManager *manager = new_manager(&config);
    SYSTEM_INFO info;
    SIZE_T span, sizes[3];
    unsigned i;
    (void)state;

    GetSystemInfo(&info);
    span = (SIZE_T)((uintptr_t)info.lpMaximumApplicationAddress - (uintptr_t)info.lpMinimumApplicationAddress + 1);
    sizes[0] = span + 1;
    sizes[1] = (SIZE_T)-1;
    sizes[2] = (SIZE_T)-1 - page_size() + 2; /* would wrap when rounded to pages */
    for (i = 0; i < ARRAY_COUNT(sizes); i++) {
        void *p = (void *)(ULONG_PTR)1;

        SetLastError(0);
        assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, sizes[i], MEM_RESERVE | MEM_COMMIT,
                                                         PAGE_READWRITE, eProcessCritical, &p), E_INVALIDARG);
        assert_null(p);
        assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    }
    /* An address near the top that would wrap is refused the same way. */
    {
        void *p = (void *)(ULONG_PTR)1;
        assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, (void *)((uintptr_t)-1 - 0xFFFF), 0x20000,
                                                         MEM_RESERVE, PAGE_READWRITE, eTaskCritical, &p),
                         E_INVALIDARG);
        assert_null(p);
    }
    assert_int_equal(os_call_count(OS_VIRTUAL_ALLOC), 0);
    assert_int_equal(escalation.calls, 0); /* a bad argument is not out of memory */
    release_last((IUnknown *)manager);
}

/* --- VirtualAlloc: success paths ------------------------------------------------- */

static void virtual_alloc_reserve_reserves_without_committing(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    void *p;
    (void)state;

    p = hm_reserve(manager, 1 * MIB, MEM_RESERVE);
    assert_pages_state(p, 1 * MIB, MEM_RESERVE);
    assert_int_equal(os_committed_in_reservation(p), 0);
    assert_int_equal(os_call_count(OS_VIRTUAL_ALLOC), 1);
    release_last((IUnknown *)manager);
}

static void virtual_alloc_reserve_commit_commits_whole_rounded_size(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    SIZE_T size = 3 * page_size() + 1; /* rounds up to 4 pages */
    char *p;
    (void)state;

    p = hm_reserve(manager, size, MEM_RESERVE | MEM_COMMIT);
    assert_int_equal(os_committed_in_reservation(p), 4 * page_size());
    memset(p, 0xA5, 4 * page_size()); /* writable */
    assert_int_equal((unsigned char)p[4 * page_size() - 1], 0xA5);
    release_last((IUnknown *)manager);
}

static void virtual_alloc_commit_at_null_reserves_and_commits_a_new_region(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    void *p;
    (void)state;

    p = hm_reserve(manager, 64 * KIB, MEM_COMMIT);
    assert_int_equal(os_committed_in_reservation(p), 64 * KIB);
    /* It is hostmem's region: it can be freed through hostmem. */
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, p, 0, MEM_RELEASE), S_OK);
    assert_int_equal(os_page_state(p), MEM_FREE);
    release_last((IUnknown *)manager);
}

static void virtual_alloc_reserve_at_free_address_returns_that_address(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    void *want = free_address(256 * KIB), *p = NULL;
    (void)state;

    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, want, 256 * KIB, MEM_RESERVE, PAGE_READWRITE,
                                                     eTaskCritical, &p), S_OK);
    assert_ptr_equal(p, want);
    assert_pages_state(want, 256 * KIB, MEM_RESERVE);
    hm_commit(manager, (char *)want + 128 * KIB, page_size());
    assert_int_equal(os_committed_in_reservation(want), page_size());
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, want, 0, MEM_RELEASE), S_OK);
    assert_int_equal(os_page_state(want), MEM_FREE);
    release_last((IUnknown *)manager);
}

static void virtual_alloc_reserve_at_unaligned_address_books_the_rounded_region(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    char *want = free_address(256 * KIB), *p = NULL;
    (void)state;

    /* The OS rounds the address down to the granularity and covers up to the end. */
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, want + 0x1234, 128 * KIB, MEM_RESERVE | MEM_COMMIT,
                                                     PAGE_READWRITE, eTaskCritical, (void **)&p), S_OK);
    assert_ptr_equal(p, want);
    assert_int_equal(os_committed_in_reservation(want), (0x1234 + 128 * KIB + page_size() - 1) & ~(page_size() - 1));
    /* hostmem owns every page of it: a decommit at its last page and a release work. */
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, want + 128 * KIB, page_size(), MEM_DECOMMIT), S_OK);
    assert_int_equal(os_page_state(want + 128 * KIB), MEM_RESERVE);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, want, 0, MEM_RELEASE), S_OK);
    assert_int_equal(os_page_state(want), MEM_FREE);
    release_last((IUnknown *)manager);
}

static void virtual_alloc_commit_inside_reservation_commits_only_those_pages(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    SIZE_T page = page_size();
    char *base;
    (void)state;

    base = hm_reserve(manager, 1 * MIB, MEM_RESERVE);
    hm_commit(manager, base + 5 * page, 3 * page);
    assert_int_equal(os_committed_in_reservation(base), 3 * page);
    assert_int_equal(os_page_state(base + 4 * page), MEM_RESERVE);
    assert_pages_state(base + 5 * page, 3 * page, MEM_COMMIT);
    assert_int_equal(os_page_state(base + 8 * page), MEM_RESERVE);
    base[5 * page] = 1;
    base[8 * page - 1] = 2;
    /* Unaligned: every page holding a byte of the range (page 20 and 21). */
    hm_commit(manager, base + 20 * page + 100, page);
    assert_int_equal(os_committed_in_reservation(base), 5 * page);
    assert_pages_state(base + 20 * page, 2 * page, MEM_COMMIT);
    /* Again over pages partly committed already. */
    hm_commit(manager, base + 4 * page, 6 * page);
    assert_int_equal(os_committed_in_reservation(base), 8 * page);
    assert_int_equal(base[5 * page], 1); /* recommitting keeps the contents */
    release_last((IUnknown *)manager);
}

static void virtual_alloc_commit_inside_large_reservation_beyond_64_pages(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    SIZE_T page = page_size();
    char *base;
    (void)state;

    base = hm_reserve(manager, 16 * MIB, MEM_RESERVE);
    hm_commit(manager, base + 16 * MIB - 2 * page, 2 * page);
    hm_commit(manager, base + 63 * page, 3 * page); /* crosses a bitmap word */
    assert_int_equal(os_committed_in_reservation(base), 5 * page);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, base + 64 * page, page, MEM_DECOMMIT), S_OK);
    assert_int_equal(os_committed_in_reservation(base), 4 * page);
    assert_int_equal(os_page_state(base + 63 * page), MEM_COMMIT);
    assert_int_equal(os_page_state(base + 64 * page), MEM_RESERVE);
    assert_int_equal(os_page_state(base + 65 * page), MEM_COMMIT);
    release_last((IUnknown *)manager);
}

static void virtual_alloc_commit_past_reservation_end_fails_like_kernel32_and_commits_nothing(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    char *base, *raw, *p = (char *)1;
    DWORD raw_error;
    HRESULT hr;
    (void)state;

    raw = VirtualAlloc(NULL, 64 * KIB, MEM_RESERVE, PAGE_READWRITE);
    assert_non_null(raw);
    SetLastError(0);
    assert_null(VirtualAlloc(raw + 32 * KIB, 64 * KIB, MEM_COMMIT, PAGE_READWRITE));
    raw_error = GetLastError();
    assert_true(VirtualFree(raw, 0, MEM_RELEASE));

    base = hm_reserve(manager, 64 * KIB, MEM_RESERVE);
    hr = IHostMemoryManager_VirtualAlloc(manager, base + 32 * KIB, 64 * KIB, MEM_COMMIT, PAGE_READWRITE,
                                         eTaskCritical, (void **)&p);
    assert_int_equal(hr, HRESULT_FROM_WIN32(raw_error));
    assert_int_equal(GetLastError(), raw_error);
    assert_null(p);
    assert_int_equal(os_committed_in_reservation(base), 0);
    /* The books did not move either: committing the region itself still works. */
    hm_commit(manager, base, 64 * KIB);
    assert_int_equal(os_committed_in_reservation(base), 64 * KIB);
    release_last((IUnknown *)manager);
}

static void virtual_alloc_commit_in_kernel32_reservation_passes_through_unbooked(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    char *raw, *p = NULL;
    (void)state;

    raw = VirtualAlloc(NULL, 128 * KIB, MEM_RESERVE, PAGE_NOACCESS);
    assert_non_null(raw);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, raw + 64 * KIB, page_size(), MEM_COMMIT,
                                                     PAGE_READWRITE, eTaskCritical, (void **)&p), S_OK);
    assert_ptr_equal(p, raw + 64 * KIB);
    assert_int_equal(os_committed_in_reservation(raw), page_size());
    p[0] = 7;
    /* Not booked: hostmem refuses to free it, and leaves it alone when it goes. */
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, raw, 0, MEM_RELEASE), HOST_E_INVALIDOPERATION);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, p, page_size(), MEM_DECOMMIT), HOST_E_INVALIDOPERATION);
    release_last((IUnknown *)manager);
    assert_int_equal(os_page_state(p), MEM_COMMIT);
    assert_int_equal(p[0], 7);
    assert_true(VirtualFree(raw, 0, MEM_RELEASE));
}

static void virtual_alloc_commit_at_unreserved_address_returns_kernel32_error(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    char *hole = free_address(64 * KIB);
    void *p = (void *)(ULONG_PTR)1;
    DWORD raw_error;
    HRESULT hr;
    (void)state;

    SetLastError(0);
    assert_null(VirtualAlloc(hole, page_size(), MEM_COMMIT, PAGE_READWRITE));
    raw_error = GetLastError();
    assert_int_equal(raw_error, ERROR_INVALID_ADDRESS);

    hr = IHostMemoryManager_VirtualAlloc(manager, hole, page_size(), MEM_COMMIT, PAGE_READWRITE, eProcessCritical,
                                         &p);
    assert_int_equal(hr, HRESULT_FROM_WIN32(raw_error));
    assert_int_equal(hr, (HRESULT)0x800701E7);
    assert_int_equal(GetLastError(), raw_error);
    assert_null(p);
    assert_int_equal(os_page_state(hole), MEM_FREE);
    release_last((IUnknown *)manager);
}

static void virtual_alloc_reserve_over_existing_reservation_returns_kernel32_error(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    char *base, *p = (char *)1;
    DWORD raw_error;
    HRESULT hr;
    (void)state;

    base = hm_reserve(manager, 256 * KIB, MEM_RESERVE);
    SetLastError(0);
    assert_null(VirtualAlloc(base + 64 * KIB, 64 * KIB, MEM_RESERVE, PAGE_READWRITE));
    raw_error = GetLastError();
    assert_int_not_equal(raw_error, 0);

    hr = IHostMemoryManager_VirtualAlloc(manager, base + 64 * KIB, 64 * KIB, MEM_RESERVE, PAGE_READWRITE,
                                         eTaskCritical, (void **)&p);
    assert_int_equal(hr, HRESULT_FROM_WIN32(raw_error));
    assert_null(p);
    /* The existing region is untouched and still hostmem's. */
    assert_pages_state(base, 256 * KIB, MEM_RESERVE);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, base, 0, MEM_RELEASE), S_OK);
    release_last((IUnknown *)manager);
}

static void virtual_alloc_reset_passes_through_and_keeps_pages_committed(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    char *base, *p = NULL;
    unsigned allocs;
    (void)state;

    base = hm_reserve(manager, 64 * KIB, MEM_RESERVE | MEM_COMMIT);
    allocs = os_call_count(OS_VIRTUAL_ALLOC);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, base + page_size(), page_size(), MEM_RESET,
                                                     PAGE_NOACCESS, eTaskCritical, (void **)&p), S_OK);
    assert_ptr_equal(p, base + page_size());
    assert_int_equal(os_call_count(OS_VIRTUAL_ALLOC) - allocs, 1);
    assert_int_equal(os_committed_in_reservation(base), 64 * KIB);
    /* The books still hold every page: a full decommit and release work. */
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, base, 0, MEM_DECOMMIT), S_OK);
    assert_int_equal(os_committed_in_reservation(base), 0);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, base, 0, MEM_RELEASE), S_OK);
    release_last((IUnknown *)manager);
}

static void virtual_alloc_type_without_reserve_or_commit_returns_kernel32_error(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    char *base, *p = (char *)1;
    DWORD raw_error;
    HRESULT hr;
    (void)state;

    base = hm_reserve(manager, 64 * KIB, MEM_RESERVE);
    SetLastError(0);
    assert_null(VirtualAlloc(base, page_size(), 0, PAGE_READWRITE));
    raw_error = GetLastError();
    assert_int_not_equal(raw_error, 0);
    hr = IHostMemoryManager_VirtualAlloc(manager, base, page_size(), 0, PAGE_READWRITE, eTaskCritical, (void **)&p);
    assert_int_equal(hr, HRESULT_FROM_WIN32(raw_error));
    assert_null(p);
    assert_int_equal(os_committed_in_reservation(base), 0);
    release_last((IUnknown *)manager);
}

static void virtual_alloc_bad_protection_returns_kernel32_error_and_books_nothing(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    const DWORD types[] = { MEM_RESERVE, MEM_RESERVE | MEM_COMMIT };
    unsigned t, frees;
    (void)state;

    for (t = 0; t < ARRAY_COUNT(types); t++) {
        void *raw, *p = (void *)(ULONG_PTR)1;
        DWORD raw_error;

        SetLastError(0);
        raw = VirtualAlloc(NULL, 64 * KIB, types[t], 0);
        raw_error = GetLastError();
        assert_null(raw);
        assert_int_not_equal(raw_error, 0);
        SetLastError(0);
        assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 64 * KIB, types[t], 0, eProcessCritical, &p),
                         HRESULT_FROM_WIN32(raw_error));
        assert_int_equal(GetLastError(), raw_error);
        assert_null(p);
    }
    frees = os_call_count(OS_VIRTUAL_FREE);
    release_last((IUnknown *)manager);
    assert_int_equal(os_call_count(OS_VIRTUAL_FREE), frees); /* nothing was booked */
}

static void virtual_alloc_reserve_beyond_user_space_returns_kernel32_error(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    void *beyond = beyond_user_space(), *raw, *p = (void *)(ULONG_PTR)1;
    DWORD raw_error;
    (void)state;

    SetLastError(0);
    raw = VirtualAlloc(beyond, 64 * KIB, MEM_RESERVE, PAGE_READWRITE);
    raw_error = GetLastError();
    assert_null(raw);
    assert_int_not_equal(raw_error, 0);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, beyond, 64 * KIB, MEM_RESERVE, PAGE_READWRITE,
                                                     eTaskCritical, &p), HRESULT_FROM_WIN32(raw_error));
    assert_int_equal(GetLastError(), raw_error);
    assert_null(p);
    release_last((IUnknown *)manager);
}

/* --- VirtualAlloc: out of memory, the policy per level --------------------------- */

/* A real out-of-memory from the OS. On x64, committing 64 GiB at once (more than this
   machine has). A 32-bit SIZE_T cannot hold 64 GiB, and more than the span of user space
   is a bad argument, not an out-of-memory; so there, committing that whole span, which
   the executable and its DLLs already take part of: never free in one piece. */
static SIZE_T huge_request(void)
{
#ifdef _WIN64
    return 64 * GIB;
#else
    SYSTEM_INFO info;

    GetSystemInfo(&info);
    return ((uintptr_t)info.lpMaximumApplicationAddress - (uintptr_t)info.lpMinimumApplicationAddress + 1) &
           ~(uintptr_t)(info.dwAllocationGranularity - 1);
#endif
}
#define HUGE_REQUEST huge_request()

static void real_out_of_memory_at(EMemoryCriticalLevel level)
{
    HOSTMEM_CONFIG config = config_with_callback();
    IHostMemoryManager *manager = new_manager(&config);
    void *raw, *p = (void *)(ULONG_PTR)1;
    DWORD raw_error;
    HRESULT hr;

    /* What kernel32 itself says to the same request (docs/clr-contract.md,
       "How kernel32 reports failures"). */
    SetLastError(0);
    raw = VirtualAlloc(NULL, HUGE_REQUEST, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    raw_error = GetLastError();
    if (raw)
        VirtualFree(raw, 0, MEM_RELEASE);
    assert_null(raw); /* this machine cannot commit 64 GiB */
    assert_int_equal(raw_error, ERROR_NOT_ENOUGH_MEMORY);

    SetLastError(0);
    hr = IHostMemoryManager_VirtualAlloc(manager, NULL, HUGE_REQUEST, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
                                         level, &p);
    assert_int_equal(GetLastError(), ERROR_NOT_ENOUGH_MEMORY);
    assert_int_equal(hr, default_policy(level));
    assert_null(p);
    if (hr == E_FAIL)
        assert_escalated_once(level, HUGE_REQUEST, ERROR_NOT_ENOUGH_MEMORY);
    else
        assert_int_equal(escalation.calls, 0);
    /* Nothing was booked: the manager still works and frees nothing on release. */
    p = hm_reserve(manager, 64 * KIB, MEM_RESERVE | MEM_COMMIT);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, p, 0, MEM_RELEASE), S_OK);
    release_last((IUnknown *)manager);
}

static void virtual_alloc_real_oom_task_critical_returns_e_outofmemory(void **state)
{
    (void)state;
    real_out_of_memory_at(eTaskCritical);
}

static void virtual_alloc_real_oom_appdomain_critical_returns_e_outofmemory(void **state)
{
    (void)state;
    real_out_of_memory_at(eAppDomainCritical);
}

static void virtual_alloc_real_oom_process_critical_returns_e_fail_and_escalates_once(void **state)
{
    (void)state;
    real_out_of_memory_at(eProcessCritical);
}

/* An injected out-of-memory error, in each of VirtualAlloc's three paths. */
enum alloc_path { PATH_NEW_REGION, PATH_COMMIT_IN_REGION, PATH_COMMIT_UNOWNED };

static void injected_oom(const HOSTMEM_CONFIG *config, enum alloc_path path, DWORD error,
                         EMemoryCriticalLevel level, HRESULT expected)
{
    IHostMemoryManager *manager = new_manager(config);
    char *region = NULL, *raw = NULL, *address = NULL, *p = (char *)1;
    SIZE_T size = 3 * page_size();
    /* The callback counts only when the config's cbSize reaches it. */
    BOOL has_callback = config && config->escalationCallback &&
                        config->cbSize >= offsetof(HOSTMEM_CONFIG, escalationContext) + sizeof(void *);
    HRESULT hr;

    memset(&escalation, 0, sizeof(escalation));
    if (path == PATH_COMMIT_IN_REGION)
        address = region = hm_reserve(manager, 1 * MIB, MEM_RESERVE);
    if (path == PATH_COMMIT_UNOWNED) {
        address = raw = VirtualAlloc(NULL, 1 * MIB, MEM_RESERVE, PAGE_NOACCESS);
        assert_non_null(raw);
    }
    /* Every attempt fails, however many a level makes. */
    fault_always(OS_VIRTUAL_ALLOC, error);
    SetLastError(0);
    hr = IHostMemoryManager_VirtualAlloc(manager, address, size, address ? MEM_COMMIT : MEM_RESERVE | MEM_COMMIT,
                                         PAGE_READWRITE, level, (void **)&p);
    assert_int_equal(GetLastError(), error);
    fault_clear();
    assert_int_equal(hr, expected);
    assert_null(p);
    if (expected == E_FAIL && has_callback)
        assert_escalated_once(level, size, error);
    else
        assert_int_equal(escalation.calls, 0);

    if (region) {
        /* Nothing committed, nothing booked: a later commit and decommit work. */
        assert_int_equal(os_committed_in_reservation(region), 0);
        hm_commit(manager, region, size);
        assert_int_equal(os_committed_in_reservation(region), size);
        assert_int_equal(IHostMemoryManager_VirtualFree(manager, region, size, MEM_DECOMMIT), S_OK);
        assert_int_equal(os_committed_in_reservation(region), 0);
        assert_int_equal(IHostMemoryManager_VirtualFree(manager, region, 0, MEM_RELEASE), S_OK);
        assert_int_equal(os_page_state(region), MEM_FREE);
    }
    if (raw) {
        assert_int_equal(os_committed_in_reservation(raw), 0);
        assert_true(VirtualFree(raw, 0, MEM_RELEASE));
    }
    {
        unsigned frees = os_call_count(OS_VIRTUAL_FREE);
        release_last((IUnknown *)manager);
        /* The failed new region was never booked, so nothing is left to release. */
        assert_int_equal(os_call_count(OS_VIRTUAL_FREE), frees);
    }
}

static void virtual_alloc_injected_oom_errors_follow_default_policy_per_level(void **state)
{
    const DWORD errors[] = { ERROR_NOT_ENOUGH_MEMORY, ERROR_COMMITMENT_LIMIT, ERROR_OUTOFMEMORY };
    HOSTMEM_CONFIG config = config_with_callback();
    unsigned e, l, path;
    (void)state;

    for (path = PATH_NEW_REGION; path <= PATH_COMMIT_UNOWNED; path++)
        for (e = 0; e < ARRAY_COUNT(errors); e++)
            for (l = 0; l < ARRAY_COUNT(all_levels); l++)
                injected_oom(&config, (enum alloc_path)path, errors[e], all_levels[l], default_policy(all_levels[l]));
}

static void virtual_alloc_failure_action_overrides_apply_per_level(void **state)
{
    HOSTMEM_CONFIG config = config_with_callback();
    unsigned l, path;
    (void)state;

    /* Each level flipped from its default. */
    config.failureAction[eTaskCritical] = HOSTMEM_ACTION_ESCALATE;
    config.failureAction[eAppDomainCritical] = HOSTMEM_ACTION_ESCALATE;
    config.failureAction[eProcessCritical] = HOSTMEM_ACTION_OUTOFMEMORY;
    for (path = PATH_NEW_REGION; path <= PATH_COMMIT_IN_REGION; path++) {
        injected_oom(&config, (enum alloc_path)path, ERROR_COMMITMENT_LIMIT, eTaskCritical, E_FAIL);
        injected_oom(&config, (enum alloc_path)path, ERROR_COMMITMENT_LIMIT, eAppDomainCritical, E_FAIL);
        injected_oom(&config, (enum alloc_path)path, ERROR_COMMITMENT_LIMIT, eProcessCritical, E_OUTOFMEMORY);
    }
    /* The same value as the default, and HOSTMEM_ACTION_DEFAULT, keep the default. */
    config.failureAction[eTaskCritical] = HOSTMEM_ACTION_OUTOFMEMORY;
    config.failureAction[eAppDomainCritical] = HOSTMEM_ACTION_DEFAULT;
    config.failureAction[eProcessCritical] = HOSTMEM_ACTION_ESCALATE;
    for (l = 0; l < ARRAY_COUNT(all_levels); l++)
        injected_oom(&config, PATH_NEW_REGION, ERROR_OUTOFMEMORY, all_levels[l], default_policy(all_levels[l]));
}

static void virtual_alloc_failure_action_beyond_cbsize_counts_as_default(void **state)
{
    HOSTMEM_CONFIG config = config_with_callback();
    unsigned l;
    (void)state;

    config.failureAction[eTaskCritical] = HOSTMEM_ACTION_ESCALATE;
    config.failureAction[eProcessCritical] = HOSTMEM_ACTION_OUTOFMEMORY;
    config.cbSize = (DWORD)HOSTMEM_CONFIG_MIN_SIZE; /* failureAction and the callback lie beyond */
    for (l = 0; l < ARRAY_COUNT(all_levels); l++)
        injected_oom(&config, PATH_NEW_REGION, ERROR_NOT_ENOUGH_MEMORY, all_levels[l], default_policy(all_levels[l]));
    assert_int_equal(escalation.calls, 0); /* the callback beyond cbSize is not called either */
}

static void virtual_alloc_escalation_without_callback_returns_e_fail(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    void *p = (void *)(ULONG_PTR)1;
    (void)state;

    fault_always(OS_VIRTUAL_ALLOC, ERROR_COMMITMENT_LIMIT);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 64 * KIB, MEM_RESERVE | MEM_COMMIT,
                                                     PAGE_READWRITE, eProcessCritical, &p), E_FAIL);
    assert_int_equal(GetLastError(), ERROR_COMMITMENT_LIMIT);
    fault_clear();
    assert_null(p);
    release_last((IUnknown *)manager);
}

/* The callback may call back into hostmem: no lock of the manager or of the region is
   held. The calls run on another thread so that a held lock fails the test instead of
   hanging it. */
static IHostMemoryManager *reenter_manager;
static char *reenter_region;
static BOOL reenter_finished;
static side_call reenter_call;

static void reenter_work(side_call *call)
{
    void *p = NULL;
    DWORD old;

    call->hr = IHostMemoryManager_VirtualAlloc(call->manager, call->address, page_size(), MEM_COMMIT,
                                               PAGE_READWRITE, eTaskCritical, &p);
    if (call->hr == S_OK)
        call->hr = IHostMemoryManager_VirtualProtect(call->manager, call->address, page_size(), PAGE_READONLY, &old);
    if (call->hr == S_OK)
        call->hr = IHostMemoryManager_VirtualQuery(call->manager, call->address, &call->info, sizeof(call->info),
                                                   &call->result);
    if (call->hr == S_OK)
        call->hr = IHostMemoryManager_VirtualFree(call->manager, call->address, page_size(), MEM_DECOMMIT);
    if (call->hr == S_OK)
        call->hr = IHostMemoryManager_RegisterMemoryNotificationCallback(call->manager, NULL);
}

static void reenter_from_callback(void)
{
    fault_clear(); /* the calls below must reach the OS */
    memset(&reenter_call, 0, sizeof(reenter_call));
    reenter_call.fn = reenter_work;
    reenter_call.manager = reenter_manager;
    reenter_call.address = reenter_region + 64 * KIB;
    reenter_finished = run_on_other_thread(&reenter_call, 5000);
}

static void escalation_callback_runs_outside_every_lock(void **state)
{
    HOSTMEM_CONFIG config = config_with_callback();
    IHostMemoryManager *manager = new_manager(&config);
    void *p = (void *)(ULONG_PTR)1;
    unsigned path;
    (void)state;

    reenter_manager = manager;
    reenter_region = hm_reserve(manager, 256 * KIB, MEM_RESERVE);
    for (path = PATH_NEW_REGION; path <= PATH_COMMIT_IN_REGION; path++) {
        memset(&escalation, 0, sizeof(escalation));
        escalation.reenter = reenter_from_callback;
        reenter_finished = FALSE;
        fault_always(OS_VIRTUAL_ALLOC, ERROR_COMMITMENT_LIMIT);
        assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, path == PATH_NEW_REGION ? NULL : reenter_region,
                                                         64 * KIB + page_size(), MEM_COMMIT, PAGE_READWRITE,
                                                         eProcessCritical, &p), E_FAIL);
        assert_int_equal(GetLastError(), ERROR_COMMITMENT_LIMIT);
        assert_null(p);
        assert_int_equal(escalation.calls, 1);
        assert_true(reenter_finished);
        assert_int_equal(reenter_call.hr, S_OK);
        assert_int_equal(reenter_call.result, sizeof(MEMORY_BASIC_INFORMATION));
        assert_int_equal(reenter_call.info.State, MEM_COMMIT);
        assert_int_equal(reenter_call.info.Protect, PAGE_READONLY);
        assert_int_equal(os_page_state(reenter_call.address), MEM_RESERVE);
    }
    release_last((IUnknown *)manager);
}

static void virtual_alloc_non_oom_os_error_returns_hresult_from_win32_without_escalation(void **state)
{
    HOSTMEM_CONFIG config = config_with_callback();
    const DWORD errors[] = { ERROR_INVALID_ADDRESS, ERROR_INVALID_PARAMETER, ERROR_ACCESS_DENIED };
    unsigned e, l, path;
    (void)state;

    config.failureAction[eTaskCritical] = HOSTMEM_ACTION_ESCALATE; /* would escalate if it were OOM */
    for (path = PATH_NEW_REGION; path <= PATH_COMMIT_UNOWNED; path++)
        for (e = 0; e < ARRAY_COUNT(errors); e++)
            for (l = 0; l < ARRAY_COUNT(all_levels); l++)
                injected_oom(&config, (enum alloc_path)path, errors[e], all_levels[l], HRESULT_FROM_WIN32(errors[e]));
    assert_int_equal(HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS), (HRESULT)0x800701E7);
}

static void virtual_alloc_os_failure_with_last_error_0_returns_e_unexpected(void **state)
{
    HOSTMEM_CONFIG config = config_with_callback();
    unsigned l, path;
    (void)state;

    for (path = PATH_NEW_REGION; path <= PATH_COMMIT_UNOWNED; path++)
        for (l = 0; l < ARRAY_COUNT(all_levels); l++)
            injected_oom(&config, (enum alloc_path)path, 0, all_levels[l], E_UNEXPECTED);
}

static void virtual_alloc_bookkeeping_heap_failure_returns_policy_and_reserves_nothing(void **state)
{
    HOSTMEM_CONFIG config = config_with_callback();
    unsigned l;
    (void)state;

    for (l = 0; l < ARRAY_COUNT(all_levels); l++) {
        IHostMemoryManager *manager = new_manager(&config);
        EMemoryCriticalLevel level = all_levels[l];
        void *p = (void *)(ULONG_PTR)1;
        HRESULT hr;

        memset(&escalation, 0, sizeof(escalation));
        /* 1 MiB is 256 pages: its page bitmap comes from the bookkeeping heap. */
        fault_always(OS_HEAP_ALLOC, ERROR_NOT_ENOUGH_MEMORY);
        SetLastError(0);
        hr = IHostMemoryManager_VirtualAlloc(manager, NULL, 1 * MIB, MEM_RESERVE, PAGE_READWRITE, level, &p);
        assert_int_equal(GetLastError(), ERROR_NOT_ENOUGH_MEMORY);
        fault_clear();
        assert_int_equal(hr, default_policy(level));
        assert_null(p);
        assert_int_equal(os_call_count(OS_VIRTUAL_ALLOC), 0); /* nothing asked of the OS */
        if (hr == E_FAIL)
            assert_escalated_once(level, 1 * MIB, ERROR_NOT_ENOUGH_MEMORY);
        else
            assert_int_equal(escalation.calls, 0);
        /* Once the heap works again, so does the manager. */
        p = hm_reserve(manager, 1 * MIB, MEM_RESERVE);
        assert_int_equal(IHostMemoryManager_VirtualFree(manager, p, 0, MEM_RELEASE), S_OK);
        release_last((IUnknown *)manager);
        fault_setup(NULL); /* fresh counts for the next level */
    }
}

/* Captures the address of the last successful OS VirtualAlloc. */
static hm_os_table counting;
static void *last_os_alloc;

static LPVOID WINAPI capture_VirtualAlloc(LPVOID a, SIZE_T s, DWORD t, DWORD p)
{
    void *r = counting.VirtualAlloc(a, s, t, p);

    if (r)
        last_os_alloc = r;
    return r;
}

static void virtual_alloc_failed_undo_of_reservation_leaves_nothing_booked(void **state)
{
    HOSTMEM_CONFIG config = config_with_callback();
    IHostMemoryManager *manager;
    void *p = (void *)(ULONG_PTR)1;
    unsigned allocs, frees;
    HRESULT hr;
    (void)state;

    /* A fresh manager: its first small reservation takes a region record, then the
       two radix nodes. The OS reserves, the first radix node cannot be had, and the
       VirtualFree that undoes the reservation fails too. (eTaskCritical: the level
       that never waits and tries again.) */
    config.failureAction[eTaskCritical] = HOSTMEM_ACTION_ESCALATE;
    manager = new_manager(&config);
    counting = hm_os;
    hm_os.VirtualAlloc = capture_VirtualAlloc;
    allocs = os_call_count(OS_VIRTUAL_ALLOC);
    frees = os_call_count(OS_VIRTUAL_FREE);
    last_os_alloc = NULL;
    fault_once(OS_HEAP_ALLOC, 1, ERROR_NOT_ENOUGH_MEMORY);
    fault_once(OS_VIRTUAL_FREE, 0, ERROR_INVALID_PARAMETER);
    SetLastError(0);
    hr = IHostMemoryManager_VirtualAlloc(manager, NULL, 64 * KIB, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
                                         eTaskCritical, &p);
    assert_int_equal(GetLastError(), ERROR_NOT_ENOUGH_MEMORY);
    fault_clear();
    assert_int_equal(hr, E_FAIL);
    assert_null(p);
    assert_escalated_once(eTaskCritical, 64 * KIB, ERROR_NOT_ENOUGH_MEMORY);
    assert_int_equal(os_call_count(OS_VIRTUAL_ALLOC) - allocs, 1);
    assert_int_equal(os_call_count(OS_VIRTUAL_FREE) - frees, 1);
    assert_non_null(last_os_alloc);
    /* The OS kept the reservation (its VirtualFree failed) but hostmem booked none of
       it: it refuses to free it and leaves it alone when it goes. */
    assert_int_equal(os_page_state(last_os_alloc), MEM_COMMIT);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, last_os_alloc, 0, MEM_RELEASE), HOST_E_INVALIDOPERATION);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, last_os_alloc, 0, MEM_DECOMMIT), HOST_E_INVALIDOPERATION);
    frees = os_call_count(OS_VIRTUAL_FREE);
    release_last((IUnknown *)manager);
    assert_int_equal(os_call_count(OS_VIRTUAL_FREE), frees);
    assert_int_equal(os_page_state(last_os_alloc), MEM_COMMIT);
    assert_true(VirtualFree(last_os_alloc, 0, MEM_RELEASE));
}

static void virtual_alloc_failed_publish_releases_the_os_reservation(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    void *p = (void *)(ULONG_PTR)1;
    (void)state;

    counting = hm_os;
    hm_os.VirtualAlloc = capture_VirtualAlloc;
    /* The second radix node cannot be had: hostmem gives the reservation back. */
    fault_once(OS_HEAP_ALLOC, 2, ERROR_NOT_ENOUGH_MEMORY);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 64 * KIB, MEM_RESERVE, PAGE_READWRITE,
                                                     eTaskCritical, &p), E_OUTOFMEMORY);
    fault_clear();
    assert_null(p);
    assert_non_null(last_os_alloc);
    assert_int_equal(os_page_state(last_os_alloc), MEM_FREE);
    /* And the manager carries on. */
    p = hm_reserve(manager, 64 * KIB, MEM_RESERVE);
    release_last((IUnknown *)manager);
    assert_int_equal(os_page_state(p), MEM_FREE);
}

/* --- VirtualFree ----------------------------------------------------------------- */

static void virtual_free_decommit_range_decommits_those_pages_only(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    SIZE_T page = page_size();
    char *base;
    (void)state;

    base = hm_reserve(manager, 64 * KIB, MEM_RESERVE | MEM_COMMIT);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, base + 2 * page, 3 * page, MEM_DECOMMIT), S_OK);
    assert_int_equal(os_committed_in_reservation(base), 64 * KIB - 3 * page);
    assert_int_equal(os_page_state(base + page), MEM_COMMIT);
    assert_pages_state(base + 2 * page, 3 * page, MEM_RESERVE);
    assert_int_equal(os_page_state(base + 5 * page), MEM_COMMIT);
    /* Unaligned: every page holding a byte of the range. */
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, base + 8 * page + 10, page, MEM_DECOMMIT), S_OK);
    assert_pages_state(base + 8 * page, 2 * page, MEM_RESERVE);
    assert_int_equal(os_committed_in_reservation(base), 64 * KIB - 5 * page);
    /* Decommitting pages that are not committed is fine. */
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, base + 2 * page, 8 * page, MEM_DECOMMIT), S_OK);
    assert_int_equal(os_committed_in_reservation(base), 64 * KIB - 8 * page);
    release_last((IUnknown *)manager);
}

static void virtual_free_decommit_size_0_at_base_decommits_whole_reservation(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    char *base;
    (void)state;

    base = hm_reserve(manager, 4 * MIB, MEM_RESERVE);
    hm_commit(manager, base, 64 * KIB);
    hm_commit(manager, base + 4 * MIB - 64 * KIB, 64 * KIB);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, base, 0, MEM_DECOMMIT), S_OK);
    assert_int_equal(os_committed_in_reservation(base), 0);
    assert_pages_state(base, 4 * MIB, MEM_RESERVE); /* still reserved, still hostmem's */
    hm_commit(manager, base + MIB, page_size());
    assert_int_equal(os_committed_in_reservation(base), page_size());
    release_last((IUnknown *)manager);
}

static void virtual_free_decommit_size_0_not_at_base_returns_e_invalidarg_and_frees_nothing(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    char *base;
    (void)state;

    base = hm_reserve(manager, 128 * KIB, MEM_RESERVE | MEM_COMMIT);
    SetLastError(0);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, base + 64 * KIB, 0, MEM_DECOMMIT), E_INVALIDARG);
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    assert_int_equal(os_call_count(OS_VIRTUAL_FREE), 0);
    assert_int_equal(os_committed_in_reservation(base), 128 * KIB);
    release_last((IUnknown *)manager);
}

static void virtual_free_release_frees_the_reservation(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    char *small, *large;
    (void)state;

    small = hm_reserve(manager, 64 * KIB, MEM_RESERVE | MEM_COMMIT);
    large = hm_reserve(manager, 32 * MIB, MEM_RESERVE);
    hm_commit(manager, large + 16 * MIB, 64 * KIB);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, small, 0, MEM_RELEASE), S_OK);
    assert_int_equal(os_page_state(small), MEM_FREE);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, large, 0, MEM_RELEASE), S_OK);
    assert_int_equal(os_page_state(large), MEM_FREE);
    assert_int_equal(os_page_state(large + 16 * MIB), MEM_FREE);
    assert_int_equal(os_page_state(large + 32 * MIB - 1), MEM_FREE);
    assert_int_equal(os_call_count(OS_VIRTUAL_FREE), 2);
    release_last((IUnknown *)manager);
    assert_int_equal(os_call_count(OS_VIRTUAL_FREE), 2); /* nothing was left */
}

static void virtual_free_after_release_returns_host_e_invalidoperation(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    char *base;
    (void)state;

    base = hm_reserve(manager, 128 * KIB, MEM_RESERVE);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, base, 0, MEM_RELEASE), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, base, 0, MEM_RELEASE), HOST_E_INVALIDOPERATION);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, base + 64 * KIB, page_size(), MEM_DECOMMIT),
                     HOST_E_INVALIDOPERATION);
    assert_int_equal(os_call_count(OS_VIRTUAL_FREE), 1);
    /* Someone else takes the address: still not hostmem's to free. */
    {
        void *raw = VirtualAlloc(base, 64 * KIB, MEM_RESERVE, PAGE_READWRITE);
        if (raw) {
            assert_int_equal(IHostMemoryManager_VirtualFree(manager, raw, 0, MEM_RELEASE), HOST_E_INVALIDOPERATION);
            assert_int_equal(os_page_state(raw), MEM_RESERVE);
            assert_true(VirtualFree(raw, 0, MEM_RELEASE));
        }
    }
    release_last((IUnknown *)manager);
}

static void virtual_free_foreign_address_returns_host_e_invalidoperation_and_frees_nothing(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL), *other = new_manager(NULL);
    char *raw, *heap_block, *others, stack_byte = 0;
    void *foreign[6];
    const DWORD types[] = { MEM_RELEASE, MEM_DECOMMIT };
    unsigned i, t;
    (void)state;

    raw = VirtualAlloc(NULL, 64 * KIB, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    assert_non_null(raw);
    heap_block = HeapAlloc(GetProcessHeap(), 0, 64);
    assert_non_null(heap_block);
    others = hm_reserve(other, 64 * KIB, MEM_RESERVE | MEM_COMMIT);
    hm_reserve(manager, 64 * KIB, MEM_RESERVE); /* the manager owns something */
    foreign[0] = NULL;
    foreign[1] = raw;
    foreign[2] = heap_block;
    foreign[3] = others;
    foreign[4] = &stack_byte;
    foreign[5] = (void *)a_function_of_the_test;

    for (i = 0; i < ARRAY_COUNT(foreign); i++)
        for (t = 0; t < ARRAY_COUNT(types); t++) {
            assert_int_equal(IHostMemoryManager_VirtualFree(manager, foreign[i], 0, types[t]),
                             HOST_E_INVALIDOPERATION);
            assert_int_equal(IHostMemoryManager_VirtualFree(manager, foreign[i], page_size(), types[t]),
                             HOST_E_INVALIDOPERATION);
        }
    assert_int_equal(os_call_count(OS_VIRTUAL_FREE), 0);
    assert_int_equal(os_committed_in_reservation(raw), 64 * KIB);
    assert_int_equal(os_committed_in_reservation(others), 64 * KIB);
    assert_true(HeapValidate(GetProcessHeap(), 0, heap_block));
    assert_true(HeapFree(GetProcessHeap(), 0, heap_block));
    assert_true(VirtualFree(raw, 0, MEM_RELEASE));
    release_last((IUnknown *)other);
    release_last((IUnknown *)manager);
}

static void virtual_free_range_past_reservation_end_returns_host_e_invalidoperation_and_frees_nothing(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    char *base, *next;
    const DWORD types[] = { MEM_RELEASE, MEM_DECOMMIT };
    unsigned t;
    (void)state;

    base = hm_reserve(manager, 64 * KIB, MEM_RESERVE | MEM_COMMIT);
    /* A neighbour owned by hostmem too must not make the range acceptable. */
    next = VirtualAlloc(base + 64 * KIB, 64 * KIB, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    for (t = 0; t < ARRAY_COUNT(types); t++) {
        assert_int_equal(IHostMemoryManager_VirtualFree(manager, base, 64 * KIB + 1, types[t]),
                         HOST_E_INVALIDOPERATION);
        assert_int_equal(IHostMemoryManager_VirtualFree(manager, base, 128 * KIB, types[t]), HOST_E_INVALIDOPERATION);
        assert_int_equal(IHostMemoryManager_VirtualFree(manager, base + 60 * KIB, 8 * KIB, types[t]),
                         HOST_E_INVALIDOPERATION);
        assert_int_equal(IHostMemoryManager_VirtualFree(manager, base + page_size(), (SIZE_T)-1, types[t]),
                         HOST_E_INVALIDOPERATION); /* wraps */
    }
    assert_int_equal(os_call_count(OS_VIRTUAL_FREE), 0);
    assert_int_equal(os_committed_in_reservation(base), 64 * KIB);
    if (next) {
        assert_int_equal(os_committed_in_reservation(next), 64 * KIB);
        assert_true(VirtualFree(next, 0, MEM_RELEASE));
    }
    /* Exactly up to the end is fine. */
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, base + 60 * KIB, 4 * KIB, MEM_DECOMMIT), S_OK);
    assert_int_equal(os_page_state(base + 60 * KIB), MEM_RESERVE);
    release_last((IUnknown *)manager);
}

static void virtual_free_bad_free_type_returns_e_invalidarg_without_os_call(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    const DWORD bad[] = { 0, MEM_DECOMMIT | MEM_RELEASE, MEM_RELEASE | 0x1, MEM_DECOMMIT | 0x80000000u, MEM_COMMIT,
                          MEM_RESERVE, 0xFFFFFFFFu };
    char *base;
    unsigned i;
    (void)state;

    base = hm_reserve(manager, 64 * KIB, MEM_RESERVE | MEM_COMMIT);
    for (i = 0; i < ARRAY_COUNT(bad); i++) {
        SetLastError(0);
        assert_int_equal(IHostMemoryManager_VirtualFree(manager, base, 0, bad[i]), E_INVALIDARG);
        assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
        /* Before the ownership check too. */
        assert_int_equal(IHostMemoryManager_VirtualFree(manager, NULL, 0, bad[i]), E_INVALIDARG);
    }
    assert_int_equal(os_call_count(OS_VIRTUAL_FREE), 0);
    assert_int_equal(os_committed_in_reservation(base), 64 * KIB);
    release_last((IUnknown *)manager);
}

static void virtual_free_release_with_nonzero_size_returns_kernel32_error_and_frees_nothing(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    char *base, *raw;
    DWORD raw_error;
    (void)state;

    raw = VirtualAlloc(NULL, 128 * KIB, MEM_RESERVE, PAGE_READWRITE);
    assert_non_null(raw);
    SetLastError(0);
    assert_false(VirtualFree(raw, 64 * KIB, MEM_RELEASE));
    raw_error = GetLastError();
    assert_true(VirtualFree(raw, 0, MEM_RELEASE));
    assert_int_equal(raw_error, ERROR_INVALID_PARAMETER);

    base = hm_reserve(manager, 128 * KIB, MEM_RESERVE);
    SetLastError(0);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, base, 64 * KIB, MEM_RELEASE),
                     HRESULT_FROM_WIN32(raw_error));
    assert_int_equal(GetLastError(), raw_error);
    assert_int_equal(HRESULT_FROM_WIN32(raw_error), E_INVALIDARG);
    assert_pages_state(base, 128 * KIB, MEM_RESERVE);
    /* Still booked. */
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, base, 0, MEM_RELEASE), S_OK);
    assert_int_equal(os_page_state(base), MEM_FREE);
    release_last((IUnknown *)manager);
}

static void virtual_free_release_not_at_base_returns_kernel32_error_and_frees_nothing(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    char *base, *raw;
    DWORD raw_error;
    HRESULT hr;
    (void)state;

    raw = VirtualAlloc(NULL, 128 * KIB, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    assert_non_null(raw);
    SetLastError(0);
    assert_false(VirtualFree(raw + 64 * KIB, 0, MEM_RELEASE));
    raw_error = GetLastError();
    assert_int_not_equal(raw_error, 0);
    assert_int_equal(os_committed_in_reservation(raw), 128 * KIB);
    assert_true(VirtualFree(raw, 0, MEM_RELEASE));

    base = hm_reserve(manager, 128 * KIB, MEM_RESERVE | MEM_COMMIT);
    SetLastError(0);
    hr = IHostMemoryManager_VirtualFree(manager, base + 64 * KIB, 0, MEM_RELEASE);
    assert_int_equal(hr, HRESULT_FROM_WIN32(raw_error));
    assert_int_equal(GetLastError(), raw_error);
    assert_int_equal(os_committed_in_reservation(base), 128 * KIB);
    /* Still booked whole. */
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, base, 0, MEM_RELEASE), S_OK);
    assert_int_equal(os_page_state(base), MEM_FREE);
    release_last((IUnknown *)manager);
}

static void virtual_free_os_failure_returns_hresult_from_win32_and_keeps_booking(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    const DWORD types[] = { MEM_DECOMMIT, MEM_RELEASE };
    char *base;
    unsigned t;
    (void)state;

    base = hm_reserve(manager, 64 * KIB, MEM_RESERVE | MEM_COMMIT);
    for (t = 0; t < ARRAY_COUNT(types); t++) {
        fault_once(OS_VIRTUAL_FREE, 0, ERROR_ACCESS_DENIED);
        SetLastError(0);
        assert_int_equal(IHostMemoryManager_VirtualFree(manager, base, 0, types[t]), E_ACCESSDENIED);
        assert_int_equal(GetLastError(), ERROR_ACCESS_DENIED);
        fault_once(OS_VIRTUAL_FREE, 0, 0);
        assert_int_equal(IHostMemoryManager_VirtualFree(manager, base, 0, types[t]), E_UNEXPECTED);
        assert_int_equal(os_committed_in_reservation(base), 64 * KIB);
    }
    /* Nothing changed in the books: decommit, recommit and release still work. */
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, base, 0, MEM_DECOMMIT), S_OK);
    assert_int_equal(os_committed_in_reservation(base), 0);
    hm_commit(manager, base, page_size());
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, base, 0, MEM_RELEASE), S_OK);
    assert_int_equal(os_page_state(base), MEM_FREE);
    release_last((IUnknown *)manager);
}

static void commit_failure_leaves_pages_uncommitted_and_later_decommit_and_release_work(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    SIZE_T page = page_size();
    char *base, *p = (char *)1;
    (void)state;

    base = hm_reserve(manager, 256 * KIB, MEM_RESERVE);
    hm_commit(manager, base, 2 * page);
    fault_once(OS_VIRTUAL_ALLOC, 0, ERROR_INVALID_ADDRESS);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, base + page, 8 * page, MEM_COMMIT, PAGE_READWRITE,
                                                     eTaskCritical, (void **)&p), HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS));
    assert_null(p);
    assert_int_equal(os_committed_in_reservation(base), 2 * page);
    assert_pages_state(base + 2 * page, 7 * page, MEM_RESERVE);
    /* The pages that did not get committed can be committed, decommitted, released. */
    hm_commit(manager, base + 4 * page, page);
    assert_int_equal(os_committed_in_reservation(base), 3 * page);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, base + page, 8 * page, MEM_DECOMMIT), S_OK);
    assert_int_equal(os_committed_in_reservation(base), page);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, base, 0, MEM_RELEASE), S_OK);
    assert_int_equal(os_page_state(base), MEM_FREE);
    release_last((IUnknown *)manager);
}

/* --- VirtualQuery ---------------------------------------------------------------- */

static void assert_same_info(const MEMORY_BASIC_INFORMATION *a, const MEMORY_BASIC_INFORMATION *b)
{
    assert_ptr_equal(a->BaseAddress, b->BaseAddress);
    assert_ptr_equal(a->AllocationBase, b->AllocationBase);
    assert_int_equal(a->AllocationProtect, b->AllocationProtect);
    assert_int_equal(a->RegionSize, b->RegionSize);
    assert_int_equal(a->State, b->State);
    assert_int_equal(a->Protect, b->Protect);
    assert_int_equal(a->Type, b->Type);
}

static void virtual_query_passes_through_for_owned_and_foreign_memory(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    char *owned, *raw, stack_byte = 0;
    const void *addresses[6];
    unsigned i;
    (void)state;

    owned = hm_reserve(manager, 256 * KIB, MEM_RESERVE);
    hm_commit(manager, owned + 64 * KIB, page_size());
    raw = VirtualAlloc(NULL, 64 * KIB, MEM_RESERVE | MEM_COMMIT, PAGE_READONLY);
    assert_non_null(raw);
    addresses[0] = owned;
    addresses[1] = owned + 64 * KIB + 5;
    addresses[2] = (const void *)a_function_of_the_test; /* the test exe's own image */
    addresses[3] = raw;
    addresses[4] = &stack_byte;
    addresses[5] = (const void *)GetModuleHandleW(L"kernel32.dll");

    for (i = 0; i < ARRAY_COUNT(addresses); i++) {
        MEMORY_BASIC_INFORMATION mine, os;
        SIZE_T result = 12345;

        memset(&mine, 0xCC, sizeof(mine));
        assert_int_equal(IHostMemoryManager_VirtualQuery(manager, (void *)addresses[i], &mine, sizeof(mine), &result),
                         S_OK);
        assert_int_equal(result, sizeof(MEMORY_BASIC_INFORMATION));
        assert_int_equal(VirtualQuery(addresses[i], &os, sizeof(os)), sizeof(os));
        assert_same_info(&mine, &os);
    }
    assert_int_equal(os_call_count(OS_VIRTUAL_QUERY), ARRAY_COUNT(addresses));
    assert_true(VirtualFree(raw, 0, MEM_RELEASE));
    release_last((IUnknown *)manager);
}

static void virtual_query_makes_exactly_one_os_call_and_nothing_else(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    MEMORY_BASIC_INFORMATION info;
    SIZE_T result = 0;
    char *owned;
    unsigned before_total, before_query;
    (void)state;

    owned = hm_reserve(manager, 64 * KIB, MEM_RESERVE | MEM_COMMIT);
    before_total = os_total_calls();
    before_query = os_call_count(OS_VIRTUAL_QUERY);
    assert_int_equal(IHostMemoryManager_VirtualQuery(manager, owned, &info, sizeof(info), &result), S_OK);
    assert_int_equal(os_call_count(OS_VIRTUAL_QUERY) - before_query, 1);
    assert_int_equal(os_total_calls() - before_total, 1);
    /* Foreign memory, and a failing query: still exactly one call. */
    assert_int_equal(IHostMemoryManager_VirtualQuery(manager, (void *)a_function_of_the_test, &info, sizeof(info),
                                                     &result), S_OK);
    assert_int_equal(os_total_calls() - before_total, 2);
    fault_once(OS_VIRTUAL_QUERY, 0, ERROR_INVALID_PARAMETER);
    assert_int_equal(IHostMemoryManager_VirtualQuery(manager, owned, &info, sizeof(info), &result), E_INVALIDARG);
    assert_int_equal(os_total_calls() - before_total, 3);
    assert_int_equal(os_call_count(OS_VIRTUAL_QUERY) - before_query, 3);
    release_last((IUnknown *)manager);
}

static void virtual_query_null_result_returns_e_pointer(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    MEMORY_BASIC_INFORMATION info;
    (void)state;

    assert_int_equal(IHostMemoryManager_VirtualQuery(manager, (void *)a_function_of_the_test, &info, sizeof(info),
                                                     NULL), E_POINTER);
    assert_int_equal(os_call_count(OS_VIRTUAL_QUERY), 0);
    release_last((IUnknown *)manager);
}

static void virtual_query_os_failure_returns_kernel32_error_and_result_0(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    MEMORY_BASIC_INFORMATION info;
    SIZE_T result;
    DWORD raw_error;
    void *beyond;
    (void)state;

    /* A buffer too small for the answer. */
    SetLastError(0);
    assert_int_equal(VirtualQuery((void *)a_function_of_the_test, &info, sizeof(info) - 1), 0);
    raw_error = GetLastError();
    assert_int_not_equal(raw_error, 0);
    result = 12345;
    assert_int_equal(IHostMemoryManager_VirtualQuery(manager, (void *)a_function_of_the_test, &info, sizeof(info) - 1,
                                                     &result), HRESULT_FROM_WIN32(raw_error));
    assert_int_equal(result, 0);
    assert_int_equal(GetLastError(), raw_error);

    /* An address beyond user space. */
    beyond = beyond_user_space();
    SetLastError(0);
    assert_int_equal(VirtualQuery(beyond, &info, sizeof(info)), 0);
    raw_error = GetLastError();
    assert_int_not_equal(raw_error, 0);
    result = 12345;
    assert_int_equal(IHostMemoryManager_VirtualQuery(manager, beyond, &info, sizeof(info), &result),
                     HRESULT_FROM_WIN32(raw_error));
    assert_int_equal(result, 0);

    /* An injected failure, and one that leaves no error code. */
    fault_once(OS_VIRTUAL_QUERY, 0, ERROR_ACCESS_DENIED);
    result = 12345;
    assert_int_equal(IHostMemoryManager_VirtualQuery(manager, (void *)a_function_of_the_test, &info, sizeof(info),
                                                     &result), E_ACCESSDENIED);
    assert_int_equal(result, 0);
    fault_once(OS_VIRTUAL_QUERY, 0, 0);
    assert_int_equal(IHostMemoryManager_VirtualQuery(manager, (void *)a_function_of_the_test, &info, sizeof(info),
                                                     &result), E_UNEXPECTED);
    assert_int_equal(result, 0);
    release_last((IUnknown *)manager);
}

/* Holds the region lock (inside hostmem's OS VirtualAlloc of a commit) while another
   thread queries and protects the same pages: neither may wait for that lock. */
static IHostMemoryManager *held_manager;
static side_call held_query;
static BOOL held_query_finished;

static void query_and_protect(side_call *call)
{
    DWORD old;

    call->hr = IHostMemoryManager_VirtualQuery(call->manager, call->address, &call->info, sizeof(call->info),
                                               &call->result);
    if (call->hr == S_OK)
        call->hr = IHostMemoryManager_VirtualProtect(call->manager, call->address, page_size(), PAGE_READONLY, &old);
}

static LPVOID WINAPI query_while_committing(LPVOID a, SIZE_T s, DWORD t, DWORD p)
{
    if (t == MEM_COMMIT && a) {
        memset(&held_query, 0, sizeof(held_query));
        held_query.fn = query_and_protect;
        held_query.manager = held_manager;
        held_query.address = (char *)a - 64 * KIB; /* committed already */
        held_query_finished = run_on_other_thread(&held_query, 5000);
    }
    return counting.VirtualAlloc(a, s, t, p);
}

static void virtual_query_and_protect_do_not_wait_for_a_commit_in_progress(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    char *base;
    (void)state;

    held_manager = manager;
    base = hm_reserve(manager, 256 * KIB, MEM_RESERVE);
    hm_commit(manager, base, 64 * KIB);
    counting = hm_os;
    hm_os.VirtualAlloc = query_while_committing;
    held_query_finished = FALSE;
    hm_commit(manager, base + 64 * KIB, 64 * KIB);
    assert_true(held_query_finished);
    assert_int_equal(held_query.hr, S_OK);
    assert_int_equal(held_query.result, sizeof(MEMORY_BASIC_INFORMATION));
    assert_int_equal(held_query.info.State, MEM_COMMIT);
    assert_ptr_equal(held_query.info.AllocationBase, base);
    release_last((IUnknown *)manager);
}

/* --- VirtualProtect -------------------------------------------------------------- */

static void virtual_protect_changes_protection_of_owned_memory(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    MEMORY_BASIC_INFORMATION info;
    DWORD old = 0;
    char *base;
    (void)state;

    base = hm_reserve(manager, 64 * KIB, MEM_RESERVE | MEM_COMMIT);
    assert_int_equal(IHostMemoryManager_VirtualProtect(manager, base + page_size(), page_size(), PAGE_READONLY, &old),
                     S_OK);
    assert_int_equal(old, PAGE_READWRITE);
    assert_int_equal(VirtualQuery(base + page_size(), &info, sizeof(info)), sizeof(info));
    assert_int_equal(info.Protect, PAGE_READONLY);
    assert_int_equal(info.RegionSize, page_size());
    assert_int_equal(IHostMemoryManager_VirtualProtect(manager, base + page_size(), page_size(), PAGE_READWRITE, &old),
                     S_OK);
    assert_int_equal(old, PAGE_READONLY);
    release_last((IUnknown *)manager);
}

static void virtual_protect_passes_through_for_foreign_memory(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    MEMORY_BASIC_INFORMATION info;
    void *code_page = (void *)((uintptr_t)a_function_of_the_test & ~(uintptr_t)(page_size() - 1));
    DWORD old = 0, original;
    char *raw;
    (void)state;

    /* A kernel32 VirtualAlloc block. */
    raw = VirtualAlloc(NULL, 64 * KIB, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    assert_non_null(raw);
    assert_int_equal(IHostMemoryManager_VirtualProtect(manager, raw, page_size(), PAGE_READONLY, &old), S_OK);
    assert_int_equal(old, PAGE_READWRITE);
    assert_int_equal(VirtualQuery(raw, &info, sizeof(info)), sizeof(info));
    assert_int_equal(info.Protect, PAGE_READONLY);
    assert_true(VirtualFree(raw, 0, MEM_RELEASE));

    /* The test exe's own code page, as the CLR does with clr.dll's pages. */
    assert_int_equal(VirtualQuery(code_page, &info, sizeof(info)), sizeof(info));
    original = info.Protect;
    assert_int_equal(IHostMemoryManager_VirtualProtect(manager, code_page, page_size(), PAGE_EXECUTE_READWRITE, &old),
                     S_OK);
    assert_int_equal(old, original);
    assert_int_equal(VirtualQuery(code_page, &info, sizeof(info)), sizeof(info));
    assert_true(info.Protect == PAGE_EXECUTE_READWRITE || info.Protect == PAGE_EXECUTE_WRITECOPY);
    assert_int_equal(IHostMemoryManager_VirtualProtect(manager, code_page, page_size(), original, &old), S_OK);
    assert_int_equal(VirtualQuery(code_page, &info, sizeof(info)), sizeof(info));
    assert_int_equal(info.Protect, original);
    a_function_of_the_test(); /* still runs */
    assert_int_equal(os_call_count(OS_VIRTUAL_PROTECT), 3);
    release_last((IUnknown *)manager);
}

static void virtual_protect_null_old_protect_returns_e_pointer(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    char *base;
    (void)state;

    base = hm_reserve(manager, 64 * KIB, MEM_RESERVE | MEM_COMMIT);
    assert_int_equal(IHostMemoryManager_VirtualProtect(manager, base, page_size(), PAGE_READONLY, NULL), E_POINTER);
    assert_int_equal(os_call_count(OS_VIRTUAL_PROTECT), 0);
    assert_int_equal(os_page_state(base), MEM_COMMIT);
    base[0] = 1; /* still writable */
    release_last((IUnknown *)manager);
}

static void virtual_protect_os_failure_returns_kernel32_error(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    char *base, *raw;
    DWORD old, raw_error;
    (void)state;

    /* Reserved, not committed: the OS refuses. Same call on kernel32's own memory. */
    raw = VirtualAlloc(NULL, 64 * KIB, MEM_RESERVE, PAGE_READWRITE);
    assert_non_null(raw);
    SetLastError(0);
    assert_false(VirtualProtect(raw, page_size(), PAGE_READONLY, &old));
    raw_error = GetLastError();
    assert_int_not_equal(raw_error, 0);
    base = hm_reserve(manager, 64 * KIB, MEM_RESERVE);
    assert_int_equal(IHostMemoryManager_VirtualProtect(manager, base, page_size(), PAGE_READONLY, &old),
                     HRESULT_FROM_WIN32(raw_error));
    assert_int_equal(IHostMemoryManager_VirtualProtect(manager, raw, page_size(), PAGE_READONLY, &old),
                     HRESULT_FROM_WIN32(raw_error));

    /* A protection of 0 on committed memory. */
    hm_commit(manager, base, page_size());
    SetLastError(0);
    assert_true(VirtualAlloc(raw, page_size(), MEM_COMMIT, PAGE_READWRITE) == raw);
    assert_false(VirtualProtect(raw, page_size(), 0, &old));
    raw_error = GetLastError();
    assert_int_not_equal(raw_error, 0);
    assert_int_equal(IHostMemoryManager_VirtualProtect(manager, base, page_size(), 0, &old),
                     HRESULT_FROM_WIN32(raw_error));
    assert_true(VirtualFree(raw, 0, MEM_RELEASE));

    /* Injected, and with no error code. */
    fault_once(OS_VIRTUAL_PROTECT, 0, ERROR_ACCESS_DENIED);
    assert_int_equal(IHostMemoryManager_VirtualProtect(manager, base, page_size(), PAGE_READONLY, &old),
                     E_ACCESSDENIED);
    fault_once(OS_VIRTUAL_PROTECT, 0, 0);
    assert_int_equal(IHostMemoryManager_VirtualProtect(manager, base, page_size(), PAGE_READONLY, &old),
                     E_UNEXPECTED);
    base[0] = 1; /* none of those changed anything */
    release_last((IUnknown *)manager);
}

/* --- GetMemoryLoad --------------------------------------------------------------- */

static void get_memory_load_matches_global_memory_status_ex(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    MEMORYSTATUSEX before, after;
    DWORD load = 12345;
    SIZE_T available = 0;
    (void)state;

    before.dwLength = after.dwLength = sizeof(before);
    assert_true(GlobalMemoryStatusEx(&before));
    assert_int_equal(IHostMemoryManager_GetMemoryLoad(manager, &load, &available), S_OK);
    assert_true(GlobalMemoryStatusEx(&after));
    assert_int_equal(os_call_count(OS_GLOBAL_MEMORY_STATUS_EX), 1);
    assert_true(load <= 100);
    assert_true(load + 2 >= (before.dwMemoryLoad < after.dwMemoryLoad ? before.dwMemoryLoad : after.dwMemoryLoad));
    assert_true(load <= 2 + (before.dwMemoryLoad > after.dwMemoryLoad ? before.dwMemoryLoad : after.dwMemoryLoad));
    /* Available physical memory moves a little between the calls: within 64 MiB. A
       32-bit SIZE_T holds no more than 4 GiB less a byte: more is answered as SIZE_MAX. */
    {
        ULONGLONG lo = before.ullAvailPhys < after.ullAvailPhys ? before.ullAvailPhys : after.ullAvailPhys;
        ULONGLONG hi = before.ullAvailPhys > after.ullAvailPhys ? before.ullAvailPhys : after.ullAvailPhys;
        if (lo > (ULONGLONG)SIZE_MAX)
            lo = SIZE_MAX;
        if (hi > (ULONGLONG)SIZE_MAX)
            hi = SIZE_MAX;
        assert_true(available > 0);
        assert_true((ULONGLONG)available + 64 * MIB >= lo);
        assert_true((ULONGLONG)available <= hi + 64 * MIB);
    }
    release_last((IUnknown *)manager);
}

static void get_memory_load_null_pointers_return_e_pointer(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    DWORD load;
    SIZE_T available;
    (void)state;

    assert_int_equal(IHostMemoryManager_GetMemoryLoad(manager, NULL, &available), E_POINTER);
    assert_int_equal(IHostMemoryManager_GetMemoryLoad(manager, &load, NULL), E_POINTER);
    assert_int_equal(IHostMemoryManager_GetMemoryLoad(manager, NULL, NULL), E_POINTER);
    release_last((IUnknown *)manager);
}

static void get_memory_load_os_failure_returns_hresult_and_zero_outputs(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    DWORD load = 77;
    SIZE_T available = 77;
    (void)state;

    fault_once(OS_GLOBAL_MEMORY_STATUS_EX, 0, ERROR_ACCESS_DENIED);
    assert_int_equal(IHostMemoryManager_GetMemoryLoad(manager, &load, &available), E_ACCESSDENIED);
    assert_int_equal(load, 0);
    assert_int_equal(available, 0);
    load = 77;
    available = 77;
    fault_once(OS_GLOBAL_MEMORY_STATUS_EX, 0, 0);
    assert_int_equal(IHostMemoryManager_GetMemoryLoad(manager, &load, &available), E_UNEXPECTED);
    assert_int_equal(load, 0);
    assert_int_equal(available, 0);
    /* A failure that looks like "no memory" is not turned into the policy here. */
    fault_once(OS_GLOBAL_MEMORY_STATUS_EX, 0, ERROR_NOT_ENOUGH_MEMORY);
    assert_int_equal(IHostMemoryManager_GetMemoryLoad(manager, &load, &available),
                     HRESULT_FROM_WIN32(ERROR_NOT_ENOUGH_MEMORY));
    assert_int_equal(IHostMemoryManager_GetMemoryLoad(manager, &load, &available), S_OK);
    assert_true(available > 0);
    release_last((IUnknown *)manager);
}

/* --- RegisterMemoryNotificationCallback ------------------------------------------ */

static void register_callback_keeps_one_reference(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    test_callback cb;
    (void)state;

    callback_init(&cb);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &cb.iface), S_OK);
    assert_int_equal(cb.ref, 1);
    assert_true(cb.addrefs >= 1);
    release_last((IUnknown *)manager);
    /* The manager's last Release lets go of it. */
    assert_int_equal(cb.ref, 0);
    assert_int_equal(cb.addrefs, cb.releases);
}

static void register_a_second_callback_keeps_both(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    test_callback first, second;
    (void)state;

    /* Two runtimes on one control register one callback each: both stay. */
    callback_init(&first);
    callback_init(&second);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &first.iface), S_OK);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &second.iface), S_OK);
    assert_int_equal(first.ref, 1);
    assert_int_equal(second.ref, 1);
    release_last((IUnknown *)manager);
    assert_int_equal(first.ref, 0);
    assert_int_equal(first.releases, first.addrefs); /* released exactly as often as taken */
    assert_int_equal(second.ref, 0);
    assert_int_equal(second.releases, second.addrefs);
}

static void register_same_callback_twice_keeps_one_reference(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    test_callback cb;
    (void)state;

    callback_init(&cb);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &cb.iface), S_OK);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &cb.iface), S_OK);
    assert_int_equal(cb.ref, 1);
    release_last((IUnknown *)manager);
    assert_int_equal(cb.ref, 0);
}

static void register_null_callback_releases_the_registered_one(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    test_callback cb;
    (void)state;

    callback_init(&cb);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, NULL), S_OK); /* none yet */
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &cb.iface), S_OK);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, NULL), S_OK);
    assert_int_equal(cb.ref, 0);
    assert_int_equal(cb.releases, cb.addrefs);
    {
        LONG releases = cb.releases;
        assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, NULL), S_OK);
        release_last((IUnknown *)manager);
        assert_int_equal(cb.releases, releases);
    }
}

/* --- Needs/Acquired/ReleasedVirtualAddressSpace ----------------------------------- */

static void address_space_notifications_are_accepted_and_never_make_views_hostmems(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    char *view;
    (void)state;

    view = VirtualAlloc(NULL, 64 * KIB, MEM_RESERVE, PAGE_READWRITE);
    assert_non_null(view);
    assert_int_equal(IHostMemoryManager_NeedsVirtualAddressSpace(manager, NULL, 0), S_OK);
    assert_int_equal(IHostMemoryManager_NeedsVirtualAddressSpace(manager, view, 64 * KIB), S_OK);
    assert_int_equal(IHostMemoryManager_AcquiredVirtualAddressSpace(manager, view, 64 * KIB), S_OK);
    assert_int_equal(IHostMemoryManager_ReleasedVirtualAddressSpace(manager, view), S_OK);
    /* A base never reported is no view hostmem could have booked. */
    assert_int_equal(IHostMemoryManager_ReleasedVirtualAddressSpace(manager, NULL), HOST_E_INVALIDOPERATION);
    /* Reporting a view does not make it hostmem's to free. */
    assert_int_equal(IHostMemoryManager_AcquiredVirtualAddressSpace(manager, view, 64 * KIB), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, view, 0, MEM_RELEASE), HOST_E_INVALIDOPERATION);
    assert_int_equal(IHostMemoryManager_ReleasedVirtualAddressSpace(manager, view), S_OK);
    assert_int_equal(os_page_state(view), MEM_RESERVE);
    assert_true(VirtualFree(view, 0, MEM_RELEASE));
    release_last((IUnknown *)manager);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fault_setup, fault_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(create_manager_with_null_config_returns_one_reference),
        T(create_manager_null_out_returns_e_pointer),
        T(create_manager_bad_cbsize_returns_e_invalidarg_and_null),
        T(create_manager_failure_action_above_2_returns_e_invalidarg),
        T(create_manager_heap_create_failure_returns_e_outofmemory),
        T(create_manager_heap_alloc_failure_returns_e_outofmemory_and_leaks_no_heap),
        T(query_interface_iunknown_and_own_iid_return_same_pointer_and_add_ref),
        T(query_interface_other_iid_returns_e_nointerface_and_null),
        T(query_interface_null_ppv_returns_e_pointer),
        T(query_interface_null_riid_returns_e_invalidarg_and_null),
        T(add_ref_and_release_return_the_new_count),
        T(last_release_frees_leftover_reservations),
        T(last_release_does_not_free_released_regions_again),
        T(create_malloc_keeps_the_manager_and_its_reservations_alive),
        T(virtual_alloc_null_out_pointer_returns_e_pointer),
        T(virtual_alloc_level_outside_0_to_2_returns_e_invalidarg_and_asks_nothing),
        T(virtual_alloc_new_reservation_of_size_0_returns_e_invalidarg_without_os_call),
        T(virtual_alloc_new_reservation_larger_than_user_space_returns_e_invalidarg_without_os_call),
        T(virtual_alloc_reserve_reserves_without_committing),
        T(virtual_alloc_reserve_commit_commits_whole_rounded_size),
        T(virtual_alloc_commit_at_null_reserves_and_commits_a_new_region),
        T(virtual_alloc_reserve_at_free_address_returns_that_address),
        T(virtual_alloc_reserve_at_unaligned_address_books_the_rounded_region),
        T(virtual_alloc_commit_inside_reservation_commits_only_those_pages),
        T(virtual_alloc_commit_inside_large_reservation_beyond_64_pages),
        T(virtual_alloc_commit_past_reservation_end_fails_like_kernel32_and_commits_nothing),
        T(virtual_alloc_commit_in_kernel32_reservation_passes_through_unbooked),
        T(virtual_alloc_commit_at_unreserved_address_returns_kernel32_error),
        T(virtual_alloc_reserve_over_existing_reservation_returns_kernel32_error),
        T(virtual_alloc_reset_passes_through_and_keeps_pages_committed),
        T(virtual_alloc_type_without_reserve_or_commit_returns_kernel32_error),
        T(virtual_alloc_bad_protection_returns_kernel32_error_and_books_nothing),
        T(virtual_alloc_reserve_beyond_user_space_returns_kernel32_error),
        T(virtual_alloc_real_oom_task_critical_returns_e_outofmemory),
        T(virtual_alloc_real_oom_appdomain_critical_returns_e_outofmemory),
        T(virtual_alloc_real_oom_process_critical_returns_e_fail_and_escalates_once),
        T(virtual_alloc_injected_oom_errors_follow_default_policy_per_level),
        T(virtual_alloc_failure_action_overrides_apply_per_level),
        T(virtual_alloc_failure_action_beyond_cbsize_counts_as_default),
        T(virtual_alloc_escalation_without_callback_returns_e_fail),
        T(escalation_callback_runs_outside_every_lock),
        T(virtual_alloc_non_oom_os_error_returns_hresult_from_win32_without_escalation),
        T(virtual_alloc_os_failure_with_last_error_0_returns_e_unexpected),
        T(virtual_alloc_bookkeeping_heap_failure_returns_policy_and_reserves_nothing),
        T(virtual_alloc_failed_undo_of_reservation_leaves_nothing_booked),
        T(virtual_alloc_failed_publish_releases_the_os_reservation),
        T(virtual_free_decommit_range_decommits_those_pages_only),
        T(virtual_free_decommit_size_0_at_base_decommits_whole_reservation),
        T(virtual_free_decommit_size_0_not_at_base_returns_e_invalidarg_and_frees_nothing),
        T(virtual_free_release_frees_the_reservation),
        T(virtual_free_after_release_returns_host_e_invalidoperation),
        T(virtual_free_foreign_address_returns_host_e_invalidoperation_and_frees_nothing),
        T(virtual_free_range_past_reservation_end_returns_host_e_invalidoperation_and_frees_nothing),
        T(virtual_free_bad_free_type_returns_e_invalidarg_without_os_call),
        T(virtual_free_release_with_nonzero_size_returns_kernel32_error_and_frees_nothing),
        T(virtual_free_release_not_at_base_returns_kernel32_error_and_frees_nothing),
        T(virtual_free_os_failure_returns_hresult_from_win32_and_keeps_booking),
        T(commit_failure_leaves_pages_uncommitted_and_later_decommit_and_release_work),
        T(virtual_query_passes_through_for_owned_and_foreign_memory),
        T(virtual_query_makes_exactly_one_os_call_and_nothing_else),
        T(virtual_query_null_result_returns_e_pointer),
        T(virtual_query_os_failure_returns_kernel32_error_and_result_0),
        T(virtual_query_and_protect_do_not_wait_for_a_commit_in_progress),
        T(virtual_protect_changes_protection_of_owned_memory),
        T(virtual_protect_passes_through_for_foreign_memory),
        T(virtual_protect_null_old_protect_returns_e_pointer),
        T(virtual_protect_os_failure_returns_kernel32_error),
        T(get_memory_load_matches_global_memory_status_ex),
        T(get_memory_load_null_pointers_return_e_pointer),
        T(get_memory_load_os_failure_returns_hresult_and_zero_outputs),
        T(register_callback_keeps_one_reference),
        T(register_a_second_callback_keeps_both),
        T(register_same_callback_twice_keeps_one_reference),
        T(register_null_callback_releases_the_registered_one),
        T(address_space_notifications_are_accepted_and_never_make_views_hostmems),
    };

    return cmocka_run_group_tests_name("memory_manager", tests, NULL, NULL);
}
