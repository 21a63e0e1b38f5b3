/*
 * What every file of the DLL includes first: the public header with the COM macros
 * the DLL's code is written with, and the few small types the objects share. Each
 * object's own interface is in its header (memory_manager.h, host_malloc.h,
 * host_control.h). Not installed.
 */
#ifndef HOSTMEM_PRIVATE_H
#define HOSTMEM_PRIVATE_H

/* Our vtables are static const, as Wine declares its own. */
#define CONST_VTABLE
#define COBJMACROS
#include "hostmem.h"

/* An intrusive doubly-linked list node. */
typedef struct hm_list_entry {
    struct hm_list_entry *prev, *next;
} hm_list_entry;

struct memory_manager;

#endif /* HOSTMEM_PRIVATE_H */
