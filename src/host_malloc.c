/*
 * IHostMalloc: the CLR's internal heap, one private Win32 heap per object, with a
 * table of live blocks so that a foreign pointer is refused without being touched and
 * outstanding blocks can be listed (the leak report).
 */
#include "host_malloc.h"

#include "exports.h"
#include "memory_manager.h"
#include "os.h"

struct host_malloc {
    IHostMalloc            IHostMalloc_iface;
    LONG                   ref;
    struct memory_manager *manager;  /* holds a reference: our memory lives in its heap */
    HANDLE                 heap;     /* the CLR's blocks */
    DWORD                  malloc_type;
    hm_lock                lock;     /* blocks */
    hm_block_table         blocks;
    hm_list_entry          entry;    /* in the manager's list */
    hm_trace              *trace;    /* the manager's; NULL when tracing is off */
};

static const IHostMallocVtbl host_malloc_vtbl;

static inline struct host_malloc *impl_from_IHostMalloc(IHostMalloc *iface)
{
    return CONTAINING_RECORD(iface, struct host_malloc, IHostMalloc_iface);
}

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
        /* Destroying the heap frees every block the CLR did not free. */
        hm_os.HeapDestroy(malloc->heap);
        hm_manager_count_malloc(manager, (SIZE_T)malloc->blocks.bytes, FALSE);
        hm_blocks_destroy(&malloc->blocks);
        hm_lock_destroy(&malloc->lock);
        hm_manager_heap_free(manager, malloc);
        IHostMemoryManager_Release(hm_manager_iface(manager));
    }
    return (ULONG)ref;
}

static HRESULT allocate(struct host_malloc *malloc, SIZE_T size, EMemoryCriticalLevel level, char *file,
                        int line, const char *method, void **mem)
{
    hm_block block;
    void *p;

    if (!mem)
        return E_POINTER;
    *mem = NULL;
    if (!hm_level_is_valid((uint32_t)level) || size > malloc->manager->max_request) {
        SetLastError(ERROR_INVALID_PARAMETER);
        return E_INVALIDARG;
    }
    /* HeapAlloc does not set a last error when it fails: no memory is its only cause. */
    if (!(p = hm_os.HeapAlloc(malloc->heap, 0, size)) && hm_limit_wait_for_memory(malloc->manager, level, size))
        p = hm_os.HeapAlloc(malloc->heap, 0, size);
    if (!p)
        return hm_limit_out_of_memory(malloc->manager, level, size, ERROR_NOT_ENOUGH_MEMORY, method);

    block.address = p;
    block.size = size;
    block.file = file;
    block.line = line;
    hm_lock_acquire(&malloc->lock);
    if (!hm_blocks_reserve(&malloc->blocks)) {
        hm_lock_release(&malloc->lock);
        hm_os.HeapFree(malloc->heap, 0, p);
        return hm_limit_out_of_memory(malloc->manager, level, size, ERROR_NOT_ENOUGH_MEMORY, method);
    }
    hm_blocks_insert(&malloc->blocks, &block);
    hm_lock_release(&malloc->lock);
    hm_manager_count_malloc(malloc->manager, size, TRUE);
    *mem = p;
    return S_OK;
}

static void trace_allocation(struct host_malloc *malloc, const char *method, SIZE_T size,
                             EMemoryCriticalLevel level, HRESULT hr, void **mem)
{
    hm_trace_row row = { .method = method, .present = HM_TRACE_LEVEL | HM_TRACE_SIZE | HM_TRACE_HRESULT | HM_TRACE_RESULT,
                         .level = (DWORD)level, .size = size, .hr = hr, .result = mem ? *mem : NULL };
    hm_manager_trace_row(malloc->manager, &row, TRUE);
}

static HRESULT WINAPI host_malloc_Alloc(IHostMalloc *iface, SIZE_T size, EMemoryCriticalLevel level, void **mem)
{
    struct host_malloc *malloc = impl_from_IHostMalloc(iface);
    HRESULT hr = allocate(malloc, size, level, NULL, 0, "Alloc", mem);

    if (malloc->trace)
        trace_allocation(malloc, "Alloc", size, level, hr, mem);
    return hr;
}

static HRESULT WINAPI host_malloc_DebugAlloc(IHostMalloc *iface, SIZE_T size, EMemoryCriticalLevel level,
                                             char *file, int line, void **mem)
{
    struct host_malloc *malloc = impl_from_IHostMalloc(iface);
    HRESULT hr = allocate(malloc, size, level, file, line, "DebugAlloc", mem);

    if (malloc->trace)
        trace_allocation(malloc, "DebugAlloc", size, level, hr, mem);
    return hr;
}

static HRESULT release_block(struct host_malloc *malloc, void *mem)
{
    hm_block block;
    BOOL found;

    /* The CLR frees NULL routinely (docs/clr-contract.md, "How the CLR reads each answer"). */
    if (!mem)
        return S_OK;
    hm_lock_acquire(&malloc->lock);
    found = hm_blocks_remove(&malloc->blocks, mem, &block);
    hm_lock_release(&malloc->lock);
    if (!found)
        return HOST_E_INVALIDOPERATION;

    if (!hm_os.HeapFree(malloc->heap, 0, mem)) {
        DWORD error = GetLastError();
        /* The block is still the CLR's: keep it on the books. Removing it left room. */
        hm_lock_acquire(&malloc->lock);
        hm_blocks_insert(&malloc->blocks, &block);
        hm_lock_release(&malloc->lock);
        SetLastError(error);
        return hm_win32_error_to_hresult(error);
    }
    hm_manager_count_malloc(malloc->manager, block.size, FALSE);
    return S_OK;
}

static HRESULT WINAPI host_malloc_Free(IHostMalloc *iface, void *mem)
{
    struct host_malloc *malloc = impl_from_IHostMalloc(iface);
    HRESULT hr = release_block(malloc, mem);

    if (malloc->trace) {
        hm_trace_row row = { .method = "Free", .present = HM_TRACE_ADDRESS | HM_TRACE_HRESULT, .address = mem,
                             .hr = hr };
        hm_manager_trace_row(malloc->manager, &row, TRUE);
    }
    return hr;
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
    DWORD options = 0;

    if (!(malloc_type & MALLOC_THREADSAFE))
        options |= HEAP_NO_SERIALIZE;
    if (malloc_type & MALLOC_EXECUTABLE)
        options |= HEAP_CREATE_ENABLE_EXECUTE;

    if (!(malloc = hm_manager_heap_alloc(manager, sizeof(*malloc))))
        return E_OUTOFMEMORY;
    if (!(malloc->heap = hm_os.HeapCreate(options, 0, 0))) {
        hm_manager_heap_free(manager, malloc);
        return E_OUTOFMEMORY;
    }
    malloc->IHostMalloc_iface.lpVtbl = &host_malloc_vtbl;
    malloc->ref = 1;
    malloc->manager = manager;
    malloc->malloc_type = malloc_type;
    malloc->trace = manager->trace;
    hm_lock_init(&malloc->lock);
    hm_blocks_init(&malloc->blocks, &manager->allocator);
    IHostMemoryManager_AddRef(hm_manager_iface(manager));
    hm_manager_add_malloc(manager, &malloc->entry);
    *result = &malloc->IHostMalloc_iface;
    return S_OK;
}

/* --- the leak report --- */

/* Under the list lock and each malloc's lock; the snapshot is made on the manager's
   heap and the callback runs after every lock is dropped. */
static HRESULT snapshot_blocks(struct memory_manager *manager, struct host_malloc *only, hm_block **blocks,
                               size_t *count)
{
    hm_list_entry *head = hm_manager_lock_mallocs(manager), *entry;
    size_t total = 0, n = 0;

    *blocks = NULL;
    *count = 0;
    for (entry = head->next; entry != head; entry = entry->next) {
        struct host_malloc *malloc = CONTAINING_RECORD(entry, struct host_malloc, entry);
        if (only && malloc != only)
            continue;
        hm_lock_acquire(&malloc->lock);
        total += malloc->blocks.count;
        hm_lock_release(&malloc->lock);
    }
    if (total && !(*blocks = hm_manager_heap_alloc(manager, total * sizeof(hm_block)))) {
        hm_manager_unlock_mallocs(manager);
        return E_OUTOFMEMORY;
    }
    for (entry = head->next; entry != head; entry = entry->next) {
        struct host_malloc *malloc = CONTAINING_RECORD(entry, struct host_malloc, entry);
        if (only && malloc != only)
            continue;
        hm_lock_acquire(&malloc->lock);
        /* Blocks allocated since the count are left for the next report. */
        if (malloc->blocks.count <= total - n)
            n += hm_blocks_snapshot(&malloc->blocks, *blocks + n);
        hm_lock_release(&malloc->lock);
    }
    hm_manager_unlock_mallocs(manager);
    *count = n;
    return S_OK;
}

HRESULT WINAPI HostMemEnumMallocBlocks(IUnknown *object, HOSTMEM_BLOCK_CALLBACK callback, void *context)
{
    struct memory_manager *manager;
    struct host_malloc *only = NULL;
    hm_block *blocks;
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
            /* blocks is NULL only when count is 0 (snapshot_blocks never lists more
               than it counted), which the analyzer cannot see. */
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
