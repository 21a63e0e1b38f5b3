/*
 * IHostMalloc: the CLR's internal heap (its new, EEHeapAlloc), on hostmem's own
 * allocator (src/core/heap.h, docs/heap.md).
 *
 * Each object has:
 * - a heap whose slabs and large blocks come from the manager's booked VirtualAlloc
 *   path (hm_malloc_memory_map): they count against commitLimit, GetMemoryLoad and the
 *   water marks, and an Alloc that would pass the limit takes the same path as a
 *   VirtualAlloc: the level's headroom, the wait and one retry for the critical
 *   levels, then the policy (E_OUTOFMEMORY or E_FAIL and the escalation callback);
 * - a private Win32 heap for the allocator's bookkeeping (slab records, the address
 *   map), serialized only when the object is MALLOC_THREADSAFE, and never executable:
 *   MALLOC_EXECUTABLE makes the CLR's blocks executable, nothing else.
 * A Free never touches the pointer; a pointer that is not a live block of this object
 * is refused with HOST_E_INVALIDOPERATION and nothing changes.
 */
#include "host_malloc.h"

#include "exports.h"
#include "memory_manager.h"

#include "core/heap.h"
#include "core/hints.h"
#include "core/policy.h"
#include "os.h"

struct host_malloc {
    IHostMalloc            IHostMalloc_iface;
    LONG                   ref;
    struct memory_manager *manager;  /* holds a reference: the books are its */
    HANDLE                 books;    /* the allocator's bookkeeping */
    hm_heap               *heap;     /* the CLR's blocks */
    DWORD                  malloc_type;
    DWORD                  protect;  /* of every slab and large block */
    SIZE_T                 max_request; /* the manager's, read on every Alloc */
    hm_heap_counter       *counters; /* the heap's mallocBytes, the manager's memory */
    hm_list_entry          entry;    /* in the manager's list */
    hm_trace              *trace;    /* the manager's; NULL when tracing is off */
};

static const IHostMallocVtbl host_malloc_vtbl;

static inline struct host_malloc *impl_from_IHostMalloc(IHostMalloc *iface)
{
    return CONTAINING_RECORD(iface, struct host_malloc, IHostMalloc_iface);
}

/* --- what the allocator runs on --- */

static void *books_alloc(void *context, size_t bytes)
{
    return hm_os.HeapAlloc((HANDLE)context, 0, bytes);
}

static void books_free(void *context, void *block)
{
    if (block)
        hm_os.HeapFree((HANDLE)context, 0, block);
}

static void *heap_map(void *context, size_t bytes, int level)
{
    struct host_malloc *malloc = context;
    return hm_malloc_memory_map(malloc->manager, bytes, malloc->protect, (EMemoryCriticalLevel)level);
}

static bool heap_unmap(void *context, void *base, size_t bytes)
{
    struct host_malloc *malloc = context;
    return hm_malloc_memory_unmap(malloc->manager, base, bytes) != FALSE;
}

/* --- IUnknown --- */

static HRESULT WINAPI host_malloc_QueryInterface(IHostMalloc *iface, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (!riid)
        return E_INVALIDARG;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IHostMalloc)) {
        *ppv = iface;
        IHostMalloc_AddRef(iface);
        return S_OK;
    }
    return E_NOINTERFACE;
}

static ULONG WINAPI host_malloc_AddRef(IHostMalloc *iface)
{
    struct host_malloc *malloc = impl_from_IHostMalloc(iface);
    return (ULONG)InterlockedIncrement(&malloc->ref);
}

static ULONG WINAPI host_malloc_Release(IHostMalloc *iface)
{
    struct host_malloc *malloc = impl_from_IHostMalloc(iface);
    LONG ref = InterlockedDecrement(&malloc->ref);

    if (!ref) {
        struct memory_manager *manager = malloc->manager;

        hm_manager_remove_malloc(manager, &malloc->entry);
        /* Nobody can use the object any more: every block the CLR did not free goes
           with the heap, and off the books. */
        hm_heap_destroy(malloc->heap);
        hm_malloc_memory_release_counters(manager, malloc->counters);
        hm_os.HeapDestroy(malloc->books);
        hm_manager_heap_free(manager, malloc);
        IHostMemoryManager_Release(hm_manager_iface(manager));
    }
    return (ULONG)ref;
}

/* --- Alloc, DebugAlloc, Free --- */

/* What the heap will ask the manager for when it needs memory for a block of size. */
static SIZE_T mapping_for(const struct host_malloc *malloc, SIZE_T size)
{
    SIZE_T page = (malloc->manager)->page_size;
    return size <= HM_HEAP_SMALL_MAX ? HM_HEAP_SLAB_SIZE : (size + page - 1) & ~(page - 1);
}

/* Everything but a block the heap had at once: bad arguments (tried false: the heap
   was not asked), no memory (the trim, the wait and the retry, then the policy). Out
   of line, so that the calls that succeed save no registers for it. */
static HM_NOINLINE HRESULT allocate_slow(struct host_malloc *malloc, SIZE_T size, EMemoryCriticalLevel level,
                                         char *file, int line, const char *method, void **mem, bool tried)
{
    hm_heap_status status = HM_HEAP_NO_MEMORY;

    if (!tried) {
        if (!mem)
            return E_POINTER;
        *mem = NULL;
        if (!hm_level_is_valid((uint32_t)level) || size > malloc->max_request) {
            SetLastError(ERROR_INVALID_PARAMETER);
            return E_INVALIDARG;
        }
        status = hm_heap_alloc(malloc->heap, size, (int)level, file, line, mem);
    }
    if (status == HM_HEAP_NO_MEMORY) {
        /* The empty slabs the classes keep go first: under a limit they may be exactly
           the room this request needs (the wait below then ends at once). */
        hm_heap_trim(malloc->heap);
        if (hm_limit_wait_for_memory(malloc->manager, level, mapping_for(malloc, size)))
            status = hm_heap_alloc(malloc->heap, size, (int)level, file, line, mem);
    }
    /* The limit, the OS or the bookkeeping: no memory is the only cause. */
    if (status != HM_HEAP_OK)
        return hm_limit_out_of_memory(malloc->manager, level, size, ERROR_NOT_ENOUGH_MEMORY, method);
    return S_OK;
}

static HM_NOINLINE void trace_allocation(struct host_malloc *malloc, const char *method, SIZE_T size,
                                         EMemoryCriticalLevel level, HRESULT hr, void **mem)
{
    hm_trace_row row = { .method = method, .present = HM_TRACE_LEVEL | HM_TRACE_SIZE | HM_TRACE_HRESULT | HM_TRACE_RESULT,
                         .level = (DWORD)level, .size = size, .hr = hr, .result = mem ? *mem : NULL };
    hm_manager_trace_row(malloc->manager, &row, TRUE);
}

/* Alloc and DebugAlloc: the common case (valid arguments, the heap has the block, no
   tracing) in a few instructions, everything else in allocate_slow. */
static inline HRESULT allocate(struct host_malloc *malloc, SIZE_T size, EMemoryCriticalLevel level, char *file,
                               int line, const char *method, void **mem)
{
    HRESULT hr;

    if (HM_UNLIKELY(!mem || (uint32_t)level >= HM_LEVEL_COUNT || size > malloc->max_request))
        hr = allocate_slow(malloc, size, level, file, line, method, mem, false);
    else if (HM_LIKELY(hm_heap_alloc(malloc->heap, size, (int)level, file, line, mem) == HM_HEAP_OK))
        hr = S_OK;
    else
        hr = allocate_slow(malloc, size, level, file, line, method, mem, true);
    if (HM_UNLIKELY(malloc->trace != NULL))
        trace_allocation(malloc, method, size, level, hr, mem);
    return hr;
}

static HRESULT WINAPI host_malloc_Alloc(IHostMalloc *iface, SIZE_T size, EMemoryCriticalLevel level, void **mem)
{
    return allocate(impl_from_IHostMalloc(iface), size, level, NULL, 0, "Alloc", mem);
}

static HRESULT WINAPI host_malloc_DebugAlloc(IHostMalloc *iface, SIZE_T size, EMemoryCriticalLevel level,
                                             char *file, int line, void **mem)
{
    return allocate(impl_from_IHostMalloc(iface), size, level, file, line, "DebugAlloc", mem);
}

/* A Free the heap did not take, or one to trace. */
static HM_NOINLINE HRESULT release_slow(struct host_malloc *malloc, void *mem, hm_heap_status status)
{
    HRESULT hr;
    DWORD error;

    switch (status) {
    case HM_HEAP_OK:
        hr = S_OK;
        break;
    case HM_HEAP_OS_REFUSED:
        /* A large block whose memory the OS would not take back: still the CLR's. */
        error = GetLastError();
        SetLastError(error);
        hr = hm_win32_error_to_hresult(error);
        break;
    default:
        hr = HOST_E_INVALIDOPERATION;
        break;
    }
    if (malloc->trace) {
        hm_trace_row row = { .method = "Free", .present = HM_TRACE_ADDRESS | HM_TRACE_HRESULT, .address = mem,
                             .hr = hr };
        hm_manager_trace_row(malloc->manager, &row, TRUE);
    }
    return hr;
}

static HRESULT WINAPI host_malloc_Free(IHostMalloc *iface, void *mem)
{
    struct host_malloc *malloc = impl_from_IHostMalloc(iface);
    /* The CLR frees NULL routinely (docs/clr-contract.md, "How the CLR reads each answer"). */
    hm_heap_status status = mem ? hm_heap_free(malloc->heap, mem, NULL) : HM_HEAP_OK;

    if (HM_LIKELY(status == HM_HEAP_OK && !malloc->trace))
        return S_OK;
    return release_slow(malloc, mem, status);
}

static const IHostMallocVtbl host_malloc_vtbl = {
    host_malloc_QueryInterface,
    host_malloc_AddRef,
    host_malloc_Release,
    host_malloc_Alloc,
    host_malloc_DebugAlloc,
    host_malloc_Free,
};

HRESULT hm_host_malloc_create(struct memory_manager *manager, DWORD malloc_type, IHostMalloc **result)
{
    struct host_malloc *malloc;
    hm_heap_config config;

    if (!(malloc = hm_manager_heap_alloc(manager, sizeof(*malloc))))
        return E_OUTOFMEMORY;
    /* The bookkeeping is touched from every thread only when the CLR may do so. */
    if (!(malloc->books = hm_os.HeapCreate((malloc_type & MALLOC_THREADSAFE) ? 0 : HEAP_NO_SERIALIZE, 0, 0))) {
        hm_manager_heap_free(manager, malloc);
        return E_OUTOFMEMORY;
    }
    malloc->IHostMalloc_iface.lpVtbl = &host_malloc_vtbl;
    malloc->ref = 1;
    malloc->manager = manager;
    malloc->malloc_type = malloc_type;
    malloc->protect = (malloc_type & MALLOC_EXECUTABLE) ? PAGE_EXECUTE_READWRITE : PAGE_READWRITE;
    malloc->trace = manager->trace;
    malloc->max_request = manager->max_request;
    config.allocator.alloc = books_alloc;
    config.allocator.free = books_free;
    config.allocator.context = malloc->books;
    config.provider.map = heap_map;
    config.provider.unmap = heap_unmap;
    config.provider.context = malloc;
    config.page_size = (manager)->page_size;
    config.threadsafe = (malloc_type & MALLOC_THREADSAFE) != 0;
    if (!(config.counters = malloc->counters = hm_malloc_memory_acquire_counters(manager))) {
        hm_os.HeapDestroy(malloc->books);
        hm_manager_heap_free(manager, malloc);
        return E_OUTOFMEMORY;
    }
    if (!(malloc->heap = hm_heap_create(&config))) {
        hm_malloc_memory_release_counters(manager, malloc->counters);
        hm_os.HeapDestroy(malloc->books);
        hm_manager_heap_free(manager, malloc);
        return E_OUTOFMEMORY;
    }
    IHostMemoryManager_AddRef(hm_manager_iface(manager));
    hm_manager_add_malloc(manager, &malloc->entry);
    *result = &malloc->IHostMalloc_iface;
    return S_OK;
}

/* For the benchmark: the private heap that holds this object's bookkeeping. */
/* --- the leak report --- */

/* One consistent snapshot of every listed malloc: the list lock keeps the mallocs
   alive and every heap of theirs is stopped at once while the blocks are counted and
   copied, so a block allocated or freed meanwhile is wholly in or wholly out. The copy
   is made on the manager's heap, which no heap lock ever waits for; the callback runs
   after every lock is dropped. */
static HRESULT snapshot_blocks(struct memory_manager *manager, struct host_malloc *only, hm_heap_block **blocks,
                               size_t *count)
{
    hm_list_entry *head = hm_manager_lock_mallocs(manager), *entry;
    HRESULT hr = S_OK;
    size_t total, n;
    BOOL valid;

    *blocks = NULL;
    *count = 0;
    for (entry = head->next; entry != head; entry = entry->next) {
        struct host_malloc *malloc = CONTAINING_RECORD(entry, struct host_malloc, entry);
        if (!only || malloc == only)
            hm_heap_lock_all(malloc->heap);
    }
    /* Read again until no arena's owner ran during the reading (heap.h): at most once
       more for an owner that had not yet seen the stop. */
    do {
        total = n = 0;
        for (entry = head->next; entry != head; entry = entry->next) {
            struct host_malloc *malloc = CONTAINING_RECORD(entry, struct host_malloc, entry);
            if (only && malloc != only)
                continue;
            hm_heap_snapshot_begin(malloc->heap);
            total += hm_heap_block_count(malloc->heap);
        }
        if (total && !(*blocks = hm_manager_heap_alloc(manager, total * sizeof(hm_heap_block)))) {
            hr = E_OUTOFMEMORY;
            break;
        }
        valid = TRUE;
        for (entry = head->next; entry != head; entry = entry->next) {
            struct host_malloc *malloc = CONTAINING_RECORD(entry, struct host_malloc, entry);
            if (only && malloc != only)
                continue;
            if (*blocks)
                n += hm_heap_copy_blocks(malloc->heap, *blocks + n, total - n);
            valid = valid && hm_heap_snapshot_valid(malloc->heap);
        }
        if (!valid) {
            hm_manager_heap_free(manager, *blocks);
            *blocks = NULL;
        }
    } while (!valid);
    for (entry = head->next; entry != head; entry = entry->next) {
        struct host_malloc *malloc = CONTAINING_RECORD(entry, struct host_malloc, entry);
        if (!only || malloc == only)
            hm_heap_unlock_all(malloc->heap);
    }
    hm_manager_unlock_mallocs(manager);
    *count = hr == S_OK ? n : 0;
    return hr;
}

HRESULT WINAPI HostMemEnumMallocBlocks(IUnknown *object, HOSTMEM_BLOCK_CALLBACK callback, void *context)
{
    struct memory_manager *manager;
    struct host_malloc *only = NULL;
    hm_heap_block *blocks;
    size_t count, i;
    HRESULT hr;

    if (!object || !callback)
        return E_POINTER;
    if (((IHostMalloc *)object)->lpVtbl == &host_malloc_vtbl) {
        only = impl_from_IHostMalloc((IHostMalloc *)object);
        manager = only->manager;
    } else if (!(manager = hm_exports_manager_of(object))) {
        return E_INVALIDARG;
    }

    /* The callback may release the last outside reference to the object. */
    IHostMemoryManager_AddRef(hm_manager_iface(manager));
    if (SUCCEEDED(hr = snapshot_blocks(manager, only, &blocks, &count))) {
        for (i = 0; i < count; i++) {
            HOSTMEM_BLOCK_INFO info;

            info.cbSize = sizeof(info);
            /* blocks is NULL only when count is 0, which the analyzer cannot see. */
            info.address = blocks[i].address; /* NOLINT(clang-analyzer-core.NullDereference) */
            info.size = blocks[i].size;
            info.file = blocks[i].file;
            info.line = blocks[i].line;
            if (!callback(context, &info))
                break;
        }
        hm_manager_heap_free(manager, blocks);
    }
    IHostMemoryManager_Release(hm_manager_iface(manager));
    return hr;
}
