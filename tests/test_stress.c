/*
 * The books under concurrency: 8 threads, 100,000 random operations in all (reserve,
 * commit, decommit, release, malloc, free, at all three levels, overlapping ranges of
 * shared reservations) under a commit limit. At quiescence the books equal the truth
 * the OS reports, the peak never passed the limit plus the largest headroom, and after
 * everything is released every figure reads 0.
 */
#include "test_support.h"

#include <string.h>

#define THREADS        8
#define OPS_PER_THREAD 12500
#define SLOTS          16
#define PAGE           4096u
#define MAX_PAGES      1024u            /* 4 MiB reservations at most */
#define LIMIT          (3u << 20)       /* well below what the slots could commit */
#define BLOCKS         64

struct slot {
    SRWLOCK lock;   /* shared: commit/decommit inside; exclusive: reserve/release */
    char   *base;
    SIZE_T  pages;
};

struct worker {
    int       index;
    uint64_t  rng;
    void     *blocks[BLOCKS];
    SIZE_T    sizes[BLOCKS];
    unsigned  unexpected;   /* results no documented behaviour allows */
    unsigned  ops;
};

static IHostMemoryManager *manager;
static IHostMalloc *shared_malloc;
static struct slot slots[SLOTS];
static HOSTMEM_CONFIG config;

static uint32_t next(struct worker *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return (uint32_t)(w->rng >> 16);
}

static BOOL expected_failure(HRESULT hr, EMemoryCriticalLevel level)
{
    return hr == (level == eProcessCritical ? E_FAIL : E_OUTOFMEMORY);
}

static void toggle_slot(struct worker *w, struct slot *s)
{
    AcquireSRWLockExclusive(&s->lock);
    if (s->base) {
        if (IHostMemoryManager_VirtualFree(manager, s->base, 0, MEM_RELEASE) != S_OK)
            w->unexpected++;
        s->base = NULL;
    } else {
        void *p = NULL;
        EMemoryCriticalLevel level = (EMemoryCriticalLevel)(next(w) % 3);
        SIZE_T pages = 16 + next(w) % (MAX_PAGES - 16);
        DWORD type = (next(w) % 4 == 0) ? MEM_RESERVE | MEM_COMMIT : MEM_RESERVE;
        HRESULT hr = IHostMemoryManager_VirtualAlloc(manager, NULL, pages * PAGE, type, PAGE_READWRITE, level, &p);

        if (hr == S_OK) {
            s->base = p;
            s->pages = pages;
        } else if (!(type & MEM_COMMIT) || !expected_failure(hr, level)) {
            w->unexpected++;
        }
    }
    ReleaseSRWLockExclusive(&s->lock);
}

static void touch_pages(struct worker *w, struct slot *s)
{
    AcquireSRWLockShared(&s->lock);
    if (s->base) {
        SIZE_T first = next(w) % s->pages;
        SIZE_T count = 1 + next(w) % (s->pages - first < 256 ? s->pages - first : 256);
        char *start = s->base + first * PAGE + (next(w) % 2 ? next(w) % PAGE : 0);
        SIZE_T size = count * PAGE - (SIZE_T)(start - (s->base + first * PAGE));
        EMemoryCriticalLevel level = (EMemoryCriticalLevel)(next(w) % 3);

        if (next(w) % 2) {
            void *p = NULL;
            HRESULT hr = IHostMemoryManager_VirtualAlloc(manager, start, size, MEM_COMMIT, PAGE_READWRITE, level, &p);
            /* (Another thread may decommit the pages at once: nothing here touches them.) */
            if (hr != S_OK && !expected_failure(hr, level))
                w->unexpected++;
        } else if (IHostMemoryManager_VirtualFree(manager, start, size, MEM_DECOMMIT) != S_OK) {
            w->unexpected++;
        }
    }
    ReleaseSRWLockShared(&s->lock);
}

static void churn_malloc(struct worker *w)
{
    unsigned i = next(w) % BLOCKS;

    if (w->blocks[i]) {
        if (IHostMalloc_Free(shared_malloc, w->blocks[i]) != S_OK)
            w->unexpected++;
        w->blocks[i] = NULL;
    } else {
        EMemoryCriticalLevel level = (EMemoryCriticalLevel)(next(w) % 3);
        SIZE_T size = 1 + next(w) % 2048;
        HRESULT hr = (next(w) % 2)
            ? IHostMalloc_Alloc(shared_malloc, size, level, &w->blocks[i])
            : IHostMalloc_DebugAlloc(shared_malloc, size, level, (char *)__FILE__, __LINE__, &w->blocks[i]);
        /* The heap's slabs are inside the limit too: a refusal is the policy's answer
           for the level, as for a VirtualAlloc. */
        if (hr == S_OK) {
            w->sizes[i] = size;
            memset(w->blocks[i], 0x5A, size);
        } else if (w->blocks[i] || !expected_failure(hr, level)) {
            w->unexpected++;
        }
    }
}

static DWORD WINAPI work(void *parameter)
{
    struct worker *w = parameter;
    unsigned i;

    for (i = 0; i < OPS_PER_THREAD; i++) {
        unsigned kind = next(w) % 100;
        struct slot *s = &slots[next(w) % SLOTS];

        if (kind < 10) {
            toggle_slot(w, s);
        } else if (kind < 70) {
            touch_pages(w, s);
        } else if (kind < 95) {
            churn_malloc(w);
        } else {
            MEMORY_BASIC_INFORMATION info;
            SIZE_T written = 0;
            if (IHostMemoryManager_VirtualQuery(manager, s, &info, sizeof(info), &written) != S_OK ||
                written != sizeof(info))
                w->unexpected++;
        }
        w->ops++;
    }
    return 0;
}

static HOSTMEM_STATS read_stats(void)
{
    HOSTMEM_STATS stats;

    stats.cbSize = sizeof(stats);
    assert_int_equal(HostMemGetStats((IUnknown *)manager, &stats), S_OK);
    return stats;
}

static void books_equal_the_os_truth_after_concurrent_random_operations(void **state)
{
    static struct worker workers[THREADS];
    HANDLE threads[THREADS];
    HOSTMEM_STATS stats;
    SIZE_T truth = 0, live_malloc = 0;
    unsigned i, j, ops = 0, unexpected = 0;
    (void)state;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.commitLimit = LIMIT;
    config.retryTimeoutMs = HOSTMEM_RETRY_NONE; /* refusals at once: the books, not the waiting, are tested */
    manager = new_manager(&config);
    assert_int_equal(IHostMemoryManager_CreateMalloc(manager, MALLOC_THREADSAFE, &shared_malloc), S_OK);
    for (i = 0; i < SLOTS; i++) {
        InitializeSRWLock(&slots[i].lock);
        slots[i].base = NULL;
    }

    for (i = 0; i < THREADS; i++) {
        memset(&workers[i], 0, sizeof(workers[i]));
        workers[i].index = (int)i;
        workers[i].rng = 0x9E3779B97F4A7C15ULL * (i + 1);
        threads[i] = CreateThread(NULL, 0, work, &workers[i], 0, NULL);
        assert_non_null(threads[i]);
    }
    assert_int_equal(WaitForMultipleObjects(THREADS, threads, TRUE, 120000), WAIT_OBJECT_0);
    for (i = 0; i < THREADS; i++) {
        CloseHandle(threads[i]);
        ops += workers[i].ops;
        unexpected += workers[i].unexpected;
        for (j = 0; j < BLOCKS; j++)
            if (workers[i].blocks[j])
                live_malloc += workers[i].sizes[j];
    }
    assert_true(ops >= 100000);
    assert_int_equal(unexpected, 0);

    /* Quiescent: the books against the OS. */
    stats = read_stats();
    for (i = 0; i < SLOTS; i++)
        if (slots[i].base)
            truth += os_committed_in_reservation(slots[i].base);
    assert_int_equal(stats.committedBytes, truth);
    assert_int_equal(stats.mallocBytes, live_malloc);
    assert_true(stats.peakCommittedBytes <= LIMIT + LIMIT / 10); /* the process headroom, the largest */
    assert_true(stats.peakCommittedBytes >= stats.committedBytes);
    assert_true(stats.failures[eTaskCritical] > 0); /* the limit really bit */
    print_message("%u operations; peak %llu of a %u limit; refused %llu/%llu/%llu; %llu escalations\n", ops,
                  (unsigned long long)stats.peakCommittedBytes, LIMIT,
                  (unsigned long long)stats.failures[0], (unsigned long long)stats.failures[1],
                  (unsigned long long)stats.failures[2], (unsigned long long)stats.escalations);

    /* Everything back. */
    for (i = 0; i < THREADS; i++)
        for (j = 0; j < BLOCKS; j++)
            if (workers[i].blocks[j])
                assert_int_equal(IHostMalloc_Free(shared_malloc, workers[i].blocks[j]), S_OK);
    for (i = 0; i < SLOTS; i++)
        if (slots[i].base)
            assert_int_equal(IHostMemoryManager_VirtualFree(manager, slots[i].base, 0, MEM_RELEASE), S_OK);
    stats = read_stats();
    assert_int_equal(stats.committedBytes, 0);
    assert_int_equal(stats.reservedBytes, 0);
    assert_int_equal(stats.mallocBytes, 0);
    assert_int_equal(stats.mappedBytes, 0);
    IHostMalloc_Release(shared_malloc);
    release_last((IUnknown *)manager);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(books_equal_the_os_truth_after_concurrent_random_operations),
    };
    return cmocka_run_group_tests_name("stress", tests, NULL, NULL);
}
