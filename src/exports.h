/*
 * exports.c: what the exported functions share with the rest of the DLL.
 */
#ifndef HOSTMEM_EXPORTS_H
#define HOSTMEM_EXPORTS_H

#include "hostmem_private.h"

/* Is this object ours? The manager behind an IHostControl or IHostMemoryManager of
   this DLL, or NULL for any other object (including NULL). */
struct memory_manager *hm_exports_manager_of(IUnknown *object);

/* HostMemGetStats's reading of the books, lock-free (the publisher uses it too). */
void hm_exports_read_stats(struct memory_manager *manager, HOSTMEM_STATS *stats);

#endif /* HOSTMEM_EXPORTS_H */
