/*
 * The allocator of src/core/heap.h on its own, natively (ASan + UBSan; the concurrent
 * test also under ThreadSanitizer, tests/native/CMakeLists.txt): size classes, the
 * ownership check at every offset of a slab, every failure of the provider and of the
 * bookkeeping leaving nothing changed, the kept empty slab, a refused unmap, the leak
 * report, destruction with live blocks, and many threads on one heap.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "heap_provider.h"

#define SLAB HM_HEAP_SLAB_SIZE

static void classes_round_up_by_at_most_a_quarter_past_128(void **state)
{
    size_t size;
    (void)state;

    for (size = 0; size <= HM_HEAP_SMALL_MAX; size++) {
        unsigned cls = hm_heap_class_of(size);
        size_t block = hm_heap_class_size(cls);

        assert_true(cls < HM_HEAP_CLASSES);
        assert_true(block >= size);
        assert_int_equal(block % 16, 0);
        if (cls)
            assert_true(hm_heap_class_size(cls - 1) < (size ? size : 1)); /* the smallest class that fits */
        if (size > 128)
            assert_true(block - size <= size / 4);
    }
    assert_int_equal(hm_heap_class_size(HM_HEAP_CLASSES - 1), HM_HEAP_SMALL_MAX);
}

static void only_block_starts_of_live_blocks_are_owned_at_every_offset(void **state)
{
    static const size_t sizes[] = { 16, 48, 80, 112, 160, 224, 448, 896, 1792, 3584, 4096 };
    test_provider p;
    unsigned k;
    (void)state;

    for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        hm_heap *heap = test_heap_create(&p, false, true);
        unsigned char *first = NULL, *second = NULL, *base;
        size_t offset, got = 0;

        assert_int_equal(hm_heap_alloc(heap, sizes[k], 0, NULL, 0, (void **)&first), HM_HEAP_OK);
        assert_int_equal(hm_heap_alloc(heap, sizes[k] - 1, 0, NULL, 0, (void **)&second), HM_HEAP_OK);
        base = (unsigned char *)((uintptr_t)first & ~(uintptr_t)(SLAB - 1));
        /* Every 8 bytes of the slab and a little past it: the two live block starts
           only (the magic-number division is exact everywhere). */
        for (offset = 0; offset < SLAB + 64; offset += 8) {
            bool owned = hm_heap_owns(heap, base + offset, &got);
            assert_int_equal(owned, base + offset == first || base + offset == second);
        }
        assert_true(hm_heap_owns(heap, second, &got));
        assert_int_equal(got, sizes[k] - 1);
        assert_int_equal(hm_heap_free(heap, first, &got), HM_HEAP_OK);
        assert_int_equal(got, sizes[k]);
        assert_int_equal(hm_heap_free(heap, first, &got), HM_HEAP_NOT_A_BLOCK);
        assert_int_equal(hm_heap_free(heap, second + 1, &got), HM_HEAP_NOT_A_BLOCK);
        assert_int_equal(hm_heap_destroy(heap), 0);
        assert_int_equal(p.live_mappings, 0);
        assert_int_equal(p.alloc_live, 0);
    }
}

static void every_failure_leaves_nothing_changed(void **state)
{
    test_provider p;
    hm_heap *heap = test_heap_create(&p, true, false);
    hm_heap_stats before, after;
    void *b = NULL, *keep = NULL;
    int fail;
    (void)state;

    assert_int_equal(hm_heap_alloc(heap, 100, 0, NULL, 0, &keep), HM_HEAP_OK);
    hm_heap_get_stats(heap, &before);
    /* The provider refuses: a slab of a new class, a large block. */
    atomic_store(&p.fail_maps, 1);
    assert_int_equal(hm_heap_alloc(heap, 1000, 2, NULL, 0, &b), HM_HEAP_NO_MEMORY);
    assert_int_equal(p.last_level, 2); /* the level reaches the provider */
    atomic_store(&p.fail_maps, 1);
    assert_int_equal(hm_heap_alloc(heap, 100000, 1, "f.c", 1, &b), HM_HEAP_NO_MEMORY);
    assert_null(b);
    /* The bookkeeping refuses, at each of its allocations in turn. */
    for (fail = 0; fail < 4; fail++) {
        atomic_store(&p.fail_allocs, 1);
        (void)hm_heap_alloc(heap, 2000 + 600 * (size_t)fail, 0, "g.c", fail, &b);
        atomic_store(&p.fail_allocs, 0);
        if (b)
            assert_int_equal(hm_heap_free(heap, b, &(size_t){ 0 }), HM_HEAP_OK);
        b = NULL;
    }
    hm_heap_get_stats(heap, &after);
    assert_int_equal(after.live_bytes, before.live_bytes);
    assert_int_equal(after.live_blocks, before.live_blocks);
    assert_true(hm_heap_owns(heap, keep, NULL));
    /* A refused unmap keeps a large block live and freeable. */
    assert_int_equal(hm_heap_alloc(heap, 70000, 0, NULL, 0, &b), HM_HEAP_OK);
    atomic_store(&p.fail_unmaps, 1);
    assert_int_equal(hm_heap_free(heap, b, &(size_t){ 0 }), HM_HEAP_OS_REFUSED);
    assert_true(hm_heap_owns(heap, b, NULL));
    assert_int_equal(hm_heap_free(heap, b, &(size_t){ 0 }), HM_HEAP_OK);
    assert_int_equal(hm_heap_free(heap, keep, &(size_t){ 0 }), HM_HEAP_OK);
    assert_int_equal(hm_heap_destroy(heap), 0);
    assert_int_equal(p.live_mappings, 0);
    assert_int_equal(p.alloc_live, 0);
}

static void one_empty_slab_stays_and_a_refused_unmap_keeps_the_slab(void **state)
{
    enum { N = 3 * 16 }; /* three slabs of the 4096-byte class */
    test_provider p;
    hm_heap *heap = test_heap_create(&p, true, true);
    void *b[N];
    hm_heap_stats stats;
    unsigned i;
    (void)state;

    for (i = 0; i < N; i++)
        assert_int_equal(hm_heap_alloc(heap, 4096, 0, NULL, 0, &b[i]), HM_HEAP_OK);
    assert_int_equal(p.live_mappings, 3);
    atomic_store(&p.fail_unmaps, 1);
    for (i = 0; i < N; i++)
        assert_int_equal(hm_heap_free(heap, b[i], &(size_t){ 0 }), HM_HEAP_OK);
    /* One kept, one refused by the OS and kept too, one given back. */
    assert_int_equal(p.live_mappings, 2);
    hm_heap_get_stats(heap, &stats);
    assert_int_equal(stats.committed_bytes, 2 * SLAB);
    assert_int_equal(stats.live_blocks, 0);
    for (i = 0; i < N; i++)
        assert_int_equal(hm_heap_alloc(heap, 4096, 0, NULL, 0, &b[i]), HM_HEAP_OK);
    assert_int_equal(p.live_mappings, 3);
    assert_int_equal(hm_heap_destroy(heap), 0); /* with every block live */
    assert_int_equal(p.live_mappings, 0);
    assert_int_equal(p.alloc_live, 0);
}

static void the_report_lists_every_live_block_with_its_source(void **state)
{
    test_provider p;
    hm_heap *heap = test_heap_create(&p, true, true);
    hm_heap_block out[8];
    void *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    size_t n, i, seen = 0;
    (void)state;

    assert_int_equal(hm_heap_alloc(heap, 10, 0, NULL, 0, &a), HM_HEAP_OK);
    assert_int_equal(hm_heap_alloc(heap, 11, 0, "b.c", 2, &b), HM_HEAP_OK); /* same slab, with a source */
    assert_int_equal(hm_heap_alloc(heap, 9000, 0, "c.c", 3, &c), HM_HEAP_OK);
    assert_int_equal(hm_heap_alloc(heap, 12, 0, NULL, 0, &d), HM_HEAP_OK);
    assert_int_equal(hm_heap_free(heap, a, &(size_t){ 0 }), HM_HEAP_OK);
    hm_heap_lock_all(heap);
    n = hm_heap_block_count(heap);
    assert_int_equal(n, 3);
    assert_int_equal(hm_heap_copy_blocks(heap, out, sizeof(out) / sizeof(out[0])), 3);
    hm_heap_unlock_all(heap);
    for (i = 0; i < n; i++) {
        if (out[i].address == b) {
            assert_int_equal(out[i].size, 11);
            assert_string_equal(out[i].file, "b.c");
            assert_int_equal(out[i].line, 2);
            seen++;
        } else if (out[i].address == c) {
            assert_int_equal(out[i].size, 9000);
            assert_string_equal(out[i].file, "c.c");
            seen++;
        } else if (out[i].address == d) {
            assert_null(out[i].file); /* a plain Alloc in a slab that has sources */
            assert_int_equal(out[i].line, 0);
            seen++;
        }
    }
    assert_int_equal(seen, 3);
    assert_int_equal(hm_heap_destroy(heap), 0);
}

/* --- many threads: exact books, frees on other threads, reports meanwhile --- */

#define THREADS 6
#define HELD    48
#define ROUNDS  20000

typedef struct churner {
    hm_heap  *heap;
    unsigned  seed;
    int       failures;
    void     *held[HELD];
    size_t    size[HELD];
} churner;

static _Atomic(void *) mailbox[THREADS * 2];
static _Atomic(int) running;

static void *churn(void *context)
{
    churner *c = context;
    unsigned i, x = c->seed;

    for (i = 0; i < ROUNDS; i++) {
        unsigned slot;
        void *other;
        size_t got;

        x = x * 1103515245u + 12345u;
        slot = (x >> 16) % HELD;
        if (c->held[slot]) {
            void *expected = NULL;
            if ((x >> 8) % 4 == 0 &&
                atomic_compare_exchange_strong(&mailbox[(x >> 4) % (THREADS * 2)], &expected, c->held[slot])) {
                c->held[slot] = NULL;
                continue;
            }
            if (hm_heap_free(c->heap, c->held[slot], &got) != HM_HEAP_OK || got != c->size[slot])
                c->failures++;
            c->held[slot] = NULL;
        } else {
            size_t size = (x >> 20) % 32 == 0 ? 4097 + (x >> 8) % 30000 : (x >> 12) % 2100;
            if (hm_heap_alloc(c->heap, size, 0, (x & 1) ? "t.c" : NULL, (int)i, &c->held[slot]) != HM_HEAP_OK)
                c->failures++;
            else
                memset(c->held[slot], (int)slot, size < 32 ? size : 32);
            c->size[slot] = size;
        }
        if ((other = atomic_exchange(&mailbox[(x >> 24) % (THREADS * 2)], NULL)) &&
            hm_heap_free(c->heap, other, &got) != HM_HEAP_OK)
            c->failures++;
    }
    atomic_fetch_sub(&running, 1);
    return NULL;
}

typedef struct one_block {
    hm_heap *heap;
    void    *block;
} one_block;

static void *alloc_one(void *context)
{
    one_block *b = context;

    if (hm_heap_alloc(b->heap, 16, 0, NULL, 0, &b->block) != HM_HEAP_OK)
        b->block = NULL;
    return NULL;
}

/* A thread's arena comes from its thread number: threads created one after another
   get arenas of their own (each of these 16-byte blocks needs a slab of its own
   arena's 16-byte class), and any thread may free them. */
static void threads_created_together_get_arenas_of_their_own(void **state)
{
    test_provider p;
    hm_heap *heap = test_heap_create(&p, true, false);
    one_block blocks[HM_HEAP_ARENAS];
    hm_heap_stats stats;
    pthread_t thread;
    unsigned i;
    (void)state;

    for (i = 0; i < HM_HEAP_ARENAS; i++) {
        blocks[i].heap = heap;
        assert_int_equal(pthread_create(&thread, NULL, alloc_one, &blocks[i]), 0);
        assert_int_equal(pthread_join(thread, NULL), 0);
        assert_non_null(blocks[i].block);
    }
    hm_heap_get_stats(heap, &stats);
    assert_int_equal(stats.live_blocks, HM_HEAP_ARENAS);
    assert_int_equal(stats.slabs, HM_HEAP_ARENAS);
    for (i = 0; i < HM_HEAP_ARENAS; i++) {
        assert_int_equal(hm_heap_free(heap, blocks[i].block, NULL), HM_HEAP_OK);
        assert_int_equal(hm_heap_free(heap, blocks[i].block, NULL), HM_HEAP_NOT_A_BLOCK);
    }
    hm_heap_get_stats(heap, &stats);
    assert_int_equal(stats.live_blocks, 0);
    assert_int_equal(stats.live_bytes, 0);
    assert_int_equal(hm_heap_destroy(heap), 0);
    assert_int_equal(p.live_mappings, 0);
    assert_int_equal(p.alloc_live, 0);
}

#define OWNED 32 /* 4 KiB blocks: two slabs of 16 */

typedef struct owner_thread {
    hm_heap        *heap;
    void           *blocks[OWNED];
    _Atomic(int)    stage; /* 1: blocks allocated; 2: may exit */
} owner_thread;

static void *allocate_then_wait(void *context)
{
    owner_thread *o = context;
    unsigned i;

    for (i = 0; i < OWNED; i++)
        if (hm_heap_alloc(o->heap, HM_HEAP_SMALL_MAX, 0, NULL, 0, &o->blocks[i]) != HM_HEAP_OK)
            o->blocks[i] = NULL;
    atomic_store(&o->stage, 1);
    while (atomic_load(&o->stage) != 2)
        sched_yield();
    return NULL;
}

/* Blocks freed by another thread into an arena whose owner is alive wait for the owner
   (off the books at once: not live, their bytes not counted); when the owner exits, the
   thread-exit hook takes them back and hands the arena on: the slab that emptied goes
   back to the provider, the kept one stays, and the next thread owns the arena. */
static void an_exiting_owner_strands_nothing(void **state)
{
    static owner_thread o;
    test_provider p;
    hm_heap *heap = test_heap_create(&p, true, false);
    hm_heap_stats stats;
    pthread_t thread;
    void *again;
    unsigned i;
    (void)state;

    memset(&o, 0, sizeof(o));
    o.heap = heap;
    assert_int_equal(pthread_create(&thread, NULL, allocate_then_wait, &o), 0);
    while (atomic_load(&o.stage) != 1)
        sched_yield();
    for (i = 0; i < OWNED; i++) {
        assert_non_null(o.blocks[i]);
        assert_int_equal(hm_heap_free(heap, o.blocks[i], NULL), HM_HEAP_OK);
        assert_int_equal(hm_heap_free(heap, o.blocks[i], NULL), HM_HEAP_NOT_A_BLOCK);
    }
    hm_heap_get_stats(heap, &stats);
    assert_int_equal(stats.live_blocks, 0);
    assert_int_equal(stats.live_bytes, 0);
    assert_int_equal(stats.slabs, 2); /* the owner has not taken them back yet */
    atomic_store(&o.stage, 2);
    assert_int_equal(pthread_join(thread, NULL), 0);
    hm_heap_get_stats(heap, &stats);
    assert_int_equal(stats.live_blocks, 0);
    assert_int_equal(stats.slabs, HM_HEAP_KEEP_EMPTY);
    assert_int_equal(p.live_mappings, HM_HEAP_KEEP_EMPTY);
    /* The heap goes on from this thread (its own arena). */
    assert_int_equal(hm_heap_alloc(heap, HM_HEAP_SMALL_MAX, 0, NULL, 0, &again), HM_HEAP_OK);
    assert_int_equal(hm_heap_free(heap, again, NULL), HM_HEAP_OK);
    assert_int_equal(hm_heap_destroy(heap), 0);
    assert_int_equal(p.live_mappings, 0);
    assert_int_equal(p.alloc_live, 0);
}

static void many_threads_keep_the_books_exact(void **state)
{
    static churner churners[THREADS];
    static hm_heap_block out[THREADS * HELD + THREADS * 2 + 16];
    test_provider p;
    hm_heap *heap = test_heap_create(&p, true, false);
    pthread_t threads[THREADS];
    hm_heap_stats stats;
    uint64_t live = 0;
    unsigned i, j;
    (void)state;

    atomic_store(&running, THREADS);
    for (i = 0; i < THREADS; i++) {
        memset(&churners[i], 0, sizeof(churners[i]));
        churners[i].heap = heap;
        churners[i].seed = 3 + i * 7919;
        assert_int_equal(pthread_create(&threads[i], NULL, churn, &churners[i]), 0);
    }
    while (atomic_load(&running)) {
        size_t n;

        size_t copied;

        hm_heap_lock_all(heap);
        do {
            hm_heap_snapshot_begin(heap);
            n = hm_heap_block_count(heap);
            copied = hm_heap_copy_blocks(heap, out, sizeof(out) / sizeof(out[0]));
        } while (!hm_heap_snapshot_valid(heap));
        assert_true(n <= sizeof(out) / sizeof(out[0]));
        assert_int_equal(copied, n);
        hm_heap_unlock_all(heap);
    }
    for (i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(churners[i].failures, 0);
        for (j = 0; j < HELD; j++)
            if (churners[i].held[j])
                live += churners[i].size[j];
    }
    for (i = 0; i < THREADS * 2; i++) {
        void *b = atomic_exchange(&mailbox[i], NULL);
        if (b)
            assert_int_equal(hm_heap_free(heap, b, &(size_t){ 0 }), HM_HEAP_OK);
    }
    hm_heap_get_stats(heap, &stats);
    assert_int_equal(stats.live_bytes, live);
    assert_int_equal(stats.committed_bytes, p.live_bytes);
    for (i = 0; i < THREADS; i++)
        for (j = 0; j < HELD; j++)
            if (churners[i].held[j])
                assert_int_equal(hm_heap_free(heap, churners[i].held[j], &(size_t){ 0 }), HM_HEAP_OK);
    hm_heap_get_stats(heap, &stats);
    assert_int_equal(stats.live_blocks, 0);
    assert_int_equal(stats.regions, 0);
    assert_true(stats.slabs <= HM_HEAP_SETS * HM_HEAP_KEEP_EMPTY);
    assert_int_equal(hm_heap_destroy(heap), 0);
    assert_int_equal(p.live_mappings, 0);
    assert_int_equal(p.alloc_live, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(classes_round_up_by_at_most_a_quarter_past_128),
        cmocka_unit_test(only_block_starts_of_live_blocks_are_owned_at_every_offset),
        cmocka_unit_test(every_failure_leaves_nothing_changed),
        cmocka_unit_test(one_empty_slab_stays_and_a_refused_unmap_keeps_the_slab),
        cmocka_unit_test(the_report_lists_every_live_block_with_its_source),
        cmocka_unit_test(threads_created_together_get_arenas_of_their_own),
        cmocka_unit_test(an_exiting_owner_strands_nothing),
        cmocka_unit_test(many_threads_keep_the_books_exact),
    };

    return cmocka_run_group_tests_name("heap_core", tests, NULL, NULL);
}
