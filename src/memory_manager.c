/*
 * IHostMemoryManager: the object, its lifetime and its notification callback. Each
 * method here is the COM entry point: it hands the work to the file of its concern
 * (virtual.c, limit.c, views.c, host_malloc.c) and writes the call's trace row.
 *
 * The manager owns a private bookkeeping heap that every other hostmem object of this
 * manager lives in (the IHostControl, the IHostMallocs, the ledger's tables), so the
 * last Release gives all of it back at once and a test can make it fail through the
 * OS table.
 */
#include "memory_manager.h"

#include "host_malloc.h"
#include "os.h"
#include "publish.h"

/* How often, without a limit, the notifier looks at the OS's own memory signals. */
#define OS_NOTIFICATION_POLL_MS 500

static const IHostMemoryManagerVtbl memory_manager_vtbl;

BOOL hm_manager_trace_row(struct memory_manager *manager, const hm_trace_row *row, BOOL wait)
{
    DWORD error = GetLastError();
    /* The committed column is the charge the limit sees: the CLR's VirtualAlloc commits
       and its IHostMalloc heaps' pages (committedBytes + mallocCommittedBytes), so a
       replay of the trace under another limit starts from what this one enforced. */
    BOOL written = hm_trace_write(manager->trace, row, hm_ledger_committed_bytes(manager->ledger),
                                  hm_malloc_memory_bytes(manager), wait);

    /* The CLR may be finished after an E_FAIL, and the host's escalation callback may
       end the process: the row is in the file before the callback runs. */
    if ((row->present & HM_TRACE_HRESULT) && row->hr == E_FAIL) {
        hm_trace_flush(manager->trace);
        if (row->present & HM_TRACE_LEVEL)
            hm_limit_escalate(manager, (EMemoryCriticalLevel)row->level, (SIZE_T)row->size, error, row->method);
    }
    SetLastError(error);
    return written;
}

/* --- the bookkeeping heap --- */

void *hm_manager_heap_alloc(struct memory_manager *manager, SIZE_T bytes)
{
    return hm_os.HeapAlloc(manager->heap, 0, bytes);
}

void hm_manager_heap_free(struct memory_manager *manager, void *block)
{
    if (block)
        hm_os.HeapFree(manager->heap, 0, block);
}

static void *allocator_alloc(void *context, size_t bytes)
{
    return hm_os.HeapAlloc((HANDLE)context, 0, bytes);
}

static void allocator_free(void *context, void *block)
{
    if (block)
        hm_os.HeapFree((HANDLE)context, 0, block);
}

/* --- IUnknown --- */

static HRESULT WINAPI memory_manager_QueryInterface(IHostMemoryManager *iface, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (!riid)
        return E_INVALIDARG;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IHostMemoryManager)) {
        *ppv = iface;
        IHostMemoryManager_AddRef(iface);
        return S_OK;
    }
    return E_NOINTERFACE;
}

static ULONG WINAPI memory_manager_AddRef(IHostMemoryManager *iface)
{
    struct memory_manager *manager = impl_from_IHostMemoryManager(iface);
    return (ULONG)InterlockedIncrement(&manager->ref);
}

static void release_leftover_region(void *context, uintptr_t base)
{
    (void)context;
    hm_os.VirtualFree((void *)base, 0, MEM_RELEASE);
}

static void memory_manager_destroy(struct memory_manager *manager)
{
    HANDLE heap = manager->heap;

    hm_publish_stop(manager->publisher); /* its thread reads the books */
    /* Joins the notifier's thread and lets go of every callback. */
    hm_notifier_destroy(&manager->notifier);
    HM_TRACE_CALL(manager, TRUE, .method = "Release");
    if (manager->settings.commit_limit)
        hm_pressure_destroy(&manager->pressure);
    hm_blocks_destroy(&manager->views);
    hm_blocks_destroy(&manager->heap_mappings);
    /* Nobody holds a reference any more, so nobody can still use the memory: give
       back every reservation the CLR left behind. */
    hm_ledger_destroy(manager->ledger, release_leftover_region, NULL);
    if (manager->trace)
        hm_trace_close(manager->trace);
    hm_lock_destroy(&manager->lock);
    /* The manager itself lives in this heap. */
    hm_os.HeapDestroy(heap);
}

static ULONG WINAPI memory_manager_Release(IHostMemoryManager *iface)
{
    struct memory_manager *manager = impl_from_IHostMemoryManager(iface);
    LONG ref = InterlockedDecrement(&manager->ref);

    if (!ref)
        memory_manager_destroy(manager);
    return (ULONG)ref;
}

/* --- IHostMemoryManager --- */

static HRESULT WINAPI memory_manager_CreateMalloc(IHostMemoryManager *iface, DWORD malloc_type, IHostMalloc **malloc)
{
    struct memory_manager *manager = impl_from_IHostMemoryManager(iface);
    HRESULT hr;

    if (!malloc)
        return E_POINTER;
    *malloc = NULL;
    hr = (malloc_type & ~(DWORD)(MALLOC_THREADSAFE | MALLOC_EXECUTABLE))
             ? E_INVALIDARG
             : hm_host_malloc_create(manager, malloc_type, malloc);
    HM_TRACE_CALL(manager, TRUE, .method = "CreateMalloc", .present = HM_TRACE_FLAGS | HM_TRACE_HRESULT | HM_TRACE_RESULT,
                  .flags = malloc_type, .hr = hr, .result = *malloc);
    return hr;
}

/* VirtualAlloc, VirtualFree, VirtualQuery and VirtualProtect are virtual.c's, and
   GetMemoryLoad is limit.c's: each beside the code it runs, so that the call is one
   frame around its OS call (memory_manager.h). */

/* On the notifier thread (or inline where none runs), outside every hostmem lock. The
   row never waits for the trace's lock, whose holder may be suspended: on the thread
   a row that cannot be written at once follows the call instead (the trace keeps
   every delivery); inline, on a thread of the CLR's, it is dropped and counted. */
static void deliver_notification(void *context, ICLRMemoryNotificationCallback *callback, int state, BOOL on_thread)
{
    struct memory_manager *manager = context;
    const hm_trace_row row = { .method = "OnMemoryNotification", .present = HM_TRACE_ADDRESS | HM_TRACE_FLAGS,
                               .address = callback, .flags = (DWORD)state };
    BOOL later;

    atomic_fetch_add_explicit(&manager->notifications[state - eMemoryAvailableLow], 1, memory_order_relaxed);
    atomic_store_explicit(&manager->notification_state, state, memory_order_relaxed);
    /* Inline a row that cannot be written at once is dropped and counted (FALSE). */
    later = manager->trace && !hm_manager_trace_row(manager, &row, on_thread ? HM_TRACE_TRY_LATER : FALSE) &&
            on_thread;
    ICLRMemoryNotificationCallback_OnMemoryNotification(callback, (EMemoryAvailable)state);
    if (later)
        hm_manager_trace_row(manager, &row, TRUE);
}

/* On the notifier thread about once a second: rows reach the file within a second or
   so even when no call comes to write them out. */
static void notifier_tick(void *context)
{
    struct memory_manager *manager = context;

    if (manager->trace)
        hm_trace_flush_if_free(manager->trace);
}

static HRESULT WINAPI memory_manager_RegisterMemoryNotificationCallback(IHostMemoryManager *iface, ICLRMemoryNotificationCallback *callback)
{
    struct memory_manager *manager = impl_from_IHostMemoryManager(iface);
    HRESULT hr = hm_notifier_register(&manager->notifier, callback);

    HM_TRACE_CALL(manager, TRUE, .method = "RegisterMemoryNotificationCallback", .present = HM_TRACE_ADDRESS | HM_TRACE_HRESULT,
                  .address = callback, .hr = hr);
    return hr;
}

static HRESULT WINAPI memory_manager_NeedsVirtualAddressSpace(IHostMemoryManager *iface, LPVOID start, SIZE_T size)
{
    struct memory_manager *manager = impl_from_IHostMemoryManager(iface);
    HRESULT hr = hm_views_needs(manager, start, size);

    HM_TRACE_CALL(manager, TRUE, .method = "NeedsVirtualAddressSpace", .present = HM_TRACE_ADDRESS | HM_TRACE_SIZE |
                  HM_TRACE_HRESULT, .address = start, .size = size, .hr = hr);
    return hr;
}

static HRESULT WINAPI memory_manager_AcquiredVirtualAddressSpace(IHostMemoryManager *iface, LPVOID start, SIZE_T size)
{
    struct memory_manager *manager = impl_from_IHostMemoryManager(iface);
    HRESULT hr = hm_views_acquired(manager, start, size);

    HM_TRACE_CALL(manager, TRUE, .method = "AcquiredVirtualAddressSpace", .present = HM_TRACE_ADDRESS | HM_TRACE_SIZE |
                  HM_TRACE_HRESULT, .address = start, .size = size, .hr = hr);
    return hr;
}

static HRESULT WINAPI memory_manager_ReleasedVirtualAddressSpace(IHostMemoryManager *iface, LPVOID start)
{
    struct memory_manager *manager = impl_from_IHostMemoryManager(iface);
    HRESULT hr = hm_views_released(manager, start);

    HM_TRACE_CALL(manager, TRUE, .method = "ReleasedVirtualAddressSpace", .present = HM_TRACE_ADDRESS | HM_TRACE_HRESULT,
                  .address = start, .hr = hr);
    return hr;
}

static const IHostMemoryManagerVtbl memory_manager_vtbl = {
    memory_manager_QueryInterface,
    memory_manager_AddRef,
    memory_manager_Release,
    memory_manager_CreateMalloc,
    memory_manager_VirtualAlloc,
    memory_manager_VirtualFree,
    memory_manager_VirtualQuery,
    memory_manager_VirtualProtect,
    memory_manager_GetMemoryLoad,
    memory_manager_RegisterMemoryNotificationCallback,
    memory_manager_NeedsVirtualAddressSpace,
    memory_manager_AcquiredVirtualAddressSpace,
    memory_manager_ReleasedVirtualAddressSpace,
};

/* --- the mallocs' list --- */

void hm_manager_add_malloc(struct memory_manager *manager, hm_list_entry *entry)
{
    hm_lock_acquire(&manager->lock);
    entry->next = manager->mallocs.next;
    entry->prev = &manager->mallocs;
    manager->mallocs.next->prev = entry;
    manager->mallocs.next = entry;
    hm_lock_release(&manager->lock);
}

void hm_manager_remove_malloc(struct memory_manager *manager, hm_list_entry *entry)
{
    hm_lock_acquire(&manager->lock);
    entry->prev->next = entry->next;
    entry->next->prev = entry->prev;
    hm_lock_release(&manager->lock);
}

hm_list_entry *hm_manager_lock_mallocs(struct memory_manager *manager)
{
    hm_lock_acquire(&manager->lock);
    return &manager->mallocs;
}

void hm_manager_unlock_mallocs(struct memory_manager *manager)
{
    hm_lock_release(&manager->lock);
}

/* --- creation --- */

IHostMemoryManager *hm_manager_iface(struct memory_manager *manager)
{
    return &manager->IHostMemoryManager_iface;
}

struct memory_manager *hm_manager_from_iface(IUnknown *object)
{
    if (object && ((IHostMemoryManager *)object)->lpVtbl == &memory_manager_vtbl)
        return impl_from_IHostMemoryManager((IHostMemoryManager *)object);
    return NULL;
}

HRESULT hm_manager_create(const hm_settings *settings, struct memory_manager **result)
{
    struct memory_manager *manager;
    void *block;
    SYSTEM_INFO info;
    HANDLE heap;

    *result = NULL;
    hm_os.GetSystemInfo(&info);
    if (!(heap = hm_os.HeapCreate(0, 0, 0)))
        return E_OUTOFMEMORY;
    /* On a cache line of its own from the start, so its hot first fields take the
       fewest lines; never freed alone: it goes with its heap (memory_manager_destroy). */
    if (!(block = hm_os.HeapAlloc(heap, HEAP_ZERO_MEMORY, sizeof(*manager) + 63))) {
        hm_os.HeapDestroy(heap);
        return E_OUTOFMEMORY;
    }
    manager = (struct memory_manager *)(((uintptr_t)block + 63) & ~(uintptr_t)63);
    manager->IHostMemoryManager_iface.lpVtbl = &memory_manager_vtbl;
    manager->ref = 1;
    manager->settings = *settings;
    manager->heap = heap;
    manager->allocator.alloc = allocator_alloc;
    manager->allocator.free = allocator_free;
    manager->allocator.context = heap;
    manager->page_size = info.dwPageSize;
    manager->granularity = info.dwAllocationGranularity;
    manager->min_address = (uintptr_t)info.lpMinimumApplicationAddress;
    manager->max_address = (uintptr_t)info.lpMaximumApplicationAddress;
    manager->max_request = (SIZE_T)(manager->max_address - manager->min_address + 1);
    hm_lock_init(&manager->lock);
    manager->mallocs.next = manager->mallocs.prev = &manager->mallocs;
    hm_blocks_init(&manager->views, &manager->allocator);
    hm_blocks_init(&manager->heap_mappings, &manager->allocator);
    hm_host_policy_manager_init(&manager->governance);
    hm_clr_events_init(&manager->governance);
    if (!(manager->ledger = hm_ledger_create(&manager->allocator, manager->page_size))) {
        hm_os.HeapDestroy(heap);
        return E_OUTOFMEMORY;
    }
    if (settings->commit_limit) {
        hm_pressure_init(&manager->pressure, settings->commit_limit, settings->high_water_percent,
                         settings->low_water_percent);
        hm_load_divisor_init(&manager->load_divisor, settings->commit_limit);
    }
    if (settings->trace_file[0])
        manager->trace = hm_trace_open(settings->trace_file, heap);
    /* Without a limit of its own, hostmem passes on what the OS says of memory. With a
       trace, the notifier's thread also writes its buffer out every second. */
    hm_notifier_init(&manager->notifier, deliver_notification, manager->trace ? notifier_tick : NULL, manager,
                     !settings->commit_limit, OS_NOTIFICATION_POLL_MS, settings->notification_repeat_ms);
    if (manager->trace)
        HM_TRACE_CALL(manager, TRUE, .method = "Start", .present = HM_TRACE_SIZE | HM_TRACE_DECIMAL,
                      .size = settings->commit_limit, .flags = settings->commit_limit ? settings->high_water_percent : 0,
                      .protect = settings->commit_limit ? settings->low_water_percent : 0);
    if (settings->publish_stats)
        manager->publisher = hm_publish_start(manager);
    *result = manager;
    return S_OK;
}
