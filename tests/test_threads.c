/*
 * Many threads on one manager at once (docs/behaviour.md: every method is safe to call
 * from many threads at once). Eight threads mix reservations, commits and decommits in their own
 * regions and in one shared 16 MiB reservation (overlapping ranges across threads),
 * releases, VirtualQuery, foreign frees, and Alloc/Free on one thread-safe IHostMalloc,
 * handing blocks to each other. Every answer is checked as it comes, each thread keeps
 * a model of its own regions' pages and compares it with the OS, and at the end the OS
 * must show that everything hostmem gave out is gone.
 *
 * cmocka's asserts are for the main thread only: workers record their first failure
 * and the main thread reports it.
 */
#include "test_support.h"

#include <stdio.h>
#include <string.h>

#define THREADS            8
#define OPS_PER_THREAD     5000
#define MAX_REGIONS        6
#define MAX_REGION_PAGES   256           /* 1 MiB of 4 KiB pages */
#define MAX_BLOCKS         32
#define HANDOFF_SLOTS      16
#define SHARED_SIZE        ((SIZE_T)16 * 1024 * 1024)

#define KIB ((SIZE_T)1024)

static IHostMemoryManager *manager;
static IHostMalloc *shared_malloc;
static char *shared;                      /* the shared reservation */
static SIZE_T page;
static void *volatile handoff[HANDOFF_SLOTS];
static HANDLE start_event;

/* --- failures, recorded by workers --------------------------------------------- */

static volatile LONG failures;
static char first_failure[512];

static void fail_at(int line, const char *what, long long value)
{
    if (InterlockedIncrement(&failures) == 1)
        snprintf(first_failure, sizeof(first_failure), "test_threads.c:%d: %s (value 0x%llx, thread %lu)", line,
                 what, (unsigned long long)value, (unsigned long)GetCurrentThreadId());
}

/* Checks an HRESULT (or any value) in a worker; on a mismatch records it and gives up
   on the current operation. */
#define EXPECT_EQ(actual, expected)                                                        \
    do {                                                                                   \
        long long a_ = (long long)(actual), e_ = (long long)(expected);                    \
        if (a_ != e_) {                                                                    \
            fail_at(__LINE__, #actual " == " #expected, a_);                               \
            return;                                                                        \
        }                                                                                  \
    } while (0)

/* --- a worker's own view ------------------------------------------------------- */

typedef struct region {
    char   *base;
    size_t  pages;
    uint8_t committed[MAX_REGION_PAGES];
} region;

typedef struct worker {
    unsigned  id;
    uint32_t  rng;
    region    regions[MAX_REGIONS];
    unsigned  nregions;
    void     *blocks[MAX_BLOCKS];
    unsigned  nblocks;
    char     *foreign;                    /* a kernel32 reservation hostmem must refuse */
    char     *final_bases[MAX_REGIONS];   /* what was still live at the end, then released */
    unsigned  nfinal;
    unsigned  ops[16];
} worker;

static uint32_t next_random(worker *w)
{
    /* xorshift32 */
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 17;
    w->rng ^= w->rng << 5;
    return w->rng;
}

static unsigned random_below(worker *w, unsigned n)
{
    return next_random(w) % n;
}

static EMemoryCriticalLevel random_level(worker *w)
{
    return (EMemoryCriticalLevel)random_below(w, 3);
}

static size_t model_committed(const region *r)
{
    size_t i, n = 0;

    for (i = 0; i < r->pages; i++)
        n += r->committed[i];
    return n;
}

/* --- IHostMalloc blocks: a header with the size, the rest a pattern --------------- */

static unsigned char pattern_of(SIZE_T size)
{
    return (unsigned char)(size * 31 + 7);
}

static void fill_block(void *p, SIZE_T size)
{
    memcpy(p, &size, sizeof(size));
    memset((char *)p + sizeof(size), pattern_of(size), size - sizeof(size));
}

/* TRUE when the block still holds what fill_block wrote. */
static BOOL block_intact(const void *p)
{
    SIZE_T size, i;
    const unsigned char *bytes = p;

    memcpy(&size, p, sizeof(size));
    if (size < sizeof(size) || size > 512)
        return FALSE;
    for (i = sizeof(size); i < size; i++)
        if (bytes[i] != pattern_of(size))
            return FALSE;
    return TRUE;
}

static void free_block(void *p)
{
    EXPECT_EQ(block_intact(p), TRUE);
    EXPECT_EQ(IHostMalloc_Free(shared_malloc, p), S_OK);
}

/* --- the operations ------------------------------------------------------------ */

static void op_reserve(worker *w)
{
    region *r;
    SIZE_T size = (1 + random_below(w, 16)) * 64 * KIB; /* 64 KiB .. 1 MiB */
    BOOL commit = random_below(w, 4) == 0;
    void *p = NULL;

    if (w->nregions == MAX_REGIONS)
        return;
    EXPECT_EQ(IHostMemoryManager_VirtualAlloc(manager, NULL, size, commit ? MEM_RESERVE | MEM_COMMIT : MEM_RESERVE,
                                              PAGE_READWRITE, random_level(w), &p), S_OK);
    EXPECT_EQ(p != NULL, 1);
    r = &w->regions[w->nregions++];
    r->base = p;
    r->pages = size / page;
    memset(r->committed, commit, sizeof(r->committed));
    EXPECT_EQ(os_page_state(r->base), commit ? MEM_COMMIT : MEM_RESERVE);
    EXPECT_EQ(os_page_state(r->base + size - 1), commit ? MEM_COMMIT : MEM_RESERVE);
    if (commit)
        r->base[size - 1] = (char)w->id;
}

static void random_range(worker *w, size_t pages, size_t max_count, size_t *first, size_t *count)
{
    *first = random_below(w, (unsigned)pages);
    *count = 1 + random_below(w, (unsigned)max_count);
    if (*first + *count > pages)
        *count = pages - *first;
}

static void op_commit_own(worker *w)
{
    region *r;
    size_t first, count, i;
    void *p = NULL;

    if (!w->nregions)
        return;
    r = &w->regions[random_below(w, w->nregions)];
    random_range(w, r->pages, 16, &first, &count);
    EXPECT_EQ(IHostMemoryManager_VirtualAlloc(manager, r->base + first * page, count * page, MEM_COMMIT,
                                              PAGE_READWRITE, random_level(w), &p), S_OK);
    EXPECT_EQ((char *)p - r->base, (long long)(first * page));
    for (i = first; i < first + count; i++)
        r->committed[i] = 1;
    EXPECT_EQ(os_page_state(r->base + first * page), MEM_COMMIT);
    EXPECT_EQ(os_page_state(r->base + (first + count) * page - 1), MEM_COMMIT);
    r->base[first * page] = (char)w->id;
    r->base[(first + count) * page - 1] = (char)w->id;
}

static void op_decommit_own(worker *w)
{
    region *r;
    size_t first, count, i;

    if (!w->nregions)
        return;
    r = &w->regions[random_below(w, w->nregions)];
    if (random_below(w, 8) == 0) {
        /* All of it: size 0 at the base. */
        EXPECT_EQ(IHostMemoryManager_VirtualFree(manager, r->base, 0, MEM_DECOMMIT), S_OK);
        memset(r->committed, 0, sizeof(r->committed));
        EXPECT_EQ(os_committed_in_reservation(r->base), 0);
        return;
    }
    random_range(w, r->pages, 16, &first, &count);
    EXPECT_EQ(IHostMemoryManager_VirtualFree(manager, r->base + first * page, count * page, MEM_DECOMMIT), S_OK);
    for (i = first; i < first + count; i++)
        r->committed[i] = 0;
    EXPECT_EQ(os_page_state(r->base + first * page), MEM_RESERVE);
    EXPECT_EQ(os_page_state(r->base + (first + count) * page - 1), MEM_RESERVE);
}

static void op_release_own(worker *w)
{
    unsigned index;
    region *r;

    if (!w->nregions)
        return;
    index = random_below(w, w->nregions);
    r = &w->regions[index];
    /* The OS agrees with this thread's model of the region, page for page. */
    EXPECT_EQ(os_committed_in_reservation(r->base), (long long)(model_committed(r) * page));
    EXPECT_EQ(IHostMemoryManager_VirtualFree(manager, r->base, 0, MEM_RELEASE), S_OK);
    *r = w->regions[--w->nregions];
}

/* Half the time in the first 1 MiB, where the threads' ranges overlap most. */
static void shared_range(worker *w, size_t *first, size_t *count)
{
    size_t pages = random_below(w, 2) ? SHARED_SIZE / page : (1024 * KIB) / page;

    random_range(w, pages, 32, first, count);
}

static void op_commit_shared(worker *w)
{
    size_t first, count;
    void *p = NULL;

    shared_range(w, &first, &count);
    EXPECT_EQ(IHostMemoryManager_VirtualAlloc(manager, shared + first * page, count * page, MEM_COMMIT,
                                              PAGE_READWRITE, random_level(w), &p), S_OK);
    EXPECT_EQ((char *)p - shared, (long long)(first * page));
}

static void op_decommit_shared(worker *w)
{
    size_t first, count;

    shared_range(w, &first, &count);
    EXPECT_EQ(IHostMemoryManager_VirtualFree(manager, shared + first * page, count * page, MEM_DECOMMIT), S_OK);
}

static void op_query(worker *w)
{
    MEMORY_BASIC_INFORMATION info;
    SIZE_T result = 0;

    if (w->nregions && random_below(w, 2)) {
        region *r = &w->regions[random_below(w, w->nregions)];
        size_t at = random_below(w, (unsigned)r->pages);

        EXPECT_EQ(IHostMemoryManager_VirtualQuery(manager, r->base + at * page + random_below(w, (unsigned)page),
                                                  &info, sizeof(info), &result), S_OK);
        EXPECT_EQ(result, sizeof(info));
        EXPECT_EQ(info.AllocationBase == r->base, 1);
        EXPECT_EQ(info.State, r->committed[at] ? MEM_COMMIT : MEM_RESERVE);
    } else {
        EXPECT_EQ(IHostMemoryManager_VirtualQuery(manager, shared + random_below(w, (unsigned)SHARED_SIZE), &info,
                                                  sizeof(info), &result), S_OK);
        EXPECT_EQ(result, sizeof(info));
        EXPECT_EQ(info.AllocationBase == shared, 1);
        EXPECT_EQ(info.State == MEM_COMMIT || info.State == MEM_RESERVE, 1);
    }
}

static void op_malloc(worker *w)
{
    unsigned choice = random_below(w, 8);

    if (w->nblocks && (w->nblocks == MAX_BLOCKS || choice < 3)) {
        unsigned i = random_below(w, w->nblocks);
        void *p = w->blocks[i];

        w->blocks[i] = w->blocks[--w->nblocks];
        if (choice == 0) {
            /* Hand it to whichever thread comes by; free what was waiting there. */
            p = InterlockedExchangePointer((void *volatile *)&handoff[random_below(w, HANDOFF_SLOTS)], p);
            if (!p)
                return;
        }
        free_block(p);
    } else {
        SIZE_T size = sizeof(SIZE_T) + random_below(w, 256);
        void *p = NULL;

        EXPECT_EQ(IHostMalloc_Alloc(shared_malloc, size, random_level(w), &p), S_OK);
        EXPECT_EQ(p != NULL, 1);
        fill_block(p, size);
        w->blocks[w->nblocks++] = p;
    }
}

/* Answers other than S_OK that hostmem must give while all the rest goes on. */
static void op_expected_failures(worker *w)
{
    void *p = (void *)1;

    switch (random_below(w, 3)) {
    case 0: /* not hostmem's memory */
        EXPECT_EQ(IHostMemoryManager_VirtualFree(manager, w->foreign, 0, MEM_RELEASE), HOST_E_INVALIDOPERATION);
        break;
    case 1: /* a range that leaves the shared reservation */
        EXPECT_EQ(IHostMemoryManager_VirtualFree(manager, shared + SHARED_SIZE - page, 2 * page, MEM_DECOMMIT),
                  HOST_E_INVALIDOPERATION);
        break;
    default: /* a level that does not exist */
        EXPECT_EQ(IHostMemoryManager_VirtualAlloc(manager, NULL, 64 * KIB, MEM_RESERVE, PAGE_READWRITE,
                                                  (EMemoryCriticalLevel)3, &p), E_INVALIDARG);
        EXPECT_EQ(p == NULL, 1);
        break;
    }
}

static void finish(worker *w)
{
    unsigned i;

    /* Each region: the OS agrees with the model, a full decommit empties it, release. */
    while (w->nregions) {
        region *r = &w->regions[w->nregions - 1];

        EXPECT_EQ(os_committed_in_reservation(r->base), (long long)(model_committed(r) * page));
        EXPECT_EQ(IHostMemoryManager_VirtualFree(manager, r->base, 0, MEM_DECOMMIT), S_OK);
        EXPECT_EQ(os_committed_in_reservation(r->base), 0);
        EXPECT_EQ(os_page_state(r->base), MEM_RESERVE);
        EXPECT_EQ(IHostMemoryManager_VirtualFree(manager, r->base, 0, MEM_RELEASE), S_OK);
        w->final_bases[w->nfinal++] = r->base;
        w->nregions--;
    }
    for (i = 0; i < w->nblocks; i++)
        free_block(w->blocks[i]);
    w->nblocks = 0;
}

static DWORD WINAPI worker_main(void *arg)
{
    worker *w = arg;
    unsigned n;

    WaitForSingleObject(start_event, INFINITE);
    for (n = 0; n < OPS_PER_THREAD && !failures; n++) {
        unsigned op = random_below(w, 100);

        if (op < 8)       { w->ops[0]++; op_reserve(w); }
        else if (op < 23) { w->ops[1]++; op_commit_own(w); }
        else if (op < 33) { w->ops[2]++; op_decommit_own(w); }
        else if (op < 38) { w->ops[3]++; op_release_own(w); }
        else if (op < 55) { w->ops[4]++; op_commit_shared(w); }
        else if (op < 68) { w->ops[5]++; op_decommit_shared(w); }
        else if (op < 88) { w->ops[6]++; op_malloc(w); }
        else if (op < 96) { w->ops[7]++; op_query(w); }
        else              { w->ops[8]++; op_expected_failures(w); }
    }
    finish(w);
    return 0;
}

/* --- the test -------------------------------------------------------------------- */

typedef struct heap_probe {
    const char *address;
    BOOL        found;
} heap_probe;

static BOOL WINAPI probe_region(void *context, const HOSTMEM_REGION_INFO *info)
{
    heap_probe *probe = context;
    const char *base = info->base;

    if (info->kind == HOSTMEM_REGION_HEAP && probe->address >= base && probe->address < base + info->reservedBytes)
        probe->found = TRUE;
    return !probe->found;
}

/* Whether address lies in one of the shared manager's IHostMalloc mappings now. */
static BOOL in_heap_region(const void *address)
{
    heap_probe probe = { address, FALSE };

    assert_int_equal(HostMemEnumRegions((IUnknown *)manager, probe_region, &probe), S_OK);
    return probe.found;
}

static void eight_threads_share_one_manager(void **state)
{
    static worker workers[THREADS];
    HANDLE threads[THREADS];
    SYSTEM_INFO info;
    void *p = NULL;
    unsigned i, j;
    (void)state;

    GetSystemInfo(&info);
    page = info.dwPageSize;
    assert_true(1 * 1024 * 1024 / page <= MAX_REGION_PAGES);
    manager = new_manager(NULL);
    assert_int_equal(IHostMemoryManager_CreateMalloc(manager, MALLOC_THREADSAFE, &shared_malloc), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, SHARED_SIZE, MEM_RESERVE, PAGE_READWRITE,
                                                     eTaskCritical, &p), S_OK);
    shared = p;
    start_event = CreateEventW(NULL, TRUE, FALSE, NULL);
    assert_non_null(start_event);

    for (i = 0; i < THREADS; i++) {
        memset(&workers[i], 0, sizeof(workers[i]));
        workers[i].id = i + 1;
        workers[i].rng = 0x9E3779B9u * (i + 1) ^ GetTickCount();
        if (!workers[i].rng)
            workers[i].rng = 1;
        workers[i].foreign = VirtualAlloc(NULL, 64 * KIB, MEM_RESERVE, PAGE_READWRITE);
        assert_non_null(workers[i].foreign);
        threads[i] = CreateThread(NULL, 0, worker_main, &workers[i], 0, NULL);
        assert_non_null(threads[i]);
    }
    assert_true(SetEvent(start_event));
    assert_int_equal(WaitForMultipleObjects(THREADS, threads, TRUE, 60000), WAIT_OBJECT_0);
    for (i = 0; i < THREADS; i++)
        CloseHandle(threads[i]);
    CloseHandle(start_event);

    if (failures)
        fail_msg("%ld failure(s) in the workers; first: %s", (long)failures, first_failure);

    /* Quiescence: every thread released its own regions, so the books hold exactly the
       shared reservation and what the OS says is committed in it. */
    {
        HOSTMEM_STATS stats;

        stats.cbSize = sizeof(stats);
        assert_int_equal(HostMemGetStats((IUnknown *)manager, &stats), S_OK);
        assert_int_equal(stats.committedBytes, os_committed_in_reservation(shared));
        assert_int_equal(stats.reservedBytes, SHARED_SIZE);
        assert_true(stats.peakCommittedBytes >= stats.committedBytes);
    }

    /* Every operation kind really ran in every thread. */
    {
        unsigned total[9] = { 0 };

        for (i = 0; i < THREADS; i++)
            for (j = 0; j < 9; j++) {
                assert_true(workers[i].ops[j] > 0);
                total[j] += workers[i].ops[j];
            }
        print_message("operations: %u reserve, %u commit own, %u decommit own, %u release, %u commit shared, "
                      "%u decommit shared, %u malloc, %u query, %u expected failures\n",
                      total[0], total[1], total[2], total[3], total[4], total[5], total[6], total[7], total[8]);
    }

    /* Everything the threads released is gone per the OS (or taken since by one of the
       heap's slabs, which the workers' mallocs map at addresses the OS picks: a freed
       reservation's is a likely one, on i686 above all), and was not hostmem's to free
       twice; nobody freed the foreign reservations. */
    for (i = 0; i < THREADS; i++) {
        for (j = 0; j < workers[i].nfinal; j++) {
            if (os_page_state(workers[i].final_bases[j]) != MEM_FREE)
                assert_true(in_heap_region(workers[i].final_bases[j]));
            assert_int_equal(IHostMemoryManager_VirtualFree(manager, workers[i].final_bases[j], 0, MEM_RELEASE),
                             HOST_E_INVALIDOPERATION);
        }
        assert_int_equal(os_page_state(workers[i].foreign), MEM_RESERVE);
        assert_true(VirtualFree(workers[i].foreign, 0, MEM_RELEASE));
    }

    /* The blocks still waiting to be handed over. */
    for (i = 0; i < HANDOFF_SLOTS; i++)
        if (handoff[i]) {
            assert_true(block_intact(handoff[i]));
            assert_int_equal(IHostMalloc_Free(shared_malloc, handoff[i]), S_OK);
            handoff[i] = NULL;
        }

    /* The shared reservation: hostmem still owns all of it, a whole decommit leaves
       nothing committed per the OS, and a release frees it. */
    assert_true(os_page_state(shared) == MEM_RESERVE || os_page_state(shared) == MEM_COMMIT);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, shared, 0, MEM_DECOMMIT), S_OK);
    assert_int_equal(os_committed_in_reservation(shared), 0);
    for (i = 0; i < SHARED_SIZE / page; i += 64)
        assert_int_equal(os_page_state(shared + i * page), MEM_RESERVE);
    /* A commit and decommit of every page still work: the books were not corrupted. */
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, shared, SHARED_SIZE, MEM_COMMIT, PAGE_READWRITE,
                                                     eTaskCritical, &p), S_OK);
    assert_int_equal(os_committed_in_reservation(shared), SHARED_SIZE);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, shared, SHARED_SIZE, MEM_DECOMMIT), S_OK);
    assert_int_equal(os_committed_in_reservation(shared), 0);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, shared, 0, MEM_RELEASE), S_OK);
    assert_int_equal(os_page_state(shared), MEM_FREE);

    {
        HOSTMEM_STATS stats;

        stats.cbSize = sizeof(stats);
        assert_int_equal(HostMemGetStats((IUnknown *)manager, &stats), S_OK);
        assert_int_equal(stats.committedBytes, 0);
        assert_int_equal(stats.reservedBytes, 0);
        assert_int_equal(stats.mallocBytes, 0);
    }
    release_last((IUnknown *)shared_malloc);
    release_last((IUnknown *)manager);
}

/* --- the same reservations, raced on without a lock of the test's ---------------- */

#define RACE_SLOTS   12
#define RACE_PAGES   64
#define RACE_OPS     6000

static void *volatile race_slots[RACE_SLOTS];

/* Reserve into an empty slot, commit or decommit a range of whatever a slot holds (it
   may be released under it, or be a new region at the same address by then), release
   a slot's region: any answer is allowed, only the books at the end are checked. */
static DWORD WINAPI racer_main(void *arg)
{
    worker *w = arg;
    unsigned n;

    WaitForSingleObject(start_event, INFINITE);
    for (n = 0; n < RACE_OPS; n++) {
        unsigned slot = random_below(w, RACE_SLOTS), op = random_below(w, 100);
        unsigned first = random_below(w, RACE_PAGES), count = 1 + random_below(w, RACE_PAGES - first);
        char *base = race_slots[slot];
        void *p = NULL;

        if (op < 10) {
            if (base || IHostMemoryManager_VirtualAlloc(manager, NULL, RACE_PAGES * page, MEM_RESERVE, PAGE_NOACCESS,
                                                        random_level(w), &p) != S_OK)
                continue;
            if (InterlockedCompareExchangePointer((void *volatile *)&race_slots[slot], p, NULL) != NULL)
                IHostMemoryManager_VirtualFree(manager, p, 0, MEM_RELEASE);
        } else if (op < 55) {
            if (base)
                IHostMemoryManager_VirtualAlloc(manager, base + first * page, count * page, MEM_COMMIT,
                                                PAGE_READWRITE, random_level(w), &p);
        } else if (op < 92) {
            if (base)
                IHostMemoryManager_VirtualFree(manager, base + first * page, count * page, MEM_DECOMMIT);
        } else if ((p = InterlockedExchangePointer((void *volatile *)&race_slots[slot], NULL))) {
            IHostMemoryManager_VirtualFree(manager, p, 0, MEM_RELEASE);
        }
    }
    return 0;
}

static void threads_racing_on_the_same_reservations_leave_the_books_true(void **state)
{
    static worker racers[THREADS];
    HANDLE threads[THREADS];
    SYSTEM_INFO info;
    HOSTMEM_STATS stats;
    uint64_t committed = 0, reserved = 0;
    unsigned i;
    (void)state;

    GetSystemInfo(&info);
    page = info.dwPageSize;
    manager = new_manager(NULL);
    start_event = CreateEventW(NULL, TRUE, FALSE, NULL);
    assert_non_null(start_event);
    for (i = 0; i < THREADS; i++) {
        memset(&racers[i], 0, sizeof(racers[i]));
        racers[i].rng = 0x85EBCA6Bu * (i + 1) ^ GetTickCount();
        if (!racers[i].rng)
            racers[i].rng = 1;
        threads[i] = CreateThread(NULL, 0, racer_main, &racers[i], 0, NULL);
        assert_non_null(threads[i]);
    }
    assert_true(SetEvent(start_event));
    assert_int_equal(WaitForMultipleObjects(THREADS, threads, TRUE, 120000), WAIT_OBJECT_0);
    for (i = 0; i < THREADS; i++)
        CloseHandle(threads[i]);
    CloseHandle(start_event);

    /* Quiescence: the books are what VirtualQuery says of the regions left. */
    for (i = 0; i < RACE_SLOTS; i++) {
        if (!race_slots[i])
            continue;
        assert_int_equal(os_page_state(race_slots[i]) == MEM_FREE, FALSE);
        committed += os_committed_in_reservation(race_slots[i]);
        reserved += RACE_PAGES * page;
    }
    stats.cbSize = sizeof(stats);
    assert_int_equal(HostMemGetStats((IUnknown *)manager, &stats), S_OK);
    assert_int_equal(stats.committedBytes, committed);
    assert_int_equal(stats.reservedBytes, reserved);
    for (i = 0; i < RACE_SLOTS; i++) {
        if (race_slots[i])
            assert_int_equal(IHostMemoryManager_VirtualFree(manager, race_slots[i], 0, MEM_RELEASE), S_OK);
        race_slots[i] = NULL;
    }
    assert_int_equal(HostMemGetStats((IUnknown *)manager, &stats), S_OK);
    assert_int_equal(stats.committedBytes, 0);
    assert_int_equal(stats.reservedBytes, 0);
    release_last((IUnknown *)manager);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(eight_threads_share_one_manager),
        cmocka_unit_test(threads_racing_on_the_same_reservations_leave_the_books_true),
    };

    return cmocka_run_group_tests_name("threads", tests, NULL, NULL);
}
