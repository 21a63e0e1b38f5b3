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

/* Counts the call and says whether it must fail (setting the last error). */
static BOOL must_fail(os_call which)
{
    BOOL fail = FALSE;
    DWORD error = 0;

    counts[which]++;
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
    if (fail)
        SetLastError(error);
    return fail;
}

static LPVOID WINAPI w_VirtualAlloc(LPVOID a, SIZE_T s, DWORD t, DWORD p)
{
    return must_fail(OS_VIRTUAL_ALLOC) ? NULL : real.VirtualAlloc(a, s, t, p);
}
static BOOL WINAPI w_VirtualFree(LPVOID a, SIZE_T s, DWORD t)
{
    return must_fail(OS_VIRTUAL_FREE) ? FALSE : real.VirtualFree(a, s, t);
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
    return must_fail(OS_HEAP_CREATE) ? NULL : real.HeapCreate(o, i, m);
}
static BOOL WINAPI w_HeapDestroy(HANDLE h)
{
    return must_fail(OS_HEAP_DESTROY) ? FALSE : real.HeapDestroy(h);
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
    return must_fail(OS_CREATE_THREAD) ? NULL : real.CreateThread(s, k, f, p, g, id);
}
static HANDLE WINAPI w_CreateEventW(LPSECURITY_ATTRIBUTES s, BOOL m, BOOL i, LPCWSTR n)
{
    return must_fail(OS_CREATE_EVENT) ? NULL : real.CreateEventW(s, m, i, n);
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
    return must_fail(OS_CLOSE_HANDLE) ? FALSE : real.CloseHandle(h);
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
    return must_fail(OS_CREATE_MEMORY_RESOURCE_NOTIFICATION) ? NULL : real.CreateMemoryResourceNotification(t);
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

void fault_clear(void)
{
    unsigned i;

    for (i = 0; i < OS_CALL_COUNT; i++) {
        skip_left[i] = -1;
        times_left[i] = 0;
        always[i] = FALSE;
    }
    nth_left = 0;
}

int fault_setup(void **state)
{
    (void)state;
    hm_os_restore();
    real = hm_os;
    hm_os.VirtualAlloc = w_VirtualAlloc;
    hm_os.VirtualFree = w_VirtualFree;
    hm_os.VirtualQuery = w_VirtualQuery;
    hm_os.VirtualProtect = w_VirtualProtect;
    hm_os.GlobalMemoryStatusEx = w_GlobalMemoryStatusEx;
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

void release_last(IUnknown *object)
{
    assert_int_equal(IUnknown_Release(object), 0);
}
