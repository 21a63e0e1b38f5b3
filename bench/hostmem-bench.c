/*
 * hostmem-bench: what hostmem costs a CLR host, measured against the raw Win32 call it
 * stands in front of, side by side in one process (BENCHMARKS.md has the figures).
 *
 *   hostmem-bench [--quick] [--json FILE] [--pairs LIST] [--costs] [--control]
 *
 * Every pair runs in rounds that alternate hostmem and raw (A B A B ...), each round a
 * batch of operations timed with QueryPerformanceCounter, until the 95% confidence
 * interval of the median per-round ratio is within SPREAD_GOAL or the pair's time is
 * up. Printed per pair: the median ns per operation of each side, the ratio (median of
 * the per-round ratios hostmem / raw: a round and its neighbour share the machine's
 * mood, so the pairing cancels most of the noise of a busy machine) and its spread
 * (the interval's half-width, relative).
 *
 * hostmem runs as a CLR host sets it up: a host control with a commit limit, the
 * manager from GetHostManager, a thread-safe malloc, a notification callback. Its
 * books are checked after every pair; the exit status is 1 when a call failed or the
 * books drifted, never because of a time (--quick is CI's smoke test).
 *
 * Linked with the static hostmem objects, not the DLL: they are the very objects the
 * DLL is made of, every timed call goes through the same COM vtables, and row 6 needs
 * the manager's private bookkeeping heap, which the DLL rightly does not export: the
 * bench catches it through the OS table as the manager creates it.
 */
#include "hostmem_private.h"

#include "os.h"

#include "clr/clr_callback.h"

#include "block_table.h"
#include "core/heap.h"

#ifdef HOSTMEM_BENCH_MIMALLOC
#include <mimalloc.h> /* bench only: Debian's source package, built by tools/setup.sh mimalloc */
#endif

#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KIB ((SIZE_T)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

#define COMMIT_LIMIT   (4 * (ULONGLONG)GIB)
#define SPREAD_GOAL    0.005  /* +-0.5% on the ratio */
#define MALLOC_LIVE    256    /* blocks each malloc side keeps alive */
#define SEQUENCE       4096   /* sizes and slots, precomputed: both sides see the same */

/* --- run settings ------------------------------------------------------------------- */

typedef struct mode {
    const char *name;
    double      round_ns;     /* a round's target length */
    unsigned    min_rounds;
    unsigned    max_rounds;
    double      pair_seconds; /* a pair's budget, calibration aside */
    unsigned    scale[3];     /* live reservations for row 4 */
    unsigned    weigh_small;  /* 64 KiB reservations weighed for row 6 */
    unsigned    weigh_large;  /* 256 MiB reservations */
    unsigned    weigh_blocks; /* malloc blocks */
} mode;

#ifdef _WIN64
static const mode full_mode  = { "full", 2e6, 21, 4001, 4.0, { 1000, 10000, 100000 }, 10000, 16, 10000 };
static const mode quick_mode = { "quick", 2e5, 5, 5, 0.05, { 100, 1000, 10000 }, 1000, 4, 1000 };
#else
/* A 32-bit process has 2 GiB of address space, and pair 2 holds two 256 MiB regions of
   it throughout: row 4 takes its live reservations from one free range, and under
   Wine 8 no free range of 8,000 x 72 KiB + 64 MiB is left (4,000 fit); and 256 MiB
   reservations are weighed two at a time, not 16 (4 GiB). */
static const mode full_mode  = { "full", 2e6, 21, 4001, 4.0, { 250, 1000, 4000 }, 10000, 2, 10000 };
static const mode quick_mode = { "quick", 2e5, 5, 5, 0.05, { 100, 1000, 4000 }, 1000, 2, 1000 };
#endif
static const mode *run;
static const char *only; /* --pairs: run only the rows whose number is listed */

/* Whether a row or group of rows is wanted: --pairs 1,3b,5 runs 1, 3b, 5a and 5b. */
static BOOL wanted(const char *id)
{
    const char *token = only;

    while (token && *token) {
        size_t n = strcspn(token, ",");
        if (!strncmp(id, token, n < strlen(id) ? n : strlen(id)))
            return TRUE;
        token += n + (token[n] == ',');
    }
    return !only;
}

static double ns_per_tick;
static SIZE_T page_size;

static void fatal(const char *format, ...)
{
    va_list args;

    va_start(args, format);
    fprintf(stderr, "hostmem-bench: ");
    vfprintf(stderr, format, args);
    fprintf(stderr, "\n");
    va_end(args);
    exit(1);
}

static void check(HRESULT hr, const char *what)
{
    if (hr != S_OK)
        fatal("%s answered 0x%08lx (Win32 error %lu)", what, (unsigned long)hr, (unsigned long)GetLastError());
}

static LONGLONG ticks(void)
{
    LARGE_INTEGER t;
    QueryPerformanceCounter(&t);
    return t.QuadPart;
}

/* --- statistics ---------------------------------------------------------------------- */

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_of(const double *values, unsigned n, double *sorted)
{
    memcpy(sorted, values, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), compare_doubles);
    return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/* Half-width of the distribution-free 95% confidence interval of the median (order
   statistics n/2 -+ 0.98 sqrt(n)), relative to the median. */
static double median_spread(const double *values, unsigned n, double *sorted)
{
    double median = median_of(values, n, sorted);
    double k = floor((n - 1.96 * sqrt((double)n)) / 2);
    unsigned lo = k < 0 ? 0 : (unsigned)k, hi = n - 1 - lo;

    return (sorted[hi] - sorted[lo]) / 2 / median;
}

/* --- one pair ------------------------------------------------------------------------- */

typedef void (*run_fn)(void *context, unsigned ops);

typedef struct result {
    double   hostmem_ns, raw_ns, ratio, spread;
    double   hostmem_spread, raw_spread; /* of the medians, for row 4's growths */
    unsigned rounds, ops;
} result;

static double time_ns(run_fn fn, void *context, unsigned ops)
{
    LONGLONG start = ticks();
    fn(context, ops);
    return (double)(ticks() - start) * ns_per_tick;
}

/* Operations a round starts calibrating from: rows whose threads must each get a few
   time slices per round (8 threads on 2 cores) set it, so that a round is not
   dominated by the scheduler's quantum. */
static unsigned min_ops = 1;

static result measure(run_fn hostmem, run_fn raw, void *context)
{
    double *h, *r, *q, *sorted, spent = 0, budget = run->pair_seconds * 1e9;
    unsigned ops = min_ops, n;
    result res;

    if (!(h = calloc(run->max_rounds * 4, sizeof(double))))
        fatal("out of memory");
    r = h + run->max_rounds;
    q = r + run->max_rounds;
    sorted = q + run->max_rounds;

    /* Calibrate on hostmem (the warm-up of both sides, too): enough operations that a
       round lasts round_ns, so the timer's resolution and cost do not matter. */
    time_ns(raw, context, 1);
    for (;;) {
        double t = time_ns(hostmem, context, ops);
        if (t >= run->round_ns || ops >= (1u << 24))
            break;
        ops = t < run->round_ns / 64 ? ops * 8 : (unsigned)(ops * run->round_ns / t) + 1;
    }

    for (n = 0; n < run->max_rounds;) {
        double a = time_ns(hostmem, context, ops), b = time_ns(raw, context, ops);

        h[n] = a / ops;
        r[n] = b / ops;
        q[n] = a / b;
        spent += a + b;
        n++;
        if (n >= run->min_rounds && (spent >= budget || (n % 4 == 0 && median_spread(q, n, sorted) <= SPREAD_GOAL)))
            break;
    }
    res.hostmem_ns = median_of(h, n, sorted);
    res.raw_ns = median_of(r, n, sorted);
    res.ratio = median_of(q, n, sorted);
    res.spread = median_spread(q, n, sorted);
    res.hostmem_spread = median_spread(h, n, sorted);
    res.raw_spread = median_spread(r, n, sorted);
    res.rounds = n;
    res.ops = ops;
    free(h);
    return res;
}

/* --- the host, as the CLR sees it ------------------------------------------------------- */

static HRESULT WINAPI callback_OnMemoryNotification(ICLRMemoryNotificationCallback *iface, EMemoryAvailable level)
{
    (void)iface;
    (void)level;
    return S_OK;
}
static const ICLRMemoryNotificationCallbackVtbl callback_vtbl = CLR_CALLBACK_VTBL(callback_OnMemoryNotification);
static ICLRMemoryNotificationCallback clr_callback = { &callback_vtbl };

typedef struct host {
    IHostControl       *control;
    IHostMemoryManager *manager;
    HANDLE              bookkeeping; /* the manager's private heap, for row 6 */
} host;

/* The first heap a new manager creates is its bookkeeping heap. */
static HANDLE created_heap;
static HANDLE WINAPI catch_heap_create(DWORD options, SIZE_T initial, SIZE_T maximum)
{
    HANDLE heap = HeapCreate(options, initial, maximum);

    if (!created_heap)
        created_heap = heap;
    return heap;
}

static void host_start(host *h)
{
    HOSTMEM_CONFIG config;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.commitLimit = COMMIT_LIMIT;
    created_heap = NULL;
    hm_os.HeapCreate = catch_heap_create;
    check(HostMemCreateHostControl(&config, &h->control), "HostMemCreateHostControl");
    hm_os_restore();
    h->bookkeeping = created_heap;
    check(IHostControl_GetHostManager(h->control, &IID_IHostMemoryManager, (void **)&h->manager),
          "GetHostManager");
    check(IHostMemoryManager_RegisterMemoryNotificationCallback(h->manager, &clr_callback),
          "RegisterMemoryNotificationCallback");
}

static void host_stop(host *h)
{
    IHostMemoryManager_RegisterMemoryNotificationCallback(h->manager, NULL);
    IHostMemoryManager_Release(h->manager);
    IHostControl_Release(h->control);
}

static HOSTMEM_STATS host_stats(const host *h)
{
    HOSTMEM_STATS stats;

    memset(&stats, 0, sizeof(stats));
    stats.cbSize = sizeof(stats);
    check(HostMemGetStats((IUnknown *)h->manager, &stats), "HostMemGetStats");
    return stats;
}

/* The books after a pair must read what they read before it, to the byte. */
static void check_books(const host *h, const HOSTMEM_STATS *before, const char *pair)
{
    HOSTMEM_STATS now = host_stats(h);

    if (now.committedBytes != before->committedBytes || now.reservedBytes != before->reservedBytes ||
        now.mallocBytes != before->mallocBytes)
        fatal("books drifted over %s: committed %llu -> %llu, reserved %llu -> %llu, malloc %llu -> %llu", pair,
              before->committedBytes, now.committedBytes, before->reservedBytes, now.reservedBytes,
              before->mallocBytes, now.mallocBytes);
}

/* --- pair 1: reserve+commit 64 KiB, release -------------------------------------------- */

typedef struct vm_context {
    IHostMemoryManager *manager;
    char               *hostmem_region, *raw_region; /* pair 2: 256 MiB each */
    unsigned            hostmem_page, raw_page;      /* pair 2: the next page */
    unsigned            pages;
    void               *query_address;               /* pair 5 */
} vm_context;

static void reserve_hostmem(void *context, unsigned ops)
{
    vm_context *c = context;
    void *p;

    while (ops--) {
        check(IHostMemoryManager_VirtualAlloc(c->manager, NULL, 64 * KIB, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
                                              eTaskCritical, &p), "VirtualAlloc(64 KiB)");
        check(IHostMemoryManager_VirtualFree(c->manager, p, 0, MEM_RELEASE), "VirtualFree(MEM_RELEASE)");
    }
}

static void reserve_raw(void *context, unsigned ops)
{
    void *p;

    (void)context;
    while (ops--) {
        if (!(p = VirtualAlloc(NULL, 64 * KIB, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE)))
            fatal("VirtualAlloc(64 KiB) failed: %lu", GetLastError());
        if (!VirtualFree(p, 0, MEM_RELEASE))
            fatal("VirtualFree failed: %lu", GetLastError());
    }
}

/* --- pair 2: commit and decommit single pages in 256 MiB -------------------------------- */

static void pages_hostmem(void *context, unsigned ops)
{
    vm_context *c = context;
    void *p;

    while (ops--) {
        char *page = c->hostmem_region + (SIZE_T)c->hostmem_page * page_size;
        c->hostmem_page = (c->hostmem_page + 1) % c->pages;
        check(IHostMemoryManager_VirtualAlloc(c->manager, page, page_size, MEM_COMMIT, PAGE_READWRITE,
                                              eTaskCritical, &p), "VirtualAlloc(MEM_COMMIT)");
        check(IHostMemoryManager_VirtualFree(c->manager, page, page_size, MEM_DECOMMIT), "VirtualFree(MEM_DECOMMIT)");
    }
}

static void pages_raw(void *context, unsigned ops)
{
    vm_context *c = context;

    while (ops--) {
        char *page = c->raw_region + (SIZE_T)c->raw_page * page_size;
        c->raw_page = (c->raw_page + 1) % c->pages;
        if (!VirtualAlloc(page, page_size, MEM_COMMIT, PAGE_READWRITE))
            fatal("VirtualAlloc(MEM_COMMIT) failed: %lu", GetLastError());
        if (!VirtualFree(page, page_size, MEM_DECOMMIT))
            fatal("VirtualFree(MEM_DECOMMIT) failed: %lu", GetLastError());
    }
}

/* --- --control: the harness against itself --------------------------------------------- */

/* Raw against raw, each side on its own 256 MiB reservation: what the harness reads
   when both sides do the same thing (order, alternation, placement). */
typedef struct control_context {
    vm_context a, b;
} control_context;

static void control_reserve_a(void *context, unsigned ops) { reserve_raw(&((control_context *)context)->a, ops); }
static void control_reserve_b(void *context, unsigned ops) { reserve_raw(&((control_context *)context)->b, ops); }
static void control_pages_a(void *context, unsigned ops)   { pages_raw(&((control_context *)context)->a, ops); }
static void control_pages_b(void *context, unsigned ops)   { pages_raw(&((control_context *)context)->b, ops); }

/* --- pair 5: VirtualQuery, GetMemoryLoad ---------------------------------------------- */

static void query_hostmem(void *context, unsigned ops)
{
    vm_context *c = context;
    MEMORY_BASIC_INFORMATION info;
    SIZE_T written;

    while (ops--)
        check(IHostMemoryManager_VirtualQuery(c->manager, c->query_address, &info, sizeof(info), &written),
              "VirtualQuery");
}

static void query_raw(void *context, unsigned ops)
{
    vm_context *c = context;
    MEMORY_BASIC_INFORMATION info;

    while (ops--)
        if (!VirtualQuery(c->query_address, &info, sizeof(info)))
            fatal("VirtualQuery failed: %lu", GetLastError());
}

static void load_hostmem(void *context, unsigned ops)
{
    vm_context *c = context;
    DWORD load;
    SIZE_T available;

    while (ops--)
        check(IHostMemoryManager_GetMemoryLoad(c->manager, &load, &available), "GetMemoryLoad");
}

static void load_raw(void *context, unsigned ops)
{
    MEMORYSTATUSEX status;

    (void)context;
    while (ops--) {
        status.dwLength = sizeof(status);
        if (!GlobalMemoryStatusEx(&status))
            fatal("GlobalMemoryStatusEx failed: %lu", GetLastError());
    }
}

/* --- pair 3: IHostMalloc against a private Win32 heap --------------------------------- */

static unsigned short sizes[SEQUENCE]; /* 16..1024 */
static unsigned char slots[SEQUENCE];  /* which live block each step replaces */

/* One thread's share: its own live blocks, on a shared malloc or heap (or mimalloc,
   when neither is set). */
typedef struct malloc_side {
    IHostMalloc *malloc;
    HANDLE       heap;
    void        *live[MALLOC_LIVE];
    unsigned     next;
} malloc_side;

/* Each operation frees one live block and allocates another in its place. */
static void malloc_hostmem(void *context, unsigned ops)
{
    malloc_side *s = context;

    while (ops--) {
        unsigned i = s->next++ % SEQUENCE, slot = slots[i] % MALLOC_LIVE;
        check(IHostMalloc_Free(s->malloc, s->live[slot]), "IHostMalloc::Free");
        check(IHostMalloc_Alloc(s->malloc, sizes[i], eTaskCritical, &s->live[slot]), "IHostMalloc::Alloc");
    }
}

static void malloc_raw(void *context, unsigned ops)
{
    malloc_side *s = context;

    while (ops--) {
        unsigned i = s->next++ % SEQUENCE, slot = slots[i] % MALLOC_LIVE;
        if (!HeapFree(s->heap, 0, s->live[slot]))
            fatal("HeapFree failed: %lu", GetLastError());
        if (!(s->live[slot] = HeapAlloc(s->heap, 0, sizes[i])))
            fatal("HeapAlloc failed");
    }
}

/* The two sides of a pair, one thread each. */
typedef struct malloc_pair {
    malloc_side hostmem, raw;
} malloc_pair;

static void pair_hostmem(void *context, unsigned ops) { malloc_hostmem(&((malloc_pair *)context)->hostmem, ops); }
static void pair_raw(void *context, unsigned ops)     { malloc_raw(&((malloc_pair *)context)->raw, ops); }

#ifdef HOSTMEM_BENCH_MIMALLOC
static void malloc_mi(void *context, unsigned ops)
{
    malloc_side *s = context;

    while (ops--) {
        unsigned i = s->next++ % SEQUENCE, slot = slots[i] % MALLOC_LIVE;
        mi_free(s->live[slot]);
        if (!(s->live[slot] = mi_malloc(sizes[i])))
            fatal("mi_malloc failed");
    }
}
#endif

static void side_fill(malloc_side *s)
{
    unsigned i;

    for (i = 0; i < MALLOC_LIVE; i++) {
        if (s->malloc)
            check(IHostMalloc_Alloc(s->malloc, sizes[i], eTaskCritical, &s->live[i]), "IHostMalloc::Alloc");
#ifdef HOSTMEM_BENCH_MIMALLOC
        else if (!s->heap && !(s->live[i] = mi_malloc(sizes[i])))
            fatal("mi_malloc failed");
#endif
        else if (s->heap && !(s->live[i] = HeapAlloc(s->heap, 0, sizes[i])))
            fatal("HeapAlloc failed");
    }
}

static void side_empty(malloc_side *s)
{
    unsigned i;

    for (i = 0; i < MALLOC_LIVE; i++) {
        if (s->malloc)
            check(IHostMalloc_Free(s->malloc, s->live[i]), "IHostMalloc::Free");
#ifdef HOSTMEM_BENCH_MIMALLOC
        else if (!s->heap)
            mi_free(s->live[i]);
#endif
        else if (!HeapFree(s->heap, 0, s->live[i]))
            fatal("HeapFree failed: %lu", GetLastError());
    }
}

/* Two threads: this one and a helper that runs the same batch on its own side. */
typedef struct helper {
    HANDLE            thread;
    _Atomic(unsigned) go;    /* generation: a new batch */
    _Atomic(unsigned) done;  /* the generation finished */
    _Atomic(int)      quit;
    run_fn            fn;
    void             *context;
    unsigned          ops;
} helper;

static void spin_until(_Atomic(unsigned) *value, unsigned wanted, _Atomic(int) *quit)
{
    unsigned spins = 0;

    while (atomic_load_explicit(value, memory_order_acquire) != wanted) {
        if (quit && atomic_load_explicit(quit, memory_order_relaxed))
            return;
        /* Two cores, shared: spin briefly, then give the core away. */
        if (++spins > 2000)
            SwitchToThread();
        else
            YieldProcessor();
    }
}

static DWORD WINAPI helper_main(void *parameter)
{
    helper *h = parameter;
    unsigned generation = 0;

    for (;;) {
        spin_until(&h->go, generation + 1, &h->quit);
        if (atomic_load_explicit(&h->quit, memory_order_relaxed))
            return 0;
        generation++;
        h->fn(h->context, h->ops);
        atomic_store_explicit(&h->done, generation, memory_order_release);
    }
}

typedef struct two_threads {
    helper      helper;
    malloc_side hostmem[2], raw[2];
} two_threads;

static void both(two_threads *t, run_fn fn, malloc_side *sides, unsigned ops)
{
    unsigned generation = atomic_load_explicit(&t->helper.done, memory_order_relaxed) + 1;

    t->helper.fn = fn;
    t->helper.context = &sides[1];
    t->helper.ops = ops;
    atomic_store_explicit(&t->helper.go, generation, memory_order_release);
    fn(&sides[0], ops);
    spin_until(&t->helper.done, generation, NULL);
}

static void malloc2_hostmem(void *context, unsigned ops) { two_threads *t = context; both(t, malloc_hostmem, t->hostmem, ops); }
static void malloc2_raw(void *context, unsigned ops)     { two_threads *t = context; both(t, malloc_raw, t->raw, ops); }

/* Eight threads (this one and seven helpers), each on its own share of blocks, all on
   one object: as the CLR's threads share its one MALLOC_THREADSAFE malloc. */
#define MANY 8
typedef struct many_threads {
    helper      helpers[MANY - 1];
    malloc_side hostmem[MANY], raw[MANY];
} many_threads;

static void all_of(many_threads *t, run_fn fn, malloc_side *sides, unsigned ops)
{
    unsigned generation[MANY - 1], k;

    for (k = 0; k < MANY - 1; k++) {
        generation[k] = atomic_load_explicit(&t->helpers[k].done, memory_order_relaxed) + 1;
        t->helpers[k].fn = fn;
        t->helpers[k].context = &sides[k + 1];
        t->helpers[k].ops = ops;
        atomic_store_explicit(&t->helpers[k].go, generation[k], memory_order_release);
    }
    fn(&sides[0], ops);
    for (k = 0; k < MANY - 1; k++)
        spin_until(&t->helpers[k].done, generation[k], NULL);
}

static void malloc8_hostmem(void *context, unsigned ops) { many_threads *t = context; all_of(t, malloc_hostmem, t->hostmem, ops); }
static void malloc8_raw(void *context, unsigned ops)     { many_threads *t = context; all_of(t, malloc_raw, t->raw, ops); }
#ifdef HOSTMEM_BENCH_MIMALLOC
static void pair_mi(void *context, unsigned ops)    { malloc_mi(&((malloc_pair *)context)->raw, ops); }
static void malloc2_mi(void *context, unsigned ops) { two_threads *t = context; both(t, malloc_mi, t->raw, ops); }
static void malloc8_mi(void *context, unsigned ops) { many_threads *t = context; all_of(t, malloc_mi, t->raw, ops); }
#endif

/* --- row 6: hostmem's own memory ------------------------------------------------------- */

/* Bytes in use in a private heap, the heap's own headers included. */
static SIZE_T heap_bytes(HANDLE heap)
{
    PROCESS_HEAP_ENTRY entry;
    SIZE_T bytes = 0;

    if (!HeapLock(heap))
        fatal("HeapLock failed: %lu", GetLastError());
    entry.lpData = NULL;
    while (HeapWalk(heap, &entry))
        if (entry.wFlags & PROCESS_HEAP_ENTRY_BUSY)
            bytes += entry.cbData + entry.cbOverhead;
    HeapUnlock(heap);
    return bytes;
}

/* The manager's bookkeeping heap. */
static SIZE_T bookkeeping_bytes(const host *h)
{
    return heap_bytes(h->bookkeeping);
}

typedef struct weight {
    double per_small, per_large, per_block;
} weight;

static double weigh_reservations(SIZE_T size, unsigned count)
{
    host h;
    void **bases = calloc(count, sizeof(void *));
    SIZE_T before, after;
    unsigned i;

    if (!bases)
        fatal("out of memory");
    host_start(&h);
    before = bookkeeping_bytes(&h);
    for (i = 0; i < count; i++)
        check(IHostMemoryManager_VirtualAlloc(h.manager, NULL, size, MEM_RESERVE, PAGE_READWRITE, eTaskCritical,
                                              &bases[i]), "VirtualAlloc(MEM_RESERVE)");
    after = bookkeeping_bytes(&h);
    for (i = 0; i < count; i++)
        check(IHostMemoryManager_VirtualFree(h.manager, bases[i], 0, MEM_RELEASE), "VirtualFree(MEM_RELEASE)");
    host_stop(&h);
    free(bases);
    return (double)(after - before) / count;
}

/* What count live blocks of the bench's sizes (16..1024 B) cost beyond their bytes. */
typedef struct block_weight {
    unsigned count;
    double   books;     /* bookkeeping bytes per block: the manager's and the malloc's heaps */
    double   rounding;  /* size-class rounding, bytes per block */
    double   rounding_share; /* of the bytes requested */
    double   committed_share; /* mallocCommittedBytes / mallocBytes - 1: rounding, slab tails, free blocks */
} block_weight;

static block_weight weigh_blocks(unsigned count)
{
    host h;
    IHostMalloc *malloc;
    HANDLE malloc_heap;
    void **blocks = calloc(count, sizeof(void *));
    SIZE_T before, after;
    HOSTMEM_STATS stats;
    block_weight w;
    double requested = 0, rounded = 0;
    unsigned i;

    if (!blocks)
        fatal("out of memory");
    host_start(&h);
    /* The first heap a new IHostMalloc creates is its own bookkeeping heap. */
    created_heap = NULL;
    hm_os.HeapCreate = catch_heap_create;
    check(IHostMemoryManager_CreateMalloc(h.manager, MALLOC_THREADSAFE, &malloc), "CreateMalloc");
    hm_os_restore();
    malloc_heap = created_heap;
    before = bookkeeping_bytes(&h) + heap_bytes(malloc_heap);
    for (i = 0; i < count; i++) {
        SIZE_T size = sizes[i % SEQUENCE];
        check(IHostMalloc_Alloc(malloc, size, eTaskCritical, &blocks[i]), "IHostMalloc::Alloc");
        requested += (double)size;
        rounded += (double)hm_heap_class_size(hm_heap_class_of(size));
    }
    after = bookkeeping_bytes(&h) + heap_bytes(malloc_heap);
    stats = host_stats(&h);
    for (i = 0; i < count; i++)
        check(IHostMalloc_Free(malloc, blocks[i]), "IHostMalloc::Free");
    IHostMalloc_Release(malloc);
    host_stop(&h);
    free(blocks);
    w.count = count;
    w.books = (double)(after - before) / count;
    w.rounding = (rounded - requested) / count;
    w.rounding_share = (rounded - requested) / requested;
    w.committed_share = (double)stats.mallocCommittedBytes / (double)stats.mallocBytes - 1;
    return w;
}

/* --- the report ---------------------------------------------------------------------- */

typedef struct row {
    const char *id, *name;
    result      r;
    double      target;   /* ratio, 0: none */
} row;

#define MAX_ROWS 16
static row rows[MAX_ROWS];
static unsigned row_count;

typedef struct scaling {
    const char *id, *name;
    result      at[3];
} scaling;

static scaling scales[2];
static unsigned scale_live[3]; /* the levels reached */
static weight weights;

static const char *verdict(double value, double target)
{
    if (!target || run != &full_mode)
        return "";
    return value <= target ? "ok" : "MISSED";
}

static void print_pair(const row *w)
{
    printf("%-3s %-46s %10.1f %10.1f %7.3f %6.2f%%  <=%.2f  %s\n", w->id, w->name, w->r.hostmem_ns, w->r.raw_ns,
           w->r.ratio, w->r.spread * 100, w->target, verdict(w->r.ratio, w->target));
    fflush(stdout);
}

static void add_pair(const char *id, const char *name, double target, run_fn hostmem, run_fn raw, void *context)
{
    row *w;

    if (!wanted(id))
        return;
    w = &rows[row_count++];
    w->id = id;
    w->name = name;
    w->target = target;
    w->r = measure(hostmem, raw, context);
    print_pair(w);
}

/* The growth of a median from the first level to the last, and its spread. */
static double growth(const result *at, BOOL hostmem, double *spread)
{
    double s0 = hostmem ? at[0].hostmem_spread : at[0].raw_spread;
    double s2 = hostmem ? at[2].hostmem_spread : at[2].raw_spread;

    *spread = sqrt(s0 * s0 + s2 * s2);
    return hostmem ? at[2].hostmem_ns / at[0].hostmem_ns : at[2].raw_ns / at[0].raw_ns;
}

static void print_scaling(const scaling *s)
{
    double hostmem_spread, raw_spread;
    double hostmem_growth = growth(s->at, TRUE, &hostmem_spread);
    double raw_growth = growth(s->at, FALSE, &raw_spread);

    printf("%-3s %-46s %10.1f %10.1f %7.3f %6.2f%%  <=1.20  %s\n", s->id, s->name, s->at[2].hostmem_ns,
           s->at[2].raw_ns, hostmem_growth, hostmem_spread * 100, verdict(hostmem_growth, 1.2));
    printf("      live %u / %u / %u: hostmem %.0f / %.0f / %.0f ns (x%.3f), kernel32 %.0f / %.0f / %.0f ns (x%.3f)\n",
           scale_live[0], scale_live[1], scale_live[2], s->at[0].hostmem_ns, s->at[1].hostmem_ns,
           s->at[2].hostmem_ns, hostmem_growth, s->at[0].raw_ns, s->at[1].raw_ns, s->at[2].raw_ns, raw_growth);
    printf("      hostmem / kernel32 at each level: %.3f / %.3f / %.3f\n", s->at[0].ratio, s->at[1].ratio,
           s->at[2].ratio);
    fflush(stdout);
}

static void print_weight(const char *id, const char *name, double bytes)
{
    printf("%-3s %-46s %10.0f %10s\n", id, name, bytes, "-");
    fflush(stdout);
}

/* Names and machine descriptions hold no quotes or backslashes. */
static void write_json(const char *path, const char *machine)
{
    FILE *f = fopen(path, "w");
    unsigned i, j;

    if (!f)
        fatal("cannot write %s", path);
    fprintf(f, "{\n  \"mode\": \"%s\",\n  \"machine\": \"%s\",\n  \"commit_limit\": %llu,\n  \"pairs\": [",
            run->name, machine, (unsigned long long)COMMIT_LIMIT);
    for (i = 0; i < row_count; i++)
        fprintf(f,
                "%s\n    {\"id\": \"%s\", \"name\": \"%s\", \"hostmem_ns\": %.2f, \"raw_ns\": %.2f, \"ratio\": %.4f, "
                "\"spread\": %.4f, \"target\": %.2f, \"rounds\": %u, \"ops_per_round\": %u}",
                i ? "," : "", rows[i].id, rows[i].name, rows[i].r.hostmem_ns, rows[i].r.raw_ns, rows[i].r.ratio,
                rows[i].r.spread, rows[i].target, rows[i].r.rounds, rows[i].r.ops);
    fprintf(f, "\n  ],\n  \"scaling\": [");
    for (i = 0; i < 2 && scales[i].id; i++) {
        double hostmem_spread, raw_spread;
        double hostmem_growth = growth(scales[i].at, TRUE, &hostmem_spread);
        double raw_growth = growth(scales[i].at, FALSE, &raw_spread);

        fprintf(f, "%s\n    {\"id\": \"%s\", \"name\": \"%s\", \"target\": 1.20, \"hostmem_growth\": %.4f, "
                   "\"hostmem_growth_spread\": %.4f, \"kernel32_growth\": %.4f, \"kernel32_growth_spread\": %.4f, "
                   "\"levels\": [",
                i ? "," : "", scales[i].id, scales[i].name, hostmem_growth, hostmem_spread, raw_growth, raw_spread);
        for (j = 0; j < 3; j++)
            fprintf(f, "%s{\"live\": %u, \"hostmem_ns\": %.2f, \"raw_ns\": %.2f, \"ratio\": %.4f, \"spread\": %.4f}",
                    j ? ", " : "", scale_live[j], scales[i].at[j].hostmem_ns, scales[i].at[j].raw_ns,
                    scales[i].at[j].ratio, scales[i].at[j].spread);
        fprintf(f, "]}");
    }
    fprintf(f, "\n  ]");
    if (weights.per_block)
        fprintf(f, ",\n  \"bookkeeping_bytes\": {\"per_64k_reservation\": %.1f, \"per_256m_reservation\": %.1f, "
                   "\"per_malloc_block\": %.1f}",
                weights.per_small, weights.per_large, weights.per_block);
    fprintf(f, "\n}\n");
    if (fclose(f))
        fatal("cannot write %s", path);
}

/* Under Wine the Linux root is drive Z:; the load says whether others had the CPU. */
static BOOL read_load(float *one)
{
    FILE *f = fopen("Z:\\proc\\loadavg", "r");
    BOOL ok;

    if (!f)
        return FALSE;
    ok = fscanf(f, "%f", one) == 1;
    fclose(f);
    return ok;
}

static void describe_machine(char *out, size_t size)
{
    const char *(CDECL *wine_get_version)(void) =
        (void *)GetProcAddress(GetModuleHandleA("ntdll.dll"), "wine_get_version");
    SYSTEM_INFO info;
    char load[64] = "";
    float one;

    GetSystemInfo(&info);
    if (wine_get_version && read_load(&one))
        snprintf(load, sizeof(load), ", load average %.2f at start", one);
    snprintf(out, size, "%s%s, %lu CPUs%s", wine_get_version ? "Wine " : "Windows",
             wine_get_version ? wine_get_version() : "", (unsigned long)info.dwNumberOfProcessors, load);
}

/* --- --costs: what the pieces of an IHostMalloc call cost on this machine ------------- */

static void *costs_alloc(void *context, size_t bytes) { return HeapAlloc((HANDLE)context, 0, bytes); }
static void costs_free(void *context, void *block)    { if (block) HeapFree((HANDLE)context, 0, block); }

static double per_op(LONGLONG start, unsigned n)
{
    return (double)(ticks() - start) * ns_per_tick / n;
}

/* The floor under pair 3: each Alloc and each Free takes a lock, moves the shared
   mallocBytes counter and touches the block table, around a HeapAlloc or HeapFree. */
static void print_costs(void)
{
    enum { N = 2000000, LIVE = MALLOC_LIVE };
    static CRITICAL_SECTION sections[1000];
    _Atomic(uint64_t) counter = 0;
    CRITICAL_SECTION cs;
    SRWLOCK srw;
    HANDLE heap = HeapCreate(HEAP_NO_SERIALIZE, 0, 0), table_heap = HeapCreate(0, 0, 0);
    hm_allocator allocator = { costs_alloc, costs_free, table_heap };
    hm_block_table table;
    hm_block block;
    void *live[LIVE];
    LONGLONG start;
    unsigned i;

    if (!heap || !table_heap)
        fatal("HeapCreate failed");
    InitializeSRWLock(&srw);
    InitializeCriticalSectionEx(&cs, 0, CRITICAL_SECTION_NO_DEBUG_INFO);
    hm_blocks_init(&table, &allocator);
    for (i = 0; i < LIVE; i++) {
        if (!(live[i] = HeapAlloc(heap, 0, sizes[i])) || !hm_blocks_reserve(&table))
            fatal("out of memory");
        block.address = live[i];
        block.size = sizes[i];
        block.file = NULL;
        block.line = 0;
        hm_blocks_insert(&table, &block);
    }

    printf("\nwhat the pieces cost here (ns, %u runs each):\n", N);
    start = ticks();
    for (i = 0; i < N; i++) {
        AcquireSRWLockExclusive(&srw);
        ReleaseSRWLockExclusive(&srw);
    }
    printf("  SRW lock acquire+release                 %8.1f\n", per_op(start, N));
    start = ticks();
    for (i = 0; i < N; i++) {
        EnterCriticalSection(&cs);
        LeaveCriticalSection(&cs);
    }
    printf("  critical section enter+leave             %8.1f\n", per_op(start, N));
    start = ticks();
    for (i = 0; i < N; i++)
        atomic_fetch_add_explicit(&counter, i, memory_order_relaxed);
    printf("  interlocked add (mallocBytes)            %8.1f\n", per_op(start, N));
    start = ticks();
    for (i = 0; i < N; i++) {
        unsigned k = slots[i % SEQUENCE] % LIVE;
        if (!hm_blocks_remove(&table, live[k], &block) || !hm_blocks_reserve(&table))
            fatal("block table lost a block");
        hm_blocks_insert(&table, &block);
    }
    printf("  block table remove+insert, %u live      %8.1f\n", LIVE, per_op(start, N));
    start = ticks();
    for (i = 0; i < N / 4; i++) {
        unsigned k = slots[i % SEQUENCE] % LIVE;
        HeapFree(heap, 0, live[k]);
        if (!(live[k] = HeapAlloc(heap, 0, sizes[i % SEQUENCE])))
            fatal("HeapAlloc failed");
    }
    printf("  HeapFree+HeapAlloc, HEAP_NO_SERIALIZE    %8.1f\n", per_op(start, N / 4));
    for (i = 0; i < 1000; i++)
        InitializeCriticalSectionEx(&sections[i], 0, CRITICAL_SECTION_NO_DEBUG_INFO);
    start = ticks();
    for (i = 0; i < 1000; i++)
        DeleteCriticalSection(&sections[i]);
    printf("  DeleteCriticalSection                    %8.1f\n", per_op(start, 1000));
    fflush(stdout);

    hm_blocks_destroy(&table);
    DeleteCriticalSection(&cs);
    HeapDestroy(heap);
    HeapDestroy(table_heap);
}

/* --- main ---------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr, "usage: hostmem-bench [--quick] [--json FILE] [--pairs LIST] [--costs] [--control]\n"
                    "  --quick         a few hundred milliseconds in all: a smoke test, the figures mean little\n"
                    "  --json FILE     the same figures as JSON\n"
                    "  --pairs LIST    only these rows, e.g. --pairs 1,3b,5 (when profiling)\n"
                    "  --costs         also time the pieces of an IHostMalloc call (locks, counter, table)\n"
                    "  --control       also rows 0a, 0b: pairs 1 and 2 with raw kernel32 on both sides\n");
    exit(2);
}

/* Rows 3d (shared): eight threads on one thread-safe malloc against eight on one
   serialized heap. 3e (not shared): eight threads, each on a malloc of its own that is
   not thread-safe, against each on a HEAP_NO_SERIALIZE heap of its own. */
static void many_pairs(const host *h, const HOSTMEM_STATS *books, BOOL shared)
{
    static many_threads many;
    IHostMalloc *malloc = NULL;
    HANDLE heap = NULL;
    int k;

    if (!wanted(shared ? "3d" : "3e"))
        return;
    memset(&many, 0, sizeof(many));
    if (shared) {
        check(IHostMemoryManager_CreateMalloc(h->manager, MALLOC_THREADSAFE, &malloc), "CreateMalloc");
        if (!(heap = HeapCreate(0, 0, 0)))
            fatal("HeapCreate failed");
    }
    for (k = 0; k < MANY; k++) {
        if (shared) {
            many.hostmem[k].malloc = malloc;
            many.raw[k].heap = heap;
        } else {
            check(IHostMemoryManager_CreateMalloc(h->manager, 0, &many.hostmem[k].malloc), "CreateMalloc");
            if (!(many.raw[k].heap = HeapCreate(HEAP_NO_SERIALIZE, 0, 0)))
                fatal("HeapCreate failed");
        }
        many.hostmem[k].next = k * (SEQUENCE / MANY);
        many.raw[k].next = k * (SEQUENCE / MANY);
        side_fill(&many.hostmem[k]);
        side_fill(&many.raw[k]);
    }
    for (k = 0; k < MANY - 1; k++)
        if (!(many.helpers[k].thread = CreateThread(NULL, 0, helper_main, &many.helpers[k], 0, NULL)))
            fatal("CreateThread failed: %lu", GetLastError());
    min_ops = run == &quick_mode ? 2000 : 20000;
    add_pair(shared ? "3d" : "3e", shared ? "IHostMalloc 16..1024 B, thread-safe, 8 threads"
                                          : "IHostMalloc 16..1024 B, 8 thr, 1 object each",
             0.50, malloc8_hostmem, malloc8_raw, &many);
    min_ops = 1;
    for (k = 0; k < MANY - 1; k++) {
        atomic_store(&many.helpers[k].quit, 1);
        WaitForSingleObject(many.helpers[k].thread, INFINITE);
        CloseHandle(many.helpers[k].thread);
    }
    for (k = 0; k < MANY; k++) {
        side_empty(&many.hostmem[k]);
        side_empty(&many.raw[k]);
        if (!shared) {
            IHostMalloc_Release(many.hostmem[k].malloc);
            HeapDestroy(many.raw[k].heap);
        }
    }
    if (shared) {
        IHostMalloc_Release(malloc);
        HeapDestroy(heap);
    }
    check_books(h, books, shared ? "pair 3d" : "pair 3e");
}

/* Rows 3m1, 3m2, 3m8: the thread-safe malloc of 3a, 3c, 3d against mimalloc 2.0.9
   (Debian's source package, built for this target by tools/setup.sh mimalloc; bench
   only, never in hostmem.dll), the allocator a host would pick instead. Target: within
   2x. Skipped with a message when the bench was built without it. */
static void mimalloc_pairs(const host *h, const HOSTMEM_STATS *books)
{
#ifdef HOSTMEM_BENCH_MIMALLOC
    static malloc_pair one;
    static two_threads two;
    static many_threads many;
    IHostMalloc *malloc;
    int k;

    if (!wanted("3m"))
        return;
    check(IHostMemoryManager_CreateMalloc(h->manager, MALLOC_THREADSAFE, &malloc), "CreateMalloc");
    memset(&one, 0, sizeof(one));
    one.hostmem.malloc = malloc;
    side_fill(&one.hostmem);
    side_fill(&one.raw);
    add_pair("3m1", "IHostMalloc thread-safe vs mimalloc, 1 thread", 2.0, pair_hostmem, pair_mi, &one);
    side_empty(&one.hostmem);
    side_empty(&one.raw);

    memset(&two, 0, sizeof(two));
    for (k = 0; k < 2; k++) {
        two.hostmem[k].malloc = malloc;
        two.hostmem[k].next = two.raw[k].next = k * (SEQUENCE / 2);
        side_fill(&two.hostmem[k]);
        side_fill(&two.raw[k]);
    }
    if (!(two.helper.thread = CreateThread(NULL, 0, helper_main, &two.helper, 0, NULL)))
        fatal("CreateThread failed: %lu", GetLastError());
    min_ops = run == &quick_mode ? 2000 : 20000;
    add_pair("3m2", "IHostMalloc thread-safe vs mimalloc, 2 threads", 2.0, malloc2_hostmem, malloc2_mi, &two);
    atomic_store(&two.helper.quit, 1);
    WaitForSingleObject(two.helper.thread, INFINITE);
    CloseHandle(two.helper.thread);
    /* The helper's mimalloc blocks are freed here, on another thread: mimalloc takes
       them back as remote frees. */
    for (k = 0; k < 2; k++) {
        side_empty(&two.hostmem[k]);
        side_empty(&two.raw[k]);
    }

    memset(&many, 0, sizeof(many));
    for (k = 0; k < MANY; k++) {
        many.hostmem[k].malloc = malloc;
        many.hostmem[k].next = many.raw[k].next = k * (SEQUENCE / MANY);
        side_fill(&many.hostmem[k]);
        side_fill(&many.raw[k]);
    }
    for (k = 0; k < MANY - 1; k++)
        if (!(many.helpers[k].thread = CreateThread(NULL, 0, helper_main, &many.helpers[k], 0, NULL)))
            fatal("CreateThread failed: %lu", GetLastError());
    add_pair("3m8", "IHostMalloc thread-safe vs mimalloc, 8 threads", 2.0, malloc8_hostmem, malloc8_mi, &many);
    min_ops = 1;
    for (k = 0; k < MANY - 1; k++) {
        atomic_store(&many.helpers[k].quit, 1);
        WaitForSingleObject(many.helpers[k].thread, INFINITE);
        CloseHandle(many.helpers[k].thread);
    }
    for (k = 0; k < MANY; k++) {
        side_empty(&many.hostmem[k]);
        side_empty(&many.raw[k]);
    }
    IHostMalloc_Release(malloc);
    check_books(h, books, "pair 3m");
#else
    (void)h;
    (void)books;
    if (wanted("3m"))
        printf("3m  mimalloc rows skipped: the bench was built without mimalloc (tools/setup.sh mimalloc)\n");
#endif
}

/* Pair 3 for one malloc type: hostmem's malloc against a private Win32 heap of the
   same kind (MALLOC_THREADSAFE: serialized; otherwise HEAP_NO_SERIALIZE). */
static void two_thread_pair(const host *h, const HOSTMEM_STATS *books);

static void malloc_pairs(const host *h, const HOSTMEM_STATS *books)
{
    malloc_pair one;
    int k;

    for (k = 0; k < 2; k++) {
        DWORD type = k ? 0 : MALLOC_THREADSAFE;
        if (!wanted(k ? "3b" : "3a"))
            continue;
        memset(&one, 0, sizeof(one));
        check(IHostMemoryManager_CreateMalloc(h->manager, type, &one.hostmem.malloc), "CreateMalloc");
        if (!(one.raw.heap = HeapCreate(k ? HEAP_NO_SERIALIZE : 0, 0, 0)))
            fatal("HeapCreate failed");
        side_fill(&one.hostmem);
        side_fill(&one.raw);
        add_pair(k ? "3b" : "3a", k ? "IHostMalloc 16..1024 B, not thread-safe, 1 thr"
                                    : "IHostMalloc 16..1024 B, thread-safe, 1 thread",
                 0.50, pair_hostmem, pair_raw, &one);
        side_empty(&one.hostmem);
        side_empty(&one.raw);
        IHostMalloc_Release(one.hostmem.malloc);
        HeapDestroy(one.raw.heap);
        check_books(h, books, k ? "pair 3b" : "pair 3a");
    }

    /* Two threads on one thread-safe malloc, against two threads on one serialized heap. */
    if (wanted("3c"))
        two_thread_pair(h, books);
    many_pairs(h, books, TRUE);
    many_pairs(h, books, FALSE);
    mimalloc_pairs(h, books);
}

static void two_thread_pair(const host *h, const HOSTMEM_STATS *books)
{
    two_threads two;
    IHostMalloc *malloc;
    HANDLE heap;
    int k;

    memset(&two, 0, sizeof(two));
    check(IHostMemoryManager_CreateMalloc(h->manager, MALLOC_THREADSAFE, &malloc), "CreateMalloc");
    if (!(heap = HeapCreate(0, 0, 0)))
        fatal("HeapCreate failed");
    for (k = 0; k < 2; k++) {
        two.hostmem[k].malloc = malloc;
        two.hostmem[k].next = k * (SEQUENCE / 2); /* the threads do not march in step */
        two.raw[k].heap = heap;
        two.raw[k].next = k * (SEQUENCE / 2);
        side_fill(&two.hostmem[k]);
        side_fill(&two.raw[k]);
    }
    if (!(two.helper.thread = CreateThread(NULL, 0, helper_main, &two.helper, 0, NULL)))
        fatal("CreateThread failed: %lu", GetLastError());
    SetThreadPriority(two.helper.thread, THREAD_PRIORITY_ABOVE_NORMAL);
    min_ops = run == &quick_mode ? 2000 : 20000; /* see min_ops */
    add_pair("3c", "IHostMalloc 16..1024 B, thread-safe, 2 threads", 0.50, malloc2_hostmem, malloc2_raw, &two);
    min_ops = 1;
    atomic_store(&two.helper.quit, 1);
    WaitForSingleObject(two.helper.thread, INFINITE);
    CloseHandle(two.helper.thread);
    for (k = 0; k < 2; k++) {
        side_empty(&two.hostmem[k]);
        side_empty(&two.raw[k]);
    }
    IHostMalloc_Release(malloc);
    HeapDestroy(heap);
    check_books(h, books, "pair 3c");
}

/* 100000 -> "100,000" */
static void with_thousands(char *out, size_t size, unsigned value)
{
    if (value >= 1000)
        snprintf(out, size, "%u,%03u", value / 1000, value % 1000);
    else
        snprintf(out, size, "%u", value);
}

/* Row 4: pairs 1 and 2 again while the manager holds more and more reservations. */
static void scaling_pairs(const host *h, vm_context *vm)
{
    unsigned count = run->scale[2], held = 0, level;
    void **live = calloc(count, sizeof(void *));
    char *range;
    HOSTMEM_STATS books;
    static char names[2][64];
    char most[16], least[16];

    if (!live)
        fatal("out of memory");
    with_thousands(most, sizeof(most), run->scale[2]);
    with_thousands(least, sizeof(least), run->scale[0]);
    for (level = 0; level < 2; level++) {
        snprintf(names[level], sizeof(names[level]), "pair %u at %s live, growth from %s", level + 1, most, least);
        scales[level].name = names[level];
    }
    scales[0].id = "4a";
    scales[1].id = "4b";
    /* Back to back from the bottom of a free range: Wine 8 refuses the ~93,600th live
       reservation when they lie scattered (its table of free address ranges fills up),
       kernel32 too. The top eighth stays free for what the OS places top-down meanwhile
       (the growth of hostmem's bookkeeping heap, the pairs' own reservations). */
    if (!(range = VirtualAlloc(NULL, (SIZE_T)count * 64 * KIB + (SIZE_T)count * 8 * KIB + 64 * MIB, MEM_RESERVE,
                               PAGE_NOACCESS)))
        fatal("VirtualAlloc(%u x 64 KiB) failed: %lu", count, GetLastError());
    VirtualFree(range, 0, MEM_RELEASE);
    for (level = 0; level < 3; level++) {
        for (; held < run->scale[level]; held++)
            check(IHostMemoryManager_VirtualAlloc(h->manager, range + (SIZE_T)held * 64 * KIB, 64 * KIB, MEM_RESERVE,
                                                  PAGE_READWRITE, eTaskCritical, &live[held]),
                  "VirtualAlloc(MEM_RESERVE)");
        scale_live[level] = held;
        books = host_stats(h);
        scales[0].at[level] = measure(reserve_hostmem, reserve_raw, vm);
        scales[1].at[level] = measure(pages_hostmem, pages_raw, vm);
        check_books(h, &books, "pair 4");
    }
    print_scaling(&scales[0]);
    print_scaling(&scales[1]);
    while (held)
        check(IHostMemoryManager_VirtualFree(h->manager, live[--held], 0, MEM_RELEASE), "VirtualFree(MEM_RELEASE)");
    free(live);
}

int main(int argc, char **argv)
{
    const char *json = NULL;
    char machine[160];
    LARGE_INTEGER frequency;
    LONGLONG started;
    BOOL costs = FALSE, control = FALSE;
    SYSTEM_INFO info;
    HOSTMEM_STATS books;
    vm_context vm;
    unsigned i, seed = 12345;
    host h;
    int arg;

    run = &full_mode;
    for (arg = 1; arg < argc; arg++) {
        if (!strcmp(argv[arg], "--quick"))
            run = &quick_mode;
        else if (!strcmp(argv[arg], "--json") && arg + 1 < argc)
            json = argv[++arg];
        else if (!strcmp(argv[arg], "--pairs") && arg + 1 < argc)
            only = argv[++arg];
        else if (!strcmp(argv[arg], "--costs"))
            costs = TRUE;
        else if (!strcmp(argv[arg], "--control"))
            control = TRUE;
        else
            usage();
    }
    QueryPerformanceFrequency(&frequency);
    ns_per_tick = 1e9 / (double)frequency.QuadPart;
    started = ticks();
    GetSystemInfo(&info);
    page_size = info.dwPageSize;
    for (i = 0; i < SEQUENCE; i++) {
        seed = seed * 1103515245u + 12345u;
        sizes[i] = (unsigned short)(16 + (seed >> 8) % (1024 - 16 + 1));
        seed = seed * 1103515245u + 12345u;
        slots[i] = (unsigned char)(seed >> 16);
    }

    describe_machine(machine, sizeof(machine));
    printf("hostmem-bench (%s run): %s; commit limit %llu GiB, full accounting, no tracing\n", run->name, machine,
           (unsigned long long)(COMMIT_LIMIT / GIB));
    printf("ratio = median over rounds of hostmem/raw (rounds alternate); spread = 95%% CI of that median\n\n");
    printf("%-3s %-46s %10s %10s %7s %7s  %-6s\n", "", "pair", "hostmem ns", "raw ns", "ratio", "spread",
           "target");

    host_start(&h);
    memset(&vm, 0, sizeof(vm));
    vm.manager = h.manager;
    vm.pages = 4096;
    check(IHostMemoryManager_VirtualAlloc(h.manager, NULL, 256 * MIB, MEM_RESERVE, PAGE_READWRITE, eTaskCritical,
                                          (void **)&vm.hostmem_region), "VirtualAlloc(256 MiB)");
    if (!(vm.raw_region = VirtualAlloc(NULL, 256 * MIB, MEM_RESERVE, PAGE_READWRITE)))
        fatal("VirtualAlloc(256 MiB) failed: %lu", GetLastError());
    vm.query_address = vm.hostmem_region + 128 * MIB;
    books = host_stats(&h);

    if (control) {
        control_context cc;

        memset(&cc, 0, sizeof(cc));
        cc.a.pages = cc.b.pages = vm.pages;
        if (!(cc.a.raw_region = VirtualAlloc(NULL, 256 * MIB, MEM_RESERVE, PAGE_READWRITE)) ||
            !(cc.b.raw_region = VirtualAlloc(NULL, 256 * MIB, MEM_RESERVE, PAGE_READWRITE)))
            fatal("VirtualAlloc(256 MiB) failed: %lu", GetLastError());
        add_pair("0a", "control: pair 1, kernel32 against itself", 1.05, control_reserve_a, control_reserve_b, &cc);
        add_pair("0b", "control: pair 2, kernel32 against itself", 1.05, control_pages_a, control_pages_b, &cc);
        VirtualFree(cc.a.raw_region, 0, MEM_RELEASE);
        VirtualFree(cc.b.raw_region, 0, MEM_RELEASE);
    }
    add_pair("1", "reserve+commit 64 KiB, release", 1.05, reserve_hostmem, reserve_raw, &vm);
    check_books(&h, &books, "pair 1");
    add_pair("2", "commit+decommit 1 page in 256 MiB", 1.05, pages_hostmem, pages_raw, &vm);
    check_books(&h, &books, "pair 2");
    if (wanted("3"))
        malloc_pairs(&h, &books);
    if (wanted("4"))
        scaling_pairs(&h, &vm);
    add_pair("5a", "VirtualQuery", 1.05, query_hostmem, query_raw, &vm);
    add_pair("5b", "GetMemoryLoad", 1.05, load_hostmem, load_raw, &vm);
    check_books(&h, &books, "pair 5");

    check(IHostMemoryManager_VirtualFree(h.manager, vm.hostmem_region, 0, MEM_RELEASE), "VirtualFree(256 MiB)");
    VirtualFree(vm.raw_region, 0, MEM_RELEASE);
    host_stop(&h);

    if (wanted("6")) {
        weights.per_small = weigh_reservations(64 * KIB, run->weigh_small);
        weights.per_large = weigh_reservations(256 * MIB, run->weigh_large);
        print_weight("6a", "bookkeeping bytes per live 64 KiB reservation", weights.per_small);
        print_weight("6b", "bookkeeping bytes per live 256 MiB reservation", weights.per_large);
        for (i = 0; i < 3; i++) {
            static const char *const ids[3] = { "6c", "6d", "6e" };
            block_weight w = weigh_blocks(run->weigh_blocks / 10 * (i == 0 ? 1u : i == 1 ? 10u : 100u));

            if (i == 1)
                weights.per_block = w.books;
            printf("%-3s IHostMalloc, %6u live blocks of 16..1024 B: bookkeeping %5.1f B/block, class rounding "
                   "%5.1f B/block (%4.1f%%), committed beyond requested %5.1f%%\n",
                   ids[i], w.count, w.books, w.rounding, w.rounding_share * 100, w.committed_share * 100);
        }
    }
    if (costs)
        print_costs();
    {
        float one;
        char load[48] = "";

        if (read_load(&one))
            snprintf(load, sizeof(load), ", load average %.2f at the end", one);
        printf("\nbooks exact after every pair; %.2f s in all%s\n", (double)(ticks() - started) * ns_per_tick / 1e9,
               load);
    }

    if (json)
        write_json(json, machine);
    return 0;
}
