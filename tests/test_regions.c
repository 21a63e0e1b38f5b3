/*
 * HostMemEnumRegions: every region a manager holds, checked against the OS's own view
 * (VirtualQuery) after a random workload, against the statistics at a quiet moment,
 * and for self-consistency while other threads reserve, commit and release.
 */
#include "test_support.h"

#include <string.h>

#define KIB ((SIZE_T)1024)
#define MAX_LIVE 64
#define MAX_SEEN 512

typedef struct seen_regions {
    HOSTMEM_REGION_INFO region[MAX_SEEN];
    unsigned count;
    unsigned calls;
    unsigned stop_after; /* 0: never stop */
} seen_regions;

static BOOL WINAPI collect(void *context, const HOSTMEM_REGION_INFO *region)
{
    seen_regions *seen = context;

    seen->calls++;
    if (seen->count < MAX_SEEN)
        seen->region[seen->count++] = *region;
    return !seen->stop_after || seen->calls < seen->stop_after;
}


static SIZE_T page_size(void)
{
    SYSTEM_INFO info;

    GetSystemInfo(&info);
    return info.dwPageSize;
}

static unsigned next_random(unsigned *state)
{
    *state = *state * 1103515245u + 12345u;
    return *state >> 16;
}

/* What the OS says of the reservation at base: its size, its committed bytes, the
   protection it was reserved with. */
static void os_reservation(const void *base, SIZE_T *reserved, SIZE_T *committed, DWORD *protect)
{
    MEMORY_BASIC_INFORMATION info;
    const char *p = base;

    *reserved = *committed = 0;
    *protect = 0;
    while (VirtualQuery(p, &info, sizeof(info)) == sizeof(info) && info.AllocationBase == base) {
        *protect = info.AllocationProtect;
        *reserved += info.RegionSize;
        if (info.State == MEM_COMMIT)
            *committed += info.RegionSize;
        p += info.RegionSize;
    }
}

typedef struct live_region {
    char                *base;
    SIZE_T               size;
    DWORD                protect;
    EMemoryCriticalLevel level;
} live_region;

static void regions_match_the_os_after_a_random_workload(void **state)
{
    static const DWORD protects[] = { PAGE_READWRITE, PAGE_NOACCESS, PAGE_EXECUTE_READWRITE, PAGE_READONLY };
    IHostControl *control = new_control(NULL);
    IHostMemoryManager *manager = manager_of(control);
    live_region live[MAX_LIVE];
    unsigned n = 0, i, j, step, rng = 7, views = 0, virtual_count = 0;
    HANDLE mapping;
    void *view[2];
    ULONGLONG committed_sum = 0, reserved_sum = 0;
    HOSTMEM_STATS stats;
    seen_regions *seen = calloc(1, sizeof(*seen));
    SIZE_T page = page_size();
    (void)state;

    for (step = 0; step < 600; step++) {
        unsigned what = next_random(&rng) % 10;

        if ((what < 3 || n == 0) && n < MAX_LIVE) {
            live_region *r = &live[n];
            DWORD type = next_random(&rng) % 3 == 0 ? MEM_RESERVE | MEM_COMMIT : MEM_RESERVE;
            void *p = NULL;

            r->size = (1 + next_random(&rng) % 40) * page * 4;
            r->protect = protects[next_random(&rng) % 4];
            r->level = (EMemoryCriticalLevel)(next_random(&rng) % 3);
            if (type & MEM_COMMIT)
                r->protect = PAGE_READWRITE;
            assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, r->size, type, r->protect, r->level, &p),
                             S_OK);
            r->base = p;
            n++;
        } else if (what < 7) {
            live_region *r = &live[next_random(&rng) % n];
            SIZE_T first = next_random(&rng) % (r->size / page), count = 1 + next_random(&rng) % 8;
            void *p = NULL;

            if (first + count > r->size / page)
                count = r->size / page - first;
            assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, r->base + first * page, count * page, MEM_COMMIT,
                                                             PAGE_READWRITE, eTaskCritical, &p), S_OK);
        } else if (what < 9) {
            live_region *r = &live[next_random(&rng) % n];
            SIZE_T first = next_random(&rng) % (r->size / page), count = 1 + next_random(&rng) % 4;

            if (first + count > r->size / page)
                count = r->size / page - first;
            assert_int_equal(IHostMemoryManager_VirtualFree(manager, r->base + first * page, count * page,
                                                            MEM_DECOMMIT), S_OK);
        } else {
            i = next_random(&rng) % n;
            assert_int_equal(IHostMemoryManager_VirtualFree(manager, live[i].base, 0, MEM_RELEASE), S_OK);
            live[i] = live[--n];
        }
    }

    /* Two views the CLR would report after mapping them itself. */
    mapping = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 256 * 1024, NULL);
    assert_non_null(mapping);
    for (i = 0; i < 2; i++) {
        view[i] = MapViewOfFile(mapping, FILE_MAP_READ, 0, 0, (i + 1) * 64 * 1024);
        assert_non_null(view[i]);
        assert_int_equal(IHostMemoryManager_AcquiredVirtualAddressSpace(manager, view[i], (i + 1) * 64 * 1024), S_OK);
    }

    assert_int_equal(HostMemEnumRegions((IUnknown *)control, collect, seen), S_OK);
    stats = stats_of((IUnknown *)control);
    for (i = 0; i < seen->count; i++) {
        const HOSTMEM_REGION_INFO *r = &seen->region[i];
        SIZE_T os_reserved, os_committed;
        DWORD os_protect;

        assert_int_equal(r->cbSize, sizeof(*r));
        if (r->kind == HOSTMEM_REGION_VIRTUAL) {
            BOOL found = FALSE;

            virtual_count++;
            os_reservation(r->base, &os_reserved, &os_committed, &os_protect);
            assert_int_equal(r->reservedBytes, os_reserved);
            assert_int_equal(r->committedBytes, os_committed);
            assert_int_equal(r->protect, os_protect);
            for (j = 0; j < n; j++)
                if (live[j].base == r->base) {
                    assert_int_equal(r->protect, live[j].protect);
                    assert_int_equal(r->level, live[j].level);
                    assert_int_equal(r->reservedBytes, live[j].size);
                    found = TRUE;
                }
            assert_true(found);
            committed_sum += r->committedBytes;
            reserved_sum += r->reservedBytes;
        } else if (r->kind == HOSTMEM_REGION_VIEW) {
            MEMORY_BASIC_INFORMATION info;

            assert_true(r->base == view[0] || r->base == view[1]);
            assert_int_equal(r->reservedBytes, r->base == view[0] ? 64 * 1024 : 128 * 1024);
            assert_int_equal(r->committedBytes, 0);
            assert_int_equal(VirtualQuery(r->base, &info, sizeof(info)), sizeof(info));
            assert_int_equal(info.Type, MEM_MAPPED);
            views++;
        } else {
            /* HEAP: hostmem's own IHostMalloc memory, a reservation of its own. */
            assert_int_equal(r->kind, HOSTMEM_REGION_HEAP);
            os_reservation(r->base, &os_reserved, &os_committed, &os_protect);
            assert_true(r->committedBytes <= r->reservedBytes);
            assert_true(r->reservedBytes <= os_reserved);
        }
    }
    assert_int_equal(virtual_count, n);
    assert_int_equal(views, 2);
    assert_int_equal(committed_sum, stats.committedBytes);
    assert_int_equal(reserved_sum, stats.reservedBytes);

    for (i = 0; i < 2; i++) {
        assert_int_equal(IHostMemoryManager_ReleasedVirtualAddressSpace(manager, view[i]), S_OK);
        UnmapViewOfFile(view[i]);
    }
    CloseHandle(mapping);
    for (i = 0; i < n; i++)
        assert_int_equal(IHostMemoryManager_VirtualFree(manager, live[i].base, 0, MEM_RELEASE), S_OK);
    memset(seen, 0, sizeof(*seen));
    assert_int_equal(HostMemEnumRegions((IUnknown *)manager, collect, seen), S_OK);
    for (i = 0; i < seen->count; i++)
        assert_int_not_equal(seen->region[i].kind, HOSTMEM_REGION_VIRTUAL);
    free(seen);
    IHostMemoryManager_Release(manager);
    release_last((IUnknown *)control);
}

/* The IHostMalloc heaps' slabs and large blocks are HEAP regions: each committed whole
   with its object's protection, as the OS sees it, adding up to mallocCommittedBytes;
   the CLR's own reservations beside them are unchanged. */
static void heap_regions_are_the_heaps_pages(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    IHostMalloc *plain, *executable;
    void *small[64], *large, *code;
    seen_regions seen;
    SIZE_T heap_committed = 0, heaps = 0, reserved, committed, i;
    DWORD protect;
    BOOL saw_executable = FALSE;
    (void)state;

    assert_int_equal(IHostMemoryManager_CreateMalloc(manager, MALLOC_THREADSAFE, &plain), S_OK);
    assert_int_equal(IHostMemoryManager_CreateMalloc(manager, MALLOC_THREADSAFE | MALLOC_EXECUTABLE, &executable), S_OK);
    for (i = 0; i < 64; i++)
        assert_int_equal(IHostMalloc_Alloc(plain, 16 + i * 40, eTaskCritical, &small[i]), S_OK);
    assert_int_equal(IHostMalloc_Alloc(plain, 300 * 1024, eAppDomainCritical, &large), S_OK);
    assert_int_equal(IHostMalloc_Alloc(executable, 100, eProcessCritical, &code), S_OK);

    memset(&seen, 0, sizeof(seen));
    assert_int_equal(HostMemEnumRegions((IUnknown *)manager, collect, &seen), S_OK);
    for (i = 0; i < seen.count; i++) {
        const HOSTMEM_REGION_INFO *r = &seen.region[i];

        if (r->kind != HOSTMEM_REGION_HEAP)
            continue;
        heaps++;
        assert_int_equal(r->committedBytes, r->reservedBytes); /* committed whole */
        os_reservation(r->base, &reserved, &committed, &protect);
        assert_int_equal(reserved, r->reservedBytes);
        assert_int_equal(committed, r->committedBytes);
        assert_int_equal(protect, r->protect);
        assert_true(r->protect == PAGE_READWRITE || r->protect == PAGE_EXECUTE_READWRITE);
        if (r->protect == PAGE_EXECUTE_READWRITE) {
            saw_executable = TRUE;
            assert_int_equal(r->level, eProcessCritical);
        }
        heap_committed += r->committedBytes;
    }
    assert_true(heaps >= 3); /* small blocks' slabs, the large block, the executable slab */
    assert_true(saw_executable);
    assert_int_equal(heap_committed, stats_of(manager).mallocCommittedBytes);

    for (i = 0; i < 64; i++)
        assert_int_equal(IHostMalloc_Free(plain, small[i]), S_OK);
    assert_int_equal(IHostMalloc_Free(plain, large), S_OK);
    assert_int_equal(IHostMalloc_Free(executable, code), S_OK);
    IHostMalloc_Release(plain);
    IHostMalloc_Release(executable);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(HostMemEnumRegions((IUnknown *)manager, collect, &seen), S_OK);
    for (i = 0; i < seen.count; i++)
        assert_int_not_equal(seen.region[i].kind, HOSTMEM_REGION_HEAP);
    assert_int_equal(stats_of(manager).mallocCommittedBytes, 0);
    release_last((IUnknown *)manager);
}

static void bad_arguments_are_refused(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    seen_regions seen;
    IUnknown *foreign = (IUnknown *)&seen;
    (void)state;

    memset(&seen, 0, sizeof(seen));
    assert_int_equal(HostMemEnumRegions(NULL, collect, &seen), E_POINTER);
    assert_int_equal(HostMemEnumRegions((IUnknown *)manager, NULL, &seen), E_POINTER);
    /* An object that is not hostmem's, whose first word points at no vtable of ours. */
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(HostMemEnumRegions(foreign, collect, &seen), E_INVALIDARG);
    assert_int_equal(seen.calls, 0);
    release_last((IUnknown *)manager);
}

static void the_callback_stops_the_walk(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    seen_regions seen;
    void *p[3];
    unsigned i;
    (void)state;

    for (i = 0; i < 3; i++)
        assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 64 * KIB, MEM_RESERVE, PAGE_NOACCESS,
                                                         eTaskCritical, &p[i]), S_OK);
    memset(&seen, 0, sizeof(seen));
    seen.stop_after = 2;
    assert_int_equal(HostMemEnumRegions((IUnknown *)manager, collect, &seen), S_OK);
    assert_int_equal(seen.calls, 2);
    for (i = 0; i < 3; i++)
        assert_int_equal(IHostMemoryManager_VirtualFree(manager, p[i], 0, MEM_RELEASE), S_OK);
    release_last((IUnknown *)manager);
}

/* The callback runs outside every lock: it may call into hostmem, even release the
   last reference the host had. */
typedef struct reentry {
    IHostMemoryManager *manager;
    HRESULT hr;
    unsigned calls;
} reentry;

static BOOL WINAPI call_back_in(void *context, const HOSTMEM_REGION_INFO *region)
{
    reentry *r = context;
    void *p = NULL;

    r->calls++;
    if (r->calls == 1) {
        r->hr = IHostMemoryManager_VirtualAlloc(r->manager, (void *)region->base, 4096, MEM_COMMIT, PAGE_READWRITE,
                                                eTaskCritical, &p);
        IHostMemoryManager_Release(r->manager); /* the host's last reference */
    }
    return TRUE;
}

static void the_callback_may_call_hostmem_and_release_it(void **state)
{
    reentry r;
    void *p = NULL;
    (void)state;

    memset(&r, 0, sizeof(r));
    r.manager = new_manager(NULL);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(r.manager, NULL, 64 * KIB, MEM_RESERVE, PAGE_READWRITE,
                                                     eTaskCritical, &p), S_OK);
    assert_int_equal(HostMemEnumRegions((IUnknown *)r.manager, call_back_in, &r), S_OK);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.hr, S_OK);
}

static void no_memory_for_the_snapshot_is_E_OUTOFMEMORY(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    seen_regions seen;
    void *p = NULL;
    (void)state;

    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 64 * KIB, MEM_RESERVE, PAGE_READWRITE,
                                                     eTaskCritical, &p), S_OK);
    memset(&seen, 0, sizeof(seen));
    fault_always(OS_HEAP_ALLOC, ERROR_NOT_ENOUGH_MEMORY);
    assert_int_equal(HostMemEnumRegions((IUnknown *)manager, collect, &seen), E_OUTOFMEMORY);
    fault_clear();
    assert_int_equal(seen.calls, 0);
    /* The second allocation (the list) fails after the ledger's copy was made. */
    fault_once(OS_HEAP_ALLOC, 1, ERROR_NOT_ENOUGH_MEMORY);
    assert_int_equal(HostMemEnumRegions((IUnknown *)manager, collect, &seen), E_OUTOFMEMORY);
    fault_clear();
    assert_int_equal(seen.calls, 0);
    assert_int_equal(HostMemEnumRegions((IUnknown *)manager, collect, &seen), S_OK);
    assert_int_equal(seen.calls, 1);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, p, 0, MEM_RELEASE), S_OK);
    release_last((IUnknown *)manager);
}

/* Each of the snapshot's allocations refused in turn: the ledger's copy, the list,
   the views' copy, the list growing past its first 64 entries while the views are
   added. */
static void every_allocation_of_the_snapshot_may_fail(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    seen_regions *seen = calloc(1, sizeof(*seen));
    void *p[64], *view = NULL;
    unsigned i, skip;
    (void)state;

    for (i = 0; i < 64; i++)
        assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 64 * KIB, MEM_RESERVE, PAGE_NOACCESS,
                                                         eTaskCritical, &p[i]), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 64 * KIB, MEM_RESERVE, PAGE_NOACCESS,
                                                     eTaskCritical, &view), S_OK);
    /* Booked as a view (hostmem does not look at what is mapped there). */
    assert_int_equal(IHostMemoryManager_AcquiredVirtualAddressSpace(manager, (char *)view + 4096, 4096), S_OK);
    for (skip = 0; skip < 4; skip++) {
        memset(seen, 0, sizeof(*seen));
        fault_once(OS_HEAP_ALLOC, skip, ERROR_NOT_ENOUGH_MEMORY);
        assert_int_equal(HostMemEnumRegions((IUnknown *)manager, collect, seen), E_OUTOFMEMORY);
        fault_clear();
        assert_int_equal(seen->calls, 0);
    }
    memset(seen, 0, sizeof(*seen));
    assert_int_equal(HostMemEnumRegions((IUnknown *)manager, collect, seen), S_OK);
    assert_int_equal(seen->calls, 66);
    assert_int_equal(seen->region[65].kind, HOSTMEM_REGION_VIEW);
    assert_int_equal(IHostMemoryManager_ReleasedVirtualAddressSpace(manager, (char *)view + 4096), S_OK);
    for (i = 0; i < 64; i++)
        assert_int_equal(IHostMemoryManager_VirtualFree(manager, p[i], 0, MEM_RELEASE), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, view, 0, MEM_RELEASE), S_OK);
    free(seen);
    release_last((IUnknown *)manager);
}

/* --- a snapshot while other threads work --- */

typedef struct worker {
    IHostMemoryManager *manager;
    volatile LONG *stop;
    unsigned seed;
} worker;

static DWORD WINAPI churn(void *parameter)
{
    worker *w = parameter;
    char *mine[8] = { 0 };
    unsigned rng = w->seed;
    SIZE_T page = page_size();

    while (!*w->stop) {
        unsigned i = next_random(&rng) % 8;
        void *p = NULL;

        if (!mine[i]) {
            if (IHostMemoryManager_VirtualAlloc(w->manager, NULL, 64 * KIB, MEM_RESERVE, PAGE_READWRITE,
                                                eTaskCritical, &p) == S_OK)
                mine[i] = p;
        } else if (next_random(&rng) % 4 == 0) {
            IHostMemoryManager_VirtualFree(w->manager, mine[i], 0, MEM_RELEASE);
            mine[i] = NULL;
        } else {
            SIZE_T at = (next_random(&rng) % 16) * page;
            if (next_random(&rng) % 2)
                IHostMemoryManager_VirtualAlloc(w->manager, mine[i] + at, page, MEM_COMMIT, PAGE_READWRITE,
                                                eTaskCritical, &p);
            else
                IHostMemoryManager_VirtualFree(w->manager, mine[i] + at, page, MEM_DECOMMIT);
        }
    }
    for (unsigned i = 0; i < 8; i++)
        if (mine[i])
            IHostMemoryManager_VirtualFree(w->manager, mine[i], 0, MEM_RELEASE);
    return 0;
}

static void a_snapshot_under_concurrency_is_self_consistent(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    volatile LONG stop = 0;
    worker workers[3];
    HANDLE threads[3];
    seen_regions *seen = calloc(1, sizeof(*seen));
    char *keep = NULL;
    unsigned i, j, round;
    SIZE_T page = page_size();
    HOSTMEM_STATS stats;
    ULONGLONG sum;
    (void)state;

    /* One region nobody touches: every snapshot must list it, exactly. */
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 128 * KIB, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
                                                     eAppDomainCritical, (void **)&keep), S_OK);
    for (i = 0; i < 3; i++) {
        workers[i].manager = manager;
        workers[i].stop = &stop;
        workers[i].seed = i + 1;
        threads[i] = CreateThread(NULL, 0, churn, &workers[i], 0, NULL);
        assert_non_null(threads[i]);
    }
    for (round = 0; round < 200; round++) {
        unsigned kept = 0;

        memset(seen, 0, sizeof(*seen));
        assert_int_equal(HostMemEnumRegions((IUnknown *)manager, collect, seen), S_OK);
        for (i = 0; i < seen->count; i++) {
            const HOSTMEM_REGION_INFO *r = &seen->region[i];
            uintptr_t lo = (uintptr_t)r->base, hi = lo + r->reservedBytes;

            assert_int_equal(r->kind, HOSTMEM_REGION_VIRTUAL);
            assert_true(r->committedBytes <= r->reservedBytes);
            assert_int_equal(r->committedBytes % page, 0);
            if ((char *)r->base == keep) {
                kept++;
                assert_int_equal(r->committedBytes, 128 * KIB);
                assert_int_equal(r->level, eAppDomainCritical);
            }
            /* No region twice, no two overlapping. */
            for (j = 0; j < i; j++) {
                uintptr_t lo2 = (uintptr_t)seen->region[j].base, hi2 = lo2 + seen->region[j].reservedBytes;
                assert_true(hi <= lo2 || hi2 <= lo);
            }
        }
        assert_int_equal(kept, 1);
    }
    stop = 1;
    WaitForMultipleObjects(3, threads, TRUE, INFINITE);
    for (i = 0; i < 3; i++)
        CloseHandle(threads[i]);

    /* Quiet now: the snapshot adds up to the statistics. */
    memset(seen, 0, sizeof(*seen));
    assert_int_equal(HostMemEnumRegions((IUnknown *)manager, collect, seen), S_OK);
    stats = stats_of((IUnknown *)manager);
    for (i = 0, sum = 0; i < seen->count; i++)
        sum += seen->region[i].committedBytes;
    assert_int_equal(seen->count, 1);
    assert_int_equal(sum, stats.committedBytes);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, keep, 0, MEM_RELEASE), S_OK);
    free(seen);
    release_last((IUnknown *)manager);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(regions_match_the_os_after_a_random_workload, fault_setup, fault_teardown),
        cmocka_unit_test_setup_teardown(heap_regions_are_the_heaps_pages, fault_setup, fault_teardown),
        cmocka_unit_test_setup_teardown(bad_arguments_are_refused, fault_setup, fault_teardown),
        cmocka_unit_test_setup_teardown(the_callback_stops_the_walk, fault_setup, fault_teardown),
        cmocka_unit_test_setup_teardown(the_callback_may_call_hostmem_and_release_it, fault_setup, fault_teardown),
        cmocka_unit_test_setup_teardown(no_memory_for_the_snapshot_is_E_OUTOFMEMORY, fault_setup, fault_teardown),
        cmocka_unit_test_setup_teardown(every_allocation_of_the_snapshot_may_fail, fault_setup, fault_teardown),
        cmocka_unit_test_setup_teardown(a_snapshot_under_concurrency_is_self_consistent, fault_setup, fault_teardown),
    };
    return cmocka_run_group_tests_name("regions", tests, NULL, NULL);
}
