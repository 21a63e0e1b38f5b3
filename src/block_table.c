/*
 * Open addressing with linear probing and backward-shift deletion: no tombstones, so a
 * table that sees millions of Alloc/Free pairs never slows down.
 */
#include "block_table.h"

#include <string.h>

static size_t slot_of(const hm_block_table *table, const void *address)
{
    uint64_t h = (uint64_t)(uintptr_t)address;

    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL; /* murmur3's finaliser: heap addresses share low bits */
    h ^= h >> 33;
    return (size_t)h & (table->capacity - 1);
}

void hm_blocks_init(hm_block_table *table, const hm_allocator *allocator)
{
    memset(table, 0, sizeof(*table));
    table->allocator = *allocator;
}

void hm_blocks_destroy(hm_block_table *table)
{
    hm_free(&table->allocator, table->slots);
    table->slots = NULL;
    table->capacity = table->count = 0;
    table->bytes = 0;
}

static void place(hm_block_table *table, const hm_block *block)
{
    size_t i = slot_of(table, block->address);

    while (table->slots[i].address)
        i = (i + 1) & (table->capacity - 1);
    table->slots[i] = *block;
}

bool hm_blocks_reserve(hm_block_table *table)
{
    size_t new_capacity, i;
    hm_block *old = table->slots;
    size_t old_capacity = table->capacity;

    /* Keep the load at most one half: probes stay short. */
    if (table->capacity && (table->count + 1) * 2 <= table->capacity)
        return true;
    new_capacity = table->capacity ? table->capacity * 2 : 64;
    if (new_capacity < table->capacity || new_capacity > SIZE_MAX / sizeof(hm_block))
        return false;
    table->slots = hm_alloc(&table->allocator, new_capacity * sizeof(hm_block));
    if (!table->slots) {
        table->slots = old;
        return false;
    }
    memset(table->slots, 0, new_capacity * sizeof(hm_block));
    table->capacity = new_capacity;
    for (i = 0; i < old_capacity; i++)
        if (old[i].address)
            place(table, &old[i]);
    hm_free(&table->allocator, old);
    return true;
}

void hm_blocks_insert(hm_block_table *table, const hm_block *block)
{
    place(table, block);
    table->count++;
    table->bytes += block->size;
}

static hm_block *find(const hm_block_table *table, const void *address)
{
    size_t i;

    if (!table->capacity || !address)
        return NULL;
    for (i = slot_of(table, address); table->slots[i].address; i = (i + 1) & (table->capacity - 1))
        if (table->slots[i].address == address)
            return &table->slots[i];
    return NULL;
}

bool hm_blocks_contains(const hm_block_table *table, const void *address)
{
    return find(table, address) != NULL;
}

bool hm_blocks_remove(hm_block_table *table, const void *address, hm_block *removed)
{
    hm_block *hit = find(table, address);
    size_t mask = table->capacity - 1, hole, i;

    if (!hit)
        return false;
    if (removed)
        *removed = *hit;
    table->count--;
    table->bytes -= hit->size;

    /* Backward shift: pull later members of the probe run into the hole when their
       home slot does not lie cyclically in (hole, i]. */
    hole = (size_t)(hit - table->slots);
    for (i = (hole + 1) & mask; table->slots[i].address; i = (i + 1) & mask) {
        size_t home = slot_of(table, table->slots[i].address);
        if (((i - home) & mask) >= ((i - hole) & mask)) {
            table->slots[hole] = table->slots[i];
            hole = i;
        }
    }
    memset(&table->slots[hole], 0, sizeof(hm_block));
    return true;
}

size_t hm_blocks_snapshot(const hm_block_table *table, hm_block *out)
{
    size_t i, n = 0;

    for (i = 0; i < table->capacity; i++)
        if (table->slots[i].address)
            out[n++] = table->slots[i];
    return n;
}

size_t hm_blocks_overhead_bytes(const hm_block_table *table)
{
    return table->capacity * sizeof(hm_block);
}
