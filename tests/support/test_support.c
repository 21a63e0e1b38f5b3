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

void fault_clear(void)
{
    unsigned i;

    for (i = 0; i < OS_CALL_COUNT; i++) {
        skip_left[i] = -1;
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

void fault_once(os_call which, unsigned skip, DWORD error)
{
    skip_left[which] = (long)skip;
    once_error[which] = error;
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
