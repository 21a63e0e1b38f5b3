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
#include "trace.h"

/* The configuration after validation: every default filled in. */
typedef struct hm_settings {
    ULONGLONG                   commit_limit;        /* 0: none */
    ULONGLONG                   headroom[3];         /* bytes past the limit, by level */
    DWORD                       retry_timeout_ms;    /* 0: no wait, no retry */
    DWORD                       high_water_percent;
    DWORD                       low_water_percent;
    ULONGLONG                   address_space_limit; /* 0: none */
    hm_policy                   policy;
    HOSTMEM_ESCALATION_CALLBACK escalation_callback;
    void                       *escalation_context;
    WCHAR                       trace_file[MAX_PATH]; /* empty: no trace */
} hm_settings;

#define HM_DEFAULT_APPDOMAIN_HEADROOM_PERCENT 5
#define HM_DEFAULT_PROCESS_HEADROOM_PERCENT   10
#define HM_DEFAULT_RETRY_TIMEOUT_MS           100
#define HM_MAX_RETRY_TIMEOUT_MS               60000
#define HM_DEFAULT_HIGH_WATER_PERCENT         90
#define HM_DEFAULT_LOW_WATER_PERCENT          60

/* config.c: E_INVALIDARG for a bad cbSize or field; S_OK and *settings otherwise.
   HOSTMEM_COMMIT_LIMIT in the environment overrides commitLimit; a malformed value
   is reported on stderr and ignored. */
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
/* The private heap every byte of the manager's bookkeeping lives in (the manager, the
   ledger, the mallocs' block tables), for bench/hostmem-bench.c to weigh. */
HANDLE hm_manager_bookkeeping_heap(struct memory_manager *manager);
/* The largest request that could ever succeed: the span of user address space. */
SIZE_T hm_manager_max_request(const struct memory_manager *manager);
/* An allocation at `level` found no memory (the OS said so, or hostmem refused):
   applies the policy, calls the escalation callback for E_FAIL, and leaves
   GetLastError() reading os_error. Returns E_OUTOFMEMORY or E_FAIL. */
HRESULT hm_manager_out_of_memory(struct memory_manager *manager, EMemoryCriticalLevel level, SIZE_T bytes,
                                 DWORD os_error, const char *method);
/* An attempt at an eAppDomainCritical or eProcessCritical request found no memory:
   raises low memory and waits (bounded by retryTimeoutMs) until the request would fit
   under the limit, or, without one, until some memory comes back. TRUE when one more
   attempt is worth making; FALSE at once for eTaskCritical. */
BOOL hm_manager_wait_for_memory(struct memory_manager *manager, EMemoryCriticalLevel level, SIZE_T bytes);
/* The manager's trace, or NULL when tracing is off; rows go through
   hm_manager_trace_row so they carry the books after the call. */
hm_trace *hm_manager_trace(struct memory_manager *manager);
void hm_manager_trace_row(struct memory_manager *manager, const hm_trace_row *row);
/* Counters for an IHostMalloc heap's mallocBytes (struct hm_heap_counter[HM_HEAP_COUNTERS],
   src/core/heap.h), zeroed; NULL when out of memory. Released (zeroed again) once the
   heap is destroyed. The manager sums every malloc's into HOSTMEM_STATS.mallocBytes. */
struct hm_heap_counter *hm_manager_acquire_malloc_counters(struct memory_manager *manager);
void hm_manager_release_malloc_counters(struct memory_manager *manager, struct hm_heap_counter *counters);
/* The IHostMalloc heaps' slabs and large blocks (host_malloc.c): reserved and
   committed at once with `protect`, charged against the commit limit at `level` before
   the OS is asked. NULL when the charge does not fit or the OS refuses (no policy is
   applied: the caller may wait and retry, then calls hm_manager_out_of_memory). */
void *hm_manager_heap_map(struct memory_manager *manager, SIZE_T bytes, DWORD protect, EMemoryCriticalLevel level);
/* FALSE, with the OS's last error, when the OS refused: still mapped and booked. */
BOOL  hm_manager_heap_unmap(struct memory_manager *manager, void *base, SIZE_T bytes);
SIZE_T hm_manager_page_size(const struct memory_manager *manager);
/* The manager's list of live IHostMalloc objects, for the leak report. */
void hm_manager_add_malloc(struct memory_manager *manager, hm_list_entry *entry);
void hm_manager_remove_malloc(struct memory_manager *manager, hm_list_entry *entry);
/* Locks the list and returns its head (a sentinel); no malloc leaves it until unlocked. */
hm_list_entry *hm_manager_lock_mallocs(struct memory_manager *manager);
void hm_manager_unlock_mallocs(struct memory_manager *manager);

/* host_malloc.c */
HRESULT hm_host_malloc_create(struct memory_manager *manager, DWORD malloc_type, IHostMalloc **malloc);
HRESULT hm_host_malloc_enum_blocks(IUnknown *object, HOSTMEM_BLOCK_CALLBACK callback, void *context);
HANDLE hm_host_malloc_bookkeeping_heap(IHostMalloc *malloc);

/* host_control.c: the manager behind an IHostMemoryManager or IHostControl of this
   DLL, or NULL. */
struct memory_manager *hm_memory_manager_from_unknown(IUnknown *object);

/* hresult.c */
HRESULT hm_hresult_from_os_error(DWORD os_error);
BOOL hm_is_out_of_memory_error(DWORD os_error);

#endif /* HOSTMEM_PRIVATE_H */
