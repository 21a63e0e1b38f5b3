/*
 * IHostMalloc (host_malloc.c): the CLR's heap, one object per CreateMalloc.
 */
#ifndef HOSTMEM_HOST_MALLOC_H
#define HOSTMEM_HOST_MALLOC_H

#include "hostmem_private.h"

/* A new IHostMalloc of this manager; malloc_type is already checked. */
HRESULT hm_host_malloc_create(struct memory_manager *manager, DWORD malloc_type, IHostMalloc **malloc);

#endif /* HOSTMEM_HOST_MALLOC_H */
