/*
 * What the DLL's objects know of each other. Not installed.
 */
#ifndef HOSTMEM_PRIVATE_H
#define HOSTMEM_PRIVATE_H

/* Our vtables are static const, as Wine declares its own. */
#define CONST_VTABLE
#define COBJMACROS
#include "hostmem.h"

#include "allocator.h"
#include "ledger.h"
#include "policy.h"
#include "sync.h"

/* The configuration after validation: every default filled in. */
typedef struct hm_settings {
    ULONGLONG                   commit_limit; /* 0: none */
    hm_policy                   policy;
    HOSTMEM_ESCALATION_CALLBACK escalation_callback;
    void                       *escalation_context;
} hm_settings;

/* config.c: E_INVALIDARG for a bad cbSize or field; S_OK and *settings otherwise. */
HRESULT hm_settings_from_config(const HOSTMEM_CONFIG *config, hm_settings *settings);

/* An intrusive doubly-linked list node. */
typedef struct hm_list_entry {
    struct hm_list_entry *prev, *next;
} hm_list_entry;

struct memory_manager;
struct host_malloc;

/* memory_manager.c */
HRESULT hm_memory_manager_create(const hm_settings *settings, struct memory_manager **manager);
IHostMemoryManager *hm_memory_manager_iface(struct memory_manager *manager);
/* The manager behind an IHostMemoryManager of this DLL, or NULL. */
struct memory_manager *hm_memory_manager_from_manager_iface(IUnknown *object);
/* Allocations on the manager's private bookkeeping heap (NULL when it is exhausted). */
void *hm_manager_heap_alloc(struct memory_manager *manager, SIZE_T bytes);
void  hm_manager_heap_free(struct memory_manager *manager, void *block);
const hm_allocator *hm_manager_allocator(struct memory_manager *manager);
/* The largest request that could ever succeed: the span of user address space. */
SIZE_T hm_manager_max_request(const struct memory_manager *manager);
/* An allocation at `level` found no memory (the OS said so, or hostmem refused):
   applies the policy, calls the escalation callback for E_FAIL, and leaves
   GetLastError() reading os_error. Returns E_OUTOFMEMORY or E_FAIL. */
HRESULT hm_manager_out_of_memory(struct memory_manager *manager, EMemoryCriticalLevel level, SIZE_T bytes,
                                 DWORD os_error, const char *method);
/* A failure the OS reported: out-of-memory errors go to the policy, the rest become
   HRESULT_FROM_WIN32 (E_UNEXPECTED when the OS left no error code). */
HRESULT hm_manager_os_failure(struct memory_manager *manager, EMemoryCriticalLevel level, SIZE_T bytes,
                              DWORD os_error, const char *method);
/* The manager's list of live IHostMalloc objects, for the leak report. */
void hm_manager_add_malloc(struct memory_manager *manager, hm_list_entry *entry);
void hm_manager_remove_malloc(struct memory_manager *manager, hm_list_entry *entry);
/* Locks the list and returns its head (a sentinel); no malloc leaves it until unlocked. */
hm_list_entry *hm_manager_lock_mallocs(struct memory_manager *manager);
void hm_manager_unlock_mallocs(struct memory_manager *manager);

/* host_malloc.c */
HRESULT hm_host_malloc_create(struct memory_manager *manager, DWORD malloc_type, IHostMalloc **malloc);
HRESULT hm_host_malloc_enum_blocks(IUnknown *object, HOSTMEM_BLOCK_CALLBACK callback, void *context);

/* host_control.c: the manager behind an IHostMemoryManager or IHostControl of this
   DLL, or NULL. */
struct memory_manager *hm_memory_manager_from_unknown(IUnknown *object);

/* hresult.c */
HRESULT hm_hresult_from_os_error(DWORD os_error);
BOOL hm_is_out_of_memory_error(DWORD os_error);

#endif /* HOSTMEM_PRIVATE_H */
