/*
 * Fault injection through hostmem's OS table; see test_support.h.
 */
#include "test_support.h"

#include <string.h>

static hm_os_table real;
static unsigned counts[OS_CALL_COUNT];
static unsigned total;
static long skip_left[OS_CALL_COUNT];   /* < 0: no one-shot fault armed */
static DWORD once_error[OS_CALL_COUNT];
static unsigned times_left[OS_CALL_COUNT]; /* failures still to come once skip_left ran out */
static BOOL always[OS_CALL_COUNT];
static DWORD always_error[OS_CALL_COUNT];
static unsigned nth_left;               /* 0: none armed */
static DWORD nth_error;
static DWORD watch_thread;              /* 0: every thread's calls count */
static BOOL watch_others;               /* TRUE: every thread's but watch_thread's */
static unsigned char call_log[8192];    /* the kind of each counted call, in order */
static os_call last_failed_kind = OS_CALL_COUNT;
static void *last_failed_argument;

/* What the OS holds for hostmem (any thread), behind a lock of its own: the notifier
   thread creates and closes handles too. */
#define TRACKED_MAX 1024
static CRITICAL_SECTION track_lock;
static BOOL track_lock_ready;
static void *live[OS_OBJECT_KINDS][TRACKED_MAX];
static unsigned live_count[OS_OBJECT_KINDS];
static HANDLE thread_copies[TRACKED_MAX]; /* our own handles to hostmem's threads */
static unsigned thread_copy_count;

static void track_add(os_object kind, void *object)
{
    EnterCriticalSection(&track_lock);
    if (live_count[kind] < TRACKED_MAX)
        live[kind][live_count[kind]++] = object;
    LeaveCriticalSection(&track_lock);
}

/* Forgets object wherever it is tracked; TRUE if it was. */
static BOOL track_remove(os_object kind, void *object)
{
    BOOL found = FALSE;
    unsigned i;

    EnterCriticalSection(&track_lock);
    for (i = 0; i < live_count[kind]; i++) {
        if (live[kind][i] == object) {
            live[kind][i] = live[kind][--live_count[kind]];
            found = TRUE;
            break;
        }
    }
    LeaveCriticalSection(&track_lock);
    return found;
}

/* Counts the call and says whether it must fail (setting the last error). */
static BOOL must_fail(os_call which)
{
    BOOL fail = FALSE;
    DWORD error = 0;

    /* Another thread's call (the notifier's, say) is not this test's to count or fail. */
    if (watch_thread && (GetCurrentThreadId() == watch_thread) == watch_others)
        return FALSE;
    counts[which]++;
    if (total < sizeof(call_log))
        call_log[total] = (unsigned char)which;
    total++;
    if (nth_left && --nth_left == 0) {
        fail = TRUE;
        error = nth_error;
    }
    if (always[which]) {
        fail = TRUE;
        error = always_error[which];
    }
    if (skip_left[which] >= 0 && skip_left[which]-- == 0) {
        fail = TRUE;
        error = once_error[which];
        if (times_left[which] > 1) {
            times_left[which]--;
            skip_left[which] = 0; /* the next call fails too */
        }
    }
    if (fail) {
        last_failed_kind = which;
        last_failed_argument = NULL;
        SetLastError(error);
    }
    return fail;
}

static LPVOID WINAPI w_VirtualAlloc(LPVOID a, SIZE_T s, DWORD t, DWORD p)
{
    void *result;

    if (must_fail(OS_VIRTUAL_ALLOC))
        return NULL;
    /* A new reservation: tracked until it is released. */
    if ((result = real.VirtualAlloc(a, s, t, p)) && ((t & MEM_RESERVE) || !a))
        track_add(OS_OBJECT_RESERVATION, result);
    return result;
}
static BOOL WINAPI w_VirtualFree(LPVOID a, SIZE_T s, DWORD t)
{
    if (must_fail(OS_VIRTUAL_FREE)) {
        last_failed_argument = a;
        return FALSE;
    }
    if (!real.VirtualFree(a, s, t))
        return FALSE;
    /* The OS releases from the page of `a`; a reservation starts on a 64 KiB granule. */
    if (t == MEM_RELEASE)
        track_remove(OS_OBJECT_RESERVATION, (void *)((uintptr_t)a & ~(uintptr_t)0xFFFF));
    return TRUE;
}
static SIZE_T WINAPI w_VirtualQuery(LPCVOID a, PMEMORY_BASIC_INFORMATION b, SIZE_T l)
{
    return must_fail(OS_VIRTUAL_QUERY) ? 0 : real.VirtualQuery(a, b, l);
}
static BOOL WINAPI w_VirtualProtect(LPVOID a, SIZE_T s, DWORD p, PDWORD o)
{
    return must_fail(OS_VIRTUAL_PROTECT) ? FALSE : real.VirtualProtect(a, s, p, o);
}
static BOOL WINAPI w_GlobalMemoryStatusEx(LPMEMORYSTATUSEX m)
{
    return must_fail(OS_GLOBAL_MEMORY_STATUS_EX) ? FALSE : real.GlobalMemoryStatusEx(m);
}
static HANDLE WINAPI w_HeapCreate(DWORD o, SIZE_T i, SIZE_T m)
{
    HANDLE heap;

    if (must_fail(OS_HEAP_CREATE))
        return NULL;
    if ((heap = real.HeapCreate(o, i, m)))
        track_add(OS_OBJECT_HEAP, heap);
    return heap;
}
static BOOL WINAPI w_HeapDestroy(HANDLE h)
{
    if (must_fail(OS_HEAP_DESTROY)) {
        last_failed_argument = h;
        return FALSE;
    }
    if (!real.HeapDestroy(h))
        return FALSE;
    track_remove(OS_OBJECT_HEAP, h);
    return TRUE;
}
static LPVOID WINAPI w_HeapAlloc(HANDLE h, DWORD f, SIZE_T s)
{
    return must_fail(OS_HEAP_ALLOC) ? NULL : real.HeapAlloc(h, f, s);
}
static BOOL WINAPI w_HeapFree(HANDLE h, DWORD f, LPVOID p)
{
    return must_fail(OS_HEAP_FREE) ? FALSE : real.HeapFree(h, f, p);
}

static HANDLE WINAPI w_CreateThread(LPSECURITY_ATTRIBUTES s, SIZE_T k, LPTHREAD_START_ROUTINE f, LPVOID p, DWORD g,
                                    LPDWORD id)
{
    HANDLE thread, copy;

    if (must_fail(OS_CREATE_THREAD))
        return NULL;
    if ((thread = real.CreateThread(s, k, f, p, g, id))) {
        track_add(OS_OBJECT_THREAD, thread);
        /* A handle of our own, to see the thread end after hostmem closed its handle. */
        if (DuplicateHandle(GetCurrentProcess(), thread, GetCurrentProcess(), &copy, SYNCHRONIZE, FALSE, 0)) {
            EnterCriticalSection(&track_lock);
            if (thread_copy_count < TRACKED_MAX)
                thread_copies[thread_copy_count++] = copy;
            else
                CloseHandle(copy);
            LeaveCriticalSection(&track_lock);
        }
    }
    return thread;
}
static HANDLE WINAPI w_CreateEventW(LPSECURITY_ATTRIBUTES s, BOOL m, BOOL i, LPCWSTR n)
{
    HANDLE event;

    if (must_fail(OS_CREATE_EVENT))
        return NULL;
    if ((event = real.CreateEventW(s, m, i, n)))
        track_add(OS_OBJECT_EVENT, event);
    return event;
}
static BOOL WINAPI w_SetEvent(HANDLE h)
{
    return must_fail(OS_SET_EVENT) ? FALSE : real.SetEvent(h);
}
static DWORD WINAPI w_WaitForSingleObject(HANDLE h, DWORD ms)
{
    return must_fail(OS_WAIT_FOR_SINGLE_OBJECT) ? WAIT_FAILED : real.WaitForSingleObject(h, ms);
}
static BOOL WINAPI w_CloseHandle(HANDLE h)
{
    os_object kind;

    if (must_fail(OS_CLOSE_HANDLE)) {
        last_failed_argument = h;
        return FALSE;
    }
    if (!real.CloseHandle(h))
        return FALSE;
    for (kind = OS_OBJECT_THREAD; kind <= OS_OBJECT_RESOURCE_NOTIFICATION; kind++)
        if (track_remove(kind, h))
            break;
    return TRUE;
}
static ULONGLONG WINAPI w_GetTickCount64(void)
{
    (void)must_fail(OS_GET_TICK_COUNT);
    return real.GetTickCount64();
}
static VOID WINAPI w_Sleep(DWORD ms)
{
    (void)must_fail(OS_SLEEP);
    real.Sleep(ms);
}
static HANDLE WINAPI w_CreateMemoryResourceNotification(MEMORY_RESOURCE_NOTIFICATION_TYPE t)
{
    HANDLE notification;

    if (must_fail(OS_CREATE_MEMORY_RESOURCE_NOTIFICATION))
        return NULL;
    if ((notification = real.CreateMemoryResourceNotification(t)))
        track_add(OS_OBJECT_RESOURCE_NOTIFICATION, notification);
    return notification;
}
static BOOL WINAPI w_QueryMemoryResourceNotification(HANDLE h, PBOOL state)
{
    return must_fail(OS_QUERY_MEMORY_RESOURCE_NOTIFICATION) ? FALSE : real.QueryMemoryResourceNotification(h, state);
}
static DWORD WINAPI w_GetEnvironmentVariableW(LPCWSTR n, LPWSTR b, DWORD s)
{
    return must_fail(OS_GET_ENVIRONMENT_VARIABLE) ? 0 : real.GetEnvironmentVariableW(n, b, s);
}

static HANDLE WINAPI w_CreateFileW(LPCWSTR n, DWORD a, DWORD s, LPSECURITY_ATTRIBUTES sa, DWORD d, DWORD f, HANDLE t)
{
    return must_fail(OS_CREATE_FILE) ? INVALID_HANDLE_VALUE : real.CreateFileW(n, a, s, sa, d, f, t);
}
static BOOL WINAPI w_WriteFile(HANDLE h, LPCVOID d, DWORD s, LPDWORD w, LPOVERLAPPED o)
{
    return must_fail(OS_WRITE_FILE) ? FALSE : real.WriteFile(h, d, s, w, o);
}
static BOOL WINAPI w_QueryPerformanceCounter(LARGE_INTEGER *c)
{
    return must_fail(OS_QUERY_PERFORMANCE_COUNTER) ? FALSE : real.QueryPerformanceCounter(c);
}
static BOOL WINAPI w_QueryPerformanceFrequency(LARGE_INTEGER *f)
{
    return must_fail(OS_QUERY_PERFORMANCE_FREQUENCY) ? FALSE : real.QueryPerformanceFrequency(f);
}

static DWORD WINAPI w_FlsAlloc(PFLS_CALLBACK_FUNCTION callback)
{
    return must_fail(OS_FLS_ALLOC) ? FLS_OUT_OF_INDEXES : real.FlsAlloc(callback);
}

void fault_clear(void)
{
    unsigned i;

    for (i = 0; i < OS_CALL_COUNT; i++) {
        skip_left[i] = -1;
        times_left[i] = 0;
        always[i] = FALSE;
    }
    nth_left = 0;
    last_failed_kind = OS_CALL_COUNT;
    last_failed_argument = NULL;
}

int fault_setup(void **state)
{
    unsigned i;

    (void)state;
    if (!track_lock_ready) {
        InitializeCriticalSection(&track_lock);
        track_lock_ready = TRUE;
    }
    EnterCriticalSection(&track_lock);
    memset(live_count, 0, sizeof(live_count));
    for (i = 0; i < thread_copy_count; i++)
        CloseHandle(thread_copies[i]);
    thread_copy_count = 0;
    LeaveCriticalSection(&track_lock);
    watch_thread = 0;
    watch_others = FALSE;
    hm_os_restore();
    real = hm_os;
    hm_os.VirtualAlloc = w_VirtualAlloc;
    hm_os.VirtualFree = w_VirtualFree;
    hm_os.VirtualQuery = w_VirtualQuery;
    hm_os.VirtualProtect = w_VirtualProtect;
    hm_os.GlobalMemoryStatusEx = w_GlobalMemoryStatusEx;
    hm_os.FlsAlloc = w_FlsAlloc;
    hm_os.HeapCreate = w_HeapCreate;
    hm_os.HeapDestroy = w_HeapDestroy;
    hm_os.HeapAlloc = w_HeapAlloc;
    hm_os.HeapFree = w_HeapFree;
    hm_os.CreateThread = w_CreateThread;
    hm_os.CreateEventW = w_CreateEventW;
    hm_os.SetEvent = w_SetEvent;
    hm_os.WaitForSingleObject = w_WaitForSingleObject;
    hm_os.CloseHandle = w_CloseHandle;
    hm_os.GetTickCount64 = w_GetTickCount64;
    hm_os.Sleep = w_Sleep;
    hm_os.CreateMemoryResourceNotification = w_CreateMemoryResourceNotification;
    hm_os.QueryMemoryResourceNotification = w_QueryMemoryResourceNotification;
    hm_os.GetEnvironmentVariableW = w_GetEnvironmentVariableW;
    hm_os.CreateFileW = w_CreateFileW;
    hm_os.WriteFile = w_WriteFile;
    hm_os.QueryPerformanceCounter = w_QueryPerformanceCounter;
    hm_os.QueryPerformanceFrequency = w_QueryPerformanceFrequency;
    memset(counts, 0, sizeof(counts));
    total = 0;
    fault_clear();
    return 0;
}

int fault_teardown(void **state)
{
    (void)state;
    fault_clear();
    hm_os_restore();
    return 0;
}

void fault_repeat(os_call which, unsigned skip, unsigned times, DWORD error)
{
    skip_left[which] = times ? (long)skip : -1;
    times_left[which] = times;
    once_error[which] = error;
}

void fault_once(os_call which, unsigned skip, DWORD error)
{
    fault_repeat(which, skip, 1, error);
}

void fault_always(os_call which, DWORD error)
{
    always[which] = TRUE;
    always_error[which] = error;
}

void fault_nth_call(unsigned n, DWORD error)
{
    nth_left = n;
    nth_error = error;
}

void fault_watch_thread(DWORD thread, BOOL others)
{
    watch_thread = thread;
    watch_others = others;
}

os_call fault_last_failed(void **argument)
{
    if (argument)
        *argument = last_failed_argument;
    return last_failed_kind;
}

os_call os_call_kind_at(unsigned n)
{
    return n >= 1 && n <= total && n <= sizeof(call_log) ? (os_call)call_log[n - 1] : OS_CALL_COUNT;
}

DWORD os_realistic_error(os_call which)
{
    switch (which) {
    case OS_VIRTUAL_ALLOC:
    case OS_HEAP_CREATE:
    case OS_HEAP_ALLOC:
    case OS_CREATE_THREAD:
    case OS_CREATE_EVENT:
    case OS_CREATE_MEMORY_RESOURCE_NOTIFICATION:
        return ERROR_NOT_ENOUGH_MEMORY;
    case OS_VIRTUAL_FREE:
    case OS_VIRTUAL_QUERY:
    case OS_HEAP_FREE:
    case OS_GLOBAL_MEMORY_STATUS_EX:
        return ERROR_INVALID_PARAMETER;
    case OS_VIRTUAL_PROTECT:
        return ERROR_INVALID_ADDRESS;
    case OS_HEAP_DESTROY:
    case OS_SET_EVENT:
    case OS_WAIT_FOR_SINGLE_OBJECT:
    case OS_CLOSE_HANDLE:
    case OS_QUERY_MEMORY_RESOURCE_NOTIFICATION:
        return ERROR_INVALID_HANDLE;
    case OS_GET_ENVIRONMENT_VARIABLE:
        return ERROR_ENVVAR_NOT_FOUND;
    case OS_FLS_ALLOC:
        return ERROR_NO_SYSTEM_RESOURCES;
    default:
        return 0; /* GetTickCount64, Sleep: cannot fail */
    }
}

unsigned os_live_objects(os_object kind)
{
    unsigned n;

    EnterCriticalSection(&track_lock);
    n = live_count[kind];
    LeaveCriticalSection(&track_lock);
    return n;
}

void *os_live_object_at(os_object kind, unsigned i)
{
    void *object;

    EnterCriticalSection(&track_lock);
    object = i < live_count[kind] ? live[kind][i] : NULL;
    LeaveCriticalSection(&track_lock);
    return object;
}

void os_forget_object(os_object kind, void *object)
{
    track_remove(kind, object);
}

BOOL os_threads_ended(DWORD timeout_ms)
{
    HANDLE copies[TRACKED_MAX];
    unsigned i, n;
    BOOL ended = TRUE;

    /* Not under the lock: a thread on its way out may still close a handle. */
    EnterCriticalSection(&track_lock);
    n = thread_copy_count;
    memcpy(copies, thread_copies, n * sizeof(HANDLE));
    LeaveCriticalSection(&track_lock);
    for (i = 0; i < n; i++)
        if (WaitForSingleObject(copies[i], timeout_ms) != WAIT_OBJECT_0)
            ended = FALSE;
    return ended;
}

unsigned os_thread_count(void)
{
    return thread_copy_count;
}

unsigned os_call_count(os_call which) { return counts[which]; }
unsigned os_total_calls(void) { return total; }

SIZE_T os_committed_in_reservation(void *base)
{
    MEMORY_BASIC_INFORMATION info;
    char *p = base;
    SIZE_T committed = 0;

    while (VirtualQuery(p, &info, sizeof(info)) == sizeof(info) && info.AllocationBase == base) {
        if (info.State == MEM_COMMIT)
            committed += info.RegionSize;
        p = (char *)info.BaseAddress + info.RegionSize;
    }
    return committed;
}

DWORD os_page_state(const void *address)
{
    MEMORY_BASIC_INFORMATION info;

    if (VirtualQuery(address, &info, sizeof(info)) != sizeof(info))
        return 0;
    return info.State;
}

IHostMemoryManager *new_manager(const HOSTMEM_CONFIG *config)
{
    IHostMemoryManager *manager = NULL;

    assert_int_equal(HostMemCreateMemoryManager(config, &manager), S_OK);
    assert_non_null(manager);
    return manager;
}

IHostControl *new_control(const HOSTMEM_CONFIG *config)
{
    IHostControl *control = NULL;

    assert_int_equal(HostMemCreateHostControl(config, &control), S_OK);
    assert_non_null(control);
    return control;
}

IHostMemoryManager *manager_of(IHostControl *control)
{
    IHostMemoryManager *manager = NULL;

    assert_int_equal(IHostControl_GetHostManager(control, &IID_IHostMemoryManager, (void **)&manager), S_OK);
    assert_non_null(manager);
    return manager;
}

void release_last(IUnknown *object)
{
    assert_int_equal(IUnknown_Release(object), 0);
}

HOSTMEM_STATS stats_of(void *object)
{
    HOSTMEM_STATS stats;

    memset(&stats, 0, sizeof(stats));
    stats.cbSize = sizeof(stats);
    assert_int_equal(HostMemGetStats((IUnknown *)object, &stats), S_OK);
    return stats;
}
