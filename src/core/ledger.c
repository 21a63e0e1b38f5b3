/*
 * The books of virtual memory; see ledger.h for the design. This file: the ledger, its
 * radix table of 64 KiB granules, the commit charge and the region records' lives; the
 * page bitmaps are ledger_pages.c's, the shared layout ledger_internal.h's.
 */
#include "ledger.h"

#include <limits.h>
#include <stdatomic.h>
#include <string.h>


#include "ledger_internal.h"

static void *ledger_alloc(hm_ledger *ledger, size_t bytes)
{
    void *p = hm_alloc(&ledger->allocator, bytes);
    if (p)
        atomic_fetch_add_explicit(&ledger->overhead, bytes, memory_order_relaxed);
    return p;
}

static void ledger_free(hm_ledger *ledger, void *p, size_t bytes)
{
    if (!p)
        return;
    hm_free(&ledger->allocator, p);
    atomic_fetch_sub_explicit(&ledger->overhead, bytes, memory_order_relaxed);
}

hm_ledger *hm_ledger_create(const hm_allocator *allocator, size_t page_size)
{
    hm_ledger *ledger;
    unsigned shift = 0;

    if (!allocator || page_size < 4096 || page_size > ((size_t)1 << GRANULE_SHIFT) ||
        (page_size & (page_size - 1)))
        return NULL;
    while (((size_t)1 << shift) < page_size)
        shift++;

    ledger = hm_alloc(allocator, sizeof(*ledger));
    if (!ledger)
        return NULL;
    memset(ledger, 0, sizeof(*ledger));
    ledger->allocator  = *allocator;
    ledger->page_size  = page_size;
    ledger->page_shift = shift;
    hm_spin_init(&ledger->lock);
    atomic_store(&ledger->overhead, sizeof(*ledger));
    return ledger;
}


/* Under ledger->lock, its only writer: readers load them any time, so they are atomic,
   but a change needs no locked instruction. */
static void counter_move(_Atomic(uint64_t) *counter, uint64_t delta)
{
    atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + delta, memory_order_relaxed);
}

static void counter_move_size(_Atomic(size_t) *counter, size_t delta)
{
    atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + delta, memory_order_relaxed);
}

/* --- radix table --- */

static _Atomic(hm_region *) *radix_slot(hm_ledger *ledger, uintptr_t addr)
{
    uintptr_t g = addr >> GRANULE_SHIFT;
    radix_mid *mid;
    radix_leaf *leaf;

    if (g >> (INDEX_BITS - 1) >> 1) /* split shift: INDEX_BITS may equal the width of g */
        return NULL;
    mid = atomic_load_explicit(&ledger->top[g >> (MID_BITS + LEAF_BITS)], memory_order_acquire);
    if (!mid)
        return NULL;
    leaf = atomic_load_explicit(&mid->leaf[(g >> LEAF_BITS) & (MID_SLOTS - 1)], memory_order_acquire);
    if (!leaf)
        return NULL;
    return &leaf->slot[g & (LEAF_SLOTS - 1)];
}

static hm_region *radix_get(hm_ledger *ledger, uintptr_t addr)
{
    _Atomic(hm_region *) *slot = radix_slot(ledger, addr);
    return slot ? atomic_load_explicit(slot, memory_order_acquire) : NULL;
}

/* Under ledger->lock. Makes sure the nodes for addr exist; false when out of memory
   or when addr lies outside the indexed address space. */
static bool radix_make_path(hm_ledger *ledger, uintptr_t addr)
{
    uintptr_t g = addr >> GRANULE_SHIFT;
    radix_mid *mid;
    radix_leaf *leaf;
    _Atomic(radix_leaf *) *leaf_ref;

    if (g >> (INDEX_BITS - 1) >> 1)
        return false;
    mid = atomic_load_explicit(&ledger->top[g >> (MID_BITS + LEAF_BITS)], memory_order_relaxed);
    if (!mid) {
        if (!(mid = ledger_alloc(ledger, sizeof(*mid))))
            return false;
        memset(mid, 0, sizeof(*mid));
        atomic_store_explicit(&ledger->top[g >> (MID_BITS + LEAF_BITS)], mid, memory_order_release);
    }
    leaf_ref = &mid->leaf[(g >> LEAF_BITS) & (MID_SLOTS - 1)];
    if (!atomic_load_explicit(leaf_ref, memory_order_relaxed)) {
        if (!(leaf = ledger_alloc(ledger, sizeof(*leaf))))
            return false;
        memset(leaf, 0, sizeof(*leaf));
        atomic_store_explicit(leaf_ref, leaf, memory_order_release);
    }
    return true;
}

/* Under ledger->lock: clears the slots of [base, end) that still name region. */
static void radix_unlink(hm_ledger *ledger, const hm_region *region, uintptr_t base, uintptr_t end)
{
    uintptr_t addr;

    for (addr = base & ~(((uintptr_t)1 << GRANULE_SHIFT) - 1); addr < end; addr += (uintptr_t)1 << GRANULE_SHIFT) {
        _Atomic(hm_region *) *slot = radix_slot(ledger, addr);
        /* Every writer holds the ledger's lock: no exchange needed. */
        if (slot && atomic_load_explicit(slot, memory_order_relaxed) == region)
            atomic_store_explicit(slot, NULL, memory_order_release);
        if (addr + ((uintptr_t)1 << GRANULE_SHIFT) < addr)
            break; /* top of the address space */
    }
}

/* --- totals (the commit charge itself is inline: ledger_inline.h) --- */

uint64_t hm_ledger_peak_committed_bytes(const hm_ledger *ledger)
{
    return hm_budget_peak(&ledger->committed);
}

uint64_t hm_ledger_reserved_bytes(const hm_ledger *ledger)
{
    return atomic_load_explicit(&((hm_ledger *)ledger)->reserved, memory_order_relaxed);
}

size_t hm_ledger_region_count(const hm_ledger *ledger)
{
    return atomic_load_explicit(&((hm_ledger *)ledger)->regions, memory_order_relaxed);
}

size_t hm_ledger_overhead_bytes(const hm_ledger *ledger)
{
    return atomic_load_explicit(&((hm_ledger *)ledger)->overhead, memory_order_relaxed);
}

/* --- region records --- */

static size_t bitmap_words(size_t npages) { return (npages + 63) / 64; }

static size_t pages_bytes(size_t npages)
{
    return bitmap_words(npages) * sizeof(uint64_t);
}

/* A region's bitmap when it is not inline; the record is the caller's (locked, or not
   yet visible to anyone). */
static void region_free_pages(hm_ledger *ledger, hm_region *region)
{
    if (!region_is_inline(region) && region->u.bits)
        ledger_free(ledger, region->u.bits, pages_bytes(region->npages));
    region->npages = 0; /* inline from now on: nothing to free twice */
    region->u.inline_bits = 0;
}

/* Under ledger->lock: a record off the free list, or the next one of the newest chunk
   (a new chunk when it is used up). NULL when the chunk cannot be allocated. */
static hm_region *take_record(hm_ledger *ledger)
{
    hm_region *region = ledger->free_records;
    record_chunk *chunk;

    if (region) {
        ledger->free_records = region->u.next_free;
        return region;
    }
    if (!ledger->chunks || ledger->newest_used == RECORDS_PER_CHUNK) {
        void *block = ledger_alloc(ledger, sizeof(*chunk) + CHUNK_ALIGNMENT);

        if (!block)
            return NULL;
        chunk = (record_chunk *)(((uintptr_t)block + CHUNK_ALIGNMENT - 1) & ~(uintptr_t)(CHUNK_ALIGNMENT - 1));
        memset(chunk, 0, sizeof(*chunk));
        chunk->block = block;
        chunk->next = ledger->chunks;
        ledger->chunks = chunk;
        ledger->newest_used = 0;
    }
    region = &ledger->chunks->records[ledger->newest_used++];
    hm_spin_byte_init(&region->lock);
    return region;
}

/* Under ledger->lock. */
static void put_record(hm_ledger *ledger, hm_region *region)
{
    region->u.next_free = ledger->free_records;
    ledger->free_records = region;
}

hm_region *hm_ledger_prepare_region(hm_ledger *ledger, size_t bytes)
{
    size_t npages;
    uint64_t *pages = NULL;
    hm_region *region;

    if (!bytes || bytes > SIZE_MAX - (ledger->page_size - 1))
        return NULL;
    npages = (bytes + ledger->page_size - 1) >> ledger->page_shift;

    if (npages > INLINE_PAGES) {
        if (!(pages = ledger_alloc(ledger, pages_bytes(npages))))
            return NULL;
        memset(pages, 0, pages_bytes(npages));
    }

    hm_spin_acquire(&ledger->lock);
    region = take_record(ledger);
    hm_spin_release(&ledger->lock);
    if (!region) {
        if (pages)
            ledger_free(ledger, pages, pages_bytes(npages));
        return NULL;
    }

    /* No lock: a reader from the record's previous life may still take it, but finds
       the record not live (it stopped being live before it was recycled) and reads
       nothing else of it; everything written here precedes the release that makes
       the region live (hm_ledger_publish_region). */
    region->base = 0;
    region->npages = npages;
    region->page_shift = (uint8_t)ledger->page_shift;
    region->level = 0;
    region->protect = 0;
    if (pages)
        region->u.bits = pages;
    else
        region->u.inline_bits = 0;
    return region;
}

void hm_region_set_origin(hm_region *region, uint32_t protect, unsigned level)
{
    /* No lock: only a snapshot reads these, and only once the region is live, which
       publish makes it with a release after this store. */
    region->protect = protect;
    region->level = (uint8_t)level;
}

void hm_ledger_discard_region(hm_ledger *ledger, hm_region *region)
{
    if (!region)
        return;
    hm_spin_byte_acquire(&region->lock);
    region_free_pages(ledger, region);
    hm_spin_byte_release(&region->lock);
    hm_spin_acquire(&ledger->lock);
    put_record(ledger, region);
    hm_spin_release(&ledger->lock);
}

bool hm_ledger_publish_region(hm_ledger *ledger, hm_region *region, uintptr_t base, bool committed)
{
    uintptr_t end, addr;
    size_t size = region->npages << ledger->page_shift;

    if (base + size < base) {
        hm_ledger_discard_region(ledger, region);
        return false;
    }
    end = base + size;

    hm_spin_acquire(&ledger->lock);
    for (addr = base; addr < end; addr += (uintptr_t)1 << GRANULE_SHIFT) {
        if (!radix_make_path(ledger, addr)) {
            radix_unlink(ledger, region, base, addr);
            hm_spin_release(&ledger->lock);
            hm_ledger_discard_region(ledger, region);
            return false;
        }
        atomic_store_explicit(radix_slot(ledger, addr), region, memory_order_release);
        if (addr + ((uintptr_t)1 << GRANULE_SHIFT) < addr)
            break;
    }
    /* A region comes alive only under the ledger's lock, so a snapshot that holds it
       sees no region appear while it walks (hm_ledger_snapshot). Nobody looks the
       region up before this call returns: only the reserving thread knows base, and a
       lookup of a stray address that finds the slot early reads the region only once
       the store below has made it live, and everything before that store with it. */
    region->base = base;
    if (committed) {
        hm_ledger_bits_apply(region_bits(region), 0, region->npages, true, false);
    }
    atomic_store_explicit(&region->live, 1, memory_order_release);
    counter_move(&ledger->reserved, (uint64_t)size);
    counter_move_size(&ledger->regions, 1);
    hm_spin_release(&ledger->lock);
    return true;
}

hm_region *hm_ledger_find_and_lock(hm_ledger *ledger, uintptr_t addr, hm_region *tried)
{
    hm_region *region = radix_get(ledger, addr);

    while (region) {
        hm_region *again;

        hm_spin_byte_acquire(&region->lock);
        if (region_holds(region, addr)) {
            if (region != tried)
                atomic_store_explicit(&ledger->last_found, region, memory_order_relaxed);
            return region;
        }
        hm_spin_byte_release(&region->lock);
        /* Released (its slots may still name it: hm_ledger_retire_region) or recycled
           for other addresses: the slot, read again, tells which region, if any, owns
           addr now; the same record twice means none. */
        again = radix_get(ledger, addr);
        if (again == region)
            return NULL;
        region = again;
    }
    return NULL;
}

/* A walk of the bitmap for a big region: only snapshots and releases ask. */
size_t hm_region_committed_pages(const hm_region *region)
{
    const uint64_t *bits = region_bits((hm_region *)region);
    size_t words = bitmap_words(region->npages), n = 0, i;

    for (i = 0; i < words; i++)
        n += hm_ledger_popcount(bits[i]);
    return n;
}

/* --- snapshots --- */

/* Records handed out of chunk (all but the newest chunk are full). */
static unsigned chunk_records(const hm_ledger *ledger, const record_chunk *chunk)
{
    return chunk == ledger->chunks ? ledger->newest_used : RECORDS_PER_CHUNK;
}

size_t hm_ledger_snapshot(hm_ledger *ledger, hm_region_info *out, size_t capacity)
{
    record_chunk *chunk;
    size_t live = 0;
    unsigned i;

    /* Under the ledger's lock no region comes alive (hm_ledger_publish_region), and a
       region that dies is released by the OS while its own lock is held: so every
       region read live here was live when the walk began, and no two overlap even
       when the OS hands a just-released address to a new reservation meanwhile.
       Order: the ledger's lock, then a region's; nothing takes them the other way. */
    hm_spin_acquire(&ledger->lock);
    for (chunk = ledger->chunks; chunk; chunk = chunk->next) {
        for (i = 0; i < chunk_records(ledger, chunk); i++) {
            hm_region *region = &chunk->records[i];

            hm_spin_byte_acquire(&region->lock);
            if (region_is_live(region)) {
                if (live < capacity) {
                    hm_region_info *info = &out[live];
                    info->base = region->base;
                    info->reserved_bytes = (size_t)(region_end(region) - region->base);
                    info->committed_bytes = (uint64_t)hm_region_committed_pages(region) << region->page_shift;
                    info->protect = region->protect;
                    info->level = region->level;
                }
                live++;
            }
            hm_spin_byte_release(&region->lock);
        }
    }
    hm_spin_release(&ledger->lock);
    return live;
}

uint64_t hm_ledger_retire_region(hm_ledger *ledger, hm_region *region)
{
    uintptr_t base = region->base, end = region_end(region);
    uint64_t committed = (uint64_t)hm_region_committed_pages(region) << ledger->page_shift;

    atomic_store_explicit(&region->live, 0, memory_order_relaxed); /* under its lock */
    region_free_pages(ledger, region);
    hm_spin_byte_release(&region->lock);

    hm_ledger_uncharge(ledger, committed);

    /* The radix slots of [base, end) keep naming the record: a lookup takes no address
       on the slot's word, it checks the record it finds (live, and holding the
       address) under the record's lock, so a stale slot reads as "not ours" whatever
       the record became; and the next region the OS puts there overwrites them. */
    hm_spin_acquire(&ledger->lock);
    counter_move(&ledger->reserved, (uint64_t)0 - (uint64_t)(end - base));
    counter_move_size(&ledger->regions, (size_t)0 - 1);
    put_record(ledger, region);
    hm_spin_release(&ledger->lock);
    return committed;
}

void hm_ledger_destroy(hm_ledger *ledger, void (*release_fn)(void *context, uintptr_t base), void *context)
{
    record_chunk *chunk, *next;
    size_t i, j;

    if (!ledger)
        return;
    for (chunk = ledger->chunks; chunk; chunk = next) {
        next = chunk->next;
        for (i = 0; i < chunk_records(ledger, chunk); i++) {
            hm_region *region = &chunk->records[i];

            if (region_is_live(region) && release_fn)
                release_fn(context, region->base);
            region_free_pages(ledger, region); /* live, or prepared and never published */
        }
        ledger_free(ledger, chunk->block, sizeof(*chunk) + CHUNK_ALIGNMENT);
    }
    ledger->chunks = NULL;
    for (i = 0; i < TOP_SLOTS; i++) {
        radix_mid *mid = atomic_load(&ledger->top[i]);
        if (!mid)
            continue;
        for (j = 0; j < MID_SLOTS; j++)
            ledger_free(ledger, atomic_load(&mid->leaf[j]), sizeof(radix_leaf));
        ledger_free(ledger, mid, sizeof(*mid));
    }
    hm_free(&ledger->allocator, ledger);
}
