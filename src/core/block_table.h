/*
 * The live blocks of one IHostMalloc: a hash table keyed by address, so that Free can
 * tell its own blocks from anybody else's without touching the memory (a foreign
 * pointer may sit next to an unmapped page), and the leak report can list them.
 * Not thread-safe by itself: the owner locks. Free of windows.h.
 */
#ifndef HOSTMEM_BLOCK_TABLE_H
#define HOSTMEM_BLOCK_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allocator.h"

typedef struct hm_block {
    void       *address;  /* NULL marks an empty slot */
    size_t      size;     /* bytes requested */
    const char *file;     /* DebugAlloc's file, or NULL */
    int         line;
} hm_block;

/* A slot of the table: what every Free needs, 16 bytes, so that a table at most a
   quarter full (short probes, hardly a mispredicted branch) costs no more memory than
   one of whole hm_blocks at most half full. */
typedef struct hm_block_slot {
    void  *address;       /* NULL marks an empty slot */
    size_t size;
} hm_block_slot;

typedef struct hm_block_table {
    hm_allocator   allocator;
    hm_block_slot *slots;
    size_t         capacity; /* a power of two, or 0 */
    size_t         count;
    uint64_t       bytes;    /* sum of size over live blocks */
    unsigned       shift;    /* 64 - log2(capacity): the hash keeps the top bits */
    /* The file and line of the blocks that have them (DebugAlloc), keyed by address:
       whole hm_blocks, at most half full. Rare outside debug builds of the CLR. */
    hm_block      *sources;
    size_t         source_capacity;
    size_t         source_count;
    unsigned       source_shift;
} hm_block_table;

void hm_blocks_init(hm_block_table *table, const hm_allocator *allocator);
void hm_blocks_destroy(hm_block_table *table);

/* Makes room for one more insert; false when the table cannot grow. */
bool hm_blocks_reserve(hm_block_table *table);
/* Adds a block; room must have been reserved (or a block removed since). */
void hm_blocks_insert(hm_block_table *table, const hm_block *block);
/* Removes the block at address into *removed; false if there is none. */
bool hm_blocks_remove(hm_block_table *table, const void *address, hm_block *removed);
bool hm_blocks_contains(const hm_block_table *table, const void *address);
/* Copies every live block into out (room for table->count); returns how many. */
size_t hm_blocks_snapshot(const hm_block_table *table, hm_block *out);
/* Bytes of bookkeeping memory the table holds. */
size_t hm_blocks_overhead_bytes(const hm_block_table *table);

#endif /* HOSTMEM_BLOCK_TABLE_H */
