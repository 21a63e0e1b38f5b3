/*
 * libFuzzer target for the allocator (src/core/heap.h) against a model: a plain array
 * of the live blocks (address, size, source) predicts every answer. Operations: Alloc
 * of a small or large size, with or without a source; Free of a live block; Free of a
 * bad pointer (inside a live block, just past it, a freed address, a made-up one),
 * which must be refused unless the model says it is a live block's start; the provider
 * or the bookkeeping failing the next few calls, an unmap refused; the leak report;
 * the figures; a trim of the kept empty slabs. After every step: Alloc's block is 16-byte aligned and overlaps no live
 * block, a refused request changed nothing, the figures are the model's sums, and the
 * heap's mappings are what the provider holds. At the end the heap is destroyed with
 * its blocks live and every mapping and bookkeeping block must be back.
 *
 * The provider hands out made-up addresses (nothing is mapped): the heap must never
 * touch its blocks' memory, and ASan would catch it if it did.
 *
 * Input: byte 0: bit 0 thread-safe; then operations, an opcode byte and three argument
 * bytes each. An input that runs out reads zeros. Seeds: tests/native/corpus_heap/.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap_provider.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_heap.c:%d: check failed: %s (step %u)\n", __LINE__, #cond, step); \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

enum { MAXLIVE = 400, MAXFREED = 32, MAXSTEPS = 3000 };

typedef struct model_block {
    uintptr_t   address;
    size_t      size;
    const char *file;
    int         line;
} model_block;

static model_block live[MAXLIVE];
static unsigned nlive;
static uintptr_t freed[MAXFREED];
static unsigned nfreed;
static unsigned step;
static hm_heap_block report[MAXLIVE];
static const char *const files[2] = { "a.cpp", "b.cpp" };

static int live_index_of(uintptr_t address)
{
    unsigned i;

    for (i = 0; i < nlive; i++)
        if (live[i].address == address)
            return (int)i;
    return -1;
}

static size_t extent(size_t size)
{
    return size ? size : 1;
}

static void check_figures(hm_heap *heap, const test_provider *p)
{
    hm_heap_stats stats;
    uint64_t bytes = 0;
    unsigned i;

    for (i = 0; i < nlive; i++)
        bytes += live[i].size;
    hm_heap_get_stats(heap, &stats);
    CHECK(stats.live_blocks == nlive);
    CHECK(stats.live_bytes == bytes);
    CHECK(stats.committed_bytes + stats.lost_bytes == atomic_load(&p->live_bytes));
    CHECK(stats.rounded_bytes >= bytes);
}

static size_t size_from(uint8_t a, uint8_t b, uint8_t kind)
{
    switch (kind % 8) {
    case 0: return a % 17;                                   /* tiny, 0 included */
    case 1:
    case 2:
    case 3: return ((size_t)a << 8 | b) % (HM_HEAP_SMALL_MAX + 1);
    case 4: return HM_HEAP_SMALL_MAX - 2 + a % 5;            /* the boundary */
    case 5: return hm_heap_class_size(a % HM_HEAP_CLASSES) + (b % 3) - 1;
    default: return HM_HEAP_SMALL_MAX + 1 + ((size_t)a << 10 | (size_t)b << 2); /* large */
    }
}

static void do_alloc(hm_heap *heap, test_provider *p, const uint8_t *arg)
{
    size_t size = size_from(arg[0], arg[1], arg[2]);
    const char *file = (arg[2] & 0x10) ? files[arg[2] >> 7] : NULL;
    int line = file ? arg[1] : 0;
    hm_heap_status status;
    void *block = (void *)1;
    unsigned i;

    if (nlive == MAXLIVE)
        return;
    status = hm_heap_alloc(heap, size, arg[0] % 3, file, line, &block);
    if (status == HM_HEAP_NO_MEMORY) {
        CHECK(block == NULL);
        return;
    }
    CHECK(status == HM_HEAP_OK);
    CHECK(block && (uintptr_t)block % HM_HEAP_ALIGNMENT == 0);
    for (i = 0; i < nlive; i++)
        CHECK((uintptr_t)block + extent(size) <= live[i].address ||
              live[i].address + extent(live[i].size) <= (uintptr_t)block);
    live[nlive].address = (uintptr_t)block;
    live[nlive].size = size;
    live[nlive].file = file;
    live[nlive].line = line;
    nlive++;
    (void)p;
}

static void do_free(hm_heap *heap, const uint8_t *arg)
{
    unsigned i;
    size_t got = 0;
    hm_heap_status status;

    if (!nlive)
        return;
    i = ((unsigned)arg[0] << 8 | arg[1]) % nlive;
    status = hm_heap_free(heap, (void *)live[i].address, &got);
    if (status == HM_HEAP_OS_REFUSED) {
        CHECK(live[i].size > HM_HEAP_SMALL_MAX); /* only a large block's Free unmaps */
        CHECK(hm_heap_owns(heap, (void *)live[i].address, &got) && got == live[i].size);
        return;
    }
    CHECK(status == HM_HEAP_OK);
    CHECK(got == live[i].size);
    freed[nfreed++ % MAXFREED] = live[i].address;
    live[i] = live[--nlive];
}

static void do_bad_free(hm_heap *heap, const uint8_t *arg)
{
    uintptr_t address;
    size_t got;
    bool owned;

    switch (arg[0] % 4) {
    case 0: /* inside or just past a live block */
        if (!nlive)
            return;
        address = live[arg[1] % nlive].address + 1 + (uintptr_t)arg[2] * (arg[0] & 0x80 ? 1 : 16);
        break;
    case 1: /* freed before (maybe reused since) */
        if (!nfreed)
            return;
        address = freed[arg[1] % (nfreed < MAXFREED ? nfreed : MAXFREED)];
        break;
    case 2: /* a made-up address, near the provider's or anywhere */
        address = ((uintptr_t)1 << 36) + ((uintptr_t)arg[1] << 16) + ((uintptr_t)arg[2] << 4);
        break;
    default:
        address = (uintptr_t)arg[1] << (arg[2] % 64);
        break;
    }
    owned = live_index_of(address) >= 0;
    CHECK(hm_heap_owns(heap, (void *)address, &got) == owned);
    if (!owned)
        CHECK(hm_heap_free(heap, (void *)address, &got) == HM_HEAP_NOT_A_BLOCK);
}

static void do_report(hm_heap *heap)
{
    size_t n, i;

    hm_heap_lock_all(heap);
    n = hm_heap_block_count(heap);
    CHECK(n == nlive);
    CHECK(hm_heap_copy_blocks(heap, report, sizeof(report) / sizeof(report[0])) == n);
    hm_heap_unlock_all(heap);
    for (i = 0; i < n; i++) {
        int k = live_index_of((uintptr_t)report[i].address);
        CHECK(k >= 0);
        CHECK(report[i].size == live[k].size);
        CHECK(report[i].file == live[k].file);
        CHECK(report[i].line == live[k].line);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t zeros[4];
    test_provider p;
    hm_heap_stats stats;
    hm_heap *heap;
    size_t at = 1, refused;

    nlive = 0;
    nfreed = 0;
    step = 0;
    if (!(heap = test_heap_create(&p, size && (data[0] & 1), true)))
        return 0;
    while (at < size && step < MAXSTEPS) {
        const uint8_t *op = at + 4 <= size ? data + at : zeros;
        unsigned before = nlive;

        at += 4;
        step++;
        switch (op[0] % 12) {
        case 0: case 1: case 2: case 3:
            do_alloc(heap, &p, op + 1);
            break;
        case 4: case 5: case 6:
            do_free(heap, op + 1);
            break;
        case 7:
            do_bad_free(heap, op + 1);
            CHECK(nlive == before);
            break;
        case 8:
            atomic_store(&p.fail_maps, op[1] % 3);
            atomic_store(&p.fail_allocs, op[2] % 3);
            break;
        case 9:
            atomic_store(&p.fail_unmaps, op[1] % 2);
            break;
        case 10:
            do_report(heap);
            break;
        default: /* 11: the kept empty slabs go back; no live block may move */
            (void)hm_heap_trim(heap);
            CHECK(nlive == before);
            do_report(heap);
            break;
        }
        check_figures(heap, &p);
    }
    atomic_store(&p.fail_unmaps, 0);
    atomic_store(&p.fail_allocs, 0);
    do_report(heap);
    hm_heap_get_stats(heap, &stats);
    refused = hm_heap_destroy(heap);
    CHECK(refused == 0);
    /* Every mapping back but those an error path could not give back (the provider
       refused them then); every bookkeeping block freed. */
    CHECK(atomic_load(&p.live_bytes) == stats.lost_bytes);
    CHECK(atomic_load(&p.alloc_live) == 0);
    return 0;
}
