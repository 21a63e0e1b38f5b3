/*
 * The commit limit and its books: page-exact accounting, refusal before the OS is
 * asked, per-level headroom, the wait-and-retry before a critical request fails,
 * low-memory notifications with hysteresis, the address-space limit, the environment
 * override and HostMemGetStats. The memory load under a limit is test_memory_load's.
 */
#include "fake_clock.h"
#include "manager_calls.h"

#include <string.h>

#define PAGE 4096u
#define MiB  ((SIZE_T)1 << 20)

/* --- helpers --- */

/* A CLR-like notification callback: records what it was told and on which thread,
   and on Low can give memory back (as the CLR's GC would). */
struct recorder {
    ICLRMemoryNotificationCallback iface;
    LONG refs;
    volatile LONG count;
    int states[64];
    DWORD threads[64];
    IHostMemoryManager *manager; /* on Low: decommit free_on_low */
    void *free_on_low;
    SIZE_T free_on_low_size;
    BOOL call_back_in;           /* on each notification: GetMemoryLoad on the manager */
};

static struct recorder *recorder_of(ICLRMemoryNotificationCallback *iface)
{
    return CONTAINING_RECORD(iface, struct recorder, iface);
}
static HRESULT WINAPI recorder_QueryInterface(ICLRMemoryNotificationCallback *iface, REFIID riid, void **ppv)
{
    (void)riid;
    *ppv = iface;
    return S_OK;
}
static ULONG WINAPI recorder_AddRef(ICLRMemoryNotificationCallback *iface)
{
    return (ULONG)InterlockedIncrement(&recorder_of(iface)->refs);
}
static ULONG WINAPI recorder_Release(ICLRMemoryNotificationCallback *iface)
{
    return (ULONG)InterlockedDecrement(&recorder_of(iface)->refs);
}
static HRESULT WINAPI recorder_OnMemoryNotification(ICLRMemoryNotificationCallback *iface, EMemoryAvailable state)
{
    struct recorder *r = recorder_of(iface);
    LONG i = r->count;

    if (i < 64) {
        r->states[i] = (int)state;
        r->threads[i] = GetCurrentThreadId();
    }
    if (state == eMemoryAvailableLow && r->free_on_low) {
        IHostMemoryManager_VirtualFree(r->manager, r->free_on_low, r->free_on_low_size, MEM_DECOMMIT);
        r->free_on_low = NULL;
    }
    if (r->call_back_in) {
        DWORD load;
        SIZE_T available;
        IHostMemoryManager_GetMemoryLoad(r->manager, &load, &available);
    }
    InterlockedIncrement(&r->count);
    return S_OK;
}
static ICLRMemoryNotificationCallbackVtbl recorder_vtbl = {
    recorder_QueryInterface, recorder_AddRef, recorder_Release, recorder_OnMemoryNotification,
};

static void recorder_init(struct recorder *r, IHostMemoryManager *manager)
{
    memset(r, 0, sizeof(*r));
    r->iface.lpVtbl = &recorder_vtbl;
    r->refs = 1;
    r->manager = manager;
}

/* Waits (at most 5 s) until the recorder has seen `count` notifications. */
static void wait_for_notifications(struct recorder *r, LONG count)
{
    int i;

    for (i = 0; i < 5000 && r->count < count; i++)
        Sleep(1);
    assert_int_equal(r->count, count);
}

/* A quiet moment for notifications that should NOT come. */
static void settle(void)
{
    Sleep(50);
}

/* --- the books --- */

static void committed_bytes_follow_commit_decommit_and_release_to_the_page(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    char *base = vm_reserve(manager, 64 * PAGE);
    HOSTMEM_STATS stats;
    (void)state;

    assert_int_equal(stats_of(manager).committedBytes, 0);
    assert_int_equal(stats_of(manager).reservedBytes, 64 * PAGE);
    assert_int_equal(vm_commit(manager, base + 1, 2 * PAGE, eTaskCritical), S_OK); /* touches 3 pages */
    assert_int_equal(stats_of(manager).committedBytes, 3 * PAGE);
    assert_int_equal(vm_commit(manager, base, 4 * PAGE, eTaskCritical), S_OK);     /* 1 new page */
    assert_int_equal(stats_of(manager).committedBytes, 4 * PAGE);
    vm_decommit(manager, base + 8 * PAGE, 4 * PAGE);                                /* none committed */
    assert_int_equal(stats_of(manager).committedBytes, 4 * PAGE);
    vm_decommit(manager, base + PAGE, PAGE);
    assert_int_equal(stats_of(manager).committedBytes, 3 * PAGE);
    assert_int_equal(stats_of(manager).committedBytes, os_committed_in_reservation(base));
    vm_release(manager, base);
    stats = stats_of(manager);
    assert_int_equal(stats.committedBytes, 0);
    assert_int_equal(stats.reservedBytes, 0);
    assert_int_equal(stats.peakCommittedBytes, 4 * PAGE);
    release_last((IUnknown *)manager);
}

static void reserve_and_commit_at_once_is_booked_as_committed(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    void *p = NULL;
    (void)state;

    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 10 * PAGE + 1, MEM_RESERVE | MEM_COMMIT,
                                                     PAGE_READWRITE, eTaskCritical, &p), S_OK);
    assert_int_equal(stats_of(manager).committedBytes, 11 * PAGE);
    assert_int_equal(os_committed_in_reservation(p), 11 * PAGE);
    vm_decommit(manager, p, 0); /* size 0 at the base: all of it */
    assert_int_equal(stats_of(manager).committedBytes, 0);
    assert_int_equal(os_committed_in_reservation(p), 0);
    vm_release(manager, p);
    release_last((IUnknown *)manager);
}

static void malloc_bytes_count_live_blocks(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = NULL;
    void *a = NULL, *b = NULL;
    (void)state;

    assert_int_equal(IHostMemoryManager_CreateMalloc(manager, MALLOC_THREADSAFE, &malloc), S_OK);
    assert_int_equal(IHostMalloc_Alloc(malloc, 100, eTaskCritical, &a), S_OK);
    assert_int_equal(IHostMalloc_DebugAlloc(malloc, 28, eTaskCritical, (char *)"x.c", 1, &b), S_OK);
    assert_int_equal(stats_of(manager).mallocBytes, 128);
    assert_int_equal(IHostMalloc_Free(malloc, a), S_OK);
    assert_int_equal(stats_of(manager).mallocBytes, 28);
    assert_int_equal(IHostMalloc_Free(malloc, (void *)0x10), HOST_E_INVALIDOPERATION);
    assert_int_equal(stats_of(manager).mallocBytes, 28);
    /* The heap goes with the malloc, and its blocks off the books. */
    IHostMalloc_Release(malloc);
    assert_int_equal(stats_of(manager).mallocBytes, 0);
    release_last((IUnknown *)manager);
}

/* --- the limit --- */

static void request_past_the_limit_is_refused_before_the_os_is_asked(void **state)
{
    HOSTMEM_CONFIG config = limit_config(16 * PAGE);
    IHostMemoryManager *manager = new_manager(&config);
    char *base = vm_reserve(manager, 64 * PAGE);
    unsigned calls;
    HOSTMEM_STATS stats;
    (void)state;

    assert_int_equal(vm_commit(manager, base, 16 * PAGE, eTaskCritical), S_OK);
    calls = os_call_count(OS_VIRTUAL_ALLOC);
    SetLastError(0);
    assert_int_equal(vm_commit(manager, base + 16 * PAGE, PAGE, eTaskCritical), E_OUTOFMEMORY);
    assert_int_equal(GetLastError(), ERROR_NOT_ENOUGH_MEMORY);
    assert_int_equal(os_call_count(OS_VIRTUAL_ALLOC), calls);
    assert_int_equal(os_page_state(base + 16 * PAGE), MEM_RESERVE);
    /* Pages already committed cost nothing, so recommitting them is no request past it. */
    assert_int_equal(vm_commit(manager, base, 16 * PAGE, eTaskCritical), S_OK);
    stats = stats_of(manager);
    assert_int_equal(stats.committedBytes, 16 * PAGE);
    assert_int_equal(stats.failures[eTaskCritical], 1);
    assert_int_equal(stats.escalations, 0);
    vm_release(manager, base);
    release_last((IUnknown *)manager);
}

static void refused_reservation_reserves_nothing(void **state)
{
    HOSTMEM_CONFIG config = limit_config(16 * PAGE);
    IHostMemoryManager *manager = new_manager(&config);
    void *p = (void *)1;
    unsigned calls = os_call_count(OS_VIRTUAL_ALLOC);
    (void)state;

    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 17 * PAGE, MEM_RESERVE | MEM_COMMIT,
                                                     PAGE_READWRITE, eTaskCritical, &p), E_OUTOFMEMORY);
    assert_null(p);
    assert_int_equal(os_call_count(OS_VIRTUAL_ALLOC), calls);
    assert_int_equal(stats_of(manager).reservedBytes, 0);
    assert_int_equal(stats_of(manager).committedBytes, 0);
    release_last((IUnknown *)manager);
}

static void critical_levels_may_use_their_headroom(void **state)
{
    HOSTMEM_CONFIG config = limit_config(100 * PAGE);
    IHostMemoryManager *manager;
    char *base;
    HOSTMEM_STATS stats;
    (void)state;

    config.appDomainHeadroom = 10 * PAGE;
    config.processHeadroom = 20 * PAGE;
    config.retryTimeoutMs = HOSTMEM_RETRY_NONE;
    manager = new_manager(&config);
    base = vm_reserve(manager, 256 * PAGE);

    assert_int_equal(vm_commit(manager, base, 100 * PAGE, eTaskCritical), S_OK);
    assert_int_equal(vm_commit(manager, base + 100 * PAGE, PAGE, eTaskCritical), E_OUTOFMEMORY);
    assert_int_equal(vm_commit(manager, base + 100 * PAGE, 10 * PAGE, eAppDomainCritical), S_OK);
    assert_int_equal(vm_commit(manager, base + 110 * PAGE, PAGE, eAppDomainCritical), E_OUTOFMEMORY);
    assert_int_equal(vm_commit(manager, base + 110 * PAGE, 10 * PAGE, eProcessCritical), S_OK);
    assert_int_equal(vm_commit(manager, base + 120 * PAGE, PAGE, eProcessCritical), E_FAIL);
    stats = stats_of(manager);
    assert_int_equal(stats.committedBytes, 120 * PAGE);
    assert_int_equal(stats.failures[eTaskCritical], 1);
    assert_int_equal(stats.failures[eAppDomainCritical], 1);
    assert_int_equal(stats.failures[eProcessCritical], 1);
    assert_int_equal(stats.escalations, 1);
    vm_release(manager, base);
    release_last((IUnknown *)manager);
}

static void default_headroom_is_five_and_ten_percent_of_the_limit(void **state)
{
    HOSTMEM_CONFIG config = limit_config(200 * PAGE);
    IHostMemoryManager *manager;
    char *base;
    (void)state;

    config.retryTimeoutMs = HOSTMEM_RETRY_NONE;
    manager = new_manager(&config);
    base = vm_reserve(manager, 256 * PAGE);
    assert_int_equal(vm_commit(manager, base, 200 * PAGE, eTaskCritical), S_OK);
    assert_int_equal(vm_commit(manager, base + 200 * PAGE, 10 * PAGE, eAppDomainCritical), S_OK);
    assert_int_equal(vm_commit(manager, base + 210 * PAGE, PAGE, eAppDomainCritical), E_OUTOFMEMORY);
    assert_int_equal(vm_commit(manager, base + 210 * PAGE, 10 * PAGE, eProcessCritical), S_OK);
    assert_int_equal(vm_commit(manager, base + 220 * PAGE, PAGE, eProcessCritical), E_FAIL);
    vm_release(manager, base);
    release_last((IUnknown *)manager);
}

static void headroom_none_holds_every_level_to_the_limit(void **state)
{
    HOSTMEM_CONFIG config = limit_config(8 * PAGE);
    IHostMemoryManager *manager;
    char *base;
    (void)state;

    config.appDomainHeadroom = HOSTMEM_HEADROOM_NONE;
    config.processHeadroom = HOSTMEM_HEADROOM_NONE;
    config.retryTimeoutMs = HOSTMEM_RETRY_NONE;
    manager = new_manager(&config);
    base = vm_reserve(manager, 16 * PAGE);
    assert_int_equal(vm_commit(manager, base, 8 * PAGE, eTaskCritical), S_OK);
    assert_int_equal(vm_commit(manager, base + 8 * PAGE, PAGE, eAppDomainCritical), E_OUTOFMEMORY);
    assert_int_equal(vm_commit(manager, base + 8 * PAGE, PAGE, eProcessCritical), E_FAIL);
    vm_release(manager, base);
    release_last((IUnknown *)manager);
}

static int escalations_seen;
static void WINAPI count_escalation(void *context, const HOSTMEM_ESCALATION *info)
{
    (void)context;
    (void)info;
    escalations_seen++;
}

static void escalation_callback_fires_for_every_e_fail(void **state)
{
    HOSTMEM_CONFIG config = limit_config(4 * PAGE);
    IHostMemoryManager *manager;
    char *base;
    int i;
    (void)state;

    config.processHeadroom = HOSTMEM_HEADROOM_NONE;
    config.retryTimeoutMs = HOSTMEM_RETRY_NONE;
    config.escalationCallback = count_escalation;
    escalations_seen = 0;
    manager = new_manager(&config);
    base = vm_reserve(manager, 16 * PAGE);
    assert_int_equal(vm_commit(manager, base, 4 * PAGE, eTaskCritical), S_OK);
    for (i = 0; i < 3; i++)
        assert_int_equal(vm_commit(manager, base + 4 * PAGE, PAGE, eProcessCritical), E_FAIL);
    assert_int_equal(vm_commit(manager, base + 4 * PAGE, PAGE, eTaskCritical), E_OUTOFMEMORY);
    assert_int_equal(escalations_seen, 3);
    assert_int_equal(stats_of(manager).escalations, 3);
    vm_release(manager, base);
    release_last((IUnknown *)manager);
}

/* --- wait and retry --- */

static void task_level_fails_at_once_without_raising_low(void **state)
{
    HOSTMEM_CONFIG config = limit_config(4 * PAGE);
    IHostMemoryManager *manager;
    struct recorder r;
    char *base;
    unsigned sleeps;
    (void)state;

    manager = new_manager(&config);
    recorder_init(&r, manager);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &r.iface), S_OK);
    base = vm_reserve(manager, 16 * PAGE);
    assert_int_equal(vm_commit(manager, base, 2 * PAGE, eTaskCritical), S_OK);
    sleeps = os_call_count(OS_SLEEP);
    assert_int_equal(vm_commit(manager, base + 2 * PAGE, 3 * PAGE, eTaskCritical), E_OUTOFMEMORY);
    assert_int_equal(os_call_count(OS_SLEEP), sleeps);
    settle();
    assert_int_equal(r.count, 0);
    vm_release(manager, base);
    release_last((IUnknown *)manager);
}

static void callback_that_frees_on_low_lets_the_retried_request_succeed(void **state)
{
    HOSTMEM_CONFIG config = limit_config(32 * PAGE);
    IHostMemoryManager *manager;
    struct recorder r;
    char *base;
    int i;
    (void)state;

    config.processHeadroom = HOSTMEM_HEADROOM_NONE;
    config.retryTimeoutMs = 5000; /* the callback frees long before */
    manager = new_manager(&config);
    recorder_init(&r, manager);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &r.iface), S_OK);
    base = vm_reserve(manager, 64 * PAGE);
    /* 81% of the limit: Neutral, below the high-water mark, so no Low yet. */
    assert_int_equal(vm_commit(manager, base, 26 * PAGE, eTaskCritical), S_OK);
    wait_for_notifications(&r, 1);
    assert_int_equal(r.states[0], eMemoryAvailableNeutral);
    r.free_on_low = base;
    r.free_on_low_size = 16 * PAGE;
    assert_int_equal(vm_commit(manager, base + 32 * PAGE, 16 * PAGE, eProcessCritical), S_OK);
    /* The retry may go ahead while the callback is still finishing its bookkeeping. */
    for (i = 0; i < 5000 && r.count < 2; i++)
        Sleep(1);
    assert_true(r.count >= 2);
    assert_int_equal(r.states[1], eMemoryAvailableLow);
    assert_int_equal(stats_of(manager).committedBytes, 26 * PAGE);
    assert_int_equal(stats_of(manager).failures[eProcessCritical], 0);
    vm_release(manager, base);
    release_last((IUnknown *)manager);
}

static void retry_waits_at_most_the_configured_time_then_applies_the_policy(void **state)
{
    HOSTMEM_CONFIG config = limit_config(8 * PAGE);
    IHostMemoryManager *manager;
    char *base;
    unsigned sleeps;
    (void)state;

    config.appDomainHeadroom = HOSTMEM_HEADROOM_NONE;
    config.retryTimeoutMs = 40;
    manager = new_manager(&config);
    base = vm_reserve(manager, 16 * PAGE);
    assert_int_equal(vm_commit(manager, base, 8 * PAGE, eTaskCritical), S_OK);
    fake_clock_start(1000);
    sleeps = os_call_count(OS_SLEEP);
    assert_int_equal(vm_commit(manager, base + 8 * PAGE, PAGE, eAppDomainCritical), E_OUTOFMEMORY);
    assert_true(fake_clock_now() >= 1040);
    assert_true(fake_clock_now() <= 1041);
    (void)sleeps;
    assert_int_equal(stats_of(manager).failures[eAppDomainCritical], 1);
    vm_release(manager, base);
    release_last((IUnknown *)manager);
}

static void request_larger_than_limit_plus_headroom_is_not_waited_for(void **state)
{
    HOSTMEM_CONFIG config = limit_config(8 * PAGE);
    IHostMemoryManager *manager;
    void *p = NULL;
    (void)state;

    config.retryTimeoutMs = 60000;
    manager = new_manager(&config);
    fake_clock_start(0);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 64 * PAGE, MEM_RESERVE | MEM_COMMIT,
                                                     PAGE_READWRITE, eProcessCritical, &p), E_FAIL);
    assert_int_equal(fake_clock_now(), 0);
    release_last((IUnknown *)manager);
}

static void malloc_at_a_critical_level_is_retried_once(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = NULL;
    void *p = NULL;
    (void)state;

    assert_int_equal(IHostMemoryManager_CreateMalloc(manager, MALLOC_THREADSAFE, &malloc), S_OK);
    fake_clock_start(0);
    fault_once(OS_HEAP_ALLOC, 0, 0);
    assert_int_equal(IHostMalloc_Alloc(malloc, 64, eAppDomainCritical, &p), S_OK);
    assert_non_null(p);
    assert_int_equal(IHostMalloc_Free(malloc, p), S_OK);
    /* Another size class: the 64-byte class keeps its empty slab, so a second 64-byte
       block would need no memory at all. */
    fault_once(OS_HEAP_ALLOC, 0, 0);
    assert_int_equal(IHostMalloc_Alloc(malloc, 640, eTaskCritical, &p), E_OUTOFMEMORY);
    IHostMalloc_Release(malloc);
    release_last((IUnknown *)manager);
}

/* --- notifications --- */

static void crossing_the_water_marks_notifies_low_neutral_high_in_order(void **state)
{
    HOSTMEM_CONFIG config = limit_config(100 * PAGE);
    IHostMemoryManager *manager = new_manager(&config);
    struct recorder r;
    char *base = vm_reserve(manager, 128 * PAGE);
    HOSTMEM_STATS stats;
    (void)state;

    recorder_init(&r, manager);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &r.iface), S_OK);
    assert_int_equal(vm_commit(manager, base, 59 * PAGE, eTaskCritical), S_OK);
    settle();
    assert_int_equal(r.count, 0);                     /* 59%: still High */
    assert_int_equal(vm_commit(manager, base + 59 * PAGE, 30 * PAGE, eTaskCritical), S_OK);
    wait_for_notifications(&r, 1);                    /* 89%: between the marks */
    assert_int_equal(r.states[0], eMemoryAvailableNeutral);
    assert_int_equal(vm_commit(manager, base + 89 * PAGE, PAGE, eTaskCritical), S_OK);
    wait_for_notifications(&r, 2);                    /* 90%: Low */
    assert_int_equal(r.states[1], eMemoryAvailableLow);
    assert_int_not_equal(r.threads[1], GetCurrentThreadId());
    vm_decommit(manager, base + 70 * PAGE, 20 * PAGE);   /* 70%: between the marks */
    wait_for_notifications(&r, 3);
    assert_int_equal(r.states[2], eMemoryAvailableNeutral);
    vm_decommit(manager, base + 50 * PAGE, 20 * PAGE);   /* 50%: below the low mark */
    wait_for_notifications(&r, 4);
    assert_int_equal(r.states[3], eMemoryAvailableHigh);
    settle();
    assert_int_equal(r.count, 4);
    stats = stats_of(manager);
    assert_int_equal(stats.notifications[0], 1);
    assert_int_equal(stats.notifications[1], 2);
    assert_int_equal(stats.notifications[2], 1);
    vm_release(manager, base);
    IHostMemoryManager_RegisterMemoryNotificationCallback(manager, NULL);
    release_last((IUnknown *)manager);
    assert_int_equal(r.refs, 1);
}

static void hovering_at_a_mark_notifies_once(void **state)
{
    HOSTMEM_CONFIG config = limit_config(100 * PAGE);
    IHostMemoryManager *manager = new_manager(&config);
    struct recorder r;
    char *base = vm_reserve(manager, 128 * PAGE);
    LONG after_low;
    int i;
    (void)state;

    recorder_init(&r, manager);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &r.iface), S_OK);
    assert_int_equal(vm_commit(manager, base, 89 * PAGE, eTaskCritical), S_OK);
    for (i = 0; i < 50; i++) {                        /* 89% <-> 90% */
        assert_int_equal(vm_commit(manager, base + 89 * PAGE, PAGE, eTaskCritical), S_OK);
        vm_decommit(manager, base + 89 * PAGE, PAGE);
    }
    /* Level-triggered: the Neutral on the way up is told only if the notifier got to
       it before the Low; then one Low, however often the books crossed the mark. */
    for (i = 0; i < 5000 && (!r.count || r.states[r.count - 1] != eMemoryAvailableLow); i++)
        Sleep(1);
    settle();
    assert_true(r.count == 1 || r.count == 2);
    assert_int_equal(r.states[r.count - 1], eMemoryAvailableLow);
    if (r.count == 2)
        assert_int_equal(r.states[0], eMemoryAvailableNeutral);
    after_low = r.count;
    for (i = 0; i < 50; i++) {                        /* 59% <-> 61%, after leaving Low */
        if (i == 0)
            vm_decommit(manager, base + 61 * PAGE, 28 * PAGE);
        vm_decommit(manager, base + 59 * PAGE, 2 * PAGE);
        assert_int_equal(vm_commit(manager, base + 59 * PAGE, 2 * PAGE, eTaskCritical), S_OK);
    }
    /* Neutral (if the notifier saw it) and one High. */
    for (i = 0; i < 5000 && r.states[r.count - 1] != eMemoryAvailableHigh; i++)
        Sleep(1);
    settle();
    assert_true(r.count == after_low + 1 || r.count == after_low + 2);
    if (r.count == after_low + 2)
        assert_int_equal(r.states[after_low], eMemoryAvailableNeutral);
    assert_int_equal(r.states[r.count - 1], eMemoryAvailableHigh);
    vm_release(manager, base);
    IHostMemoryManager_RegisterMemoryNotificationCallback(manager, NULL);
    release_last((IUnknown *)manager);
}

static void callback_may_call_back_into_hostmem(void **state)
{
    HOSTMEM_CONFIG config = limit_config(10 * PAGE);
    IHostMemoryManager *manager = new_manager(&config);
    struct recorder r;
    char *base = vm_reserve(manager, 16 * PAGE);
    (void)state;

    recorder_init(&r, manager);
    r.call_back_in = TRUE;
    r.free_on_low = base;
    r.free_on_low_size = 5 * PAGE;
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &r.iface), S_OK);
    assert_int_equal(vm_commit(manager, base, 9 * PAGE, eTaskCritical), S_OK);
    /* Low at 90%; its VirtualFree from inside the callback moved the books to 4 pages,
       40%: High. */
    wait_for_notifications(&r, 2);
    assert_int_equal(r.states[0], eMemoryAvailableLow);
    assert_int_equal(r.states[1], eMemoryAvailableHigh);
    assert_int_equal(stats_of(manager).committedBytes, 4 * PAGE);
    vm_release(manager, base);
    IHostMemoryManager_RegisterMemoryNotificationCallback(manager, NULL);
    release_last((IUnknown *)manager);
}

/* Without a limit: the OS's own low/high memory signals, faked through the OS table. */
#define FAKE_LOW  ((HANDLE)(ULONG_PTR)0x4C0)
#define FAKE_HIGH ((HANDLE)(ULONG_PTR)0x4C4)
static volatile BOOL os_low_now, os_high_now;
static BOOL (WINAPI *real_close_handle)(HANDLE);

static HANDLE WINAPI fake_create_notification(MEMORY_RESOURCE_NOTIFICATION_TYPE type)
{
    return type == LowMemoryResourceNotification ? FAKE_LOW : FAKE_HIGH;
}
static BOOL WINAPI fake_query_notification(HANDLE handle, PBOOL state)
{
    *state = handle == FAKE_LOW ? os_low_now : os_high_now;
    return TRUE;
}
static BOOL WINAPI close_unless_fake(HANDLE handle)
{
    return handle == FAKE_LOW || handle == FAKE_HIGH ? TRUE : real_close_handle(handle);
}

static void without_a_limit_the_os_memory_signals_are_forwarded(void **state)
{
    IHostMemoryManager *manager;
    struct recorder r;
    (void)state;

    hm_os.CreateMemoryResourceNotification = fake_create_notification;
    hm_os.QueryMemoryResourceNotification = fake_query_notification;
    real_close_handle = hm_os.CloseHandle;
    hm_os.CloseHandle = close_unless_fake;
    os_low_now = FALSE;
    os_high_now = TRUE;
    manager = new_manager(NULL);
    recorder_init(&r, manager);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &r.iface), S_OK);
    settle();
    assert_int_equal(r.count, 0);        /* High, as the CLR assumes: nothing to say */
    os_high_now = FALSE;
    os_low_now = TRUE;
    wait_for_notifications(&r, 1);
    assert_int_equal(r.states[0], eMemoryAvailableLow);
    os_low_now = FALSE;
    wait_for_notifications(&r, 2);
    assert_int_equal(r.states[1], eMemoryAvailableNeutral);
    os_high_now = TRUE;
    wait_for_notifications(&r, 3);
    assert_int_equal(r.states[2], eMemoryAvailableHigh);
    assert_int_equal(stats_of(manager).notifications[0], 1);
    IHostMemoryManager_RegisterMemoryNotificationCallback(manager, NULL);
    release_last((IUnknown *)manager);
}

static void notifications_still_arrive_when_the_os_refuses_a_thread(void **state)
{
    HOSTMEM_CONFIG config = limit_config(10 * PAGE);
    IHostMemoryManager *manager = new_manager(&config);
    struct recorder r;
    char *base = vm_reserve(manager, 16 * PAGE);
    (void)state;

    fault_always(OS_CREATE_THREAD, ERROR_NOT_ENOUGH_MEMORY);
    recorder_init(&r, manager);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &r.iface), S_OK);
    assert_int_equal(vm_commit(manager, base, 9 * PAGE, eTaskCritical), S_OK);
    /* Delivered inline, on this thread, after hostmem let go of its locks. */
    assert_int_equal(r.count, 1);
    assert_int_equal(r.states[0], eMemoryAvailableLow);
    assert_int_equal(r.threads[0], GetCurrentThreadId());
    vm_release(manager, base);
    IHostMemoryManager_RegisterMemoryNotificationCallback(manager, NULL);
    release_last((IUnknown *)manager);
}

/* --- the address space --- */

static void address_space_limit_refuses_reservations_and_mappings(void **state)
{
    HOSTMEM_CONFIG config = limit_config(0);
    IHostMemoryManager *manager;
    void *a = NULL, *b = NULL;
    HOSTMEM_STATS stats;
    (void)state;

    config.addressSpaceLimit = 4 * MiB;
    config.retryTimeoutMs = HOSTMEM_RETRY_NONE;
    manager = new_manager(&config);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 3 * MiB, MEM_RESERVE, PAGE_NOACCESS,
                                                     eTaskCritical, &a), S_OK);
    assert_int_equal(IHostMemoryManager_NeedsVirtualAddressSpace(manager, NULL, MiB), S_OK);
    assert_int_equal(IHostMemoryManager_NeedsVirtualAddressSpace(manager, NULL, MiB + PAGE), E_OUTOFMEMORY);
    assert_int_equal(IHostMemoryManager_AcquiredVirtualAddressSpace(manager, (void *)0x7ff00000, MiB / 2), S_OK);
    stats = stats_of(manager);
    assert_int_equal(stats.mappedBytes, MiB / 2);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, MiB, MEM_RESERVE, PAGE_NOACCESS,
                                                     eTaskCritical, &b), E_OUTOFMEMORY);
    assert_null(b);
    assert_int_equal(IHostMemoryManager_ReleasedVirtualAddressSpace(manager, (void *)0x7ff00000), S_OK);
    assert_int_equal(stats_of(manager).mappedBytes, 0);
    assert_int_equal(IHostMemoryManager_ReleasedVirtualAddressSpace(manager, (void *)0x7ff00000),
                     HOST_E_INVALIDOPERATION);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, MiB, MEM_RESERVE, PAGE_NOACCESS,
                                                     eTaskCritical, &b), S_OK);
    vm_release(manager, a);
    vm_release(manager, b);
    assert_int_equal(stats_of(manager).reservedBytes, 0);
    release_last((IUnknown *)manager);
}

/* --- the environment --- */

static void environment_commit_limit_overrides_the_config(void **state)
{
    HOSTMEM_CONFIG config = limit_config(1 * MiB);
    IHostMemoryManager *manager;
    void *p = NULL;
    (void)state;

    assert_true(SetEnvironmentVariableW(L"HOSTMEM_COMMIT_LIMIT", L"64K"));
    manager = new_manager(&config);
    assert_true(SetEnvironmentVariableW(L"HOSTMEM_COMMIT_LIMIT", NULL));
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 16 * PAGE + 1, MEM_RESERVE | MEM_COMMIT,
                                                     PAGE_READWRITE, eTaskCritical, &p), E_OUTOFMEMORY);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 16 * PAGE, MEM_RESERVE | MEM_COMMIT,
                                                     PAGE_READWRITE, eTaskCritical, &p), S_OK);
    vm_release(manager, p);
    release_last((IUnknown *)manager);
}

static void malformed_environment_commit_limit_is_ignored(void **state)
{
    static const WCHAR *const bad[] = { L"12X", L"-1", L"1.5G", L" 2G", L"2G ", L"G", L"", L"99999999999999999999",
                                        L"20000000T", L"2GB" };
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        HOSTMEM_CONFIG config = limit_config(16 * PAGE);
        IHostMemoryManager *manager;
        void *p = NULL;

        assert_true(SetEnvironmentVariableW(L"HOSTMEM_COMMIT_LIMIT", bad[i]));
        manager = new_manager(&config);
        /* The configured 64 KiB still holds: neither a smaller nor a larger limit. */
        assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 16 * PAGE, MEM_RESERVE | MEM_COMMIT,
                                                         PAGE_READWRITE, eTaskCritical, &p), S_OK);
        vm_release(manager, p);
        assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 17 * PAGE, MEM_RESERVE | MEM_COMMIT,
                                                         PAGE_READWRITE, eTaskCritical, &p), E_OUTOFMEMORY);
        release_last((IUnknown *)manager);
    }
    assert_true(SetEnvironmentVariableW(L"HOSTMEM_COMMIT_LIMIT", NULL));
}

/* --- statistics --- */

static void stats_reject_bad_arguments(void **state)
{
    IHostControl *control = NULL;
    IHostMemoryManager *manager = NULL;
    HOSTMEM_STATS stats;
    (void)state;

    assert_int_equal(HostMemCreateHostControl(NULL, &control), S_OK);
    memset(&stats, 0, sizeof(stats));
    assert_int_equal(HostMemGetStats(NULL, &stats), E_POINTER);
    assert_int_equal(HostMemGetStats((IUnknown *)control, NULL), E_POINTER);
    /* Any size from the first version's up is accepted (test_governance); below it or
       past the current one is not. */
    stats.cbSize = (DWORD)HOSTMEM_STATS_V1_SIZE - 8;
    assert_int_equal(HostMemGetStats((IUnknown *)control, &stats), E_INVALIDARG);
    stats.cbSize = sizeof(stats) + 8;
    assert_int_equal(HostMemGetStats((IUnknown *)control, &stats), E_INVALIDARG);
    /* A host built against the first header: its fields, nothing past its cbSize. */
    memset(&stats, 0xAB, sizeof(stats));
    stats.cbSize = HOSTMEM_STATS_V1_SIZE;
    assert_int_equal(HostMemGetStats((IUnknown *)control, &stats), S_OK);
    assert_int_equal(stats.cbSize, HOSTMEM_STATS_V1_SIZE);
    assert_int_equal(stats.committedBytes, 0);
    assert_true(stats.traceRowsDropped == 0xABABABABABABABABull);
    stats.cbSize = sizeof(stats);
    assert_int_equal(HostMemGetStats((IUnknown *)control, &stats), S_OK);
    assert_int_equal(IHostControl_GetHostManager(control, &IID_IHostMemoryManager, (void **)&manager), S_OK);
    assert_int_equal(HostMemGetStats((IUnknown *)manager, &stats), S_OK);
    IHostMemoryManager_Release(manager);
    release_last((IUnknown *)control);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fault_setup, fault_teardown)
        T(committed_bytes_follow_commit_decommit_and_release_to_the_page),
        T(reserve_and_commit_at_once_is_booked_as_committed),
        T(malloc_bytes_count_live_blocks),
        T(request_past_the_limit_is_refused_before_the_os_is_asked),
        T(refused_reservation_reserves_nothing),
        T(critical_levels_may_use_their_headroom),
        T(default_headroom_is_five_and_ten_percent_of_the_limit),
        T(headroom_none_holds_every_level_to_the_limit),
        T(escalation_callback_fires_for_every_e_fail),
        T(task_level_fails_at_once_without_raising_low),
        T(callback_that_frees_on_low_lets_the_retried_request_succeed),
        T(retry_waits_at_most_the_configured_time_then_applies_the_policy),
        T(request_larger_than_limit_plus_headroom_is_not_waited_for),
        T(malloc_at_a_critical_level_is_retried_once),
        T(crossing_the_water_marks_notifies_low_neutral_high_in_order),
        T(hovering_at_a_mark_notifies_once),
        T(callback_may_call_back_into_hostmem),
        T(without_a_limit_the_os_memory_signals_are_forwarded),
        T(notifications_still_arrive_when_the_os_refuses_a_thread),
        T(address_space_limit_refuses_reservations_and_mappings),
        T(environment_commit_limit_overrides_the_config),
        T(malformed_environment_commit_limit_is_ignored),
        T(stats_reject_bad_arguments),
#undef T
    };
    return cmocka_run_group_tests_name("limit", tests, NULL, NULL);
}
