/*
 * IHostMalloc (CreateMalloc, Alloc, DebugAlloc, Free, IUnknown) and the leak report
 * (HostMemEnumMallocBlocks): one test per documented behaviour (docs/behaviour.md,
 * docs/heap.md, docs/clr-contract.md).
 */
#include "test_support.h"

#include <stdlib.h>
#include <string.h>

/* --- helpers --------------------------------------------------------------------- */

static IHostMalloc *new_malloc(IHostMemoryManager *manager, DWORD type)
{
    IHostMalloc *malloc = NULL;

    assert_int_equal(IHostMemoryManager_CreateMalloc(manager, type, &malloc), S_OK);
    assert_non_null(malloc);
    return malloc;
}

/* The reference count, read by an AddRef/Release pair. */
static ULONG ref_count(IUnknown *object)
{
    IUnknown_AddRef(object);
    return IUnknown_Release(object);
}


/* Every heap hostmem created has been destroyed. */
static void assert_no_heap_left(void)
{
    assert_int_equal(os_call_count(OS_HEAP_CREATE), os_call_count(OS_HEAP_DESTROY));
}

/* What the escalation callback saw. */
static struct {
    unsigned            calls;
    HOSTMEM_ESCALATION  info;
    char                method[32];
    IUnknown           *enum_object; /* when set, the callback enumerates it */
    HRESULT             enum_hr;
    unsigned            enum_count;
} escalation;

static BOOL WINAPI count_block(void *context, const HOSTMEM_BLOCK_INFO *block)
{
    (void)block;
    (*(unsigned *)context)++;
    return TRUE;
}

static void WINAPI on_escalation(void *context, const HOSTMEM_ESCALATION *info)
{
    assert_ptr_equal(context, &escalation);
    escalation.calls++;
    escalation.info = *info;
    strncpy(escalation.method, info->method ? info->method : "(null)", sizeof(escalation.method) - 1);
    escalation.info.method = escalation.method;
    if (escalation.enum_object)
        escalation.enum_hr = HostMemEnumMallocBlocks(escalation.enum_object, count_block, &escalation.enum_count);
    /* The caller must still read the OS's cause afterwards. */
    SetLastError(ERROR_INVALID_FUNCTION);
}

static void reset_escalation(void)
{
    memset(&escalation, 0, sizeof(escalation));
}

static HOSTMEM_CONFIG config_with_callback(void)
{
    HOSTMEM_CONFIG config;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.escalationCallback = on_escalation;
    config.escalationContext = &escalation;
    return config;
}

/* The leak report's blocks, as a callback collects them. */
#define MAX_SEEN 256
typedef struct seen_blocks {
    unsigned           count;
    unsigned           stop_after; /* 0: never stop */
    HOSTMEM_BLOCK_INFO block[MAX_SEEN];
} seen_blocks;

static BOOL WINAPI collect_block(void *context, const HOSTMEM_BLOCK_INFO *block)
{
    seen_blocks *seen = context;

    assert_int_equal(block->cbSize, sizeof(HOSTMEM_BLOCK_INFO));
    assert_true(seen->count < MAX_SEEN);
    seen->block[seen->count++] = *block;
    return !(seen->stop_after && seen->count >= seen->stop_after);
}

static unsigned enum_blocks(IUnknown *object, seen_blocks *seen)
{
    memset(seen, 0, sizeof(*seen));
    assert_int_equal(HostMemEnumMallocBlocks(object, collect_block, seen), S_OK);
    return seen->count;
}

static const HOSTMEM_BLOCK_INFO *find_seen(const seen_blocks *seen, const void *address)
{
    unsigned i, hits = 0;
    const HOSTMEM_BLOCK_INFO *found = NULL;

    for (i = 0; i < seen->count; i++)
        if (seen->block[i].address == address) {
            found = &seen->block[i];
            hits++;
        }
    assert_true(hits <= 1); /* each block once */
    return found;
}

/* --- CreateMalloc ---------------------------------------------------------------- */

static void create_malloc_with_flags_gives_a_working_malloc(DWORD flags)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = (IHostMalloc *)(ULONG_PTR)1;
    void *p = NULL;

    assert_int_equal(IHostMemoryManager_CreateMalloc(manager, flags, &malloc), S_OK);
    assert_non_null(malloc);
    assert_int_equal(ref_count((IUnknown *)malloc), 1);
    assert_int_equal(IHostMalloc_Alloc(malloc, 100, eTaskCritical, &p), S_OK);
    assert_non_null(p);
    memset(p, 0x5A, 100);
    assert_int_equal(IHostMalloc_Free(malloc, p), S_OK);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
    assert_no_heap_left();
}

static void create_malloc_with_no_flags_returns_s_ok(void **state)
{
    (void)state;
    create_malloc_with_flags_gives_a_working_malloc(0);
}

static void create_malloc_threadsafe_returns_s_ok(void **state)
{
    (void)state;
    create_malloc_with_flags_gives_a_working_malloc(MALLOC_THREADSAFE);
}

static void create_malloc_executable_returns_s_ok(void **state)
{
    (void)state;
    create_malloc_with_flags_gives_a_working_malloc(MALLOC_EXECUTABLE);
}

static void create_malloc_threadsafe_executable_returns_s_ok(void **state)
{
    (void)state;
    create_malloc_with_flags_gives_a_working_malloc(MALLOC_THREADSAFE | MALLOC_EXECUTABLE);
}

static void create_malloc_unknown_flag_bits_return_e_invalidarg(void **state)
{
    static const DWORD bad[] = { 0x4, 0x8, 0x80000000u, MALLOC_THREADSAFE | 0x4, 0xFFFFFFFFu };
    IHostMemoryManager *manager = new_manager(NULL);
    unsigned i, creates = os_call_count(OS_HEAP_CREATE);
    (void)state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        IHostMalloc *malloc = (IHostMalloc *)(ULONG_PTR)1;
        assert_int_equal(IHostMemoryManager_CreateMalloc(manager, bad[i], &malloc), E_INVALIDARG);
        assert_null(malloc);
    }
    assert_int_equal(os_call_count(OS_HEAP_CREATE), creates); /* no heap made */
    release_last((IUnknown *)manager);
}

static void create_malloc_null_out_returns_e_pointer(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    (void)state;

    assert_int_equal(IHostMemoryManager_CreateMalloc(manager, MALLOC_THREADSAFE, NULL), E_POINTER);
    release_last((IUnknown *)manager);
}

static void create_malloc_heap_create_failure_returns_e_outofmemory(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = (IHostMalloc *)(ULONG_PTR)1;
    (void)state;

    fault_once(OS_HEAP_CREATE, 0, ERROR_NOT_ENOUGH_MEMORY);
    assert_int_equal(IHostMemoryManager_CreateMalloc(manager, MALLOC_THREADSAFE, &malloc), E_OUTOFMEMORY);
    assert_null(malloc);
    /* No reference was taken on the manager and nothing is left behind. */
    assert_int_equal(ref_count((IUnknown *)manager), 1);
    release_last((IUnknown *)manager);
    assert_int_equal(os_call_count(OS_HEAP_CREATE) - 1, os_call_count(OS_HEAP_DESTROY));
}

static void create_malloc_bookkeeping_failure_returns_e_outofmemory(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = (IHostMalloc *)(ULONG_PTR)1;
    (void)state;

    fault_once(OS_HEAP_ALLOC, 0, 0);
    assert_int_equal(IHostMemoryManager_CreateMalloc(manager, MALLOC_THREADSAFE, &malloc), E_OUTOFMEMORY);
    assert_null(malloc);
    assert_int_equal(ref_count((IUnknown *)manager), 1);
    release_last((IUnknown *)manager);
    assert_no_heap_left();
}

/* HeapCreate's options, captured by a wrapper put in front of the counting one. */
static HANDLE (WINAPI *next_heap_create)(DWORD, SIZE_T, SIZE_T);
static unsigned captured_creates;
static DWORD captured_options;

static HANDLE WINAPI capture_heap_create(DWORD options, SIZE_T initial, SIZE_T maximum)
{
    captured_creates++;
    captured_options = options;
    return next_heap_create(options, initial, maximum);
}

static DWORD heap_options_for(DWORD malloc_type)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc;

    next_heap_create = hm_os.HeapCreate;
    hm_os.HeapCreate = capture_heap_create;
    captured_creates = 0;
    captured_options = 0xDEADBEEF;
    malloc = new_malloc(manager, malloc_type);
    hm_os.HeapCreate = next_heap_create;
    assert_int_equal(captured_creates, 1);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
    return captured_options;
}

/* The private heap is the allocator's bookkeeping (the blocks are on slabs of their
   own): serialized only for MALLOC_THREADSAFE, and never executable, since
   MALLOC_EXECUTABLE is about the CLR's blocks (create_malloc_executable_*). */
static void create_malloc_without_threadsafe_uses_heap_no_serialize(void **state)
{
    (void)state;
    assert_int_equal(heap_options_for(0), HEAP_NO_SERIALIZE);
    assert_int_equal(heap_options_for(MALLOC_EXECUTABLE), HEAP_NO_SERIALIZE);
}

static void create_malloc_threadsafe_heap_is_serialized(void **state)
{
    (void)state;
    assert_int_equal(heap_options_for(MALLOC_THREADSAFE), 0);
    assert_int_equal(heap_options_for(MALLOC_THREADSAFE | MALLOC_EXECUTABLE), 0);
}

static DWORD protection_of_block(DWORD malloc_type)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, malloc_type);
    MEMORY_BASIC_INFORMATION info;
    void *p = NULL;

    assert_int_equal(IHostMalloc_Alloc(malloc, 64, eTaskCritical, &p), S_OK);
    assert_int_equal(VirtualQuery(p, &info, sizeof(info)), sizeof(info));
    assert_int_equal(IHostMalloc_Free(malloc, p), S_OK);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
    return info.Protect;
}

static void create_malloc_executable_heap_memory_is_executable(void **state)
{
    (void)state;
    assert_int_equal(protection_of_block(MALLOC_EXECUTABLE), PAGE_EXECUTE_READWRITE);
    assert_int_equal(protection_of_block(MALLOC_EXECUTABLE | MALLOC_THREADSAFE), PAGE_EXECUTE_READWRITE);
    assert_int_equal(protection_of_block(MALLOC_THREADSAFE), PAGE_READWRITE);
    assert_int_equal(protection_of_block(0), PAGE_READWRITE);
}

static void create_malloc_executable_memory_runs_code(void **state)
{
    /* mov eax, 42; ret (the same bytes on x86 and x64) */
    static const unsigned char code[] = { 0xB8, 0x2A, 0x00, 0x00, 0x00, 0xC3 };
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE | MALLOC_EXECUTABLE);
    int (*function)(void);
    void *p = NULL;
    (void)state;

    assert_int_equal(IHostMalloc_Alloc(malloc, sizeof(code), eTaskCritical, &p), S_OK);
    memcpy(p, code, sizeof(code));
    FlushInstructionCache(GetCurrentProcess(), p, sizeof(code));
    function = (int (*)(void))p;
    assert_int_equal(function(), 42);
    assert_int_equal(IHostMalloc_Free(malloc, p), S_OK);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

/* --- Alloc / DebugAlloc: success ------------------------------------------------- */

static void alloc_returns_writable_distinct_blocks(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    unsigned char *p[16];
    unsigned i, j;
    (void)state;

    for (i = 0; i < 16; i++) {
        p[i] = NULL;
        assert_int_equal(IHostMalloc_Alloc(malloc, 24 + i * 100, (EMemoryCriticalLevel)(i % 3), (void **)&p[i]),
                         S_OK);
        assert_non_null(p[i]);
        memset(p[i], (int)i, 24 + i * 100);
    }
    for (i = 0; i < 16; i++) {
        for (j = 0; j < 24 + i * 100; j++)
            assert_int_equal(p[i][j], i); /* no block overlaps another */
        for (j = i + 1; j < 16; j++)
            assert_ptr_not_equal(p[i], p[j]);
    }
    for (i = 0; i < 16; i++)
        assert_int_equal(IHostMalloc_Free(malloc, p[i]), S_OK);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

static void debug_alloc_returns_writable_distinct_blocks(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    unsigned char *a = NULL, *b = NULL;
    (void)state;

    assert_int_equal(IHostMalloc_DebugAlloc(malloc, 300, eProcessCritical, (char *)__FILE__, __LINE__, (void **)&a),
                     S_OK);
    assert_int_equal(IHostMalloc_DebugAlloc(malloc, 300, eTaskCritical, NULL, 0, (void **)&b), S_OK);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    memset(a, 0x11, 300);
    memset(b, 0x22, 300);
    assert_int_equal(a[299], 0x11);
    assert_int_equal(b[0], 0x22);
    assert_int_equal(IHostMalloc_Free(malloc, a), S_OK);
    assert_int_equal(IHostMalloc_Free(malloc, b), S_OK);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

static void alloc_of_zero_bytes_succeeds_with_a_unique_pointer(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    void *a = NULL, *b = NULL, *c = NULL;
    (void)state;

    assert_int_equal(IHostMalloc_Alloc(malloc, 0, eTaskCritical, &a), S_OK);
    assert_int_equal(IHostMalloc_Alloc(malloc, 0, eTaskCritical, &b), S_OK);
    assert_int_equal(IHostMalloc_DebugAlloc(malloc, 0, eTaskCritical, (char *)"zero.c", 1, &c), S_OK);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_ptr_not_equal(a, b);
    assert_ptr_not_equal(a, c);
    assert_ptr_not_equal(b, c);
    assert_int_equal(IHostMalloc_Free(malloc, a), S_OK);
    assert_int_equal(IHostMalloc_Free(malloc, b), S_OK);
    assert_int_equal(IHostMalloc_Free(malloc, c), S_OK);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

/* --- Alloc / DebugAlloc: argument errors ----------------------------------------- */

static void alloc_with_null_out_returns_e_pointer(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    unsigned allocs = os_call_count(OS_HEAP_ALLOC);
    (void)state;

    assert_int_equal(IHostMalloc_Alloc(malloc, 16, eTaskCritical, NULL), E_POINTER);
    assert_int_equal(IHostMalloc_DebugAlloc(malloc, 16, eTaskCritical, (char *)__FILE__, __LINE__, NULL), E_POINTER);
    assert_int_equal(os_call_count(OS_HEAP_ALLOC), allocs);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

static void alloc_with_bad_level_returns_e_invalidarg(void **state)
{
    static const DWORD levels[] = { 3, 4, 0x7FFFFFFFu, 0xFFFFFFFFu };
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    unsigned i, allocs = os_call_count(OS_HEAP_ALLOC);
    seen_blocks seen;
    (void)state;

    for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        void *p = (void *)(ULONG_PTR)1;

        assert_int_equal(IHostMalloc_Alloc(malloc, 16, (EMemoryCriticalLevel)levels[i], &p), E_INVALIDARG);
        assert_null(p);
        p = (void *)(ULONG_PTR)1;
        assert_int_equal(IHostMalloc_DebugAlloc(malloc, 16, (EMemoryCriticalLevel)levels[i], (char *)__FILE__,
                                                __LINE__, &p),
                         E_INVALIDARG);
        assert_null(p);
    }
    assert_int_equal(os_call_count(OS_HEAP_ALLOC), allocs); /* nothing asked of the OS */
    assert_int_equal(enum_blocks((IUnknown *)malloc, &seen), 0);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

static void alloc_of_huge_size_returns_e_invalidarg(void **state)
{
    static const SIZE_T sizes[] = { SIZE_MAX, SIZE_MAX - 4095, SIZE_MAX / 2 + 1 };
    HOSTMEM_CONFIG config = config_with_callback();
    IHostMemoryManager *manager;
    IHostMalloc *malloc;
    unsigned i, allocs;
    (void)state;

    reset_escalation();
    manager = new_manager(&config);
    malloc = new_malloc(manager, MALLOC_THREADSAFE);
    allocs = os_call_count(OS_HEAP_ALLOC);
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        void *p = (void *)(ULONG_PTR)1;

        SetLastError(0);
        assert_int_equal(IHostMalloc_Alloc(malloc, sizes[i], eProcessCritical, &p), E_INVALIDARG);
        assert_null(p);
        assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
        p = (void *)(ULONG_PTR)1;
        assert_int_equal(IHostMalloc_DebugAlloc(malloc, sizes[i], eTaskCritical, (char *)__FILE__, __LINE__, &p),
                         E_INVALIDARG);
        assert_null(p);
    }
    assert_int_equal(os_call_count(OS_HEAP_ALLOC), allocs);
    assert_int_equal(escalation.calls, 0); /* a bad argument is no out-of-memory */
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

/* --- Alloc / DebugAlloc: out of memory, per critical level --------------------------- */

/* Alloc and DebugAlloc, one injected HeapAlloc failure each, at `level`: `expected`
   and `expected_calls` escalation callbacks per failure. */
static void failing_allocs(const HOSTMEM_CONFIG *config, EMemoryCriticalLevel level, HRESULT expected,
                           unsigned expected_calls)
{
    IHostMemoryManager *manager;
    IHostMalloc *malloc;
    seen_blocks seen;
    void *warm = NULL, *p;
    int debug;

    reset_escalation();
    manager = new_manager(config);
    malloc = new_malloc(manager, MALLOC_THREADSAFE);
    /* One block first, so the block table has room and the next HeapAlloc is the block's. */
    assert_int_equal(IHostMalloc_Alloc(malloc, 8, eTaskCritical, &warm), S_OK);

    for (debug = 0; debug < 2; debug++) {
        unsigned calls = escalation.calls;

        p = (void *)(ULONG_PTR)1;
        /* HeapAlloc sets no last error when it fails: inject none. Twice: the critical
           levels try once more before they fail. */
        fault_repeat(OS_HEAP_ALLOC, 0, 2, 0);
        SetLastError(0);
        if (debug)
            assert_int_equal(IHostMalloc_DebugAlloc(malloc, 4000, level, (char *)"clr.cpp", 77, &p), expected);
        else
            assert_int_equal(IHostMalloc_Alloc(malloc, 4000, level, &p), expected);
        fault_clear(); /* the task level tried only once */
        assert_null(p);
        assert_int_equal(GetLastError(), ERROR_NOT_ENOUGH_MEMORY);
        assert_int_equal(escalation.calls - calls, expected_calls);
        if (expected_calls) {
            assert_int_equal(escalation.info.cbSize, sizeof(HOSTMEM_ESCALATION));
            assert_int_equal(escalation.info.level, level);
            assert_int_equal(escalation.info.bytes, 4000);
            assert_int_equal(escalation.info.osError, ERROR_NOT_ENOUGH_MEMORY);
            assert_string_equal(escalation.info.method, debug ? "DebugAlloc" : "Alloc");
        }
    }
    /* Nothing was booked for the failed requests. */
    assert_int_equal(enum_blocks((IUnknown *)malloc, &seen), 1);
    assert_ptr_equal(seen.block[0].address, warm);
    assert_int_equal(IHostMalloc_Free(malloc, warm), S_OK);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

static void alloc_heap_failure_at_task_level_returns_e_outofmemory(void **state)
{
    HOSTMEM_CONFIG config = config_with_callback();
    (void)state;
    failing_allocs(&config, eTaskCritical, E_OUTOFMEMORY, 0);
}

static void alloc_heap_failure_at_appdomain_level_returns_e_outofmemory(void **state)
{
    HOSTMEM_CONFIG config = config_with_callback();
    (void)state;
    failing_allocs(&config, eAppDomainCritical, E_OUTOFMEMORY, 0);
}

static void alloc_heap_failure_at_process_level_returns_e_fail_and_escalates_once(void **state)
{
    HOSTMEM_CONFIG config = config_with_callback();
    (void)state;
    failing_allocs(&config, eProcessCritical, E_FAIL, 1);
}

static void alloc_heap_failure_at_process_level_without_callback_returns_e_fail(void **state)
{
    (void)state;
    failing_allocs(NULL, eProcessCritical, E_FAIL, 0);
}

static void alloc_overridden_failure_action_changes_the_result(void **state)
{
    HOSTMEM_CONFIG config = config_with_callback();
    (void)state;

    config.failureAction[eTaskCritical] = HOSTMEM_ACTION_ESCALATE;
    config.failureAction[eAppDomainCritical] = HOSTMEM_ACTION_ESCALATE;
    config.failureAction[eProcessCritical] = HOSTMEM_ACTION_OUTOFMEMORY;
    failing_allocs(&config, eTaskCritical, E_FAIL, 1);
    failing_allocs(&config, eAppDomainCritical, E_FAIL, 1);
    failing_allocs(&config, eProcessCritical, E_OUTOFMEMORY, 0);

    /* HOSTMEM_ACTION_DEFAULT is each level's default. */
    config.failureAction[eTaskCritical] = HOSTMEM_ACTION_DEFAULT;
    config.failureAction[eAppDomainCritical] = HOSTMEM_ACTION_OUTOFMEMORY;
    config.failureAction[eProcessCritical] = HOSTMEM_ACTION_DEFAULT;
    failing_allocs(&config, eTaskCritical, E_OUTOFMEMORY, 0);
    failing_allocs(&config, eAppDomainCritical, E_OUTOFMEMORY, 0);
    failing_allocs(&config, eProcessCritical, E_FAIL, 1);
}

static void alloc_escalation_callback_runs_outside_every_lock(void **state)
{
    HOSTMEM_CONFIG config = config_with_callback();
    IHostMemoryManager *manager;
    IHostMalloc *malloc;
    void *warm = NULL, *p = NULL;
    (void)state;

    reset_escalation();
    manager = new_manager(&config);
    malloc = new_malloc(manager, MALLOC_THREADSAFE);
    assert_int_equal(IHostMalloc_Alloc(malloc, 8, eTaskCritical, &warm), S_OK);
    /* The callback takes the report, which needs the manager's and the malloc's locks
       (a deadlock here if they were held). */
    escalation.enum_object = (IUnknown *)malloc;
    fault_repeat(OS_HEAP_ALLOC, 0, 2, 0); /* the first try and the retry */
    assert_int_equal(IHostMalloc_Alloc(malloc, 64, eProcessCritical, &p), E_FAIL);
    assert_int_equal(escalation.calls, 1);
    assert_int_equal(escalation.enum_hr, S_OK);
    assert_int_equal(escalation.enum_count, 1);
    assert_int_equal(GetLastError(), ERROR_NOT_ENOUGH_MEMORY); /* not what the callback left */
    assert_int_equal(IHostMalloc_Free(malloc, warm), S_OK);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

static void alloc_block_table_failure_returns_policy_error_and_frees_the_block(void **state)
{
    HOSTMEM_CONFIG config = config_with_callback();
    IHostMemoryManager *manager;
    IHostMalloc *malloc;
    seen_blocks seen;
    unsigned frees;
    void *p = (void *)(ULONG_PTR)1;
    (void)state;

    reset_escalation();
    manager = new_manager(&config);
    malloc = new_malloc(manager, MALLOC_THREADSAFE);
    /* A fresh malloc's first Alloc: HeapAlloc of the slab's record, VirtualAlloc of the
       slab, then HeapAlloc of the address map's node. Failing the node (in the first
       try and in the retry, which reuses the record) gives the slab back each time. */
    frees = os_call_count(OS_VIRTUAL_FREE);
    fault_repeat(OS_HEAP_ALLOC, 1, 2, 0);
    assert_int_equal(IHostMalloc_Alloc(malloc, 32, eProcessCritical, &p), E_FAIL);
    assert_null(p);
    assert_int_equal(GetLastError(), ERROR_NOT_ENOUGH_MEMORY);
    assert_int_equal(escalation.calls, 1);
    assert_string_equal(escalation.info.method, "Alloc");
    assert_int_equal(os_call_count(OS_VIRTUAL_FREE) - frees, 2); /* the slab went back */
    assert_int_equal(stats_of(manager).mallocCommittedBytes, 0);
    assert_int_equal(enum_blocks((IUnknown *)malloc, &seen), 0);
    /* And the malloc still works. */
    assert_int_equal(IHostMalloc_Alloc(malloc, 32, eProcessCritical, &p), S_OK);
    assert_int_equal(IHostMalloc_Free(malloc, p), S_OK);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

static void alloc_real_os_out_of_memory_follows_the_policy(void **state)
{
    HOSTMEM_CONFIG config = config_with_callback();
    IHostMemoryManager *manager;
    IHostMalloc *malloc;
    SIZE_T huge;
    void *p;
    (void)state;

#ifdef _WIN64
    /* 64 GiB: more than these machines can commit (docs/clr-contract.md, "How kernel32 reports failures"). */
    huge = (SIZE_T)64 << 30;
#else
    /* A 32-bit SIZE_T holds no 64 GiB, and more than the span of user space is a bad
       argument: the whole span, which the executable and its DLLs already take part
       of, so no heap can ever have it in one block. */
    {
        SYSTEM_INFO info;

        GetSystemInfo(&info);
        huge = ((uintptr_t)info.lpMaximumApplicationAddress - (uintptr_t)info.lpMinimumApplicationAddress + 1) &
               ~(uintptr_t)(info.dwAllocationGranularity - 1);
    }
#endif
    reset_escalation();
    manager = new_manager(&config);
    malloc = new_malloc(manager, MALLOC_THREADSAFE);
    p = (void *)(ULONG_PTR)1;
    assert_int_equal(IHostMalloc_Alloc(malloc, huge, eTaskCritical, &p), E_OUTOFMEMORY);
    assert_null(p);
    assert_int_equal(GetLastError(), ERROR_NOT_ENOUGH_MEMORY);
    p = (void *)(ULONG_PTR)1;
    assert_int_equal(IHostMalloc_DebugAlloc(malloc, huge, eAppDomainCritical, (char *)"big.c", 1, &p), E_OUTOFMEMORY);
    assert_null(p);
    assert_int_equal(escalation.calls, 0);
    p = (void *)(ULONG_PTR)1;
    assert_int_equal(IHostMalloc_Alloc(malloc, huge, eProcessCritical, &p), E_FAIL);
    assert_null(p);
    assert_int_equal(GetLastError(), ERROR_NOT_ENOUGH_MEMORY);
    assert_int_equal(escalation.calls, 1);
    assert_int_equal(escalation.info.bytes, huge);
    assert_int_equal(escalation.info.level, eProcessCritical);
    assert_string_equal(escalation.info.method, "Alloc");
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

/* --- Free --------------------------------------------------------------------------- */

static void free_of_null_returns_s_ok(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    unsigned frees = os_call_count(OS_HEAP_FREE);
    (void)state;

    assert_int_equal(IHostMalloc_Free(malloc, NULL), S_OK);
    assert_int_equal(os_call_count(OS_HEAP_FREE), frees);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

static void free_of_own_block_returns_s_ok_and_unlists_it(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    seen_blocks seen;
    void *a = NULL, *b = NULL;
    unsigned frees;
    (void)state;

    assert_int_equal(IHostMalloc_Alloc(malloc, 10, eTaskCritical, &a), S_OK);
    assert_int_equal(IHostMalloc_Alloc(malloc, 20, eTaskCritical, &b), S_OK);
    /* The block goes back to its slab, which stays for the next block of its class:
       no call to the OS at all. */
    frees = os_total_calls();
    assert_int_equal(IHostMalloc_Free(malloc, a), S_OK);
    assert_int_equal(os_total_calls() - frees, 0);
    assert_int_equal(enum_blocks((IUnknown *)malloc, &seen), 1);
    assert_ptr_equal(seen.block[0].address, b);
    assert_int_equal(IHostMalloc_Free(malloc, b), S_OK);
    assert_int_equal(enum_blocks((IUnknown *)malloc, &seen), 0);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

/* Free(foreign) is refused without a HeapFree and without disturbing the malloc's
   own block. */
static void assert_foreign_free_refused(IHostMalloc *malloc, void *foreign)
{
    unsigned frees = os_call_count(OS_HEAP_FREE);

    assert_int_equal(IHostMalloc_Free(malloc, foreign), HOST_E_INVALIDOPERATION);
    assert_int_equal(os_call_count(OS_HEAP_FREE), frees); /* nothing freed */
}

/* A malloc with one block of its own; the block is checked intact and freed at the end. */
typedef struct foreign_fixture {
    IHostMemoryManager *manager;
    IHostMalloc        *malloc;
    unsigned char      *own;
} foreign_fixture;

static void foreign_begin(foreign_fixture *f)
{
    f->manager = new_manager(NULL);
    f->malloc = new_malloc(f->manager, MALLOC_THREADSAFE);
    f->own = NULL;
    assert_int_equal(IHostMalloc_Alloc(f->malloc, 48, eTaskCritical, (void **)&f->own), S_OK);
    memset(f->own, 0x77, 48);
}

static void foreign_end(foreign_fixture *f)
{
    seen_blocks seen;

    assert_int_equal(enum_blocks((IUnknown *)f->malloc, &seen), 1);
    assert_ptr_equal(seen.block[0].address, f->own);
    assert_int_equal(f->own[47], 0x77);
    assert_int_equal(IHostMalloc_Free(f->malloc, f->own), S_OK);
    release_last((IUnknown *)f->malloc);
    release_last((IUnknown *)f->manager);
}

static void free_of_process_heap_pointer_returns_host_e_invalidoperation(void **state)
{
    foreign_fixture f;
    void *p = HeapAlloc(GetProcessHeap(), 0, 48);
    (void)state;

    assert_non_null(p);
    foreign_begin(&f);
    assert_foreign_free_refused(f.malloc, p);
    foreign_end(&f);
    assert_true(HeapFree(GetProcessHeap(), 0, p)); /* the real owner frees it */
}

static void free_of_crt_malloc_pointer_returns_host_e_invalidoperation(void **state)
{
    foreign_fixture f;
    char *p = malloc(48);
    (void)state;

    assert_non_null(p);
    strcpy(p, "still mine");
    foreign_begin(&f);
    assert_foreign_free_refused(f.malloc, p);
    foreign_end(&f);
    assert_string_equal(p, "still mine");
    free(p);
}

static void free_of_stack_address_returns_host_e_invalidoperation(void **state)
{
    foreign_fixture f;
    volatile int on_stack = 1234;
    (void)state;

    foreign_begin(&f);
    assert_foreign_free_refused(f.malloc, (void *)&on_stack);
    foreign_end(&f);
    assert_int_equal(on_stack, 1234);
}

static void free_of_wild_pointer_returns_host_e_invalidoperation(void **state)
{
    foreign_fixture f;
    (void)state;

    foreign_begin(&f);
    assert_foreign_free_refused(f.malloc, (void *)(ULONG_PTR)0x10);
    assert_foreign_free_refused(f.malloc, (void *)(ULONG_PTR)~(ULONG_PTR)0xF);
    /* Inside the malloc's own block, but not its start. */
    assert_foreign_free_refused(f.malloc, f.own + 1);
    assert_foreign_free_refused(f.malloc, f.own + 16);
    foreign_end(&f);
}

static void free_of_another_mallocs_block_returns_host_e_invalidoperation(void **state)
{
    foreign_fixture f;
    IHostMemoryManager *other_manager;
    IHostMalloc *sibling, *stranger;
    void *sibling_block = NULL, *stranger_block = NULL;
    (void)state;

    foreign_begin(&f);
    sibling = new_malloc(f.manager, MALLOC_THREADSAFE);     /* same manager */
    other_manager = new_manager(NULL);
    stranger = new_malloc(other_manager, MALLOC_THREADSAFE); /* another manager */
    assert_int_equal(IHostMalloc_Alloc(sibling, 48, eTaskCritical, &sibling_block), S_OK);
    assert_int_equal(IHostMalloc_Alloc(stranger, 48, eTaskCritical, &stranger_block), S_OK);

    assert_foreign_free_refused(f.malloc, sibling_block);
    assert_foreign_free_refused(f.malloc, stranger_block);
    assert_foreign_free_refused(sibling, f.own);

    /* The real owners can still free their blocks. */
    assert_int_equal(IHostMalloc_Free(sibling, sibling_block), S_OK);
    assert_int_equal(IHostMalloc_Free(stranger, stranger_block), S_OK);
    release_last((IUnknown *)stranger);
    release_last((IUnknown *)other_manager);
    release_last((IUnknown *)sibling);
    foreign_end(&f);
}

static void free_of_already_freed_block_returns_host_e_invalidoperation(void **state)
{
    foreign_fixture f;
    void *p = NULL;
    (void)state;

    foreign_begin(&f);
    assert_int_equal(IHostMalloc_Alloc(f.malloc, 48, eTaskCritical, &p), S_OK);
    assert_int_equal(IHostMalloc_Free(f.malloc, p), S_OK);
    assert_foreign_free_refused(f.malloc, p);
    assert_foreign_free_refused(f.malloc, p);
    foreign_end(&f);
}

static void free_heap_failure_keeps_the_block_listed_and_freeable_later(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    seen_blocks seen;
    const HOSTMEM_BLOCK_INFO *info;
    void *p = NULL;
    (void)state;

    /* A large block: its Free gives its region back to the OS at once (a small block's
       Free makes no OS call to fail). */
    assert_int_equal(IHostMalloc_DebugAlloc(malloc, 123 * 1024, eTaskCritical, (char *)"keep.c", 9, &p), S_OK);
    fault_once(OS_VIRTUAL_FREE, 0, ERROR_INVALID_HANDLE);
    assert_int_equal(IHostMalloc_Free(malloc, p), HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    /* Still on the books, with its details, through the malloc and through the manager. */
    assert_int_equal(enum_blocks((IUnknown *)malloc, &seen), 1);
    info = find_seen(&seen, p);
    assert_non_null(info);
    assert_int_equal(info->size, 123 * 1024);
    assert_string_equal(info->file, "keep.c");
    assert_int_equal(info->line, 9);
    assert_int_equal(enum_blocks((IUnknown *)manager, &seen), 1);
    /* A failure that leaves no error code is still a failure. */
    fault_once(OS_VIRTUAL_FREE, 0, 0);
    assert_true(FAILED(IHostMalloc_Free(malloc, p)));
    assert_int_equal(enum_blocks((IUnknown *)malloc, &seen), 1);
    /* And the next Free succeeds. */
    assert_int_equal(IHostMalloc_Free(malloc, p), S_OK);
    assert_int_equal(enum_blocks((IUnknown *)malloc, &seen), 0);
    assert_int_equal(IHostMalloc_Free(malloc, p), HOST_E_INVALIDOPERATION);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

/* --- IUnknown and lifetime ------------------------------------------------------------ */

static void query_interface_for_iunknown_and_ihostmalloc_returns_same_object(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    void *p = NULL;
    (void)state;

    assert_int_equal(IHostMalloc_QueryInterface(malloc, &IID_IUnknown, &p), S_OK);
    assert_ptr_equal(p, malloc);
    assert_int_equal(ref_count((IUnknown *)malloc), 2);
    p = NULL;
    assert_int_equal(IHostMalloc_QueryInterface(malloc, &IID_IHostMalloc, &p), S_OK);
    assert_ptr_equal(p, malloc);
    assert_int_equal(ref_count((IUnknown *)malloc), 3);
    assert_int_equal(IHostMalloc_Release(malloc), 2);
    assert_int_equal(IHostMalloc_Release(malloc), 1);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

static void query_interface_for_other_iid_returns_e_nointerface(void **state)
{
    const IID *others[] = { &IID_IHostMemoryManager, &IID_IHostControl, &IID_IClassFactory,
                            &IID_ICLRMemoryNotificationCallback };
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    unsigned i;
    (void)state;

    for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        void *p = (void *)(ULONG_PTR)1;
        assert_int_equal(IHostMalloc_QueryInterface(malloc, others[i], &p), E_NOINTERFACE);
        assert_null(p);
    }
    assert_int_equal(ref_count((IUnknown *)malloc), 1);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

static void query_interface_with_null_out_returns_e_pointer(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    (void)state;

    assert_int_equal(IHostMalloc_QueryInterface(malloc, &IID_IHostMalloc, NULL), E_POINTER);
    assert_int_equal(ref_count((IUnknown *)malloc), 1);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

static void query_interface_with_null_iid_returns_e_invalidarg(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    void *p = (void *)(ULONG_PTR)1;
    (void)state;

    assert_int_equal(IHostMalloc_QueryInterface(malloc, NULL, &p), E_INVALIDARG);
    assert_null(p);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

static void add_ref_and_release_return_the_new_count(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    unsigned destroys;
    (void)state;

    assert_int_equal(IHostMalloc_AddRef(malloc), 2);
    assert_int_equal(IHostMalloc_AddRef(malloc), 3);
    assert_int_equal(IHostMalloc_Release(malloc), 2);
    destroys = os_call_count(OS_HEAP_DESTROY);
    assert_int_equal(IHostMalloc_Release(malloc), 1);
    assert_int_equal(os_call_count(OS_HEAP_DESTROY), destroys); /* not yet */
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

static void create_malloc_takes_a_reference_on_the_manager(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *a, *b;
    (void)state;

    a = new_malloc(manager, 0);
    assert_int_equal(ref_count((IUnknown *)manager), 2);
    b = new_malloc(manager, MALLOC_THREADSAFE);
    assert_int_equal(ref_count((IUnknown *)manager), 3);
    release_last((IUnknown *)a);
    assert_int_equal(ref_count((IUnknown *)manager), 2);
    release_last((IUnknown *)b);
    assert_int_equal(ref_count((IUnknown *)manager), 1);
    release_last((IUnknown *)manager);
    assert_no_heap_left();
}

static void malloc_keeps_its_manager_alive(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    seen_blocks seen;
    void *p = NULL, *q = NULL;
    unsigned destroys;
    (void)state;

    assert_int_equal(IHostMalloc_Alloc(malloc, 64, eTaskCritical, &p), S_OK);
    destroys = os_call_count(OS_HEAP_DESTROY);
    assert_int_equal(IHostMemoryManager_Release(manager), 1); /* the malloc's reference */
    assert_int_equal(os_call_count(OS_HEAP_DESTROY), destroys);
    /* Still works, bookkeeping (in the manager's heap) included. */
    assert_int_equal(IHostMalloc_Alloc(malloc, 4096, eTaskCritical, &q), S_OK);
    memset(q, 1, 4096);
    assert_int_equal(enum_blocks((IUnknown *)malloc, &seen), 2);
    assert_int_equal(IHostMalloc_Free(malloc, p), S_OK);
    assert_int_equal(IHostMalloc_Free(malloc, q), S_OK);
    assert_int_equal(IHostMalloc_Free(malloc, (void *)&seen), HOST_E_INVALIDOPERATION);
    release_last((IUnknown *)malloc); /* and with it the manager */
    assert_true(os_call_count(OS_HEAP_DESTROY) - destroys >= 2);
    assert_no_heap_left();
}

static void last_release_destroys_the_heap_exactly_once(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    void *leaked = NULL;
    unsigned destroys;
    (void)state;

    /* Outstanding blocks go with the heap. */
    assert_int_equal(IHostMalloc_Alloc(malloc, 1000, eTaskCritical, &leaked), S_OK);
    IHostMalloc_AddRef(malloc);
    destroys = os_call_count(OS_HEAP_DESTROY);
    assert_int_equal(IHostMalloc_Release(malloc), 1);
    assert_int_equal(os_call_count(OS_HEAP_DESTROY), destroys);
    assert_int_equal(IHostMalloc_Release(malloc), 0);
    assert_int_equal(os_call_count(OS_HEAP_DESTROY) - destroys, 1);
    assert_int_equal(ref_count((IUnknown *)manager), 1);
    release_last((IUnknown *)manager);
    assert_no_heap_left();
}

/* --- the leak report ------------------------------------------------------------------ */

static void enum_through_malloc_lists_exactly_the_outstanding_blocks(void **state)
{
    static char file_a[] = "a.cpp", file_b[] = "b.cpp";
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    const HOSTMEM_BLOCK_INFO *info;
    seen_blocks seen;
    void *plain = NULL, *debug_a = NULL, *debug_b = NULL, *freed = NULL, *zero = NULL;
    (void)state;

    assert_int_equal(enum_blocks((IUnknown *)malloc, &seen), 0);
    assert_int_equal(IHostMalloc_Alloc(malloc, 111, eTaskCritical, &plain), S_OK);
    assert_int_equal(IHostMalloc_DebugAlloc(malloc, 222, eAppDomainCritical, file_a, 10, &debug_a), S_OK);
    assert_int_equal(IHostMalloc_DebugAlloc(malloc, 333, eProcessCritical, file_b, 20, &debug_b), S_OK);
    assert_int_equal(IHostMalloc_DebugAlloc(malloc, 444, eTaskCritical, file_a, 30, &freed), S_OK);
    assert_int_equal(IHostMalloc_Alloc(malloc, 0, eTaskCritical, &zero), S_OK);
    assert_int_equal(IHostMalloc_Free(malloc, freed), S_OK);

    assert_int_equal(enum_blocks((IUnknown *)malloc, &seen), 4);
    assert_null(find_seen(&seen, freed));
    info = find_seen(&seen, plain);
    assert_non_null(info);
    assert_int_equal(info->size, 111);
    assert_null(info->file);
    assert_int_equal(info->line, 0);
    info = find_seen(&seen, debug_a);
    assert_non_null(info);
    assert_int_equal(info->size, 222);
    assert_string_equal(info->file, "a.cpp");
    assert_int_equal(info->line, 10);
    info = find_seen(&seen, debug_b);
    assert_non_null(info);
    assert_int_equal(info->size, 333);
    assert_string_equal(info->file, "b.cpp");
    assert_int_equal(info->line, 20);
    info = find_seen(&seen, zero);
    assert_non_null(info);
    assert_int_equal(info->size, 0);

    assert_int_equal(IHostMalloc_Free(malloc, plain), S_OK);
    assert_int_equal(IHostMalloc_Free(malloc, debug_a), S_OK);
    assert_int_equal(IHostMalloc_Free(malloc, debug_b), S_OK);
    assert_int_equal(IHostMalloc_Free(malloc, zero), S_OK);
    assert_int_equal(enum_blocks((IUnknown *)malloc, &seen), 0);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

static void enum_lists_many_blocks_each_once(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    seen_blocks seen;
    void *p[200];
    unsigned i;
    (void)state;

    /* Enough to grow the block table a few times. */
    for (i = 0; i < 200; i++)
        assert_int_equal(IHostMalloc_DebugAlloc(malloc, i + 1, eTaskCritical, (char *)"many.c", (int)i, &p[i]), S_OK);
    for (i = 0; i < 200; i += 2)
        assert_int_equal(IHostMalloc_Free(malloc, p[i]), S_OK);
    assert_int_equal(enum_blocks((IUnknown *)malloc, &seen), 100);
    for (i = 0; i < 200; i++) {
        const HOSTMEM_BLOCK_INFO *info = find_seen(&seen, p[i]);
        if (i % 2 == 0) {
            assert_null(info);
            continue;
        }
        assert_non_null(info);
        assert_int_equal(info->size, i + 1);
        assert_int_equal(info->line, i);
        assert_int_equal(IHostMalloc_Free(malloc, p[i]), S_OK);
    }
    assert_int_equal(enum_blocks((IUnknown *)malloc, &seen), 0);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

static void enum_through_malloc_lists_only_its_own_blocks(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *a = new_malloc(manager, MALLOC_THREADSAFE);
    IHostMalloc *b = new_malloc(manager, 0);
    IHostMalloc *c = new_malloc(manager, MALLOC_THREADSAFE);
    seen_blocks seen;
    void *pa[3], *pb = NULL;
    unsigned i;
    (void)state;

    /* Uneven counts, so that a report that strayed into a neighbour would still fit. */
    for (i = 0; i < 3; i++)
        assert_int_equal(IHostMalloc_Alloc(a, 10 + i, eTaskCritical, &pa[i]), S_OK);
    assert_int_equal(IHostMalloc_Alloc(b, 20, eTaskCritical, &pb), S_OK);
    assert_int_equal(enum_blocks((IUnknown *)a, &seen), 3);
    for (i = 0; i < 3; i++)
        assert_non_null(find_seen(&seen, pa[i]));
    assert_int_equal(enum_blocks((IUnknown *)b, &seen), 1);
    assert_ptr_equal(seen.block[0].address, pb);
    assert_int_equal(enum_blocks((IUnknown *)c, &seen), 0);
    release_last((IUnknown *)a);
    release_last((IUnknown *)b);
    release_last((IUnknown *)c);
    release_last((IUnknown *)manager);
}

static void enum_through_manager_lists_blocks_of_every_live_malloc(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL), *other = new_manager(NULL);
    IHostMalloc *a = new_malloc(manager, MALLOC_THREADSAFE);
    IHostMalloc *b = new_malloc(manager, MALLOC_EXECUTABLE);
    IHostMalloc *elsewhere = new_malloc(other, MALLOC_THREADSAFE);
    const HOSTMEM_BLOCK_INFO *info;
    seen_blocks seen;
    void *pa = NULL, *pb = NULL, *pe = NULL;
    (void)state;

    assert_int_equal(IHostMalloc_DebugAlloc(a, 10, eTaskCritical, (char *)"a.c", 1, &pa), S_OK);
    assert_int_equal(IHostMalloc_DebugAlloc(b, 20, eTaskCritical, (char *)"b.c", 2, &pb), S_OK);
    assert_int_equal(IHostMalloc_Alloc(elsewhere, 30, eTaskCritical, &pe), S_OK);
    assert_int_equal(enum_blocks((IUnknown *)manager, &seen), 2);
    info = find_seen(&seen, pa);
    assert_non_null(info);
    assert_int_equal(info->size, 10);
    assert_string_equal(info->file, "a.c");
    assert_int_equal(info->line, 1);
    info = find_seen(&seen, pb);
    assert_non_null(info);
    assert_int_equal(info->size, 20);
    assert_string_equal(info->file, "b.c");
    assert_int_equal(info->line, 2);
    assert_null(find_seen(&seen, pe));
    assert_int_equal(enum_blocks((IUnknown *)other, &seen), 1);
    assert_ptr_equal(seen.block[0].address, pe);
    release_last((IUnknown *)a);
    release_last((IUnknown *)b);
    release_last((IUnknown *)elsewhere);
    release_last((IUnknown *)manager);
    release_last((IUnknown *)other);
}

static void enum_through_host_control_lists_blocks_of_every_live_malloc(void **state)
{
    IHostControl *control = NULL;
    IHostMemoryManager *manager = NULL;
    IHostMalloc *a, *b;
    seen_blocks seen;
    void *pa = NULL, *pb = NULL;
    (void)state;

    assert_int_equal(HostMemCreateHostControl(NULL, &control), S_OK);
    assert_int_equal(IHostControl_GetHostManager(control, &IID_IHostMemoryManager, (void **)&manager), S_OK);
    a = new_malloc(manager, MALLOC_THREADSAFE);
    b = new_malloc(manager, MALLOC_THREADSAFE);
    assert_int_equal(IHostMalloc_DebugAlloc(a, 5, eTaskCritical, (char *)"x.c", 5, &pa), S_OK);
    assert_int_equal(IHostMalloc_Alloc(b, 6, eTaskCritical, &pb), S_OK);
    assert_int_equal(enum_blocks((IUnknown *)control, &seen), 2);
    assert_int_equal(find_seen(&seen, pa)->size, 5);
    assert_int_equal(find_seen(&seen, pa)->line, 5);
    assert_int_equal(find_seen(&seen, pb)->size, 6);
    assert_null(find_seen(&seen, pb)->file);
    assert_int_equal(IHostMalloc_Free(a, pa), S_OK);
    assert_int_equal(enum_blocks((IUnknown *)control, &seen), 1);
    release_last((IUnknown *)a);
    release_last((IUnknown *)b);
    assert_int_equal(enum_blocks((IUnknown *)control, &seen), 0);
    assert_int_equal(IHostMemoryManager_Release(manager), 1);
    release_last((IUnknown *)control);
    assert_no_heap_left();
}

static void enum_stops_when_the_callback_returns_false(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    seen_blocks seen;
    void *p[5];
    unsigned i;
    (void)state;

    for (i = 0; i < 5; i++)
        assert_int_equal(IHostMalloc_Alloc(malloc, 8, eTaskCritical, &p[i]), S_OK);
    memset(&seen, 0, sizeof(seen));
    seen.stop_after = 2;
    assert_int_equal(HostMemEnumMallocBlocks((IUnknown *)malloc, collect_block, &seen), S_OK);
    assert_int_equal(seen.count, 2);
    memset(&seen, 0, sizeof(seen));
    seen.stop_after = 1;
    assert_int_equal(HostMemEnumMallocBlocks((IUnknown *)manager, collect_block, &seen), S_OK);
    assert_int_equal(seen.count, 1);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

static void enum_with_null_object_or_callback_returns_e_pointer(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    seen_blocks seen;
    void *p = NULL;
    (void)state;

    assert_int_equal(IHostMalloc_Alloc(malloc, 8, eTaskCritical, &p), S_OK);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(HostMemEnumMallocBlocks(NULL, collect_block, &seen), E_POINTER);
    assert_int_equal(HostMemEnumMallocBlocks((IUnknown *)malloc, NULL, &seen), E_POINTER);
    assert_int_equal(HostMemEnumMallocBlocks((IUnknown *)manager, NULL, &seen), E_POINTER);
    assert_int_equal(HostMemEnumMallocBlocks(NULL, NULL, NULL), E_POINTER);
    assert_int_equal(seen.count, 0);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

/* A COM object that is not hostmem's. */
static HRESULT WINAPI fake_QueryInterface(IUnknown *iface, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (IsEqualIID(riid, &IID_IUnknown)) {
        *ppv = iface;
        return S_OK;
    }
    return E_NOINTERFACE;
}
static ULONG WINAPI fake_AddRef(IUnknown *iface) { (void)iface; return 2; }
static ULONG WINAPI fake_Release(IUnknown *iface) { (void)iface; return 1; }
static IUnknownVtbl fake_vtbl = { fake_QueryInterface, fake_AddRef, fake_Release };

static void enum_of_foreign_object_returns_e_invalidarg(void **state)
{
    IUnknown fake = { &fake_vtbl };
    seen_blocks seen;
    (void)state;

    memset(&seen, 0, sizeof(seen));
    assert_int_equal(HostMemEnumMallocBlocks(&fake, collect_block, &seen), E_INVALIDARG);
    assert_int_equal(seen.count, 0);
}

static void enum_snapshot_failure_returns_e_outofmemory(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    seen_blocks seen;
    void *p = NULL;
    (void)state;

    assert_int_equal(IHostMalloc_Alloc(malloc, 8, eTaskCritical, &p), S_OK);
    memset(&seen, 0, sizeof(seen));
    fault_always(OS_HEAP_ALLOC, 0);
    assert_int_equal(HostMemEnumMallocBlocks((IUnknown *)malloc, collect_block, &seen), E_OUTOFMEMORY);
    assert_int_equal(HostMemEnumMallocBlocks((IUnknown *)manager, collect_block, &seen), E_OUTOFMEMORY);
    fault_clear();
    assert_int_equal(seen.count, 0);
    /* Nothing was lost: the next report works. */
    assert_int_equal(enum_blocks((IUnknown *)malloc, &seen), 1);
    assert_int_equal(IHostMalloc_Free(malloc, p), S_OK);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

static void enum_no_longer_lists_blocks_of_a_released_malloc(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *kept = new_malloc(manager, MALLOC_THREADSAFE);
    IHostMalloc *gone = new_malloc(manager, MALLOC_THREADSAFE);
    seen_blocks seen;
    void *pk = NULL, *pg1 = NULL, *pg2 = NULL;
    (void)state;

    assert_int_equal(IHostMalloc_Alloc(kept, 8, eTaskCritical, &pk), S_OK);
    assert_int_equal(IHostMalloc_Alloc(gone, 8, eTaskCritical, &pg1), S_OK);
    assert_int_equal(IHostMalloc_DebugAlloc(gone, 8, eTaskCritical, (char *)"gone.c", 3, &pg2), S_OK);
    assert_int_equal(enum_blocks((IUnknown *)manager, &seen), 3);
    release_last((IUnknown *)gone);
    assert_int_equal(enum_blocks((IUnknown *)manager, &seen), 1);
    assert_ptr_equal(seen.block[0].address, pk);
    release_last((IUnknown *)kept);
    assert_int_equal(enum_blocks((IUnknown *)manager, &seen), 0);
    release_last((IUnknown *)manager);
}

static BOOL WINAPI release_control_once(void *context, const HOSTMEM_BLOCK_INFO *block)
{
    IHostControl **control = context;

    (void)block;
    if (*control) {
        assert_int_equal(IHostControl_Release(*control), 0);
        *control = NULL;
    }
    return TRUE;
}

static void enum_callback_may_release_the_last_reference(void **state)
{
    IHostControl *control = NULL;
    IHostMemoryManager *manager = NULL;
    IHostMalloc *malloc;
    void *p = NULL, *q = NULL;
    (void)state;

    assert_int_equal(HostMemCreateHostControl(NULL, &control), S_OK);
    assert_int_equal(IHostControl_GetHostManager(control, &IID_IHostMemoryManager, (void **)&manager), S_OK);
    /* The manager's only other reference is ours; the callback drops the control. */
    malloc = new_malloc(manager, MALLOC_THREADSAFE);
    assert_int_equal(IHostMalloc_Alloc(malloc, 8, eTaskCritical, &p), S_OK);
    assert_int_equal(IHostMalloc_Alloc(malloc, 8, eTaskCritical, &q), S_OK);
    assert_int_equal(HostMemEnumMallocBlocks((IUnknown *)control, release_control_once, &control), S_OK);
    assert_null(control);
    release_last((IUnknown *)malloc);
    assert_int_equal(IHostMemoryManager_Release(manager), 0);
    assert_no_heap_left();
}

static BOOL WINAPI release_malloc_once(void *context, const HOSTMEM_BLOCK_INFO *block)
{
    IHostMalloc **malloc = context;

    (void)block;
    if (*malloc) {
        assert_int_equal(IHostMalloc_Release(*malloc), 0);
        *malloc = NULL;
    }
    return TRUE;
}

static void enum_callback_may_release_the_malloc_and_with_it_the_manager(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    unsigned i;
    void *p;
    (void)state;

    for (i = 0; i < 3; i++)
        assert_int_equal(IHostMalloc_Alloc(malloc, 8, eTaskCritical, &p), S_OK);
    assert_int_equal(IHostMemoryManager_Release(manager), 1); /* only the malloc holds it now */
    assert_int_equal(HostMemEnumMallocBlocks((IUnknown *)malloc, release_malloc_once, &malloc), S_OK);
    assert_null(malloc);
    assert_no_heap_left();
}

/* --- many threads ----------------------------------------------------------------------- */

typedef struct worker {
    IHostMalloc *malloc;
    unsigned     seed;
    LONG         failures;
} worker;

static DWORD WINAPI churn(void *context)
{
    worker *w = context;
    void *held[32] = { 0 };
    unsigned i, x = w->seed;

    for (i = 0; i < 4000; i++) {
        unsigned slot;

        x = x * 1103515245u + 12345u;
        slot = (x >> 16) % 32;
        if (held[slot]) {
            if (IHostMalloc_Free(w->malloc, held[slot]) != S_OK)
                w->failures++;
            held[slot] = NULL;
        } else {
            if (IHostMalloc_Alloc(w->malloc, 1 + (x >> 20) % 500, eTaskCritical, &held[slot]) != S_OK)
                w->failures++;
            else
                memset(held[slot], (int)slot, 1);
        }
    }
    for (i = 0; i < 32; i++)
        if (held[i] && IHostMalloc_Free(w->malloc, held[i]) != S_OK)
            w->failures++;
    return 0;
}

static void alloc_and_free_from_many_threads_keep_the_books_exact(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    HANDLE threads[4];
    worker workers[4];
    seen_blocks seen;
    unsigned i;
    (void)state;

    for (i = 0; i < 4; i++) {
        workers[i].malloc = malloc;
        workers[i].seed = 7 + i * 31;
        workers[i].failures = 0;
        threads[i] = CreateThread(NULL, 0, churn, &workers[i], 0, NULL);
        assert_non_null(threads[i]);
    }
    assert_int_equal(WaitForMultipleObjects(4, threads, TRUE, 60000), WAIT_OBJECT_0);
    for (i = 0; i < 4; i++) {
        CloseHandle(threads[i]);
        assert_int_equal(workers[i].failures, 0);
    }
    assert_int_equal(enum_blocks((IUnknown *)manager, &seen), 0);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fault_setup, fault_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(create_malloc_with_no_flags_returns_s_ok),
        T(create_malloc_threadsafe_returns_s_ok),
        T(create_malloc_executable_returns_s_ok),
        T(create_malloc_threadsafe_executable_returns_s_ok),
        T(create_malloc_unknown_flag_bits_return_e_invalidarg),
        T(create_malloc_null_out_returns_e_pointer),
        T(create_malloc_heap_create_failure_returns_e_outofmemory),
        T(create_malloc_bookkeeping_failure_returns_e_outofmemory),
        T(create_malloc_without_threadsafe_uses_heap_no_serialize),
        T(create_malloc_threadsafe_heap_is_serialized),
        T(create_malloc_executable_heap_memory_is_executable),
        T(create_malloc_executable_memory_runs_code),
        T(alloc_returns_writable_distinct_blocks),
        T(debug_alloc_returns_writable_distinct_blocks),
        T(alloc_of_zero_bytes_succeeds_with_a_unique_pointer),
        T(alloc_with_null_out_returns_e_pointer),
        T(alloc_with_bad_level_returns_e_invalidarg),
        T(alloc_of_huge_size_returns_e_invalidarg),
        T(alloc_heap_failure_at_task_level_returns_e_outofmemory),
        T(alloc_heap_failure_at_appdomain_level_returns_e_outofmemory),
        T(alloc_heap_failure_at_process_level_returns_e_fail_and_escalates_once),
        T(alloc_heap_failure_at_process_level_without_callback_returns_e_fail),
        T(alloc_overridden_failure_action_changes_the_result),
        T(alloc_real_os_out_of_memory_follows_the_policy),
        T(alloc_escalation_callback_runs_outside_every_lock),
        T(alloc_block_table_failure_returns_policy_error_and_frees_the_block),
        T(free_of_null_returns_s_ok),
        T(free_of_own_block_returns_s_ok_and_unlists_it),
        T(free_of_process_heap_pointer_returns_host_e_invalidoperation),
        T(free_of_crt_malloc_pointer_returns_host_e_invalidoperation),
        T(free_of_stack_address_returns_host_e_invalidoperation),
        T(free_of_wild_pointer_returns_host_e_invalidoperation),
        T(free_of_another_mallocs_block_returns_host_e_invalidoperation),
        T(free_of_already_freed_block_returns_host_e_invalidoperation),
        T(free_heap_failure_keeps_the_block_listed_and_freeable_later),
        T(query_interface_for_iunknown_and_ihostmalloc_returns_same_object),
        T(query_interface_for_other_iid_returns_e_nointerface),
        T(query_interface_with_null_out_returns_e_pointer),
        T(query_interface_with_null_iid_returns_e_invalidarg),
        T(add_ref_and_release_return_the_new_count),
        T(create_malloc_takes_a_reference_on_the_manager),
        T(malloc_keeps_its_manager_alive),
        T(last_release_destroys_the_heap_exactly_once),
        T(enum_through_malloc_lists_exactly_the_outstanding_blocks),
        T(enum_lists_many_blocks_each_once),
        T(enum_through_malloc_lists_only_its_own_blocks),
        T(enum_through_manager_lists_blocks_of_every_live_malloc),
        T(enum_through_host_control_lists_blocks_of_every_live_malloc),
        T(enum_stops_when_the_callback_returns_false),
        T(enum_with_null_object_or_callback_returns_e_pointer),
        T(enum_of_foreign_object_returns_e_invalidarg),
        T(enum_snapshot_failure_returns_e_outofmemory),
        T(enum_no_longer_lists_blocks_of_a_released_malloc),
        T(enum_callback_may_release_the_last_reference),
        T(enum_callback_may_release_the_malloc_and_with_it_the_manager),
        T(alloc_and_free_from_many_threads_keep_the_books_exact),
    };

    return cmocka_run_group_tests_name("host_malloc", tests, NULL, NULL);
}
