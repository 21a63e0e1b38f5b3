/*
 * libFuzzer target for the portable core: random sequences of the operations the
 * memory manager performs on its books (prepare, publish and discard regions, commit
 * and decommit page ranges, retire regions, charge and uncharge against a ceiling,
 * look addresses up), on an IHostMalloc block table (insert, remove) and on the
 * pressure state, with the bookkeeping allocator failing when the input says so. A
 * reference model in plain arrays predicts every result, and the books are checked
 * against it after every step: committed pages per region and in total, the peak,
 * reserved bytes, region count, the ceiling never passed, the ledger's overhead equal
 * to what its allocator holds, block counts and bytes.
 *
 * Input: byte 0 picks the page size, bytes 1-2 the ceiling, bytes 3-4 the water marks;
 * then operations, each an opcode byte and a fixed number of argument bytes (see the
 * OP_ table). An input that runs out reads zeros. tests/native/corpus/ holds seeds
 * made by tests/native/make_corpus.py.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block_table.h"
#include "ledger.h"
#include "pressure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_core.c:%d: check failed: %s (step %u)\n", __LINE__, #cond,       \
                    fz.step);                                                                      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

enum { NSLOTS = 6, MAXPAGES = 600, NBLOCKS = 256, MAXSTEPS = 2000 };

#define MiB        ((uintptr_t)1 << 20)
#define GRANULE    ((uintptr_t)1 << 16)
#define INDEX_TOP  ((uintptr_t)1 << 47) /* the ledger books user space below 2^47 */

/* Each slot owns a 64 MiB area (a region there spans at most 16 + 37.5 MiB, so areas
   never overlap). Slot 0's area straddles a top-level radix boundary (64 GiB), the
   others a leaf boundary (every 64 MiB, halfway in), and the last one straddles 2^47,
   where a publish must fail. */
static uintptr_t area_of(unsigned slot)
{
    if (slot == NSLOTS - 1)
        return INDEX_TOP - 32 * MiB;
    return ((uintptr_t)64 << 30) - 32 * MiB + (uintptr_t)slot * 64 * MiB;
}

/* --- a counting allocator that fails when told to -------------------------------- */

typedef struct fuzz_allocator {
    hm_allocator iface;
    size_t       live_bytes;
    unsigned     fail_in;   /* the fail_in-th next call fails (0: none) */
    unsigned     failures;  /* calls that failed, ever */
} fuzz_allocator;

typedef union header {
    size_t      size;
    max_align_t align;
} header;

static void *fuzz_alloc(void *context, size_t bytes)
{
    fuzz_allocator *a = context;
    header *h;

    if (a->fail_in && --a->fail_in == 0) {
        a->failures++;
        return NULL;
    }
    h = malloc(sizeof(header) + bytes);
    if (!h)
        abort();
    h->size = bytes;
    a->live_bytes += bytes;
    memset(h + 1, 0xA5, bytes); /* uninitialised, as the interface allows */
    return h + 1;
}

static void fuzz_free(void *context, void *block)
{
    fuzz_allocator *a = context;
    header *h;

    if (!block)
        return;
    h = (header *)block - 1;
    if (a->live_bytes < h->size)
        abort();
    a->live_bytes -= h->size;
    free(h);
}

static void allocator_init(fuzz_allocator *a)
{
    memset(a, 0, sizeof(*a));
    a->iface.alloc = fuzz_alloc;
    a->iface.free = fuzz_free;
    a->iface.context = a;
}

/* --- the model --------------------------------------------------------------------- */

enum { SLOT_FREE, SLOT_PREPARED, SLOT_LIVE };

typedef struct slot {
    int        state;
    hm_region *region;
    uintptr_t  base;          /* chosen at prepare time */
    size_t     npages;
    bool       commit;        /* publish with every page committed */
    size_t     ncommitted;
    uint8_t    page[MAXPAGES];
} slot;

static struct fuzz_state {
    const uint8_t *data;
    size_t         size;
    unsigned       step;

    fuzz_allocator ledger_alloc, block_alloc;
    hm_ledger     *ledger;
    hm_block_table blocks;
    hm_pressure    pressure;

    size_t   page;
    uint64_t ceiling;
    uint64_t extra;       /* charged by OP_CHARGE, not by pages */
    uint64_t peak;
    slot     slots[NSLOTS];
    bool     block_live[NBLOCKS];
    size_t   block_size[NBLOCKS];
    size_t   block_count;
    uint64_t block_bytes;
    uintptr_t released[NSLOTS + 1];
    unsigned  released_count;
} fz;

static unsigned u8(void)
{
    if (!fz.size)
        return 0;
    fz.size--;
    return *fz.data++;
}

static unsigned u16(void)
{
    unsigned lo = u8();
    return lo | (u8() << 8);
}

static uint64_t model_total(void)
{
    uint64_t total = fz.extra;
    unsigned i;

    for (i = 0; i < NSLOTS; i++)
        if (fz.slots[i].state == SLOT_LIVE)
            total += (uint64_t)fz.slots[i].ncommitted * fz.page;
    return total;
}

static bool fits(uint64_t total, uint64_t bytes)
{
    return bytes <= fz.ceiling && total <= fz.ceiling - bytes;
}

/* Charges like the manager does (before the OS call) and checks the answer. */
static bool charge(uint64_t bytes)
{
    uint64_t total = model_total();
    bool expected = fits(total, bytes);
    bool got = hm_ledger_charge(fz.ledger, bytes, fz.ceiling);

    CHECK(got == expected);
    CHECK(hm_ledger_committed_bytes(fz.ledger) == (got ? total + bytes : total));
    if (got && total + bytes > fz.peak)
        fz.peak = total + bytes;
    return got;
}

static void *block_address(unsigned key)
{
    /* Close together, as heap blocks are: many share their low bits. */
    return (void *)(uintptr_t)(0x7F0000 + (uintptr_t)key * 48);
}

/* Clamps [start, end) to the slot's region and rounds outwards, as the ledger
   documents: the model's own reading of the contract. */
static bool model_span(const slot *s, uintptr_t start, uintptr_t end, size_t *first, size_t *last)
{
    uintptr_t rend = s->base + s->npages * fz.page;
    uintptr_t lo = start > s->base ? start : s->base;
    uintptr_t hi = (end < start || end > rend) ? rend : end;

    if (hi <= lo)
        return false;
    *first = (lo - s->base) / fz.page;
    *last = (hi - s->base + fz.page - 1) / fz.page;
    return true;
}

static hm_region *lock_live(slot *s, uintptr_t addr)
{
    hm_region *region = hm_ledger_lock_region(fz.ledger, addr);

    CHECK(region == s->region);
    CHECK(hm_region_base(region) == s->base);
    CHECK(hm_region_end(region) == s->base + s->npages * fz.page);
    return region;
}

/* An address inside the slot's region, anywhere in it, from a 16-bit argument. */
static uintptr_t interior(const slot *s, unsigned arg)
{
    return s->base + (uintptr_t)(((uint64_t)arg * s->npages * fz.page) >> 16);
}

/* A range around the slot's region from two 16-bit arguments: starting anywhere from a
   page before it to a page after it, unaligned, up to twice the region long, and for
   0xFFFF reversed (end < start means "to the end"). */
static void range_of(const slot *s, unsigned a, unsigned b, uintptr_t *start, uintptr_t *end)
{
    uintptr_t span = (s->npages + 2) * fz.page;

    *start = s->base - fz.page + (uintptr_t)(((uint64_t)a * span) >> 16);
    *end = (b == 0xFFFF) ? *start - 1 : *start + (uintptr_t)(((uint64_t)b * span) >> 15);
}

static void check_pages(slot *s)
{
    hm_region *region = lock_live(s, s->base);
    size_t i;

    for (i = 0; i < s->npages; i++) {
        uintptr_t at = s->base + i * fz.page;
        CHECK(hm_region_count_uncommitted(region, at, at + 1) == (size_t)!s->page[i]);
    }
    hm_ledger_unlock_region(region);
}

static void check_books(void)
{
    uint64_t reserved = 0, total = model_total();
    size_t live = 0;
    unsigned i;
    int state;

    CHECK(hm_ledger_committed_bytes(fz.ledger) == total);
    CHECK(total <= fz.ceiling);
    CHECK(hm_ledger_peak_committed_bytes(fz.ledger) == fz.peak);
    for (i = 0; i < NSLOTS; i++) {
        slot *s = &fz.slots[i];
        hm_region *region;

        if (s->state != SLOT_LIVE) {
            /* Nothing of a prepared or free slot is visible. */
            if (s->state == SLOT_PREPARED && s->base)
                CHECK(hm_ledger_lock_region(fz.ledger, s->base) == NULL);
            continue;
        }
        live++;
        reserved += s->npages * fz.page;
        region = lock_live(s, s->base + s->npages * fz.page - 1);
        CHECK(hm_region_committed_pages(region) == s->ncommitted);
        CHECK(hm_region_count_uncommitted(region, s->base, s->base + s->npages * fz.page) ==
              s->npages - s->ncommitted);
        hm_ledger_unlock_region(region);
        /* The first byte after the region and the last before it belong to nobody. */
        CHECK(hm_ledger_lock_region(fz.ledger, s->base + s->npages * fz.page) == NULL);
        CHECK(hm_ledger_lock_region(fz.ledger, s->base - 1) == NULL);
    }
    CHECK(hm_ledger_reserved_bytes(fz.ledger) == reserved);
    CHECK(hm_ledger_region_count(fz.ledger) == live);
    CHECK(hm_ledger_overhead_bytes(fz.ledger) == fz.ledger_alloc.live_bytes);

    CHECK(fz.blocks.count == fz.block_count);
    CHECK(fz.blocks.bytes == fz.block_bytes);
    CHECK(hm_blocks_overhead_bytes(&fz.blocks) == fz.block_alloc.live_bytes);
    CHECK(fz.blocks.count * 2 <= fz.blocks.capacity || fz.blocks.capacity == 0);

    /* Pressure follows the books: at or past the high mark it is always Low; High only
       under a band above the low mark; Neutral only between the marks. */
    {
        int changed, before = hm_pressure_state(&fz.pressure);

        changed = hm_pressure_update(&fz.pressure, total);
        state = hm_pressure_state(&fz.pressure);
        CHECK(changed == (state == before ? HM_AVAILABLE_NONE : state));
        CHECK(hm_pressure_update(&fz.pressure, total) == HM_AVAILABLE_NONE);
        if (total >= fz.pressure.high_mark)
            CHECK(state == HM_AVAILABLE_LOW);
        if (state == HM_AVAILABLE_HIGH)
            CHECK(total < fz.pressure.low_mark + fz.pressure.band);
        if (state == HM_AVAILABLE_NEUTRAL)
            CHECK(total >= fz.pressure.low_mark && total < fz.pressure.high_mark);
        /* Low holds until the books fall below its exit, and that exit can be reached. */
        if (state == HM_AVAILABLE_LOW)
            CHECK(total >= atomic_load(&fz.pressure.low_exit) &&
                  (atomic_load(&fz.pressure.low_exit) > 0 || fz.pressure.high_mark == 0));
    }
}

/* --- operations ---------------------------------------------------------------------- */

enum {
    OP_PREPARE,   /* slot, pages:16, trim:16, base offset, commit */
    OP_PUBLISH,   /* slot */
    OP_DISCARD,   /* slot */
    OP_COMMIT,    /* slot, start:16, length:16, lookup:16 */
    OP_DECOMMIT,  /* slot, start:16, length:16, lookup:16 */
    OP_RETIRE,    /* slot, lookup:16 */
    OP_CHARGE,    /* bytes:16 (times 37) */
    OP_UNCHARGE,  /* bytes:16 (times 37, at most what OP_CHARGE added) */
    OP_LOOKUP,    /* area, offset:16, scale */
    OP_INSERT,    /* key, size:16 */
    OP_REMOVE,    /* key */
    OP_FAIL,      /* n: the n-th next bookkeeping allocation fails */
    OP_FORCE_LOW, /* none: a request found no room at the current total */
    OP_COUNT
};

static void op_prepare(void)
{
    slot *s = &fz.slots[u8() % NSLOTS];
    size_t npages = u16() % MAXPAGES + 1;
    size_t trim = u16() % fz.page;
    uintptr_t base = area_of((unsigned)(s - fz.slots)) + (uintptr_t)u8() * GRANULE;
    bool commit = u8() & 1;
    unsigned failures = fz.ledger_alloc.failures;
    hm_region *region;

    if (s->state != SLOT_FREE)
        return;
    region = hm_ledger_prepare_region(fz.ledger, npages * fz.page - trim);
    CHECK((region == NULL) == (fz.ledger_alloc.failures != failures));
    if (!region)
        return;
    memset(s, 0, sizeof(*s));
    s->state = SLOT_PREPARED;
    s->region = region;
    s->base = base;
    s->npages = npages;
    s->commit = commit;
}

static void op_publish(void)
{
    slot *s = &fz.slots[u8() % NSLOTS];
    uint64_t bytes;
    unsigned failures = fz.ledger_alloc.failures;
    bool ok;

    if (s->state != SLOT_PREPARED)
        return;
    bytes = (uint64_t)s->npages * fz.page;
    if (s->commit && !charge(bytes)) {
        /* Refused before the OS is asked: the manager gives the record back. */
        hm_ledger_discard_region(fz.ledger, s->region);
        s->state = SLOT_FREE;
        return;
    }
    ok = hm_ledger_publish_region(fz.ledger, s->region, s->base, s->commit);
    CHECK(ok == (s->base + bytes <= INDEX_TOP && fz.ledger_alloc.failures == failures));
    if (!ok) {
        /* Discarded by the ledger; the manager undoes its charge. */
        if (s->commit)
            hm_ledger_uncharge(fz.ledger, bytes);
        s->state = SLOT_FREE;
        CHECK(hm_ledger_lock_region(fz.ledger, s->base) == NULL);
        return;
    }
    s->state = SLOT_LIVE;
    if (s->commit) {
        memset(s->page, 1, s->npages);
        s->ncommitted = s->npages;
    }
}

static void op_discard(void)
{
    slot *s = &fz.slots[u8() % NSLOTS];

    if (s->state != SLOT_PREPARED)
        return;
    hm_ledger_discard_region(fz.ledger, s->region);
    s->state = SLOT_FREE;
}

static void op_commit(bool commit)
{
    slot *s = &fz.slots[u8() % NSLOTS];
    unsigned a = u16(), b = u16(), at = u16();
    uintptr_t start, end;
    size_t first = 0, last = 0, i, expected = 0, got;
    hm_region *region;

    if (s->state != SLOT_LIVE)
        return;
    range_of(s, a, b, &start, &end);
    region = lock_live(s, interior(s, at));
    if (model_span(s, start, end, &first, &last))
        for (i = first; i < last; i++)
            expected += commit ? !s->page[i] : s->page[i];
    if (commit) {
        got = hm_region_count_uncommitted(region, start, end);
        CHECK(got == expected);
        /* Charged before the OS call; a refusal touches nothing. */
        if (charge((uint64_t)got * fz.page)) {
            CHECK(hm_region_mark_committed(region, start, end) == expected);
            for (i = first; i < last; i++)
                s->page[i] = 1;
            s->ncommitted += expected;
        }
    } else {
        got = hm_region_mark_decommitted(region, start, end);
        CHECK(got == expected);
        hm_ledger_uncharge(fz.ledger, (uint64_t)got * fz.page);
        for (i = first; i < last; i++)
            s->page[i] = 0;
        s->ncommitted -= expected;
    }
    CHECK(hm_region_committed_pages(region) == s->ncommitted);
    hm_ledger_unlock_region(region);
    check_pages(s);
}

static void op_retire(void)
{
    slot *s = &fz.slots[u8() % NSLOTS];
    unsigned at = u16();
    hm_region *region;

    if (s->state != SLOT_LIVE)
        return;
    region = lock_live(s, interior(s, at));
    CHECK(hm_ledger_retire_region(fz.ledger, region) == (uint64_t)s->ncommitted * fz.page);
    s->state = SLOT_FREE;
    CHECK(hm_ledger_lock_region(fz.ledger, s->base) == NULL);
    CHECK(hm_ledger_lock_region(fz.ledger, interior(s, at)) == NULL);
}

static void op_charge(bool add)
{
    uint64_t bytes = (uint64_t)u16() * 37;

    if (add) {
        if (charge(bytes))
            fz.extra += bytes;
    } else {
        if (bytes > fz.extra)
            bytes = fz.extra;
        hm_ledger_uncharge(fz.ledger, bytes);
        fz.extra -= bytes;
    }
}

static void op_lookup(void)
{
    unsigned sel = u8(), off = u16(), scale = u8();
    uintptr_t addr;
    hm_region *region;
    slot *owner = NULL;
    unsigned i;

    switch (scale % 8) {
    case 0:  addr = 0; break;
    case 1:  addr = UINTPTR_MAX - off; break;
    case 2:  addr = INDEX_TOP + (uintptr_t)off * GRANULE; break;
    default: addr = area_of(sel % NSLOTS) + ((uintptr_t)off << (scale % 8 + 3)); break;
    }
    for (i = 0; i < NSLOTS; i++) {
        slot *s = &fz.slots[i];
        if (s->state == SLOT_LIVE && addr >= s->base && addr - s->base < s->npages * fz.page)
            owner = s;
    }
    region = hm_ledger_lock_region(fz.ledger, addr);
    if (!owner) {
        CHECK(region == NULL);
        return;
    }
    CHECK(region == owner->region);
    hm_ledger_unlock_region(region);
}

static void op_insert(void)
{
    unsigned key = u8(), size = u16();
    unsigned failures = fz.block_alloc.failures;
    size_t capacity = fz.blocks.capacity;
    hm_block block;

    if (fz.block_live[key]) {
        CHECK(hm_blocks_contains(&fz.blocks, block_address(key)));
        return;
    }
    if (!hm_blocks_reserve(&fz.blocks)) {
        CHECK(fz.block_alloc.failures != failures);
        CHECK(fz.blocks.capacity == capacity);
        CHECK(!hm_blocks_contains(&fz.blocks, block_address(key)));
        return;
    }
    CHECK(fz.block_alloc.failures == failures);
    block.address = block_address(key);
    block.size = size;
    block.file = (key & 1) ? "fuzz.c" : NULL;
    block.line = (int)key;
    hm_blocks_insert(&fz.blocks, &block);
    fz.block_live[key] = true;
    fz.block_size[key] = size;
    fz.block_count++;
    fz.block_bytes += size;
    CHECK(hm_blocks_contains(&fz.blocks, block_address(key)));
}

static void op_remove(void)
{
    unsigned key = u8(), i;
    hm_block removed;
    hm_block all[NBLOCKS];
    size_t n;

    CHECK(hm_blocks_remove(&fz.blocks, block_address(key), &removed) == fz.block_live[key]);
    if (fz.block_live[key]) {
        CHECK(removed.address == block_address(key));
        CHECK(removed.size == fz.block_size[key]);
        CHECK(removed.line == (int)key);
        fz.block_live[key] = false;
        fz.block_count--;
        fz.block_bytes -= fz.block_size[key];
    }
    CHECK(!hm_blocks_contains(&fz.blocks, block_address(key)));
    /* Every other live block is still reachable after the backward shift. */
    n = hm_blocks_snapshot(&fz.blocks, all);
    CHECK(n == fz.block_count);
    for (i = 0; i < NBLOCKS; i++)
        CHECK(hm_blocks_contains(&fz.blocks, block_address(i)) == fz.block_live[i]);
}

static void record_release(void *context, uintptr_t base)
{
    CHECK(context == &fz);
    CHECK(fz.released_count < NSLOTS);
    fz.released[fz.released_count++] = base;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned shifts[4] = { 12, 13, 14, 16 };
    unsigned i, ceiling, high, low, live = 0;
    uint64_t limit;

    memset(&fz, 0, sizeof(fz));
    fz.data = data;
    fz.size = size;

    fz.page = (size_t)1 << shifts[u8() % 4];
    ceiling = u16();
    /* In quarter pages, so byte charges meet it unaligned; 0xFFFF: no ceiling. */
    fz.ceiling = ceiling == 0xFFFF ? UINT64_MAX : (uint64_t)ceiling * (fz.page / 4);
    high = 50 + u8() % 51;
    low = 1 + u8() % (high - 1);
    limit = fz.ceiling == UINT64_MAX ? (uint64_t)1 << 32 : fz.ceiling + 1;

    allocator_init(&fz.ledger_alloc);
    allocator_init(&fz.block_alloc);
    fz.ledger = hm_ledger_create(&fz.ledger_alloc.iface, fz.page);
    CHECK(fz.ledger != NULL);
    hm_blocks_init(&fz.blocks, &fz.block_alloc.iface);
    hm_pressure_init(&fz.pressure, limit, high, low);
    check_books();

    for (fz.step = 1; fz.size && fz.step <= MAXSTEPS; fz.step++) {
        switch (u8() % OP_COUNT) {
        case OP_PREPARE:   op_prepare(); break;
        case OP_PUBLISH:   op_publish(); break;
        case OP_DISCARD:   op_discard(); break;
        case OP_COMMIT:    op_commit(true); break;
        case OP_DECOMMIT:  op_commit(false); break;
        case OP_RETIRE:    op_retire(); break;
        case OP_CHARGE:    op_charge(true); break;
        case OP_UNCHARGE:  op_charge(false); break;
        case OP_LOOKUP:    op_lookup(); break;
        case OP_INSERT:    op_insert(); break;
        case OP_REMOVE:    op_remove(); break;
        case OP_FAIL: {
            unsigned n = u8();
            /* Half the time the ledger's allocator, half the block table's. */
            ((n & 0x80) ? &fz.block_alloc : &fz.ledger_alloc)->fail_in = n % 8 + 1;
            break;
        }
        case OP_FORCE_LOW: {
            int before = hm_pressure_state(&fz.pressure);
            int changed = hm_pressure_force_low(&fz.pressure, model_total());
            CHECK(hm_pressure_state(&fz.pressure) == HM_AVAILABLE_LOW);
            CHECK(changed == (before == HM_AVAILABLE_LOW ? HM_AVAILABLE_NONE : HM_AVAILABLE_LOW));
            break;
        }
        }
        check_books();
    }

    /* Destroying the ledger releases exactly the live regions, once each, and gives
       back every byte; so does the block table. */
    fz.ledger_alloc.fail_in = 0;
    hm_ledger_destroy(fz.ledger, record_release, &fz);
    for (i = 0; i < NSLOTS; i++) {
        unsigned j, seen = 0;
        if (fz.slots[i].state != SLOT_LIVE)
            continue;
        live++;
        for (j = 0; j < fz.released_count; j++)
            seen += fz.released[j] == fz.slots[i].base;
        CHECK(seen == 1);
    }
    CHECK(fz.released_count == live);
    CHECK(fz.ledger_alloc.live_bytes == 0);
    hm_blocks_destroy(&fz.blocks);
    CHECK(fz.block_alloc.live_bytes == 0);
    hm_pressure_destroy(&fz.pressure);
    return 0;
}
