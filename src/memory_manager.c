/*
 * IHostMemoryManager: the CLR's virtual memory, forwarded to kernel32 and booked in
 * the ledger. Owns the bookkeeping heap that every other hostmem object of this
 * manager lives in.
 */
#include "hostmem_private.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "block_table.h"
#include "budget.h"
#include "core/heap.h"
#include "notifier.h"
#include "os.h"
#include "pressure.h"
#include "trace.h"

/* How often, without a limit, the notifier looks at the OS's own memory signals. */
#define OS_NOTIFICATION_POLL_MS 500

/* An attempt found no memory (the OS said so, or the limit refused): the caller may
   wait and retry, then applies the policy. Never returned to a caller of hostmem. */
#define HM_E_NO_MEMORY ((HRESULT)0xE0DE0001L)

struct memory_manager {
    IHostMemoryManager IHostMemoryManager_iface;
    LONG               ref;
    hm_settings        settings;
    HANDLE             heap;        /* bookkeeping: this object, the ledger, mallocs' tables */
    hm_allocator       allocator;   /* over heap, for the portable core */
    hm_ledger         *ledger;      /* reservations, pages, commit charge */
    SIZE_T             page_size;
    SIZE_T             granularity;
    SIZE_T             max_request;
    uintptr_t          min_address, max_address; /* of user address space */
    hm_lock            lock;        /* callback, mallocs, views; never held across a call out */
    ICLRMemoryNotificationCallback *callback;
    hm_list_entry      mallocs;
    hm_block_table     views;       /* mapped views the CLR reported: base -> bytes */
    hm_budget          address_space; /* reserved + mapped, against addressSpaceLimit */
    hm_pressure        pressure;    /* with a commit limit */
    hm_notifier        notifier;
    _Atomic(uint64_t)  freed_epoch; /* moves whenever commit falls; a retry waits for it */
    _Atomic(uint64_t)  mapped_bytes;
    struct malloc_counters *_Atomic counters; /* every IHostMalloc's mallocBytes, see below */
    struct malloc_counters *spare_counters;   /* under lock */
    _Atomic(uint64_t)  malloc_committed; /* the IHostMalloc heaps' share of the ledger's charge */
    _Atomic(uint64_t)  failures[3];
    _Atomic(uint64_t)  escalations;
    _Atomic(uint64_t)  notifications[3];
    hm_trace          *trace;       /* NULL: tracing off, one predictable branch per call */
};

/* --- mallocBytes: the IHostMalloc heaps' counters ---
   Every Alloc and Free of every IHostMalloc changes mallocBytes, from every thread: one
   shared counter would be a cache line that every core fights for and a locked
   instruction on every call. Instead each malloc's heap counts in counters of its own,
   one per size class, written under that class's lock (src/core/heap.h), and the
   manager sums them. The counter blocks live in the manager's heap until the manager
   goes: a block is only ever added to the list, and a released malloc's block, zeroed,
   waits for the next CreateMalloc. So a reader walks the list with no lock. */
struct malloc_counters {
    struct malloc_counters *next;       /* every block; never unlinked */
    struct malloc_counters *next_spare;
    hm_heap_counter         counter[HM_HEAP_COUNTERS];
};

static uint64_t malloc_bytes_now(struct memory_manager *manager)
{
    const struct malloc_counters *block = atomic_load_explicit(&manager->counters, memory_order_acquire);
    uint64_t sum = 0;

    for (; block; block = block->next)
        sum += hm_heap_counters_sum(block->counter);
    return sum;
}

/* Zeroed counters for a new malloc's heap; NULL when the manager's heap is exhausted. */
hm_heap_counter *hm_manager_acquire_malloc_counters(struct memory_manager *manager)
{
    struct malloc_counters *block;

    hm_lock_acquire(&manager->lock);
    if ((block = manager->spare_counters))
        manager->spare_counters = block->next_spare;
    hm_lock_release(&manager->lock);
    if (block)
        return block->counter;
    if (!(block = hm_manager_heap_alloc(manager, sizeof(*block))))
        return NULL;
    memset(block, 0, sizeof(*block));
    hm_lock_acquire(&manager->lock);
    block->next = atomic_load_explicit(&manager->counters, memory_order_relaxed);
    atomic_store_explicit(&manager->counters, block, memory_order_release);
    hm_lock_release(&manager->lock);
    return block->counter;
}

/* The malloc's heap is gone, and with it its blocks: its counters read 0 again. */
void hm_manager_release_malloc_counters(struct memory_manager *manager, hm_heap_counter *counter)
{
    struct malloc_counters *block = CONTAINING_RECORD(counter, struct malloc_counters, counter);
    unsigned i;

    for (i = 0; i < HM_HEAP_COUNTERS; i++)
        atomic_store_explicit(&counter[i].bytes, 0, memory_order_relaxed);
    hm_lock_acquire(&manager->lock);
    block->next_spare = manager->spare_counters;
    manager->spare_counters = block;
    hm_lock_release(&manager->lock);
}

/* One trace row, if tracing is on. Keeps the caller's last error: the CLR reads it. */
#define TRACE(manager, wait, ...)                                                  \
    do {                                                                           \
        if ((manager)->trace) {                                                    \
            const hm_trace_row trace_row_ = { __VA_ARGS__ };                       \
            write_trace_row((manager), &trace_row_, (wait));                       \
        }                                                                          \
    } while (0)

static void write_trace_row(struct memory_manager *manager, const hm_trace_row *row, BOOL wait)
{
    DWORD error = GetLastError();
    uint64_t heaps = atomic_load_explicit(&manager->malloc_committed, memory_order_relaxed);
    uint64_t charge = hm_ledger_committed_bytes(manager->ledger);

    /* The committed column is HOSTMEM_STATS.committedBytes: the CLR's VirtualAlloc
       commits, without the IHostMalloc heaps' share of the charge. */
    hm_trace_write(manager->trace, row, charge > heaps ? charge - heaps : 0,
                   malloc_bytes_now(manager), wait);
    /* The CLR may be finished after an E_FAIL: get the trace to the file first. */
    if ((row->present & HM_TRACE_HRESULT) && row->hr == E_FAIL)
        hm_trace_flush(manager->trace);
    SetLastError(error);
}

struct hm_trace *hm_manager_trace(struct memory_manager *manager)
{
    return manager->trace;
}

void hm_manager_trace_row(struct memory_manager *manager, const struct hm_trace_row *row)
{
    write_trace_row(manager, row, TRUE);
}

static const IHostMemoryManagerVtbl memory_manager_vtbl;

static inline struct memory_manager *impl_from_IHostMemoryManager(IHostMemoryManager *iface)
{
    return CONTAINING_RECORD(iface, struct memory_manager, IHostMemoryManager_iface);
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

/* Only the benchmark asks: it walks this heap to weigh hostmem's own memory. */
HANDLE hm_manager_bookkeeping_heap(struct memory_manager *manager)
{
    return manager->heap;
}

const hm_allocator *hm_manager_allocator(struct memory_manager *manager)
{
    return &manager->allocator;
}

SIZE_T hm_manager_max_request(const struct memory_manager *manager)
{
    return manager->max_request;
}

static SIZE_T round_up(SIZE_T value, SIZE_T unit)
{
    return (value + unit - 1) & ~(unit - 1);
}

/* --- failures --- */

HRESULT hm_manager_out_of_memory(struct memory_manager *manager, EMemoryCriticalLevel level, SIZE_T bytes,
                                 DWORD os_error, const char *method)
{
    HRESULT hr = (HRESULT)hm_policy_failure(&manager->settings.policy, (uint32_t)level);

    atomic_fetch_add_explicit(&manager->failures[level], 1, memory_order_relaxed);
    if (hr == E_FAIL)
        atomic_fetch_add_explicit(&manager->escalations, 1, memory_order_relaxed);
    if (hr == E_FAIL && manager->settings.escalation_callback) {
        HOSTMEM_ESCALATION info;

        info.cbSize  = sizeof(info);
        info.level   = level;
        info.bytes   = bytes;
        info.osError = os_error;
        info.method  = method;
        manager->settings.escalation_callback(manager->settings.escalation_context, &info);
    }
    SetLastError(os_error);
    return hr;
}

/* The most a request at this level may bring the commit charge to. */
static uint64_t commit_ceiling(const struct memory_manager *manager, EMemoryCriticalLevel level)
{
    uint64_t limit = manager->settings.commit_limit, ceiling;

    if (!limit)
        return UINT64_MAX;
    ceiling = limit + manager->settings.headroom[level];
    return ceiling < limit ? UINT64_MAX : ceiling;
}

/* After every change of the commit charge: notifications under a limit. */
static void commit_changed(struct memory_manager *manager, BOOL fell)
{
    if (fell)
        atomic_fetch_add_explicit(&manager->freed_epoch, 1, memory_order_release);
    if (manager->settings.commit_limit)
        hm_notifier_post(&manager->notifier,
                         hm_pressure_update(&manager->pressure, hm_ledger_committed_bytes(manager->ledger)));
}

BOOL hm_manager_wait_for_memory(struct memory_manager *manager, EMemoryCriticalLevel level, SIZE_T bytes)
{
    uint64_t ceiling = commit_ceiling(manager, level), epoch, start;
    BOOL limited = manager->settings.commit_limit != 0;

    /* The task level fails at once; a request that could never fit is not worth a wait. */
    if (level == eTaskCritical || !manager->settings.retry_timeout_ms || (limited && bytes > ceiling))
        return FALSE;

    epoch = atomic_load_explicit(&manager->freed_epoch, memory_order_acquire);
    if (limited)
        hm_notifier_post(&manager->notifier,
                         hm_pressure_force_low(&manager->pressure, hm_ledger_committed_bytes(manager->ledger)));
    else
        hm_notifier_force_low(&manager->notifier);

    start = hm_os.GetTickCount64();
    for (;;) {
        if (limited ? hm_ledger_committed_bytes(manager->ledger) <= ceiling - bytes
                    : atomic_load_explicit(&manager->freed_epoch, memory_order_acquire) != epoch)
            return TRUE;
        if (hm_os.GetTickCount64() - start >= manager->settings.retry_timeout_ms)
            return TRUE; /* one more try all the same */
        hm_os.Sleep(1);
    }
}

/* --- the IHostMalloc heaps' memory (host_malloc.c, src/core/heap.h) ---
   Booked like the CLR's own commits: the same commit charge, so the limit, the memory
   load and the water marks cover the heaps too, and a charge that does not fit is
   refused before the OS is asked. The mappings are not ledger regions: the CLR cannot
   VirtualFree a heap's slab through the manager, and reservedBytes stays the CLR's. */
void *hm_manager_heap_map(struct memory_manager *manager, SIZE_T bytes, DWORD protect, EMemoryCriticalLevel level)
{
    uint64_t as_limit = manager->settings.address_space_limit;
    SIZE_T span = round_up(bytes, manager->page_size);
    DWORD error;
    void *base;

    if (!hm_budget_charge(&manager->address_space, span, as_limit ? as_limit : UINT64_MAX))
        return NULL;
    if (!hm_ledger_charge(manager->ledger, span, commit_ceiling(manager, level))) {
        hm_budget_uncharge(&manager->address_space, span);
        return NULL;
    }
    if (!(base = hm_os.VirtualAlloc(NULL, span, MEM_RESERVE | MEM_COMMIT, protect))) {
        error = GetLastError();
        hm_ledger_uncharge(manager->ledger, span);
        hm_budget_uncharge(&manager->address_space, span);
        commit_changed(manager, FALSE);
        SetLastError(error);
        return NULL;
    }
    atomic_fetch_add_explicit(&manager->malloc_committed, span, memory_order_relaxed);
    commit_changed(manager, FALSE);
    return base;
}

/* FALSE, with the OS's last error, when the OS refused: still mapped and booked. */
BOOL hm_manager_heap_unmap(struct memory_manager *manager, void *base, SIZE_T bytes)
{
    SIZE_T span = round_up(bytes, manager->page_size);

    if (!hm_os.VirtualFree(base, 0, MEM_RELEASE))
        return FALSE;
    atomic_fetch_sub_explicit(&manager->malloc_committed, span, memory_order_relaxed);
    hm_ledger_uncharge(manager->ledger, span);
    hm_budget_uncharge(&manager->address_space, span);
    commit_changed(manager, TRUE);
    return TRUE;
}

SIZE_T hm_manager_page_size(const struct memory_manager *manager)
{
    return manager->page_size;
}

static HRESULT invalid_parameter(void)
{
    SetLastError(ERROR_INVALID_PARAMETER);
    return E_INVALIDARG;
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

    hm_notifier_destroy(&manager->notifier);
    TRACE(manager, TRUE, .method = "Release");
    if (manager->settings.commit_limit)
        hm_pressure_destroy(&manager->pressure);
    hm_blocks_destroy(&manager->views);
    if (manager->callback)
        ICLRMemoryNotificationCallback_Release(manager->callback);
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
    TRACE(manager, TRUE, .method = "CreateMalloc", .present = HM_TRACE_FLAGS | HM_TRACE_HRESULT | HM_TRACE_RESULT,
          .flags = malloc_type, .hr = hr, .result = *malloc);
    return hr;
}

/* MEM_RESERVE, or MEM_COMMIT at NULL (which the OS reserves too): a new region. The
   limits are charged before the OS is asked, so a refused request reserves nothing. */
static HRESULT reserve_region(struct memory_manager *manager, void *address, SIZE_T size, DWORD type,
                              DWORD protect, EMemoryCriticalLevel level, void **mem, DWORD *os_error)
{
    uintptr_t start = (uintptr_t)address;
    uint64_t as_limit = manager->settings.address_space_limit;
    SIZE_T span;
    uint64_t charge;
    hm_region *region;
    void *base;

    if (!size || size > manager->max_request)
        return invalid_parameter();
    /* The OS rounds a reservation's address down to the allocation granularity. */
    if (address) {
        uintptr_t first = start & ~(uintptr_t)(manager->granularity - 1);
        if (start + size < start || start + size > UINTPTR_MAX - manager->page_size)
            return invalid_parameter();
        span = round_up((SIZE_T)(start + size - first), manager->page_size);
    } else {
        span = round_up(size, manager->page_size);
    }

    *os_error = ERROR_NOT_ENOUGH_MEMORY;
    if (!(region = hm_ledger_prepare_region(manager->ledger, span)))
        return HM_E_NO_MEMORY;
    if (!hm_budget_charge(&manager->address_space, span, as_limit ? as_limit : UINT64_MAX)) {
        hm_ledger_discard_region(manager->ledger, region);
        return HM_E_NO_MEMORY;
    }
    charge = (type & MEM_COMMIT) ? span : 0;
    if (charge && !hm_ledger_charge(manager->ledger, charge, commit_ceiling(manager, level))) {
        hm_budget_uncharge(&manager->address_space, span);
        hm_ledger_discard_region(manager->ledger, region);
        return HM_E_NO_MEMORY;
    }

    base = hm_os.VirtualAlloc(address, size, type, protect);
    if (!base || !hm_ledger_publish_region(manager->ledger, region, (uintptr_t)base, charge != 0)) {
        *os_error = base ? ERROR_NOT_ENOUGH_MEMORY : GetLastError();
        if (base)
            hm_os.VirtualFree(base, 0, MEM_RELEASE); /* the books could not take it */
        else
            hm_ledger_discard_region(manager->ledger, region);
        hm_ledger_uncharge(manager->ledger, charge);
        hm_budget_uncharge(&manager->address_space, span);
        commit_changed(manager, FALSE);
        if (!hm_is_out_of_memory_error(*os_error)) {
            SetLastError(*os_error);
            return hm_hresult_from_os_error(*os_error);
        }
        return HM_E_NO_MEMORY;
    }
    if (charge)
        commit_changed(manager, FALSE);
    *mem = base;
    return S_OK;
}

/* MEM_COMMIT inside a region of ours (locked): the region's lock orders the page bits
   with the OS call, so concurrent commits and decommits never make the books drift. */
static HRESULT commit_in_region(struct memory_manager *manager, hm_region *region, void *address, SIZE_T size,
                                DWORD type, DWORD protect, EMemoryCriticalLevel level, void **mem,
                                DWORD *os_error)
{
    uintptr_t start = (uintptr_t)address;
    uintptr_t end = start + size < start ? UINTPTR_MAX : start + size;
    uint64_t charge = (uint64_t)hm_region_count_uncommitted(region, start, end) * manager->page_size;
    void *result;

    if (charge && !hm_ledger_charge(manager->ledger, charge, commit_ceiling(manager, level))) {
        hm_ledger_unlock_region(region);
        *os_error = ERROR_NOT_ENOUGH_MEMORY;
        return HM_E_NO_MEMORY;
    }
    result = hm_os.VirtualAlloc(address, size, type, protect);
    if (!result) {
        *os_error = GetLastError();
        hm_ledger_uncharge(manager->ledger, charge);
        hm_ledger_unlock_region(region);
        if (charge)
            commit_changed(manager, FALSE);
        if (!hm_is_out_of_memory_error(*os_error)) {
            SetLastError(*os_error);
            return hm_hresult_from_os_error(*os_error);
        }
        return HM_E_NO_MEMORY;
    }
    hm_region_mark_committed(region, start, end);
    hm_ledger_unlock_region(region);
    if (charge)
        commit_changed(manager, FALSE);
    *mem = result;
    return S_OK;
}

static HRESULT try_virtual_alloc(struct memory_manager *manager, void *address, SIZE_T size, DWORD type,
                                 DWORD protect, EMemoryCriticalLevel level, void **mem, DWORD *os_error)
{
    hm_region *region;
    void *result;

    if ((type & MEM_RESERVE) || ((type & MEM_COMMIT) && !address))
        return reserve_region(manager, address, size, type, protect, level, mem, os_error);
    /* MEM_RESET commits nothing, whatever it comes with: Windows refuses MEM_COMMIT |
       MEM_RESET, Wine resets and answers yes without committing. */
    if ((type & MEM_COMMIT) && !(type & MEM_RESET) &&
        (region = hm_ledger_lock_region(manager->ledger, (uintptr_t)address)))
        return commit_in_region(manager, region, address, size, type, protect, level, mem, os_error);

    /* MEM_RESET and friends change no commit; a commit into memory that hostmem did not
       reserve (the CLR took a few blocks from the OS before SetHostControl) is the OS's
       to judge and is not booked. */
    if ((result = hm_os.VirtualAlloc(address, size, type, protect))) {
        *mem = result;
        return S_OK;
    }
    *os_error = GetLastError();
    if (hm_is_out_of_memory_error(*os_error))
        return HM_E_NO_MEMORY;
    SetLastError(*os_error);
    return hm_hresult_from_os_error(*os_error);
}

static HRESULT WINAPI memory_manager_VirtualAlloc(IHostMemoryManager *iface, void *address, SIZE_T size,
                                                  DWORD type, DWORD protect, EMemoryCriticalLevel level,
                                                  void **mem)
{
    struct memory_manager *manager = impl_from_IHostMemoryManager(iface);
    DWORD os_error = 0;
    HRESULT hr;

    if (!mem)
        return E_POINTER;
    *mem = NULL;
    if (!hm_level_is_valid((uint32_t)level)) {
        hr = invalid_parameter();
    } else {
        hr = try_virtual_alloc(manager, address, size, type, protect, level, mem, &os_error);
        if (hr == HM_E_NO_MEMORY && hm_manager_wait_for_memory(manager, level, size))
            hr = try_virtual_alloc(manager, address, size, type, protect, level, mem, &os_error);
        if (hr == HM_E_NO_MEMORY)
            hr = hm_manager_out_of_memory(manager, level, size, os_error, "VirtualAlloc");
    }
    TRACE(manager, TRUE, .method = "VirtualAlloc", .present = HM_TRACE_LEVEL | HM_TRACE_ADDRESS | HM_TRACE_SIZE |
          HM_TRACE_FLAGS | HM_TRACE_PROTECT | HM_TRACE_HRESULT | HM_TRACE_RESULT, .level = (DWORD)level,
          .address = address, .size = size, .flags = type, .protect = protect, .hr = hr, .result = *mem);
    return hr;
}

static HRESULT virtual_free(struct memory_manager *manager, LPVOID address, SIZE_T size, DWORD free_type)
{
    uintptr_t start = (uintptr_t)address;
    hm_region *region;
    uint64_t pages;

    if (free_type != MEM_DECOMMIT && free_type != MEM_RELEASE)
        return invalid_parameter();
    if (!(region = hm_ledger_lock_region(manager->ledger, start)))
        return HOST_E_INVALIDOPERATION;

    /* A range that leaves the region is partly memory hostmem never gave out. */
    if (size && (start + size < start || start + size > hm_region_end(region))) {
        hm_ledger_unlock_region(region);
        return HOST_E_INVALIDOPERATION;
    }
    /* Size 0 is documented only at the region's base (decommit or release it all).
       A decommit of "the rest of the region" from inside it is refused here; a
       MEM_RELEASE away from the base goes to the OS, which refuses it with its own
       error (ERROR_INVALID_ADDRESS), so the CLR reads the OS's answer. */
    if (!size && free_type == MEM_DECOMMIT && start != hm_region_base(region)) {
        hm_ledger_unlock_region(region);
        return invalid_parameter();
    }

    if (!hm_os.VirtualFree(address, size, free_type)) {
        DWORD error = GetLastError();
        hm_ledger_unlock_region(region);
        SetLastError(error);
        return hm_hresult_from_os_error(error);
    }
    if (free_type == MEM_RELEASE) {
        uint64_t span = hm_region_end(region) - hm_region_base(region);
        pages = hm_ledger_retire_region(manager->ledger, region) / manager->page_size;
        hm_budget_uncharge(&manager->address_space, span);
    } else {
        pages = hm_region_mark_decommitted(region, start, size ? start + size : hm_region_end(region));
        hm_ledger_unlock_region(region);
        hm_ledger_uncharge(manager->ledger, pages * manager->page_size);
    }
    if (pages)
        commit_changed(manager, TRUE);
    return S_OK;
}

static HRESULT WINAPI memory_manager_VirtualFree(IHostMemoryManager *iface, LPVOID address, SIZE_T size, DWORD free_type)
{
    struct memory_manager *manager = impl_from_IHostMemoryManager(iface);
    HRESULT hr = virtual_free(manager, address, size, free_type);

    TRACE(manager, TRUE, .method = "VirtualFree", .present = HM_TRACE_ADDRESS | HM_TRACE_SIZE | HM_TRACE_FLAGS |
          HM_TRACE_HRESULT, .address = address, .size = size, .flags = free_type, .hr = hr);
    return hr;
}

/* No lock here, ever: the CLR calls this with other threads suspended (CONTRACT.md §1). */
static HRESULT virtual_query(const struct memory_manager *manager, void *address, void *buffer, SIZE_T length,
                             SIZE_T *result)
{
    SIZE_T written;

    if (!result)
        return E_POINTER;
    /* Nothing is ever mapped below the lowest application address, so the OS would
       fault writing there and answer ERROR_NOACCESS; Wine does, but faults inside its
       virtual-memory lock and keeps it (later thread exits hang). Answer as the OS. */
    if (length >= sizeof(MEMORY_BASIC_INFORMATION) && (uintptr_t)buffer < manager->min_address) {
        *result = 0;
        SetLastError(ERROR_NOACCESS);
        return HRESULT_FROM_WIN32(ERROR_NOACCESS);
    }
    written = hm_os.VirtualQuery(address, buffer, length);
    *result = written;
    if (!written) {
        DWORD error = GetLastError();
        SetLastError(error);
        return hm_hresult_from_os_error(error);
    }
    return S_OK;
}

static HRESULT WINAPI memory_manager_VirtualQuery(IHostMemoryManager *iface, void *address, void *buffer, SIZE_T length, SIZE_T *result)
{
    struct memory_manager *manager = impl_from_IHostMemoryManager(iface);
    HRESULT hr = virtual_query(manager, address, buffer, length, result);

    /* Never waits for the trace either: a row is dropped rather than wait. */
    TRACE(manager, FALSE, .method = "VirtualQuery", .present = HM_TRACE_ADDRESS | HM_TRACE_SIZE | HM_TRACE_HRESULT,
          .address = address, .size = length, .hr = hr);
    return hr;
}

static HRESULT virtual_protect(void *address, SIZE_T size, DWORD protect, DWORD *old_protect)
{
    if (!old_protect)
        return E_POINTER;
    if (!hm_os.VirtualProtect(address, size, protect, old_protect))
        return hm_hresult_from_os_error(GetLastError());
    return S_OK;
}

static HRESULT WINAPI memory_manager_VirtualProtect(IHostMemoryManager *iface, void *address, SIZE_T size, DWORD protect, DWORD *old_protect)
{
    struct memory_manager *manager = impl_from_IHostMemoryManager(iface);
    HRESULT hr = virtual_protect(address, size, protect, old_protect);

    TRACE(manager, TRUE, .method = "VirtualProtect", .present = HM_TRACE_ADDRESS | HM_TRACE_SIZE | HM_TRACE_PROTECT |
          HM_TRACE_HRESULT, .address = address, .size = size, .protect = protect, .hr = hr);
    return hr;
}

static HRESULT get_memory_load(struct memory_manager *manager, DWORD *load, SIZE_T *available)
{
    uint64_t limit = manager->settings.commit_limit, committed, room;
    MEMORYSTATUSEX status;

    if (!load || !available)
        return E_POINTER;
    *load = 0;
    *available = 0;
    status.dwLength = sizeof(status);
    if (!hm_os.GlobalMemoryStatusEx(&status))
        return hm_hresult_from_os_error(GetLastError());
    if (limit) {
        /* The CLR's GC sizes itself by these figures: under a limit, the limit is the machine. */
        committed = hm_ledger_committed_bytes(manager->ledger);
        room = committed < limit ? limit - committed : 0;
        if (room > status.ullAvailPhys)
            room = status.ullAvailPhys;
        *load = committed >= limit ? 100 : (DWORD)(committed / (limit / 100 ? limit / 100 : 1));
        if (*load > 100)
            *load = 100;
        *available = room > (uint64_t)SIZE_MAX ? SIZE_MAX : (SIZE_T)room;
        return S_OK;
    }
    *load = status.dwMemoryLoad;
    *available = status.ullAvailPhys > (DWORDLONG)SIZE_MAX ? SIZE_MAX : (SIZE_T)status.ullAvailPhys;
    return S_OK;
}

static HRESULT WINAPI memory_manager_GetMemoryLoad(IHostMemoryManager *iface, DWORD *load, SIZE_T *available)
{
    struct memory_manager *manager = impl_from_IHostMemoryManager(iface);
    HRESULT hr = get_memory_load(manager, load, available);

    TRACE(manager, TRUE, .method = "GetMemoryLoad", .present = HM_TRACE_HRESULT, .hr = hr);
    return hr;
}

/* On the notifier thread (or inline where none runs), outside every hostmem lock. */
static void deliver_notification(void *context, int state)
{
    struct memory_manager *manager = context;
    ICLRMemoryNotificationCallback *callback;

    hm_lock_acquire(&manager->lock);
    if ((callback = manager->callback))
        ICLRMemoryNotificationCallback_AddRef(callback);
    hm_lock_release(&manager->lock);
    if (!callback)
        return;
    atomic_fetch_add_explicit(&manager->notifications[state - eMemoryAvailableLow], 1, memory_order_relaxed);
    TRACE(manager, TRUE, .method = "OnMemoryNotification", .present = HM_TRACE_FLAGS, .flags = (DWORD)state);
    ICLRMemoryNotificationCallback_OnMemoryNotification(callback, (EMemoryAvailable)state);
    ICLRMemoryNotificationCallback_Release(callback);
}

static HRESULT register_callback(struct memory_manager *manager, ICLRMemoryNotificationCallback *callback)
{
    ICLRMemoryNotificationCallback *previous;

    if (callback) {
        ICLRMemoryNotificationCallback_AddRef(callback);
        /* Without a thread the notifications are delivered on the allocating thread;
           they still arrive, so a refusal changes nothing for the CLR. */
        hm_notifier_start(&manager->notifier);
    }
    hm_lock_acquire(&manager->lock);
    previous = manager->callback;
    manager->callback = callback;
    hm_lock_release(&manager->lock);
    /* Outside the lock: a callback's Release may call back into hostmem. */
    if (previous)
        ICLRMemoryNotificationCallback_Release(previous);
    return S_OK;
}

static HRESULT WINAPI memory_manager_RegisterMemoryNotificationCallback(IHostMemoryManager *iface, ICLRMemoryNotificationCallback *callback)
{
    struct memory_manager *manager = impl_from_IHostMemoryManager(iface);
    HRESULT hr = register_callback(manager, callback);

    TRACE(manager, TRUE, .method = "RegisterMemoryNotificationCallback", .present = HM_TRACE_ADDRESS | HM_TRACE_HRESULT,
          .address = callback, .hr = hr);
    return hr;
}

static HRESULT needs_address_space(struct memory_manager *manager, LPVOID start, SIZE_T size)
{
    uint64_t limit = manager->settings.address_space_limit;

    (void)start;
    if (limit && size > limit - (hm_budget_used(&manager->address_space) < limit
                                     ? hm_budget_used(&manager->address_space) : limit))
        return E_OUTOFMEMORY;
    return S_OK;
}

static HRESULT WINAPI memory_manager_NeedsVirtualAddressSpace(IHostMemoryManager *iface, LPVOID start, SIZE_T size)
{
    struct memory_manager *manager = impl_from_IHostMemoryManager(iface);
    HRESULT hr = needs_address_space(manager, start, size);

    TRACE(manager, TRUE, .method = "NeedsVirtualAddressSpace", .present = HM_TRACE_ADDRESS | HM_TRACE_SIZE |
          HM_TRACE_HRESULT, .address = start, .size = size, .hr = hr);
    return hr;
}

static HRESULT acquired_address_space(struct memory_manager *manager, LPVOID start, SIZE_T size)
{
    hm_block view, previous;
    BOOL replaced, recorded;

    /* A view lies in user address space; booking anything else would keep bytes that
       no view holds. */
    if (!start || (uintptr_t)start < manager->min_address || (uintptr_t)start > manager->max_address ||
        size > manager->max_address - (uintptr_t)start + 1)
        return E_INVALIDARG;
    view.address = start;
    view.size = size;
    view.file = NULL;
    view.line = 0;
    hm_lock_acquire(&manager->lock);
    replaced = hm_blocks_remove(&manager->views, start, &previous);
    if ((recorded = hm_blocks_reserve(&manager->views)))
        hm_blocks_insert(&manager->views, &view);
    hm_lock_release(&manager->lock);

    /* The view exists whether or not hostmem could book it; only booked views count,
       so the books never keep bytes that no Released call could take back. */
    if (replaced) {
        atomic_fetch_sub_explicit(&manager->mapped_bytes, previous.size, memory_order_relaxed);
        hm_budget_uncharge(&manager->address_space, previous.size);
    }
    if (!recorded)
        return E_OUTOFMEMORY;
    atomic_fetch_add_explicit(&manager->mapped_bytes, size, memory_order_relaxed);
    hm_budget_charge(&manager->address_space, size, UINT64_MAX);
    return S_OK;
}

static HRESULT WINAPI memory_manager_AcquiredVirtualAddressSpace(IHostMemoryManager *iface, LPVOID start, SIZE_T size)
{
    struct memory_manager *manager = impl_from_IHostMemoryManager(iface);
    HRESULT hr = acquired_address_space(manager, start, size);

    TRACE(manager, TRUE, .method = "AcquiredVirtualAddressSpace", .present = HM_TRACE_ADDRESS | HM_TRACE_SIZE |
          HM_TRACE_HRESULT, .address = start, .size = size, .hr = hr);
    return hr;
}

static HRESULT released_address_space(struct memory_manager *manager, LPVOID start)
{
    hm_block view;
    BOOL found;

    hm_lock_acquire(&manager->lock);
    found = hm_blocks_remove(&manager->views, start, &view);
    hm_lock_release(&manager->lock);
    if (!found)
        return HOST_E_INVALIDOPERATION;
    atomic_fetch_sub_explicit(&manager->mapped_bytes, view.size, memory_order_relaxed);
    hm_budget_uncharge(&manager->address_space, view.size);
    return S_OK;
}

static HRESULT WINAPI memory_manager_ReleasedVirtualAddressSpace(IHostMemoryManager *iface, LPVOID start)
{
    struct memory_manager *manager = impl_from_IHostMemoryManager(iface);
    HRESULT hr = released_address_space(manager, start);

    TRACE(manager, TRUE, .method = "ReleasedVirtualAddressSpace", .present = HM_TRACE_ADDRESS | HM_TRACE_HRESULT,
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

IHostMemoryManager *hm_memory_manager_iface(struct memory_manager *manager)
{
    return &manager->IHostMemoryManager_iface;
}

struct memory_manager *hm_memory_manager_from_manager_iface(IUnknown *object)
{
    if (object && ((IHostMemoryManager *)object)->lpVtbl == &memory_manager_vtbl)
        return impl_from_IHostMemoryManager((IHostMemoryManager *)object);
    return NULL;
}

HRESULT hm_memory_manager_create(const hm_settings *settings, struct memory_manager **result)
{
    struct memory_manager *manager;
    SYSTEM_INFO info;
    HANDLE heap;

    *result = NULL;
    hm_os.GetSystemInfo(&info);
    if (!(heap = hm_os.HeapCreate(0, 0, 0)))
        return E_OUTOFMEMORY;
    if (!(manager = hm_os.HeapAlloc(heap, HEAP_ZERO_MEMORY, sizeof(*manager)))) {
        hm_os.HeapDestroy(heap);
        return E_OUTOFMEMORY;
    }
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
    if (!(manager->ledger = hm_ledger_create(&manager->allocator, manager->page_size))) {
        hm_os.HeapDestroy(heap);
        return E_OUTOFMEMORY;
    }
    if (settings->commit_limit)
        hm_pressure_init(&manager->pressure, settings->commit_limit, settings->high_water_percent,
                         settings->low_water_percent);
    /* Without a limit of its own, hostmem passes on what the OS says of memory. */
    hm_notifier_init(&manager->notifier, deliver_notification, manager, !settings->commit_limit,
                     OS_NOTIFICATION_POLL_MS);
    if (settings->trace_file[0] && (manager->trace = hm_trace_open(settings->trace_file, heap)))
        TRACE(manager, TRUE, .method = "Start", .present = HM_TRACE_SIZE | HM_TRACE_DECIMAL,
              .size = settings->commit_limit, .flags = settings->commit_limit ? settings->high_water_percent : 0,
              .protect = settings->commit_limit ? settings->low_water_percent : 0);
    *result = manager;
    return S_OK;
}

HRESULT WINAPI HostMemCreateMemoryManager(const HOSTMEM_CONFIG *config, IHostMemoryManager **ppManager)
{
    struct memory_manager *manager;
    hm_settings settings;
    HRESULT hr;

    if (!ppManager)
        return E_POINTER;
    *ppManager = NULL;
    if (FAILED(hr = hm_settings_from_config(config, &settings)))
        return hr;
    if (FAILED(hr = hm_memory_manager_create(&settings, &manager)))
        return hr;
    *ppManager = &manager->IHostMemoryManager_iface;
    return S_OK;
}

/* Every size HOSTMEM_STATS has had: a caller passes the one its header knew. */
static BOOL hm_stats_size_is_known(DWORD size)
{
    return size == HOSTMEM_STATS_V1_SIZE || size == sizeof(HOSTMEM_STATS);
}

HRESULT WINAPI HostMemGetStats(IUnknown *object, HOSTMEM_STATS *stats)
{
    struct memory_manager *manager;
    HOSTMEM_STATS all;
    uint64_t charge;
    int i;

    if (!object || !stats)
        return E_POINTER;
    if (!hm_stats_size_is_known(stats->cbSize) || !(manager = hm_memory_manager_from_unknown(object)))
        return E_INVALIDARG;
    memset(&all, 0, sizeof(all));
    /* The charge covers the CLR's VirtualAlloc commits and the heaps' mappings; the
       heaps' share is counted apart. While a heap maps or unmaps a slab the two may
       disagree by that slab for an instant; a quiet manager's figures are exact.
       Committed before peak, and peak (of the whole charge) never below it. */
    all.mallocCommittedBytes = atomic_load_explicit(&manager->malloc_committed, memory_order_relaxed);
    charge = hm_ledger_committed_bytes(manager->ledger);
    all.committedBytes = charge > all.mallocCommittedBytes ? charge - all.mallocCommittedBytes : 0;
    all.peakCommittedBytes = hm_ledger_peak_committed_bytes(manager->ledger);
    if (all.peakCommittedBytes < charge)
        all.peakCommittedBytes = charge;
    all.reservedBytes = hm_ledger_reserved_bytes(manager->ledger);
    all.mallocBytes = malloc_bytes_now(manager);
    all.mappedBytes = atomic_load_explicit(&manager->mapped_bytes, memory_order_relaxed);
    for (i = 0; i < 3; i++) {
        all.failures[i] = atomic_load_explicit(&manager->failures[i], memory_order_relaxed);
        all.notifications[i] = atomic_load_explicit(&manager->notifications[i], memory_order_relaxed);
    }
    all.escalations = atomic_load_explicit(&manager->escalations, memory_order_relaxed);
    /* A caller built against an older header gets the fields it knows, no more. */
    memcpy((char *)stats + sizeof(stats->cbSize), (const char *)&all + sizeof(all.cbSize),
           stats->cbSize - sizeof(stats->cbSize));
    return S_OK;
}
