/*
 * exports.c: what the exported functions share with the rest of the DLL.
 */
#ifndef HOSTMEM_EXPORTS_H
#define HOSTMEM_EXPORTS_H

#include "hostmem_private.h"

/* Is this object ours? The manager behind an IHostControl or IHostMemoryManager of
   this DLL, or NULL for any other object (including NULL). */
struct memory_manager *hm_exports_manager_of(IUnknown *object);

#endif /* HOSTMEM_EXPORTS_H */
