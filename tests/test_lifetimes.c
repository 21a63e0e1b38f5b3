/*
 * Lifetimes: reference counts across QueryInterface, AddRef and Release of
 * the host control, the manager, its mallocs and a registered callback; releasing in
 * every order; the last reference gives back everything (heaps, the notifier thread and
 * its handles, events, leftover reservations), counted through the OS table's wrappers;
 * a callback released exactly once whether it is replaced, unregistered or outlives
 * the manager; and a callback that releases the last manager reference from inside
 * OnMemoryNotification, on the notifier thread that the release destroys.
 */
#include "test_support.h"

#include <string.h>

#define KIB ((SIZE_T)1024)
#define MIB (KIB * 1024)

/* The reference count, read with an AddRef/Release pair. */
static ULONG ref_count(IUnknown *object)
{
    IUnknown_AddRef(object);
    return IUnknown_Release(object);
}

static IHostMalloc *new_malloc(IHostMemoryManager *manager)
{
    IHostMalloc *malloc = NULL;

    assert_int_equal(IHostMemoryManager_CreateMalloc(manager, MALLOC_THREADSAFE, &malloc), S_OK);
    assert_non_null(malloc);
    return malloc;
}

static HOSTMEM_CONFIG limit_config(ULONGLONG limit)
{
    HOSTMEM_CONFIG config;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.commitLimit = limit;
    return config;
}

/* A region of the manager's, left for its end: 1 MiB reserved, 64 KiB committed. */
static void *leftover_region(IHostMemoryManager *manager)
{
    void *base = NULL, *p = NULL;

    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, MIB, MEM_RESERVE, PAGE_READWRITE, eTaskCritical,
                                                     &base), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, base, 64 * KIB, MEM_COMMIT, PAGE_READWRITE,
                                                     eTaskCritical, &p), S_OK);
    memset(base, 1, 64 * KIB);
    return base;
}

/* Everything hostmem took from the OS since fault_setup is back. */
static void assert_nothing_left(void)
{
    assert_true(os_threads_ended(5000));
    assert_int_equal(os_live_objects(OS_OBJECT_HEAP), 0);
    assert_int_equal(os_live_objects(OS_OBJECT_THREAD), 0);
    assert_int_equal(os_live_objects(OS_OBJECT_EVENT), 0);
    assert_int_equal(os_live_objects(OS_OBJECT_RESOURCE_NOTIFICATION), 0);
    assert_int_equal(os_live_objects(OS_OBJECT_RESERVATION), 0);
}

/* --- a notification callback that counts its references ------------------------------ */

typedef struct callback {
    ICLRMemoryNotificationCallback iface;
    LONG refs;            /* held by others than the test */
    LONG addrefs, releases;
    LONG notifications;
    LONG first_state;
    /* Releases `manager` (a reference of its own) on its first notification, once
       `go` is set; sets `done` afterwards. */
    IHostMemoryManager *manager;
    HANDLE go, done;
    DWORD  thread;
} callback;

static callback *impl_from_callback(ICLRMemoryNotificationCallback *iface)
{
    return CONTAINING_RECORD(iface, callback, iface);
}

static ULONG WINAPI callback_AddRef(ICLRMemoryNotificationCallback *iface)
{
    callback *cb = impl_from_callback(iface);

    InterlockedIncrement(&cb->addrefs);
    return (ULONG)InterlockedIncrement(&cb->refs);
}

static ULONG WINAPI callback_Release(ICLRMemoryNotificationCallback *iface)
{
    callback *cb = impl_from_callback(iface);

    InterlockedIncrement(&cb->releases);
    return (ULONG)InterlockedDecrement(&cb->refs);
}

static HRESULT WINAPI callback_QueryInterface(ICLRMemoryNotificationCallback *iface, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ICLRMemoryNotificationCallback)) {
        *ppv = iface;
        callback_AddRef(iface);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static HRESULT WINAPI callback_OnMemoryNotification(ICLRMemoryNotificationCallback *iface, EMemoryAvailable state)
{
    callback *cb = impl_from_callback(iface);

    if (InterlockedIncrement(&cb->notifications) == 1) {
        cb->first_state = (LONG)state;
        cb->thread = GetCurrentThreadId();
        if (cb->manager) {
            IHostMemoryManager *manager = cb->manager;

            WaitForSingleObject(cb->go, INFINITE);
            cb->manager = NULL;
            /* The last reference: the manager, and its notifier, end inside this call. */
            IHostMemoryManager_Release(manager);
            SetEvent(cb->done);
        }
    }
    return S_OK;
}

static ICLRMemoryNotificationCallbackVtbl callback_vtbl = {
    callback_QueryInterface, callback_AddRef, callback_Release, callback_OnMemoryNotification,
};

static void callback_init(callback *cb)
{
    memset(cb, 0, sizeof(*cb));
    cb->iface.lpVtbl = &callback_vtbl;
}

/* Every reference hostmem took is back, each given back exactly once. */
static void assert_callback_released(const callback *cb, LONG addrefs)
{
    assert_int_equal(cb->refs, 0);
    assert_int_equal(cb->addrefs, addrefs);
    assert_int_equal(cb->releases, addrefs);
}

/* --- reference counts ---------------------------------------------------------------- */

static void query_interface_add_ref_and_release_count_references_per_object(void **state)
{
    IHostControl *control = new_control(NULL);
    IHostMemoryManager *manager = manager_of(control);
    IHostMalloc *malloc;
    void *object = NULL;
    (void)state;

    /* The control: one reference, ours; the manager: the control's and ours. */
    assert_int_equal(ref_count((IUnknown *)control), 1);
    assert_int_equal(ref_count((IUnknown *)manager), 2);

    /* QueryInterface adds a reference to the object asked, no other. */
    assert_int_equal(IHostControl_QueryInterface(control, &IID_IUnknown, &object), S_OK);
    assert_ptr_equal(object, control);
    assert_int_equal(ref_count((IUnknown *)control), 2);
    assert_int_equal(IHostControl_QueryInterface(control, &IID_IHostControl, &object), S_OK);
    assert_int_equal(ref_count((IUnknown *)control), 3);
    assert_int_equal(ref_count((IUnknown *)manager), 2);
    assert_int_equal(IHostControl_Release(control), 2);
    assert_int_equal(IHostControl_Release(control), 1);

    assert_int_equal(IHostMemoryManager_QueryInterface(manager, &IID_IHostMemoryManager, &object), S_OK);
    assert_ptr_equal(object, manager);
    assert_int_equal(IHostMemoryManager_AddRef(manager), 4);
    assert_int_equal(IHostMemoryManager_Release(manager), 3);
    assert_int_equal(IHostMemoryManager_Release(manager), 2);

    /* GetHostManager hands out the same manager with a new reference each time. */
    assert_int_equal(IHostControl_GetHostManager(control, &IID_IHostMemoryManager, &object), S_OK);
    assert_ptr_equal(object, manager);
    assert_int_equal(ref_count((IUnknown *)manager), 3);
    assert_int_equal(IHostMemoryManager_Release(manager), 2);

    /* A malloc holds one manager reference, whatever its own count. */
    malloc = new_malloc(manager);
    assert_int_equal(ref_count((IUnknown *)manager), 3);
    assert_int_equal(IHostMalloc_QueryInterface(malloc, &IID_IHostMalloc, &object), S_OK);
    assert_ptr_equal(object, malloc);
    assert_int_equal(IHostMalloc_AddRef(malloc), 3);
    assert_int_equal(ref_count((IUnknown *)manager), 3);
    assert_int_equal(IHostMalloc_Release(malloc), 2);
    assert_int_equal(IHostMalloc_Release(malloc), 1);
    assert_int_equal(IHostMalloc_Release(malloc), 0);
    assert_int_equal(ref_count((IUnknown *)manager), 2);

    /* A failed QueryInterface adds nothing. */
    assert_int_equal(IHostMemoryManager_QueryInterface(manager, &IID_IHostMalloc, &object), E_NOINTERFACE);
    assert_int_equal(ref_count((IUnknown *)manager), 2);

    assert_int_equal(IHostMemoryManager_Release(manager), 1);
    assert_int_equal(IHostControl_Release(control), 0);
    assert_nothing_left();
}

/* --- releasing in every order -------------------------------------------------------- */

enum { CONTROL, MANAGER, MALLOC_A, MALLOC_B, OBJECTS };

/* The objects still held all still work. */
static void use_what_is_left(IUnknown *const objects[OBJECTS], const BOOL held[OBJECTS])
{
    unsigned i;

    for (i = MALLOC_A; i <= MALLOC_B; i++) {
        if (held[i]) {
            void *p = NULL;

            assert_int_equal(IHostMalloc_Alloc((IHostMalloc *)objects[i], 32, eTaskCritical, &p), S_OK);
            memset(p, 2, 32);
            assert_int_equal(IHostMalloc_Free((IHostMalloc *)objects[i], p), S_OK);
        }
    }
    if (held[MANAGER]) {
        DWORD load;
        SIZE_T available;

        assert_int_equal(IHostMemoryManager_GetMemoryLoad((IHostMemoryManager *)objects[MANAGER], &load, &available),
                         S_OK);
    }
    if (held[CONTROL]) {
        IHostMemoryManager *manager = manager_of((IHostControl *)objects[CONTROL]);
        HOSTMEM_STATS stats;

        memset(&stats, 0, sizeof(stats));
        stats.cbSize = sizeof(stats);
        assert_int_equal(HostMemGetStats((IUnknown *)manager, &stats), S_OK);
        assert_int_equal(stats.reservedBytes, MIB);
        IHostMemoryManager_Release(manager);
    }
}

static void release_in_order(const unsigned order[OBJECTS])
{
    IHostControl *control;
    IHostMemoryManager *manager;
    IUnknown *objects[OBJECTS];
    BOOL held[OBJECTS] = { TRUE, TRUE, TRUE, TRUE };
    HOSTMEM_CONFIG config = limit_config(64 * MIB);
    callback cb;
    void *region, *block = NULL;
    unsigned i, mallocs = 2;

    fault_setup(NULL);
    callback_init(&cb);
    control = new_control(&config);
    manager = manager_of(control);
    objects[CONTROL] = (IUnknown *)control;
    objects[MANAGER] = (IUnknown *)manager;
    objects[MALLOC_A] = (IUnknown *)new_malloc(manager);
    objects[MALLOC_B] = (IUnknown *)new_malloc(manager);
    /* Left behind on purpose: the blocks die with their heaps, the region with the manager. */
    assert_int_equal(IHostMalloc_Alloc((IHostMalloc *)objects[MALLOC_A], 100, eTaskCritical, &block), S_OK);
    assert_int_equal(IHostMalloc_Alloc((IHostMalloc *)objects[MALLOC_B], 100, eTaskCritical, &block), S_OK);
    region = leftover_region(manager);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &cb.iface), S_OK);
    assert_int_equal(os_live_objects(OS_OBJECT_HEAP), 3); /* the manager's and one per malloc */
    assert_int_equal(os_live_objects(OS_OBJECT_THREAD), 1);

    for (i = 0; i < OBJECTS; i++) {
        unsigned which = order[i];
        ULONG left = IUnknown_Release(objects[which]);

        held[which] = FALSE;
        /* Only the manager is held by others: the control and the mallocs hold it. */
        if (which != MANAGER)
            assert_int_equal(left, 0);
        if (which == MALLOC_A || which == MALLOC_B)
            mallocs--;
        if (i < OBJECTS - 1) {
            /* Nothing goes before the last reference: the manager's heap, the live
               mallocs' heaps, the notifier, the region, the callback. */
            assert_int_equal(os_live_objects(OS_OBJECT_HEAP), 1 + mallocs);
            assert_int_equal(os_live_objects(OS_OBJECT_THREAD), 1);
            assert_int_equal(os_page_state(region), MEM_COMMIT);
            assert_int_equal(cb.refs, 1);
            use_what_is_left(objects, held);
        }
    }
    assert_int_equal(os_page_state(region), MEM_FREE);
    assert_callback_released(&cb, 1);
    assert_nothing_left();
    fault_teardown(NULL);
}

static void releasing_in_every_order_frees_everything_at_the_last_reference(void **state)
{
    unsigned order[OBJECTS] = { 0, 1, 2, 3 }, orders = 0, i, j;
    (void)state;

    /* Every permutation, in lexicographic order. */
    for (;;) {
        release_in_order(order);
        orders++;
        for (i = OBJECTS - 1; i > 0 && order[i - 1] > order[i]; i--)
            ;
        if (!i)
            break;
        for (j = OBJECTS - 1; order[j] < order[i - 1]; j--)
            ;
        { unsigned t = order[i - 1]; order[i - 1] = order[j]; order[j] = t; }
        for (j = OBJECTS - 1; i < j; i++, j--) {
            unsigned t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }
    assert_int_equal(orders, 24);
}

static BOOL WINAPI count_block(void *context, const HOSTMEM_BLOCK_INFO *block)
{
    (void)block;
    ++*(unsigned *)context;
    return TRUE;
}

static void a_malloc_alone_keeps_its_manager_and_its_memory_alive(void **state)
{
    IHostControl *control = new_control(NULL);
    IHostMemoryManager *manager = manager_of(control);
    IHostMalloc *malloc = new_malloc(manager);
    void *region = leftover_region(manager), *p = NULL;
    HOSTMEM_STATS stats;
    unsigned listed = 0;
    (void)state;

    memset(&stats, 0, sizeof(stats));
    stats.cbSize = sizeof(stats);

    assert_int_equal(IHostControl_Release(control), 0);
    assert_int_equal(IHostMemoryManager_Release(manager), 1);
    /* The CLR's malloc goes on working, and so does the manager it keeps. */
    assert_int_equal(os_live_objects(OS_OBJECT_HEAP), 2);
    assert_int_equal(os_page_state(region), MEM_COMMIT);
    assert_int_equal(IHostMalloc_Alloc(malloc, 4000, eProcessCritical, &p), S_OK);
    memset(p, 3, 4000);
    assert_int_equal(HostMemEnumMallocBlocks((IUnknown *)malloc, count_block, &listed), S_OK);
    assert_int_equal(listed, 1);
    assert_int_equal(HostMemGetStats((IUnknown *)manager, &stats), S_OK);
    assert_int_equal(stats.mallocBytes, 4000);
    assert_int_equal(stats.committedBytes, 64 * KIB);
    release_last((IUnknown *)malloc);
    assert_int_equal(os_page_state(region), MEM_FREE);
    assert_nothing_left();
}

/* --- the callback ---------------------------------------------------------------------- */

static void a_callback_is_released_exactly_once_when_kept_unregistered_or_outliving_the_manager(void **state)
{
    /* Under a limit and with nothing committed, no notification adds references. */
    HOSTMEM_CONFIG config = limit_config(MIB);
    IHostMemoryManager *manager = new_manager(&config);
    callback first, second;
    (void)state;

    callback_init(&first);
    callback_init(&second);
    /* Registered twice: one reference, the second registration changes nothing. */
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &first.iface), S_OK);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &first.iface), S_OK);
    assert_int_equal(first.refs, 1);
    assert_int_equal(first.addrefs, 1);
    /* A second runtime's callback: both are kept. */
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &second.iface), S_OK);
    assert_int_equal(first.refs, 1);
    assert_int_equal(second.refs, 1);
    /* NULL: every callback goes, once. */
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, NULL), S_OK);
    assert_callback_released(&first, 1);
    assert_callback_released(&second, 1);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, NULL), S_OK);
    assert_callback_released(&second, 1);
    /* Outliving the manager: released at its end, once. */
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &first.iface), S_OK);
    assert_int_equal(first.refs, 1);
    release_last((IUnknown *)manager);
    assert_callback_released(&first, 2);
    assert_callback_released(&second, 1);
    assert_nothing_left();
}

static void the_last_release_ends_the_notifier_thread_and_closes_its_handles(void **state)
{
    HOSTMEM_CONFIG config = limit_config(MIB);
    IHostControl *control = new_control(&config);
    IHostMemoryManager *manager = manager_of(control);
    callback cb;
    void *p = NULL;
    unsigned i;
    (void)state;

    callback_init(&cb);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &cb.iface), S_OK);
    assert_int_equal(os_thread_count(), 1);
    assert_int_equal(os_live_objects(OS_OBJECT_THREAD), 1);
    assert_int_equal(os_live_objects(OS_OBJECT_EVENT), 1);
    /* Past the high-water mark: Low, on the notifier thread. */
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, MIB, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
                                                     eTaskCritical, &p), S_OK);
    for (i = 0; i < 5000 && !cb.notifications; i++)
        Sleep(1);
    assert_int_equal(cb.first_state, eMemoryAvailableLow);
    assert_int_not_equal(cb.thread, GetCurrentThreadId());

    assert_int_equal(IHostControl_Release(control), 0);
    assert_false(os_threads_ended(0)); /* the CLR's reference keeps it */
    release_last((IUnknown *)manager);
    assert_int_equal(os_page_state(p), MEM_FREE);
    assert_callback_released(&cb, cb.addrefs);
    assert_nothing_left();
}

/* The CLR's callback holds the last manager reference and lets go of it while hostmem
   delivers a notification: the manager ends on its own notifier thread, which must
   notice and stop touching what the manager freed, even with another notification
   queued behind the one being delivered. */
static void a_callback_may_release_the_last_manager_reference_from_a_notification(void **state)
{
    HOSTMEM_CONFIG config = limit_config(MIB);
    IHostMemoryManager *manager = new_manager(&config);
    callback cb;
    void *p = NULL;
    unsigned i;
    (void)state;

    callback_init(&cb);
    cb.go = CreateEventW(NULL, TRUE, FALSE, NULL);
    cb.done = CreateEventW(NULL, TRUE, FALSE, NULL);
    assert_non_null(cb.go);
    assert_non_null(cb.done);
    IHostMemoryManager_AddRef(manager);
    cb.manager = manager; /* the callback's own reference */
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &cb.iface), S_OK);

    /* Low: the callback takes it and waits for the go. */
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, MIB, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
                                                     eTaskCritical, &p), S_OK);
    for (i = 0; i < 5000 && !cb.notifications; i++)
        Sleep(1);
    assert_int_equal(cb.notifications, 1);
    assert_int_equal(cb.first_state, eMemoryAvailableLow);
    /* High, queued behind it; then the test lets go: the callback's is the last reference. */
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, p, 0, MEM_DECOMMIT), S_OK);
    assert_int_equal(IHostMemoryManager_Release(manager), 1);
    assert_int_equal(os_live_objects(OS_OBJECT_HEAP), 1);

    assert_true(SetEvent(cb.go));
    assert_int_equal(WaitForSingleObject(cb.done, 5000), WAIT_OBJECT_0);
    /* The thread ended without delivering High, and everything is back. */
    assert_true(os_threads_ended(5000));
    assert_int_equal(cb.notifications, 1);
    assert_int_equal(os_page_state(p), MEM_FREE);
    assert_callback_released(&cb, cb.addrefs);
    assert_true(cb.addrefs >= 2); /* the registration's and the delivery's */
    assert_nothing_left();
    CloseHandle(cb.go);
    CloseHandle(cb.done);
}

/* With the OS refusing the notifier thread, a notification is delivered on the
   allocating thread during its call, and its temporary reference is back before the
   call returns. */
static void notifications_delivered_without_a_thread_keep_the_counts(void **state)
{
    HOSTMEM_CONFIG config = limit_config(MIB);
    IHostMemoryManager *manager = new_manager(&config);
    callback cb;
    void *p = NULL;
    (void)state;

    callback_init(&cb);
    fault_always(OS_CREATE_THREAD, ERROR_NOT_ENOUGH_MEMORY);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &cb.iface), S_OK);
    fault_clear();
    assert_int_equal(os_thread_count(), 0);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, MIB, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
                                                     eTaskCritical, &p), S_OK);
    /* Delivered here, during the call, and the temporary reference given back. */
    assert_int_equal(cb.notifications, 1);
    assert_int_equal(cb.thread, GetCurrentThreadId());
    assert_int_equal(cb.refs, 1);
    release_last((IUnknown *)manager);
    assert_callback_released(&cb, cb.addrefs);
    assert_nothing_left();
}

#define T(name) cmocka_unit_test_setup_teardown(name, fault_setup, fault_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(query_interface_add_ref_and_release_count_references_per_object),
        T(releasing_in_every_order_frees_everything_at_the_last_reference),
        T(a_malloc_alone_keeps_its_manager_and_its_memory_alive),
        T(a_callback_is_released_exactly_once_when_kept_unregistered_or_outliving_the_manager),
        T(the_last_release_ends_the_notifier_thread_and_closes_its_handles),
        T(a_callback_may_release_the_last_manager_reference_from_a_notification),
        T(notifications_delivered_without_a_thread_keep_the_counts),
    };

    return cmocka_run_group_tests_name("lifetimes", tests, NULL, NULL);
}
