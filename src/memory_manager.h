/*
 * The memory manager: the object behind IHostMemoryManager, and what the other objects
 * of the DLL (host_control.c, host_malloc.c, host_policy_manager.c, clr_events.c) and
 * the manager's own concern files (virtual.c, limit.c, views.c, exports.c,
 * configure_runtime.c) use of it.
 *
 * The struct is here, not in memory_manager.c, because its behaviour is split by
 * concern across those files; only they include this header's struct fields. Every
 * function of the manager carries the prefix of the file it lives in: hm_manager_
 * (memory_manager.c), hm_virtual_, hm_limit_, hm_views_.
 */
#ifndef HOSTMEM_MEMORY_MANAGER_H
#define HOSTMEM_MEMORY_MANAGER_H

#include "hostmem_private.h"

#include <stdatomic.h>
#include <stdint.h>

#include "block_table.h"
#include "budget.h"
#include "core/heap.h"
#include "config.h"
#include "governance.h"
#include "ledger.h"
#include "load_percent.h"
#include "notifier.h"
#include "pressure.h"
#include "sync.h"
#include "trace.h"
#include "win32_error.h"

/* An attempt found no memory (the OS said so, or the limit refused): the caller may
   wait and retry, then applies the policy. Never returned to a caller of hostmem. */
#define HM_E_NO_MEMORY ((HRESULT)0xE0DE0001L)

/* How long GetMemoryLoad under a limit answers with the OS's last figure for available
   physical memory before it asks the OS again (limit.c). */
#define HM_PHYSICAL_REFRESH_MS 100

struct memory_manager {
    /* First, together: what every VirtualAlloc, VirtualFree and GetMemoryLoad reads. An
       OS call pushes the caller's lines out of the caches, and each line read again
       after it costs an L2 or L3 access; these fit in a few adjacent lines. */
    IHostMemoryManager IHostMemoryManager_iface;
    LONG               ref;
    hm_ledger         *ledger;      /* reservations, pages, commit charge */
    hm_trace          *trace;       /* NULL: tracing off, one predictable branch per call */
    SIZE_T             page_size;
    SIZE_T             max_request;
    uintptr_t          min_address, max_address; /* of user address space */
    hm_pressure        pressure;    /* with a commit limit */
    _Atomic(uint32_t)  epoch_waiters; /* retries waiting on freed_epoch (no commit limit) */
    hm_load_divisor    load_divisor; /* GetMemoryLoad's hundredth of the commit limit */
    /* Under a limit, GetMemoryLoad's last answer from the OS (limit.c): its available
       physical memory, and the GetTickCount64 until which it stands (0: never asked). */
    _Atomic(uint64_t)  physical_available;
    _Atomic(uint64_t)  physical_fresh_until;
    hm_settings        settings;    /* commit_limit and headroom first */
    HANDLE             heap;        /* bookkeeping: this object, the ledger, mallocs' tables */
    hm_allocator       allocator;   /* over heap, for the portable core */
    SIZE_T             granularity;
    hm_lock            lock;        /* mallocs, views; never held across a call out */
    hm_list_entry      mallocs;
    hm_block_table     views;       /* mapped views the CLR reported: base -> bytes */
    hm_block_table     heap_mappings; /* the IHostMalloc heaps' pages: base -> bytes (malloc_memory.c) */
    /* Reserved + mapped, against addressSpaceLimit; only kept when there is one (the
       setting never changes), so the hot paths pay no locked add for it otherwise. */
    hm_budget          address_space;
    hm_notifier        notifier;
    _Atomic(uint64_t)  freed_epoch; /* moves when commit falls while a retry waits for it */
    _Atomic(uint64_t)  mapped_bytes;
    struct malloc_counters *_Atomic counters; /* every IHostMalloc's mallocBytes (malloc_memory.c) */
    struct malloc_counters *spare_counters;   /* under lock */
    _Atomic(uint64_t)  malloc_committed; /* the IHostMalloc heaps' share of the ledger's charge */
    _Atomic(uint64_t)  failures[3];
    _Atomic(uint64_t)  escalations;
    _Atomic(uint64_t)  notifications[3];
    struct hm_governance governance; /* IHostPolicyManager, IActionOnCLREvent, their counts */
    _Atomic(int)       notification_state; /* the last EMemoryAvailable delivered, 0 before any */
    struct hm_publisher *publisher; /* NULL: statistics not published (publish.c) */
};

/* Charges bytes of address space against addressSpaceLimit; TRUE (nothing kept) when
   there is no such limit. */
static inline BOOL hm_manager_charge_address_space(struct memory_manager *manager, uint64_t bytes)
{
    uint64_t limit = manager->settings.address_space_limit;

    return !limit || hm_budget_charge(&manager->address_space, bytes, limit);
}

static inline void hm_manager_uncharge_address_space(struct memory_manager *manager, uint64_t bytes)
{
    if (manager->settings.address_space_limit)
        hm_budget_uncharge(&manager->address_space, bytes);
}

static inline struct memory_manager *impl_from_IHostMemoryManager(IHostMemoryManager *iface)
{
    return CONTAINING_RECORD(iface, struct memory_manager, IHostMemoryManager_iface);
}

/* --- memory_manager.c: the object, its lifetime, its notification callback --- */

HRESULT hm_manager_create(const hm_settings *settings, struct memory_manager **manager);
IHostMemoryManager *hm_manager_iface(struct memory_manager *manager);
/* The manager behind an IHostMemoryManager of this DLL, or NULL. */
struct memory_manager *hm_manager_from_iface(IUnknown *object);
/* Allocations on the manager's private bookkeeping heap (NULL when it is exhausted). */
void *hm_manager_heap_alloc(struct memory_manager *manager, SIZE_T bytes);
void  hm_manager_heap_free(struct memory_manager *manager, void *block);
/* The manager's list of live IHostMalloc objects, for the leak report. */
void hm_manager_add_malloc(struct memory_manager *manager, hm_list_entry *entry);
void hm_manager_remove_malloc(struct memory_manager *manager, hm_list_entry *entry);
/* Locks the list and returns its head (a sentinel); no malloc leaves it until unlocked. */
hm_list_entry *hm_manager_lock_mallocs(struct memory_manager *manager);
void hm_manager_unlock_mallocs(struct memory_manager *manager);
/* One trace row carrying the books after the call; keeps the caller's last error (the
   CLR reads it). With `wait` FALSE the row is dropped (and counted) rather than wait
   for the trace buffer (or HM_TRACE_TRY_LATER, trace.h); FALSE then. Callers test
   manager->trace first (HM_TRACE_CALL does). An E_FAIL row goes to the file at once, and when it carries a level (an
   allocation's row) the escalation callback runs after it (hm_limit_escalate). */
BOOL hm_manager_trace_row(struct memory_manager *manager, const hm_trace_row *row, BOOL wait);

/* A trace row, if tracing is on: one predictable branch when it is off. */
#define HM_TRACE_CALL(manager, wait, ...)                                          \
    do {                                                                           \
        if ((manager)->trace) {                                                    \
            const hm_trace_row trace_row_ = { __VA_ARGS__ };                       \
            hm_manager_trace_row((manager), &trace_row_, (wait));                  \
        }                                                                          \
    } while (0)

/* For the rows of the calls the CLR makes most: a row built in the method's own frame
   is an aggregate whose address is taken, which gives the method a stack canary (two
   more loads from cold lines around its OS call); built in a function of its own, it
   costs nothing while tracing is off. */
#if defined(__GNUC__)
#define HM_TRACE_OUT_OF_LINE __attribute__((noinline, cold))
#else
#define HM_TRACE_OUT_OF_LINE
#endif

/* A hint to bring a line back into the caches: issued right after an OS call for the
   lines the call's bookkeeping reads next, so that their misses overlap instead of
   following one another. */
#if defined(__GNUC__)
#define HM_PREFETCH(address) __builtin_prefetch((address))
#else
#define HM_PREFETCH(address) ((void)(address))
#endif

/* --- virtual.c: IHostMemoryManager's VirtualAlloc, VirtualFree, VirtualQuery and
   VirtualProtect, booked in the ledger --- */

/* The vtable's entries. They live beside the code they run rather than with the
   object, so that each is a single frame around its OS call: every frame that is open
   across a system call costs a few nanoseconds more when it returns (measured under
   Wine: four empty frames add 1.5% to a commit+decommit pair), and these are the calls
   the CLR makes most. */
HRESULT WINAPI memory_manager_VirtualAlloc(IHostMemoryManager *iface, void *address, SIZE_T size, DWORD type,
                                           DWORD protect, EMemoryCriticalLevel level, void **mem);
HRESULT WINAPI memory_manager_VirtualFree(IHostMemoryManager *iface, LPVOID address, SIZE_T size, DWORD free_type);
HRESULT WINAPI memory_manager_VirtualQuery(IHostMemoryManager *iface, void *address, void *buffer, SIZE_T length,
                                           SIZE_T *result);
HRESULT WINAPI memory_manager_VirtualProtect(IHostMemoryManager *iface, void *address, SIZE_T size, DWORD protect,
                                             DWORD *old_protect);

/* --- limit.c: the commit limit, its headroom, wait-and-retry, out of memory, and the
   memory load the CLR reads --- */

/* The most a request at this level may bring the commit charge to. */
static inline uint64_t hm_limit_ceiling(const struct memory_manager *manager, EMemoryCriticalLevel level)
{
    uint64_t limit = manager->settings.commit_limit, ceiling;

    if (!limit)
        return UINT64_MAX;
    ceiling = limit + manager->settings.headroom[level];
    return ceiling < limit ? UINT64_MAX : ceiling;
}
/* Out of line: the notification state moved (limit.c). */
void hm_limit_pressure_moved(struct memory_manager *manager);
/* After every change of the commit charge: wakes waiting retries when it fell, and
   under a limit moves the notification state. Inline, as the ledger's hot path is
   (core/ledger_inline.h says why): when no retry waits and no mark is crossed, a few
   loads and compares in the caller. */
static inline void hm_limit_commit_changed(struct memory_manager *manager, BOOL fell)
{
    /* Only a retry without a commit limit waits on the epoch, and only one that is
       waiting needs it moved: one that registers after this load takes its snapshot of
       the epoch after this fall, which is all it would have seen anyway. */
    if (fell && atomic_load_explicit(&manager->epoch_waiters, memory_order_seq_cst))
        atomic_fetch_add_explicit(&manager->freed_epoch, 1, memory_order_seq_cst);
    if (manager->settings.commit_limit &&
        hm_pressure_update(&manager->pressure, hm_ledger_committed_bytes(manager->ledger)) != HM_AVAILABLE_NONE)
        hm_limit_pressure_moved(manager);
}
/* An attempt at an eAppDomainCritical or eProcessCritical request found no memory:
   raises low memory and waits (bounded by retryTimeoutMs) until the request would fit
   under the limit, or, without one, until some memory comes back. TRUE when one more
   attempt is worth making; FALSE at once for eTaskCritical. */
BOOL hm_limit_wait_for_memory(struct memory_manager *manager, EMemoryCriticalLevel level, SIZE_T bytes);
/* An allocation at `level` found no memory (the OS said so, or hostmem refused):
   applies the policy, calls the escalation callback for E_FAIL when tracing is off
   (with tracing on, the call's row does: hm_limit_escalate), and leaves
   GetLastError() reading os_error. Returns E_OUTOFMEMORY or E_FAIL. */
HRESULT hm_limit_out_of_memory(struct memory_manager *manager, EMemoryCriticalLevel level, SIZE_T bytes,
                               DWORD os_error, const char *method);
/* Calls the host's escalation callback. hm_limit_out_of_memory does when tracing is
   off; with tracing on it is left to the call's E_FAIL row (hm_manager_trace_row), so
   that the row is in the file before the host's callback runs. */
void hm_limit_escalate(struct memory_manager *manager, EMemoryCriticalLevel level, SIZE_T bytes, DWORD os_error,
                       const char *method);
/* IHostMemoryManager::GetMemoryLoad (the vtable's entry): relative to the limit when
   one is set. */
HRESULT WINAPI memory_manager_GetMemoryLoad(IHostMemoryManager *iface, DWORD *load, SIZE_T *available);

/* --- malloc_memory.c: the IHostMalloc heaps' pages and counters --- */

/* Reserves and commits `bytes` with `protect` for a heap, charged against the limit at
   `level` before the OS is asked. NULL when the charge does not fit or the OS refuses
   (no policy is applied: the caller may wait and retry, then calls
   hm_limit_out_of_memory). */
void *hm_malloc_memory_map(struct memory_manager *manager, SIZE_T bytes, DWORD protect, EMemoryCriticalLevel level);
/* FALSE, with the OS's last error, when the OS refused: still mapped and booked. */
BOOL hm_malloc_memory_unmap(struct memory_manager *manager, void *base, SIZE_T bytes);
/* Zeroed counters (HM_HEAP_COUNTERS of them) for a new heap; NULL when out of memory.
   Released, zeroed again, once the heap is destroyed. */
hm_heap_counter *hm_malloc_memory_acquire_counters(struct memory_manager *manager);
void hm_malloc_memory_release_counters(struct memory_manager *manager, hm_heap_counter *counters);
/* A heap mapping's protection and level, as heap_mappings keeps them in hm_block.line
   (protections fit 16 bits: PAGE_* with its modifiers). */
#define HM_HEAP_MAPPING_LINE(protect, level) ((int)(((unsigned)(level) << 16) | ((protect) & 0xFFFFu)))
#define HM_HEAP_MAPPING_PROTECT(line)       ((DWORD)((unsigned)(line) & 0xFFFFu))
#define HM_HEAP_MAPPING_LEVEL(line)         ((EMemoryCriticalLevel)((unsigned)(line) >> 16))
/* HOSTMEM_STATS.mallocBytes: every heap's counters summed, without a lock. */
uint64_t hm_malloc_memory_bytes(struct memory_manager *manager);

/* --- views.c: the mapped views the CLR reports (Needs/Acquired/Released-
   VirtualAddressSpace), against addressSpaceLimit --- */

HRESULT hm_views_needs(struct memory_manager *manager, void *start, SIZE_T size);
HRESULT hm_views_acquired(struct memory_manager *manager, void *start, SIZE_T size);
HRESULT hm_views_released(struct memory_manager *manager, void *start);

#endif /* HOSTMEM_MEMORY_MANAGER_H */
