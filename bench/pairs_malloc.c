/*
 * Rows 3: IHostMalloc Alloc/Free of mixed sizes (16..1024 B) against a private Win32
 * heap of the same kind (3a thread-safe, 3b not, 3c two threads on one object, 3d
 * eight, 3e eight each on its own), and against mimalloc (3m1, 3m2, 3m8) when the
 * bench is built with it. Each operation frees one of a thread's live blocks and
 * allocates another in its place, in the one precomputed sequence of sizes and slots
 * that every side replays (row 6 and --costs reuse it).
 */
#include "bench.h"

#ifdef HOSTMEM_BENCH_MIMALLOC
#include <mimalloc.h> /* bench only: Debian's source package, built by tools/setup.sh mimalloc */
#endif

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define TARGET_MALLOC   0.50 /* 3a..3e: at most half the Win32 heap's time */
#define TARGET_MIMALLOC 2.0  /* 3m: within 2x of mimalloc */
#define MANY            8    /* threads of 3d, 3e, 3m8 */

unsigned short sizes[SEQUENCE];
unsigned char slots[SEQUENCE];

void make_sequence(void)
{
    unsigned i, seed = 12345;

    for (i = 0; i < SEQUENCE; i++) {
        seed = seed * 1103515245u + 12345u;
        sizes[i] = (unsigned short)(16 + (seed >> 8) % (1024 - 16 + 1));
        seed = seed * 1103515245u + 12345u;
        slots[i] = (unsigned char)(seed >> 16);
    }
}

/* --- one thread's share ------------------------------------------------------------------ */

/* One thread's share: its own live blocks, on a shared malloc or heap (or mimalloc,
   when neither is set). The threaded rows (3c, 3d, 3e, 3m2, 3m8) lay their sides out
   side by side, and one thread's `next` (written every operation) would otherwise
   share a line with the next side's `malloc` (read every operation by the IHostMalloc
   side only), a false-sharing miss charged to hostmem alone: 64 bytes keep them
   apart. Padded rather than aligned: with each side aligned to 64 bytes, rows 3a and
   3b read 22-28 ns instead of 13-15 in most processes (an address coincidence between
   the live array and the heap's own lines, by its pattern), which measures the
   layout, not the heap. */
typedef struct malloc_side {
    IHostMalloc *malloc;
    HANDLE       heap;
    void        *live[MALLOC_LIVE];
    unsigned     next;
    char         apart[64];
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

/* --- threads ------------------------------------------------------------------------------ */

/* A helper thread runs the batch it is handed on its own side, as this one does. */
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

/* Two or eight threads (this one and helpers), each on its own share of blocks: on one
   object, as the CLR's threads share its one MALLOC_THREADSAFE malloc, or each on its
   own (3e). */
typedef struct threads {
    helper      helpers[MANY - 1];
    malloc_side hostmem[MANY], raw[MANY];
    unsigned    count; /* 2 or MANY: this one and count - 1 helpers */
} threads;

static void all_of(threads *t, run_fn fn, malloc_side *sides, unsigned ops)
{
    unsigned generation[MANY - 1], k;

    for (k = 0; k + 1 < t->count; k++) {
        generation[k] = atomic_load_explicit(&t->helpers[k].done, memory_order_relaxed) + 1;
        t->helpers[k].fn = fn;
        t->helpers[k].context = &sides[k + 1];
        t->helpers[k].ops = ops;
        atomic_store_explicit(&t->helpers[k].go, generation[k], memory_order_release);
    }
    fn(&sides[0], ops);
    for (k = 0; k + 1 < t->count; k++)
        spin_until(&t->helpers[k].done, generation[k], NULL);
}

static void threads_hostmem(void *context, unsigned ops) { threads *t = context; all_of(t, malloc_hostmem, t->hostmem, ops); }
static void threads_raw(void *context, unsigned ops)     { threads *t = context; all_of(t, malloc_raw, t->raw, ops); }
#ifdef HOSTMEM_BENCH_MIMALLOC
static void pair_mi(void *context, unsigned ops)    { malloc_mi(&((malloc_pair *)context)->raw, ops); }
static void threads_mi(void *context, unsigned ops) { threads *t = context; all_of(t, malloc_mi, t->raw, ops); }
#endif

/* A threaded row on t, whose sides are filled: its helpers started (at priority, when
   not normal), the pair measured, the helpers stopped. */
static void threaded_pair(threads *t, const char *id, const char *name, double target, run_fn raw, int priority)
{
    unsigned k;

    for (k = 0; k + 1 < t->count; k++) {
        if (!(t->helpers[k].thread = CreateThread(NULL, 0, helper_main, &t->helpers[k], 0, NULL)))
            fatal("CreateThread failed: %lu", GetLastError());
        if (priority != THREAD_PRIORITY_NORMAL)
            SetThreadPriority(t->helpers[k].thread, priority);
    }
    min_ops = run == &quick_mode ? 2000 : 20000; /* see min_ops */
    add_pair(id, name, target, threads_hostmem, raw, t);
    min_ops = 1;
    for (k = 0; k + 1 < t->count; k++) {
        atomic_store(&t->helpers[k].quit, 1);
        WaitForSingleObject(t->helpers[k].thread, INFINITE);
        CloseHandle(t->helpers[k].thread);
    }
}

/* --- the rows ---------------------------------------------------------------------------- */

/* Rows 3a, 3b: one thread, hostmem's malloc against a private Win32 heap of the same
   kind (MALLOC_THREADSAFE: serialized; otherwise HEAP_NO_SERIALIZE). */
static void one_thread_pairs(const host *h, const HOSTMEM_STATS *books)
{
    static malloc_pair one;
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
                 TARGET_MALLOC, pair_hostmem, pair_raw, &one);
        side_empty(&one.hostmem);
        side_empty(&one.raw);
        IHostMalloc_Release(one.hostmem.malloc);
        HeapDestroy(one.raw.heap);
        check_books(h, books, k ? "pair 3b" : "pair 3a");
    }
}

/* Rows 3c (2 threads), 3d (8 threads), both shared: the threads on one thread-safe
   malloc against as many on one serialized heap; 3e (8 threads, not shared): each on a
   malloc of its own that is not thread-safe, against each on a HEAP_NO_SERIALIZE heap
   of its own. 3c's helper runs above normal priority. */
static void threaded_pairs(const host *h, const HOSTMEM_STATS *books, const char *id, const char *name,
                           unsigned count, BOOL shared, int priority)
{
    static threads t;
    IHostMalloc *malloc = NULL;
    HANDLE heap = NULL;
    char pair[16];
    unsigned k;

    if (!wanted(id))
        return;
    memset(&t, 0, sizeof(t));
    t.count = count;
    if (shared) {
        check(IHostMemoryManager_CreateMalloc(h->manager, MALLOC_THREADSAFE, &malloc), "CreateMalloc");
        if (!(heap = HeapCreate(0, 0, 0)))
            fatal("HeapCreate failed");
    }
    for (k = 0; k < count; k++) {
        if (shared) {
            t.hostmem[k].malloc = malloc;
            t.raw[k].heap = heap;
        } else {
            check(IHostMemoryManager_CreateMalloc(h->manager, 0, &t.hostmem[k].malloc), "CreateMalloc");
            if (!(t.raw[k].heap = HeapCreate(HEAP_NO_SERIALIZE, 0, 0)))
                fatal("HeapCreate failed");
        }
        t.hostmem[k].next = k * (SEQUENCE / count); /* the threads do not march in step */
        t.raw[k].next = k * (SEQUENCE / count);
        side_fill(&t.hostmem[k]);
        side_fill(&t.raw[k]);
    }
    threaded_pair(&t, id, name, TARGET_MALLOC, threads_raw, priority);
    for (k = 0; k < count; k++) {
        side_empty(&t.hostmem[k]);
        side_empty(&t.raw[k]);
        if (!shared) {
            IHostMalloc_Release(t.hostmem[k].malloc);
            HeapDestroy(t.raw[k].heap);
        }
    }
    if (shared) {
        IHostMalloc_Release(malloc);
        HeapDestroy(heap);
    }
    snprintf(pair, sizeof(pair), "pair %s", id);
    check_books(h, books, pair);
}

/* Rows 3m1, 3m2, 3m8: the thread-safe malloc of 3a, 3c, 3d against mimalloc 2.0.9
   (Debian's source package, built for this target by tools/setup.sh mimalloc; bench
   only, never in hostmem.dll), the allocator a host would pick instead. Target: within
   2x. Skipped with a message when the bench was built without it. */
static void mimalloc_pairs(const host *h, const HOSTMEM_STATS *books)
{
#ifdef HOSTMEM_BENCH_MIMALLOC
    static const char *const names[2] = { "IHostMalloc thread-safe vs mimalloc, 2 threads",
                                          "IHostMalloc thread-safe vs mimalloc, 8 threads" };
    static malloc_pair one;
    static threads t;
    IHostMalloc *malloc;
    unsigned k, row;

    if (!wanted("3m"))
        return;
    check(IHostMemoryManager_CreateMalloc(h->manager, MALLOC_THREADSAFE, &malloc), "CreateMalloc");
    memset(&one, 0, sizeof(one));
    one.hostmem.malloc = malloc;
    side_fill(&one.hostmem);
    side_fill(&one.raw);
    add_pair("3m1", "IHostMalloc thread-safe vs mimalloc, 1 thread", TARGET_MIMALLOC, pair_hostmem, pair_mi, &one);
    side_empty(&one.hostmem);
    side_empty(&one.raw);

    for (row = 0; row < 2; row++) {
        memset(&t, 0, sizeof(t));
        t.count = row ? MANY : 2;
        for (k = 0; k < t.count; k++) {
            t.hostmem[k].malloc = malloc;
            t.hostmem[k].next = t.raw[k].next = k * (SEQUENCE / t.count);
            side_fill(&t.hostmem[k]);
            side_fill(&t.raw[k]);
        }
        threaded_pair(&t, row ? "3m8" : "3m2", names[row], TARGET_MIMALLOC, threads_mi, THREAD_PRIORITY_NORMAL);
        /* The helpers' mimalloc blocks are freed here, on another thread: mimalloc
           takes them back as remote frees. */
        for (k = 0; k < t.count; k++) {
            side_empty(&t.hostmem[k]);
            side_empty(&t.raw[k]);
        }
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

void malloc_pairs(const host *h, const HOSTMEM_STATS *books)
{
    one_thread_pairs(h, books);
    threaded_pairs(h, books, "3c", "IHostMalloc 16..1024 B, thread-safe, 2 threads", 2, TRUE,
                   THREAD_PRIORITY_ABOVE_NORMAL);
    threaded_pairs(h, books, "3d", "IHostMalloc 16..1024 B, thread-safe, 8 threads", MANY, TRUE,
                   THREAD_PRIORITY_NORMAL);
    threaded_pairs(h, books, "3e", "IHostMalloc 16..1024 B, 8 thr, 1 object each", MANY, FALSE,
                   THREAD_PRIORITY_NORMAL);
    mimalloc_pairs(h, books);
}
