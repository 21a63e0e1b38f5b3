/*
 * Where the portable core gets its own bookkeeping memory. The DLL backs it with a
 * private Win32 heap reached through the OS table (so a test can make it fail and the
 * benchmark can weigh it); native builds back it with malloc.
 */
#ifndef HOSTMEM_ALLOCATOR_H
#define HOSTMEM_ALLOCATOR_H

#include <stddef.h>

typedef struct hm_allocator {
    void *(*alloc)(void *context, size_t bytes);   /* uninitialised memory, or NULL */
    void  (*free)(void *context, void *block);     /* block may be NULL */
    void   *context;
} hm_allocator;

static inline void *hm_alloc(const hm_allocator *a, size_t bytes) { return a->alloc(a->context, bytes); }
static inline void  hm_free(const hm_allocator *a, void *block)   { a->free(a->context, block); }

#endif /* HOSTMEM_ALLOCATOR_H */
