/*
 * What every hostmem test shares: cmocka, the public header, and fault injection
 * through hostmem's OS table (src/os.h).
 */
#ifndef HOSTMEM_TEST_SUPPORT_H
#define HOSTMEM_TEST_SUPPORT_H

#define COBJMACROS
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hostmem.h"
#include "os.h"

/* The OS calls a test can watch and make fail. */
typedef enum os_call {
    OS_VIRTUAL_ALLOC,
    OS_VIRTUAL_FREE,
    OS_VIRTUAL_QUERY,
    OS_VIRTUAL_PROTECT,
    OS_GLOBAL_MEMORY_STATUS_EX,
    OS_HEAP_CREATE,
    OS_HEAP_DESTROY,
    OS_HEAP_ALLOC,
    OS_HEAP_FREE,
    OS_CREATE_THREAD,
    OS_CREATE_EVENT,
    OS_SET_EVENT,
    OS_WAIT_FOR_SINGLE_OBJECT,
    OS_CLOSE_HANDLE,
    OS_GET_TICK_COUNT,
    OS_SLEEP,
    OS_CREATE_MEMORY_RESOURCE_NOTIFICATION,
    OS_QUERY_MEMORY_RESOURCE_NOTIFICATION,
    OS_GET_ENVIRONMENT_VARIABLE,
    OS_CREATE_FILE,
    OS_WRITE_FILE,
    OS_QUERY_PERFORMANCE_COUNTER,
    OS_QUERY_PERFORMANCE_FREQUENCY,
    OS_FLS_ALLOC,
    OS_CALL_COUNT
} os_call;

/* Puts counting wrappers into the OS table and clears every fault and count.
   Call from each test's setup; fault_teardown restores kernel32. */
int  fault_setup(void **state);
int  fault_teardown(void **state);

/* The call to `which` after `skip` more successful ones fails once with `error`
   (SetLastError(error), the function's failure value). GetTickCount64 and Sleep
   cannot fail: they are counted only. */
void fault_once(os_call which, unsigned skip, DWORD error);
/* The next `times` calls to `which`, after `skip` successful ones, fail with `error`:
   an eAppDomainCritical or eProcessCritical request tries twice before it fails. */
void fault_repeat(os_call which, unsigned skip, unsigned times, DWORD error);
/* Every call to `which` fails with `error` until fault_clear. */
void fault_always(os_call which, DWORD error);
/* The n-th OS call from now (1 = the next), of any kind, fails once with `error`. */
void fault_nth_call(unsigned n, DWORD error);
void fault_clear(void);

/* From now on only the calls made on `thread` (others FALSE), or only those made on
   every other thread (others TRUE), are counted, logged and may be made to fail; the
   rest go straight to kernel32 (what they create is still tracked, below). thread 0:
   every thread's calls, the default after fault_setup. Keeps the count of one thread
   exact while hostmem's notifier thread runs beside it. */
void fault_watch_thread(DWORD thread, BOOL others);
/* The kind of the last injected failure (OS_CALL_COUNT if none since fault_clear) and,
   for VirtualFree, HeapDestroy and CloseHandle, the address or handle it refused. */
os_call fault_last_failed(void **argument);
/* The kind of the n-th counted call since fault_setup (1 = the first); OS_CALL_COUNT
   beyond what was logged. */
os_call os_call_kind_at(unsigned n);
/* An error a call of this kind really fails with: ERROR_NOT_ENOUGH_MEMORY for what
   allocates, ERROR_INVALID_PARAMETER for frees and queries, ERROR_INVALID_HANDLE for
   what takes a handle...; 0 for the calls that cannot fail. */
DWORD os_realistic_error(os_call which);

/* What the OS holds for hostmem: objects created through the table since fault_setup
   (on any thread) and not destroyed, closed or released through it since; the first
   1024 of each kind. */
typedef enum os_object {
    OS_OBJECT_HEAP,
    OS_OBJECT_THREAD,  /* thread handles */
    OS_OBJECT_EVENT,
    OS_OBJECT_RESOURCE_NOTIFICATION,
    OS_OBJECT_RESERVATION, /* base addresses: MEM_RESERVE, or MEM_COMMIT at NULL */
    OS_OBJECT_KINDS
} os_object;
unsigned os_live_objects(os_object kind);
void *os_live_object_at(os_object kind, unsigned i);
/* The test destroyed or closed it itself (one whose release the OS was made to refuse). */
void os_forget_object(os_object kind, void *object);
/* Threads created through the table since fault_setup, and whether every one of them
   has ended (waiting up to timeout_ms for each), seen through handles of the test's
   own, so also after hostmem closed its handles. */
unsigned os_thread_count(void);
BOOL os_threads_ended(DWORD timeout_ms);

/* How many calls reached the wrappers since fault_setup (failed ones included). */
unsigned os_call_count(os_call which);
unsigned os_total_calls(void);

/* Committed bytes in the reservation at base, as the OS (VirtualQuery) sees it. */
SIZE_T os_committed_in_reservation(void *base);
/* MEM_FREE, MEM_RESERVE or MEM_COMMIT for the page at address, as the OS sees it. */
DWORD os_page_state(const void *address);

/* A manager with the given config (NULL: defaults); fails the test if creation fails. */
IHostMemoryManager *new_manager(const HOSTMEM_CONFIG *config);
/* A host control with the given config; fails the test if creation fails. */
IHostControl *new_control(const HOSTMEM_CONFIG *config);
/* The control's memory manager, with a new reference. */
IHostMemoryManager *manager_of(IHostControl *control);
/* Releases and checks that the reference count reached zero. */
void release_last(IUnknown *object);
/* The current HOSTMEM_STATS of a host control or manager (any pointer to one); fails
   the test unless HostMemGetStats answers S_OK. */
HOSTMEM_STATS stats_of(void *object);

#endif /* HOSTMEM_TEST_SUPPORT_H */
