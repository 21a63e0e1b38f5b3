/*
 * Two open-addressing tables with linear probing and backward-shift deletion (no
 * tombstones, so a table that sees millions of Alloc/Free pairs never slows down): the
 * slots (address and size, at most a quarter full) and beside them the sources (whole
 * hm_blocks of the blocks that have a file or line, at most half full). One set of
 * probing routines serves both; the element size is a constant at every call.
 */
#include "block_table.h"

#include <string.h>

#define MIN_SLOTS   64
#define MIN_SOURCES 4

/* Fibonacci hashing: multiply by 2^64/phi and keep the top bits, so that neighbouring
   heap blocks (a few 16-byte units apart) land far apart. */
static inline size_t home_of(const void *address, unsigned shift)
{
    return (size_t)((((uint64_t)(uintptr_t)address >> 3) * 0x9E3779B97F4A7C15ULL) >> shift);
}

/* Every element starts with its address. */
static inline void *element_at(void *elements, size_t i, size_t size)
{
    return (char *)elements + i * size;
}

static inline const void *key_at(const void *elements, size_t i, size_t size)
{
    return *(void *const *)((const char *)elements + i * size);
}

/* The index of address, or capacity when it is absent. */
static inline size_t probe_find(const void *elements, size_t capacity, unsigned shift, size_t size,
                                const void *address)
{
    size_t mask = capacity - 1, i;
    const void *key;

    for (i = home_of(address, shift); (key = key_at(elements, i, size)); i = (i + 1) & mask)
        if (key == address)
            return i;
    return capacity;
}

static inline void probe_place(void *elements, size_t capacity, unsigned shift, size_t size, const void *element)
{
    size_t mask = capacity - 1, i = home_of(*(void *const *)element, shift);

    while (key_at(elements, i, size))
        i = (i + 1) & mask;
    memcpy(element_at(elements, i, size), element, size);
}

/* Empties slot `hole`. Backward shift: later members of the probe run move into the
   hole when their home slot does not lie cyclically in (hole, i]. */
static inline void probe_delete(void *elements, size_t capacity, unsigned shift, size_t size, size_t hole)
{
    size_t mask = capacity - 1, i;
    const void *key;

    for (i = (hole + 1) & mask; (key = key_at(elements, i, size)); i = (i + 1) & mask) {
        size_t home = home_of(key, shift);
        if (((i - home) & mask) >= ((i - hole) & mask)) {
            memcpy(element_at(elements, hole, size), element_at(elements, i, size), size);
            hole = i;
        }
    }
    memset(element_at(elements, hole, size), 0, size);
}

/* Moves every element into a new array of twice the capacity (min_capacity at first);
   false, with nothing changed, when that cannot be had. */
static bool probe_grow(const hm_allocator *allocator, void **elements, size_t *capacity, unsigned *shift,
                       size_t size, size_t min_capacity)
{
    size_t new_capacity = *capacity ? *capacity * 2 : min_capacity, i;
    unsigned new_shift = 64;
    void *fresh;

    if (new_capacity < *capacity || new_capacity > SIZE_MAX / size)
        return false;
    if (!(fresh = hm_alloc(allocator, new_capacity * size)))
        return false;
    memset(fresh, 0, new_capacity * size);
    for (i = new_capacity; i > 1; i >>= 1)
        new_shift--;
    for (i = 0; i < *capacity; i++)
        if (key_at(*elements, i, size))
            probe_place(fresh, new_capacity, new_shift, size, element_at(*elements, i, size));
    hm_free(allocator, *elements);
    *elements = fresh;
    *capacity = new_capacity;
    *shift = new_shift;
    return true;
}

void hm_blocks_init(hm_block_table *table, const hm_allocator *allocator)
{
    memset(table, 0, sizeof(*table));
    table->allocator = *allocator;
}

void hm_blocks_destroy(hm_block_table *table)
{
    hm_allocator allocator = table->allocator;

    hm_free(&allocator, table->slots);
    hm_free(&allocator, table->sources);
    hm_blocks_init(table, &allocator);
}

bool hm_blocks_reserve(hm_block_table *table)
{
    void *elements;
    bool grown;

    /* Room for a source too, in case the next block has one; the sources first, so a
       failure leaves the slots as they were. */
    if ((table->source_count + 1) * 2 > table->source_capacity) {
        elements = table->sources;
        grown = probe_grow(&table->allocator, &elements, &table->source_capacity, &table->source_shift,
                           sizeof(hm_block), MIN_SOURCES);
        table->sources = elements;
        if (!grown)
            return false;
    }
    if ((table->count + 1) * 4 <= table->capacity)
        return true;
    elements = table->slots;
    grown = probe_grow(&table->allocator, &elements, &table->capacity, &table->shift, sizeof(hm_block_slot),
                       MIN_SLOTS);
    table->slots = elements;
    return grown;
}

void hm_blocks_insert(hm_block_table *table, const hm_block *block)
{
    hm_block_slot slot;

    slot.address = block->address;
    slot.size = block->size;
    probe_place(table->slots, table->capacity, table->shift, sizeof(slot), &slot);
    table->count++;
    table->bytes += block->size;
    if (block->file || block->line) {
        probe_place(table->sources, table->source_capacity, table->source_shift, sizeof(*block), block);
        table->source_count++;
    }
}

bool hm_blocks_contains(const hm_block_table *table, const void *address)
{
    return table->capacity && address &&
           probe_find(table->slots, table->capacity, table->shift, sizeof(hm_block_slot), address) != table->capacity;
}

bool hm_blocks_remove(hm_block_table *table, const void *address, hm_block *removed)
{
    hm_block_slot slot;
    size_t i;

    if (!table->capacity || !address)
        return false;
    i = probe_find(table->slots, table->capacity, table->shift, sizeof(slot), address);
    if (i == table->capacity)
        return false;
    slot = table->slots[i];
    probe_delete(table->slots, table->capacity, table->shift, sizeof(slot), i);
    table->count--;
    table->bytes -= slot.size;
    if (removed) {
        removed->address = slot.address;
        removed->size = slot.size;
        removed->file = NULL;
        removed->line = 0;
    }
    if (table->source_count) {
        i = probe_find(table->sources, table->source_capacity, table->source_shift, sizeof(hm_block), address);
        if (i != table->source_capacity) {
            if (removed)
                *removed = table->sources[i];
            probe_delete(table->sources, table->source_capacity, table->source_shift, sizeof(hm_block), i);
            table->source_count--;
        }
    }
    return true;
}

size_t hm_blocks_snapshot(const hm_block_table *table, hm_block *out)
{
    size_t i, j, n = 0;

    for (i = 0; i < table->capacity; i++) {
        if (!table->slots[i].address)
            continue;
        out[n].address = table->slots[i].address;
        out[n].size = table->slots[i].size;
        out[n].file = NULL;
        out[n].line = 0;
        if (table->source_count) {
            j = probe_find(table->sources, table->source_capacity, table->source_shift, sizeof(hm_block),
                           out[n].address);
            if (j != table->source_capacity)
                out[n] = table->sources[j];
        }
        n++;
    }
    return n;
}

size_t hm_blocks_overhead_bytes(const hm_block_table *table)
{
    return table->capacity * sizeof(hm_block_slot) + table->source_capacity * sizeof(hm_block);
}
