/*
 * IHostMalloc on hostmem's own allocator (src/core/heap.h, docs/heap.md): the contract
 * the CLR and the host rely on, through the COM interface.
 *   - sizes: every class boundary, 0, large blocks; 16-byte alignment; no overlap;
 *   - ownership: every kind of bad pointer is refused and changes nothing;
 *   - MALLOC_EXECUTABLE: the blocks' memory (slabs and large regions) is executable,
 *     and only that object's;
 *   - slabs: one empty slab per class stays, the rest go back to the OS; everything
 *     goes at the last reference, outstanding blocks included;
 *   - the limit: the heap's memory is inside commitLimit, GetMemoryLoad, the water
 *     marks and the books, and a heap request past it takes the policy path of its level;
 *   - many threads: the books exact after churn with frees on other threads, and the
 *     leak report a complete snapshot while other threads allocate and free.
 * Nothing here times anything.
 */
#include "test_support.h"

#include <string.h>

#include "clr/clr_callback.h"
#include "core/thread.h" /* hm_thread_watch_end */

#define KIB ((SIZE_T)1024)
#define SLAB (64 * KIB)
#define SMALL_MAX 4096

static IHostMalloc *new_malloc(IHostMemoryManager *manager, DWORD type)
{
    IHostMalloc *malloc = NULL;

    assert_int_equal(IHostMemoryManager_CreateMalloc(manager, type, &malloc), S_OK);
    return malloc;
}


static BOOL WINAPI count_block(void *context, const HOSTMEM_BLOCK_INFO *block)
{
    (void)block;
    ++*(unsigned *)context;
    return TRUE;
}

static unsigned listed(IUnknown *object)
{
    unsigned n = 0;

    assert_int_equal(HostMemEnumMallocBlocks(object, count_block, &n), S_OK);
    return n;
}

static SIZE_T round_up(SIZE_T value, SIZE_T unit)
{
    return (value + unit - 1) / unit * unit;
}

/* The sizes where a class ends and the next begins (heap_classes.c). */
static const SIZE_T class_sizes[] = { 16,  32,  48,  64,  80,   96,   112,  128,  160,  192,
                                      224, 256, 320, 384, 448,  512,  640,  768,  896,  1024,
                                      1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096 };

/* --- sizes ------------------------------------------------------------------------- */

static void every_class_boundary_gives_aligned_disjoint_writable_blocks(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    enum { N = 3 * 28 + 4 };
    unsigned char *p[N];
    SIZE_T size[N], total = 0;
    unsigned i, j, n = 0;
    (void)state;

    size[n++] = 0;
    size[n++] = 1;
    for (i = 0; i < 28; i++) {
        size[n++] = class_sizes[i] - 1;
        size[n++] = class_sizes[i];
        size[n++] = class_sizes[i] + 1; /* the next class, or a large block after 4096 */
    }
    size[n++] = 64 * KIB;
    size[n++] = 64 * KIB + 1;
    for (i = 0; i < n; i++) {
        assert_int_equal(IHostMalloc_Alloc(malloc, size[i], eTaskCritical, (void **)&p[i]), S_OK);
        assert_non_null(p[i]);
        assert_int_equal((ULONG_PTR)p[i] % 16, 0);
        memset(p[i], (int)(i & 0xFF), size[i]);
        total += size[i];
    }
    assert_int_equal(stats_of(manager).mallocBytes, total);
    for (i = 0; i < n; i++) {
        for (j = 0; j < size[i]; j++)
            if (p[i][j] != (unsigned char)(i & 0xFF))
                fail_msg("block %u (%lu bytes) overwritten at %u", i, (unsigned long)size[i], j);
        for (j = i + 1; j < n; j++) /* no two blocks overlap, not even the empty ones */
            assert_true(p[i] + (size[i] ? size[i] : 1) <= p[j] || p[j] + (size[j] ? size[j] : 1) <= p[i]);
    }
    assert_int_equal(listed((IUnknown *)malloc), n);
    for (i = 0; i < n; i++)
        assert_int_equal(IHostMalloc_Free(malloc, p[i]), S_OK);
    assert_int_equal(stats_of(manager).mallocBytes, 0);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

static void a_class_fills_whole_slabs_without_overlap(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, 0);
    enum { N = 4096 + 10 }; /* a slab of the 16-byte class, and some */
    static unsigned char *p[N];
    unsigned i;
    (void)state;

    for (i = 0; i < N; i++) {
        assert_int_equal(IHostMalloc_Alloc(malloc, 16, eTaskCritical, (void **)&p[i]), S_OK);
        memset(p[i], (int)(i & 0xFF), 16);
    }
    assert_int_equal(stats_of(manager).mallocCommittedBytes, 2 * SLAB);
    for (i = 0; i < N; i++) {
        assert_int_equal(p[i][0], (unsigned char)(i & 0xFF));
        assert_int_equal(p[i][15], (unsigned char)(i & 0xFF));
    }
    for (i = 0; i < N; i++)
        assert_int_equal(IHostMalloc_Free(malloc, p[i]), S_OK);
    /* One empty slab stays for the class, the other went back. */
    assert_int_equal(stats_of(manager).mallocCommittedBytes, SLAB);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

static void large_blocks_are_committed_to_the_page_and_given_back_at_free(void **state)
{
    static const SIZE_T sizes[] = { SMALL_MAX + 1, 5000, 64 * KIB, 100 * KIB + 3, 3 * 1024 * KIB };
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    SYSTEM_INFO info;
    unsigned i;
    (void)state;

    GetSystemInfo(&info);
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        unsigned char *p = NULL;
        HOSTMEM_STATS stats;

        assert_int_equal(IHostMalloc_DebugAlloc(malloc, sizes[i], eTaskCritical, (char *)"large.c", (int)i,
                                                (void **)&p), S_OK);
        assert_int_equal((ULONG_PTR)p % 16, 0);
        p[0] = 1;
        p[sizes[i] - 1] = 2;
        stats = stats_of(manager);
        assert_int_equal(stats.mallocBytes, sizes[i]);
        assert_int_equal(stats.mallocCommittedBytes, round_up(sizes[i], info.dwPageSize));
        assert_int_equal(stats.committedBytes, 0);     /* the CLR's VirtualAlloc commits only */
        assert_int_equal(stats.reservedBytes, 0);
        assert_int_equal(os_committed_in_reservation(p), round_up(sizes[i], info.dwPageSize));
        assert_int_equal(IHostMalloc_Free(malloc, p), S_OK);
        assert_int_equal(os_page_state(p), MEM_FREE);
        assert_int_equal(stats_of(manager).mallocCommittedBytes, 0);
    }
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

/* --- ownership ------------------------------------------------------------------------ */

/* Free(p) is refused, and nothing changes: the books, the report, the OS. */
static void assert_refused(IHostMemoryManager *manager, IHostMalloc *malloc, void *p)
{
    HOSTMEM_STATS before = stats_of(manager), after;
    unsigned blocks = listed((IUnknown *)malloc), calls = os_total_calls();

    assert_int_equal(IHostMalloc_Free(malloc, p), HOST_E_INVALIDOPERATION);
    assert_int_equal(os_total_calls(), calls); /* the OS was not asked anything */
    after = stats_of(manager);
    assert_int_equal(after.mallocBytes, before.mallocBytes);
    assert_int_equal(after.mallocCommittedBytes, before.mallocCommittedBytes);
    assert_int_equal(listed((IUnknown *)malloc), blocks);
}

static void every_kind_of_bad_pointer_is_refused_and_changes_nothing(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE), *sibling = new_malloc(manager, MALLOC_THREADSAFE);
    unsigned char *small = NULL, *small2 = NULL, *large = NULL, *freed = NULL, *gone = NULL, *theirs = NULL;
    unsigned char *clr_region = NULL;
    unsigned char *many[40];
    unsigned i;
    (void)state;

    assert_int_equal(IHostMalloc_Alloc(malloc, 48, eTaskCritical, (void **)&small), S_OK);
    assert_int_equal(IHostMalloc_Alloc(malloc, 48, eTaskCritical, (void **)&small2), S_OK);
    assert_int_equal(IHostMalloc_Alloc(malloc, 100 * KIB, eTaskCritical, (void **)&large), S_OK);
    assert_int_equal(IHostMalloc_Alloc(malloc, 48, eTaskCritical, (void **)&freed), S_OK);
    assert_int_equal(IHostMalloc_Free(malloc, freed), S_OK);
    assert_int_equal(IHostMalloc_Alloc(sibling, 48, eTaskCritical, (void **)&theirs), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, SLAB, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
                                                     eTaskCritical, (void **)&clr_region), S_OK);
    /* A slab that went back to the OS: two slabs of the 4096-byte class, then empty. */
    for (i = 0; i < 40; i++)
        assert_int_equal(IHostMalloc_Alloc(malloc, 4096, eTaskCritical, (void **)&many[i]), S_OK);
    gone = many[39];
    for (i = 0; i < 40; i++)
        assert_int_equal(IHostMalloc_Free(malloc, many[i]), S_OK);
    memset(small, 0x33, 48);

    assert_refused(manager, malloc, small + 1);             /* misaligned */
    assert_refused(manager, malloc, small + 8);
    assert_refused(manager, malloc, small + 16);            /* 16-aligned, inside the 48-byte block */
    assert_refused(manager, malloc, small + 47);
    assert_refused(manager, malloc, small2 + 32);
    assert_refused(manager, malloc, large + 16);            /* inside a large block */
    assert_refused(manager, malloc, large + 4096);
    assert_refused(manager, malloc, large + SLAB);          /* its second granule */
    assert_refused(manager, malloc, (unsigned char *)((ULONG_PTR)small & ~(ULONG_PTR)(SLAB - 1)) + SLAB - 16);
    assert_refused(manager, malloc, freed);                 /* double free */
    assert_refused(manager, malloc, gone);                  /* its slab is gone */
    assert_refused(manager, malloc, theirs);                /* another malloc's */
    assert_refused(manager, sibling, small);
    assert_refused(manager, malloc, clr_region);            /* the manager's VirtualAlloc memory */
    assert_refused(manager, malloc, (void *)&i);            /* the stack */
    assert_refused(manager, malloc, (void *)(ULONG_PTR)0x10);
    assert_refused(manager, malloc, (void *)~(ULONG_PTR)0xF);
    assert_refused(manager, malloc, (void *)((ULONG_PTR)1 << (sizeof(void *) * 8 - 1)));

    /* The blocks are intact and still free normally. */
    for (i = 0; i < 48; i++)
        assert_int_equal(small[i], 0x33);
    assert_int_equal(IHostMalloc_Free(malloc, small), S_OK);
    assert_int_equal(IHostMalloc_Free(malloc, small2), S_OK);
    assert_int_equal(IHostMalloc_Free(malloc, large), S_OK);
    assert_int_equal(IHostMalloc_Free(sibling, theirs), S_OK);
    assert_refused(manager, malloc, large);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, clr_region, 0, MEM_RELEASE), S_OK);
    /* The CLR cannot take a heap's slab away through the manager. */
    assert_int_equal(IHostMalloc_Alloc(malloc, 48, eTaskCritical, (void **)&small), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, small, 0, MEM_RELEASE), HOST_E_INVALIDOPERATION);
    assert_int_equal(IHostMalloc_Free(malloc, small), S_OK);
    release_last((IUnknown *)sibling);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

/* --- MALLOC_EXECUTABLE ------------------------------------------------------------------ */

static DWORD protection_of(const void *p)
{
    MEMORY_BASIC_INFORMATION info;

    assert_int_equal(VirtualQuery(p, &info, sizeof(info)), sizeof(info));
    return info.Protect;
}

static void executable_mallocs_get_executable_slabs_and_regions_only(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *code = new_malloc(manager, MALLOC_EXECUTABLE | MALLOC_THREADSAFE);
    IHostMalloc *data = new_malloc(manager, MALLOC_THREADSAFE);
    void *small_code = NULL, *large_code = NULL, *small_data = NULL, *large_data = NULL;
    (void)state;

    assert_int_equal(IHostMalloc_Alloc(code, 64, eTaskCritical, &small_code), S_OK);
    assert_int_equal(IHostMalloc_Alloc(code, 20000, eTaskCritical, &large_code), S_OK);
    assert_int_equal(IHostMalloc_Alloc(data, 64, eTaskCritical, &small_data), S_OK);
    assert_int_equal(IHostMalloc_Alloc(data, 20000, eTaskCritical, &large_data), S_OK);
    assert_int_equal(protection_of(small_code), PAGE_EXECUTE_READWRITE);
    assert_int_equal(protection_of(large_code), PAGE_EXECUTE_READWRITE);
    assert_int_equal(protection_of(small_data), PAGE_READWRITE);
    assert_int_equal(protection_of(large_data), PAGE_READWRITE);
    assert_int_equal(IHostMalloc_Free(code, small_code), S_OK);
    assert_int_equal(IHostMalloc_Free(code, large_code), S_OK);
    assert_int_equal(IHostMalloc_Free(data, small_data), S_OK);
    assert_int_equal(IHostMalloc_Free(data, large_data), S_OK);
    release_last((IUnknown *)code);
    release_last((IUnknown *)data);
    release_last((IUnknown *)manager);
}

/* --- slabs coming and going ------------------------------------------------------------ */

static void a_hot_class_keeps_its_slab_and_makes_no_os_call(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    unsigned i, calls;
    void *p = NULL;
    (void)state;

    assert_int_equal(IHostMalloc_Alloc(malloc, 200, eTaskCritical, &p), S_OK);
    assert_int_equal(IHostMalloc_Free(malloc, p), S_OK);
    calls = os_total_calls();
    for (i = 0; i < 1000; i++) {
        assert_int_equal(IHostMalloc_Alloc(malloc, 200, eTaskCritical, &p), S_OK);
        assert_int_equal(IHostMalloc_Free(malloc, p), S_OK);
    }
    assert_int_equal(os_total_calls(), calls);
    assert_int_equal(stats_of(manager).mallocCommittedBytes, SLAB);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

static void release_with_outstanding_blocks_gives_everything_back(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    unsigned i;
    void *p;
    (void)state;

    for (i = 0; i < 3000; i++)
        assert_int_equal(IHostMalloc_DebugAlloc(malloc, (i * 37) % 6000, eTaskCritical, (char *)"leak.c", (int)i, &p),
                         S_OK);
    assert_true(stats_of(manager).mallocCommittedBytes > 0);
    assert_true(os_live_objects(OS_OBJECT_RESERVATION) > 0);
    assert_int_equal(listed((IUnknown *)manager), 3000);
    release_last((IUnknown *)malloc);
    assert_int_equal(stats_of(manager).mallocBytes, 0);
    assert_int_equal(stats_of(manager).mallocCommittedBytes, 0);
    assert_int_equal(os_live_objects(OS_OBJECT_RESERVATION), 0);
    assert_int_equal(listed((IUnknown *)manager), 0);
    release_last((IUnknown *)manager);
    assert_int_equal(os_live_objects(OS_OBJECT_HEAP), 0);
}

static void stats_of_the_first_size_get_no_malloc_committed_bytes(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, 0);
    HOSTMEM_STATS stats;
    void *p = NULL;
    (void)state;

    assert_int_equal(IHostMalloc_Alloc(malloc, 10, eTaskCritical, &p), S_OK);
    memset(&stats, 0xAB, sizeof(stats));
    stats.cbSize = HOSTMEM_STATS_V1_SIZE;
    assert_int_equal(HostMemGetStats((IUnknown *)manager, &stats), S_OK);
    assert_int_equal(stats.mallocBytes, 10);
    assert_int_equal(stats.mallocCommittedBytes, 0xABABABABABABABABull); /* beyond its cbSize */
    assert_int_equal(stats_of(manager).mallocCommittedBytes, SLAB);
    assert_int_equal(IHostMalloc_Free(malloc, p), S_OK);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

/* --- the limit -------------------------------------------------------------------------- */

static struct {
    unsigned calls;
    EMemoryCriticalLevel level;
    char method[16];
} escalated;

static void WINAPI on_escalation(void *context, const HOSTMEM_ESCALATION *info)
{
    (void)context;
    escalated.calls++;
    escalated.level = info->level;
    strncpy(escalated.method, info->method, sizeof(escalated.method) - 1);
}

/* Allocates 16 KiB blocks at `level` until one is refused; returns how many fit. */
static unsigned fill(IHostMalloc *malloc, EMemoryCriticalLevel level, HRESULT refusal, void **held, unsigned room)
{
    unsigned n = 0;
    HRESULT hr;

    for (;;) {
        assert_true(n < room);
        hr = IHostMalloc_Alloc(malloc, 16 * KIB, level, &held[n]);
        if (hr != S_OK)
            break;
        n++;
    }
    assert_int_equal(hr, refusal);
    assert_null(held[n]);
    return n;
}

static void the_limit_covers_the_heap_at_every_level(void **state)
{
    const ULONGLONG limit = 1024 * KIB;
    HOSTMEM_CONFIG config;
    IHostMemoryManager *manager;
    IHostMalloc *malloc;
    HOSTMEM_STATS stats;
    void *held[256] = { 0 }, *clr = NULL;
    unsigned task, domain, process, i, total;
    DWORD load = 0;
    SIZE_T available = 0;
    (void)state;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.commitLimit = limit;          /* headroom: 5% and 10% */
    config.retryTimeoutMs = HOSTMEM_RETRY_NONE;
    config.escalationCallback = on_escalation;
    memset(&escalated, 0, sizeof(escalated));
    manager = new_manager(&config);
    malloc = new_malloc(manager, MALLOC_THREADSAFE);

    task = fill(malloc, eTaskCritical, E_OUTOFMEMORY, held, 256);
    stats = stats_of(manager);
    assert_int_equal(stats.mallocCommittedBytes, (ULONGLONG)task * 16 * KIB);
    assert_true(stats.mallocCommittedBytes <= limit);
    assert_true(stats.mallocCommittedBytes + 16 * KIB > limit);
    assert_int_equal(stats.failures[eTaskCritical], 1);
    /* GetMemoryLoad counts the heap, and so does the CLR's own VirtualAlloc. */
    assert_int_equal(IHostMemoryManager_GetMemoryLoad(manager, &load, &available), S_OK);
    assert_true(load >= 90);
    assert_true(available < 16 * KIB);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 16 * KIB, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
                                                     eTaskCritical, &clr), E_OUTOFMEMORY);

    domain = fill(malloc, eAppDomainCritical, E_OUTOFMEMORY, held + task, 256 - task);
    assert_true(domain >= 1); /* the domain level's headroom */
    assert_true(stats_of(manager).mallocCommittedBytes <= limit + limit / 20);
    process = fill(malloc, eProcessCritical, E_FAIL, held + task + domain, 256 - task - domain);
    assert_true(process >= 1);
    assert_true(stats_of(manager).mallocCommittedBytes <= limit + limit / 10);
    assert_int_equal(escalated.calls, 1);
    assert_int_equal(escalated.level, eProcessCritical);
    assert_string_equal(escalated.method, "Alloc");
    assert_int_equal(stats_of(manager).escalations, 1);

    /* Freeing makes room again, for the heap and for the CLR's VirtualAlloc. */
    total = task + domain + process;
    for (i = 0; i < total; i++)
        assert_int_equal(IHostMalloc_Free(malloc, held[i]), S_OK);
    assert_int_equal(stats_of(manager).mallocCommittedBytes, 0);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 16 * KIB, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
                                                     eTaskCritical, &clr), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, clr, 0, MEM_RELEASE), S_OK);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

static void small_blocks_past_the_limit_are_refused_before_the_os_is_asked(void **state)
{
    HOSTMEM_CONFIG config;
    IHostMemoryManager *manager;
    IHostMalloc *malloc;
    void *p = NULL, *q = (void *)(ULONG_PTR)1;
    unsigned allocs;
    (void)state;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.commitLimit = SLAB;
    config.appDomainHeadroom = HOSTMEM_HEADROOM_NONE;
    config.processHeadroom = HOSTMEM_HEADROOM_NONE;
    config.retryTimeoutMs = HOSTMEM_RETRY_NONE;
    manager = new_manager(&config);
    malloc = new_malloc(manager, MALLOC_THREADSAFE);
    assert_int_equal(IHostMalloc_Alloc(malloc, 32, eTaskCritical, &p), S_OK); /* the one slab that fits */
    allocs = os_call_count(OS_VIRTUAL_ALLOC);
    assert_int_equal(IHostMalloc_Alloc(malloc, 64, eAppDomainCritical, &q), E_OUTOFMEMORY); /* another class */
    assert_null(q);
    assert_int_equal(GetLastError(), ERROR_NOT_ENOUGH_MEMORY);
    assert_int_equal(os_call_count(OS_VIRTUAL_ALLOC), allocs);
    assert_int_equal(IHostMalloc_Alloc(malloc, 32, eTaskCritical, &q), S_OK); /* its slab has room */
    assert_int_equal(IHostMalloc_Free(malloc, p), S_OK);
    assert_int_equal(IHostMalloc_Free(malloc, q), S_OK);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

/* The one empty slab a class keeps is the first thing to go when memory is short: a
   task-level Alloc that does not fit gives the kept slabs back (and fails: that level
   is not retried), a domain-level one gives them back and then fits. */
static void kept_empty_slabs_go_back_when_memory_is_short(void **state)
{
    HOSTMEM_CONFIG config;
    IHostMemoryManager *manager;
    IHostMalloc *malloc;
    void *a = NULL, *b = NULL, *c = NULL;
    (void)state;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.commitLimit = 2 * SLAB;
    config.appDomainHeadroom = HOSTMEM_HEADROOM_NONE;
    config.processHeadroom = HOSTMEM_HEADROOM_NONE;
    config.retryTimeoutMs = 10000; /* the wait ends at once: the trim made the room */
    manager = new_manager(&config);
    malloc = new_malloc(manager, MALLOC_THREADSAFE);
    assert_int_equal(IHostMalloc_Alloc(malloc, 32, eTaskCritical, &a), S_OK);
    assert_int_equal(IHostMalloc_Alloc(malloc, 64, eTaskCritical, &b), S_OK);
    assert_int_equal(IHostMalloc_Free(malloc, a), S_OK);             /* its slab is kept */
    assert_int_equal(stats_of(manager).mallocCommittedBytes, 2 * SLAB);
    assert_int_equal(IHostMalloc_Alloc(malloc, 96, eTaskCritical, &c), E_OUTOFMEMORY);
    assert_int_equal(stats_of(manager).mallocCommittedBytes, SLAB);  /* the kept slab went */
    assert_int_equal(IHostMalloc_Alloc(malloc, 96, eTaskCritical, &c), S_OK);
    assert_int_equal(IHostMalloc_Free(malloc, c), S_OK);             /* kept again */
    assert_int_equal(IHostMalloc_Alloc(malloc, 128, eAppDomainCritical, &a), S_OK);
    assert_int_equal(stats_of(manager).failures[eAppDomainCritical], 0);
    assert_int_equal(stats_of(manager).mallocCommittedBytes, 2 * SLAB);
    assert_int_equal(IHostMalloc_Free(malloc, a), S_OK);
    assert_int_equal(IHostMalloc_Free(malloc, b), S_OK);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

/* The water marks see the heap's commits: Low as its blocks fill the limit, High once
   they are freed. */
static LONG marks_count;
static LONG marks_states[64];

static HRESULT WINAPI record_mark(ICLRMemoryNotificationCallback *iface, EMemoryAvailable state)
{
    LONG n = InterlockedIncrement(&marks_count) - 1;

    (void)iface;
    if (n < 64)
        marks_states[n] = state;
    return S_OK;
}

static ICLRMemoryNotificationCallbackVtbl marks_vtbl = CLR_CALLBACK_VTBL(record_mark);

static LONG wait_for_state(LONG from, EMemoryAvailable state)
{
    unsigned i;
    LONG n;

    for (i = 0; i < 5000; i++) {
        for (n = from; n < InterlockedCompareExchange(&marks_count, 0, 0) && n < 64; n++)
            if (marks_states[n] == (LONG)state)
                return n + 1;
        Sleep(1);
    }
    fail_msg("no notification %d", (int)state);
    return 0;
}

static void the_water_marks_see_the_heap(void **state)
{
    ICLRMemoryNotificationCallback callback = { &marks_vtbl };
    HOSTMEM_CONFIG config;
    IHostMemoryManager *manager;
    IHostMalloc *malloc;
    void *held[32];
    unsigned i;
    LONG seen;
    (void)state;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.commitLimit = 100 * 4096; /* the water marks at 90% and 60% */
    config.retryTimeoutMs = HOSTMEM_RETRY_NONE;
    manager = new_manager(&config);
    malloc = new_malloc(manager, MALLOC_THREADSAFE);
    marks_count = 0;
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &callback), S_OK);
    for (i = 0; i < 23; i++) /* 23 x 4 pages: 92% */
        assert_int_equal(IHostMalloc_Alloc(malloc, 16 * KIB, eTaskCritical, &held[i]), S_OK);
    seen = wait_for_state(0, eMemoryAvailableLow);
    for (i = 0; i < 23; i++)
        assert_int_equal(IHostMalloc_Free(malloc, held[i]), S_OK);
    wait_for_state(seen, eMemoryAvailableHigh);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, NULL), S_OK);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)manager);
}

/* An eAppDomainCritical Alloc whose slab does not fit raises Low and waits; the CLR's
   callback frees memory, and the retried Alloc succeeds: the VirtualAlloc path's
   wait-and-retry, for the heap. */
static IHostMemoryManager *freeing_manager;
static void *volatile freeing_region;

static HRESULT WINAPI free_on_low(ICLRMemoryNotificationCallback *iface, EMemoryAvailable state)
{
    void *region;

    (void)iface;
    if (state == eMemoryAvailableLow && (region = InterlockedExchangePointer((void **)&freeing_region, NULL)))
        IHostMemoryManager_VirtualFree(freeing_manager, region, 0, MEM_RELEASE);
    return S_OK;
}

static ICLRMemoryNotificationCallbackVtbl free_on_low_vtbl = CLR_CALLBACK_VTBL(free_on_low);

static void a_critical_alloc_waits_for_the_clr_to_free_and_is_retried(void **state)
{
    ICLRMemoryNotificationCallback callback = { &free_on_low_vtbl };
    HOSTMEM_CONFIG config;
    IHostMalloc *malloc;
    void *region = NULL, *p = NULL, *q = (void *)(ULONG_PTR)1;
    (void)state;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.commitLimit = 4 * SLAB;
    config.appDomainHeadroom = HOSTMEM_HEADROOM_NONE;
    config.processHeadroom = HOSTMEM_HEADROOM_NONE;
    config.retryTimeoutMs = 10000;
    freeing_manager = new_manager(&config);
    malloc = new_malloc(freeing_manager, MALLOC_THREADSAFE);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(freeing_manager, &callback), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(freeing_manager, NULL, 3 * SLAB + SLAB / 2,
                                                     MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE, eTaskCritical,
                                                     &region), S_OK);
    /* The task level is refused at once, and nothing is freed for it. */
    assert_int_equal(IHostMalloc_Alloc(malloc, 100, eTaskCritical, &q), E_OUTOFMEMORY);
    assert_null(q);
    freeing_region = region;
    assert_int_equal(IHostMalloc_Alloc(malloc, 100, eAppDomainCritical, &p), S_OK);
    assert_null(freeing_region); /* the callback freed it */
    assert_int_equal(stats_of(freeing_manager).failures[eAppDomainCritical], 0);
    assert_int_equal(stats_of(freeing_manager).mallocCommittedBytes, SLAB);
    assert_int_equal(IHostMalloc_Free(malloc, p), S_OK);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(freeing_manager, NULL), S_OK);
    release_last((IUnknown *)malloc);
    release_last((IUnknown *)freeing_manager);
}

/* --- many threads ------------------------------------------------------------------------ */

#define THREADS 8
#define HELD    64
#define ROUNDS  3000

typedef struct churner {
    IHostMalloc       *malloc;
    unsigned           seed;
    LONG               failures;
    void              *held[HELD];
    SIZE_T             size[HELD];
} churner;

/* Blocks handed from one thread to another, to be freed there. */
static void *volatile mailbox[THREADS * 4];

static DWORD WINAPI churn(void *context)
{
    churner *c = context;
    unsigned i, x = c->seed;

    for (i = 0; i < ROUNDS; i++) {
        unsigned slot;
        void *other;

        x = x * 1103515245u + 12345u;
        slot = (x >> 16) % HELD;
        if (c->held[slot]) {
            /* Every fourth block goes to the mailbox, for another thread to free. */
            if ((x >> 8) % 4 == 0 &&
                !InterlockedCompareExchangePointer((void **)&mailbox[(x >> 4) % (THREADS * 4)], c->held[slot], NULL)) {
                c->held[slot] = NULL;
                continue;
            }
            if (IHostMalloc_Free(c->malloc, c->held[slot]) != S_OK)
                c->failures++;
            c->held[slot] = NULL;
        } else {
            SIZE_T size = (x >> 20) % 16 == 0 ? 4097 + (x >> 8) % 20000 : (x >> 12) % 1100;
            if (IHostMalloc_Alloc(c->malloc, size, eTaskCritical, &c->held[slot]) != S_OK)
                c->failures++;
            else if (size)
                memset(c->held[slot], (int)slot, size < 64 ? size : 64);
            c->size[slot] = size;
        }
        if ((other = InterlockedExchangePointer((void **)&mailbox[(x >> 24) % (THREADS * 4)], NULL)) &&
            IHostMalloc_Free(c->malloc, other) != S_OK)
            c->failures++;
    }
    return 0;
}

/* A leak report taken while the churn runs always lists the anchors. */
typedef struct anchor_check {
    void    *anchors[16];
    unsigned found;
} anchor_check;

static BOOL WINAPI find_anchor(void *context, const HOSTMEM_BLOCK_INFO *block)
{
    anchor_check *a = context;
    unsigned i;

    for (i = 0; i < 16; i++)
        if (block->address == a->anchors[i])
            a->found++;
    return TRUE;
}

static void books_are_exact_after_churn_with_frees_on_other_threads(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *malloc = new_malloc(manager, MALLOC_THREADSAFE);
    static churner churners[THREADS];
    HANDLE threads[THREADS];
    anchor_check anchors;
    SIZE_T live = 0;
    unsigned i, j, reports = 0;
    (void)state;

    memset((void *)mailbox, 0, sizeof(mailbox));
    for (i = 0; i < 16; i++)
        assert_int_equal(IHostMalloc_DebugAlloc(malloc, 16 * i, eTaskCritical, (char *)"anchor.c", (int)i,
                                                &anchors.anchors[i]), S_OK);
    for (i = 0; i < THREADS; i++) {
        memset(&churners[i], 0, sizeof(churners[i]));
        churners[i].malloc = malloc;
        churners[i].seed = 11 + i * 7919;
        threads[i] = CreateThread(NULL, 0, churn, &churners[i], 0, NULL);
        assert_non_null(threads[i]);
    }
    /* The leak report, again and again while they run: complete every time. */
    while (WaitForMultipleObjects(THREADS, threads, TRUE, 0) == WAIT_TIMEOUT && reports < 2000) {
        anchors.found = 0;
        assert_int_equal(HostMemEnumMallocBlocks((IUnknown *)manager, find_anchor, &anchors), S_OK);
        assert_int_equal(anchors.found, 16);
        reports++;
    }
    assert_int_equal(WaitForMultipleObjects(THREADS, threads, TRUE, 120000), WAIT_OBJECT_0);
    for (i = 0; i < THREADS; i++) {
        CloseHandle(threads[i]);
        assert_int_equal(churners[i].failures, 0);
        for (j = 0; j < HELD; j++)
            if (churners[i].held[j])
                live += churners[i].size[j];
    }
    for (i = 0; i < 16; i++)
        live += 16 * i;
    /* What is still in the mailbox goes first; then the books are what the threads hold. */
    for (i = 0; i < THREADS * 4; i++)
        if (mailbox[i])
            assert_int_equal(IHostMalloc_Free(malloc, mailbox[i]), S_OK);
    assert_int_equal(stats_of(manager).mallocBytes, live);
    for (i = 0; i < THREADS; i++)
        for (j = 0; j < HELD; j++)
            if (churners[i].held[j])
                assert_int_equal(IHostMalloc_Free(malloc, churners[i].held[j]), S_OK);
    for (i = 0; i < 16; i++)
        assert_int_equal(IHostMalloc_Free(malloc, anchors.anchors[i]), S_OK);
    assert_int_equal(stats_of(manager).mallocBytes, 0);
    assert_int_equal(listed((IUnknown *)malloc), 0);
    /* What stays is at most one empty slab per class of each of the 8 arenas and the
       shared one; no large block is left. */
    assert_true(stats_of(manager).mallocCommittedBytes <= 9 * 28 * SLAB);
    assert_int_equal(stats_of(manager).mallocCommittedBytes % SLAB, 0);
    release_last((IUnknown *)malloc);
    assert_int_equal(stats_of(manager).mallocCommittedBytes, 0);
    release_last((IUnknown *)manager);
}

/* --- a thread that exits ------------------------------------------------------------ */

#define OWNED 32 /* 4 KiB blocks: two slabs */

typedef struct owner {
    IHostMalloc *malloc;
    void        *blocks[OWNED];
    HANDLE       allocated, may_exit;
} owner;

static DWORD WINAPI allocate_then_wait(void *context)
{
    owner *o = context;
    unsigned i;

    for (i = 0; i < OWNED; i++)
        if (IHostMalloc_Alloc(o->malloc, SMALL_MAX, eTaskCritical, &o->blocks[i]) != S_OK)
            o->blocks[i] = NULL;
    SetEvent(o->allocated);
    WaitForSingleObject(o->may_exit, INFINITE);
    return 0;
}

/* The thread that allocated the blocks owns its arena; the blocks freed here wait for
   it (already off the books), and when it exits its fiber-local callback hands the
   arena on: the slab that emptied goes back to the OS, the kept one stays. */
static void an_exiting_thread_strands_no_slab(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    static owner o;
    HANDLE thread;
    void *again;
    unsigned i;
    (void)state;

    memset(&o, 0, sizeof(o));
    o.malloc = new_malloc(manager, MALLOC_THREADSAFE);
    o.allocated = CreateEventW(NULL, TRUE, FALSE, NULL);
    o.may_exit = CreateEventW(NULL, TRUE, FALSE, NULL);
    thread = CreateThread(NULL, 0, allocate_then_wait, &o, 0, NULL);
    assert_non_null(thread);
    WaitForSingleObject(o.allocated, INFINITE);
    for (i = 0; i < OWNED; i++) {
        assert_non_null(o.blocks[i]);
        assert_int_equal(IHostMalloc_Free(o.malloc, o.blocks[i]), S_OK);
        assert_int_equal(IHostMalloc_Free(o.malloc, o.blocks[i]), HOST_E_INVALIDOPERATION);
    }
    assert_int_equal(stats_of(manager).mallocBytes, 0);
    assert_int_equal(listed((IUnknown *)o.malloc), 0);
    assert_int_equal(stats_of(manager).mallocCommittedBytes, 2 * SLAB);
    SetEvent(o.may_exit);
    WaitForSingleObject(thread, INFINITE);
    CloseHandle(thread);
    assert_int_equal(stats_of(manager).mallocCommittedBytes, SLAB);
    /* The heap goes on from this thread (its own arena). */
    assert_int_equal(IHostMalloc_Alloc(o.malloc, SMALL_MAX, eTaskCritical, &again), S_OK);
    assert_int_equal(IHostMalloc_Free(o.malloc, again), S_OK);
    CloseHandle(o.allocated);
    CloseHandle(o.may_exit);
    release_last((IUnknown *)o.malloc);
    assert_int_equal(stats_of(manager).mallocCommittedBytes, 0);
    release_last((IUnknown *)manager);
}

/* A thread that cannot be watched for its exit owns no arena: with FlsAlloc refused it
   allocates and frees through the shared arena, and nothing is left behind. */
typedef struct unwatched {
    IHostMalloc *malloc;
    HRESULT      alloc_hr[OWNED], free_hr[OWNED], double_free_hr;
} unwatched;

static DWORD WINAPI allocate_and_free(void *parameter)
{
    unwatched *u = parameter;
    void *blocks[OWNED];
    unsigned i;

    for (i = 0; i < OWNED; i++)
        u->alloc_hr[i] = IHostMalloc_Alloc(u->malloc, 16 + 64 * i, eTaskCritical, &blocks[i]);
    for (i = 0; i < OWNED; i++)
        u->free_hr[i] = IHostMalloc_Free(u->malloc, blocks[i]);
    u->double_free_hr = IHostMalloc_Free(u->malloc, blocks[0]);
    return 0;
}

static void a_thread_without_a_fiber_slot_uses_the_shared_arena(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    static unwatched u;
    HANDLE thread;
    unsigned i;
    (void)state;

    hm_thread_watch_end(); /* so that the next thread asks the OS for the slot again */
    fault_always(OS_FLS_ALLOC, ERROR_NO_SYSTEM_RESOURCES);
    memset(&u, 0, sizeof(u));
    u.malloc = new_malloc(manager, MALLOC_THREADSAFE);
    thread = CreateThread(NULL, 0, allocate_and_free, &u, 0, NULL);
    assert_non_null(thread);
    WaitForSingleObject(thread, INFINITE);
    CloseHandle(thread);
    assert_true(os_call_count(OS_FLS_ALLOC) >= 1);
    for (i = 0; i < OWNED; i++) {
        assert_int_equal(u.alloc_hr[i], S_OK);
        assert_int_equal(u.free_hr[i], S_OK);
    }
    assert_int_equal(u.double_free_hr, HOST_E_INVALIDOPERATION);
    assert_int_equal(stats_of(manager).mallocBytes, 0);
    assert_int_equal(listed((IUnknown *)u.malloc), 0);
    fault_clear();
    release_last((IUnknown *)u.malloc);
    assert_int_equal(stats_of(manager).mallocCommittedBytes, 0);
    release_last((IUnknown *)manager);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fault_setup, fault_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(every_class_boundary_gives_aligned_disjoint_writable_blocks),
        T(a_class_fills_whole_slabs_without_overlap),
        T(large_blocks_are_committed_to_the_page_and_given_back_at_free),
        T(every_kind_of_bad_pointer_is_refused_and_changes_nothing),
        T(executable_mallocs_get_executable_slabs_and_regions_only),
        T(a_hot_class_keeps_its_slab_and_makes_no_os_call),
        T(release_with_outstanding_blocks_gives_everything_back),
        T(stats_of_the_first_size_get_no_malloc_committed_bytes),
        T(the_limit_covers_the_heap_at_every_level),
        T(small_blocks_past_the_limit_are_refused_before_the_os_is_asked),
        T(kept_empty_slabs_go_back_when_memory_is_short),
        T(the_water_marks_see_the_heap),
        T(a_critical_alloc_waits_for_the_clr_to_free_and_is_retried),
        T(books_are_exact_after_churn_with_frees_on_other_threads),
        T(an_exiting_thread_strands_no_slab),
        T(a_thread_without_a_fiber_slot_uses_the_shared_arena),
    };

    return cmocka_run_group_tests_name("heap", tests, NULL, NULL);
}
