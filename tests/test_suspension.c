/*
 * The methods the CLR may call while it suspends threads never wait on a lock that a
 * suspended thread may hold (docs/notifications.md, docs/trace-delivery.md): a thread
 * is parked inside hostmem holding the trace's lock (in the WriteFile of an E_FAIL
 * row's flush, through the OS table), suspended there, and then VirtualQuery,
 * GetMemoryLoad, VirtualProtect and a notification must all get through. The rows
 * that could not wait are dropped and counted in HOSTMEM_STATS.traceRowsDropped.
 */
#include "test_support.h"

#include <string.h>

#include "clr_model.h"

#define PAGE       4096u
#define LIMIT      (100 * PAGE)
#define TIMEOUT_MS 5000

static WCHAR trace_path[MAX_PATH];
static BOOL (WINAPI *next_write_file)(HANDLE, LPCVOID, DWORD, LPDWORD, LPOVERLAPPED);
static volatile DWORD park_thread;
static HANDLE parked, unpark;

/* The parked thread stops here, inside the trace's flush, holding its lock. */
static BOOL WINAPI parking_write_file(HANDLE file, LPCVOID data, DWORD size, LPDWORD written, LPOVERLAPPED overlapped)
{
    if (GetCurrentThreadId() == park_thread) {
        park_thread = 0;
        SetEvent(parked);
        WaitForSingleObject(unpark, INFINITE);
    }
    return next_write_file(file, data, size, written, overlapped);
}

static IHostMemoryManager *manager;
static char *region;

static DWORD WINAPI escalate(void *arg)
{
    void *p = NULL;
    (void)arg;
    /* E_FAIL: its row is flushed at once, and the flush parks. */
    IHostMemoryManager_VirtualAlloc(manager, NULL, 64 * 1024 * 1024, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
                                    eTaskCritical, &p);
    return 0;
}

static DWORD WINAPI call_virtual_query(void *arg)
{
    MEMORY_BASIC_INFORMATION info;
    SIZE_T written = 0;
    (void)arg;
    return IHostMemoryManager_VirtualQuery(manager, region, &info, sizeof(info), &written) == S_OK ? 0 : 1;
}

static DWORD WINAPI call_get_memory_load(void *arg)
{
    DWORD load;
    SIZE_T available;
    (void)arg;
    return IHostMemoryManager_GetMemoryLoad(manager, &load, &available) == S_OK ? 0 : 1;
}

static DWORD WINAPI call_virtual_protect(void *arg)
{
    DWORD old;
    (void)arg;
    return IHostMemoryManager_VirtualProtect(manager, region, PAGE, PAGE_READONLY, &old) == S_OK ? 0 : 1;
}

static DWORD WINAPI cross_the_high_mark(void *arg)
{
    void *p = NULL;
    (void)arg;
    /* Its own row waits for the trace (VirtualAlloc is not called during suspension);
       the notification it causes must not. */
    IHostMemoryManager_VirtualAlloc(manager, region + PAGE, 94 * PAGE, MEM_COMMIT, PAGE_READWRITE, eTaskCritical, &p);
    return 0;
}

/* Runs `call` on a thread of its own; TRUE if it returned (0) within the timeout. */
static BOOL returns_in_time(LPTHREAD_START_ROUTINE call)
{
    HANDLE thread = CreateThread(NULL, 0, call, NULL, 0, NULL);
    DWORD code = 1;
    BOOL done;

    assert_non_null(thread);
    done = WaitForSingleObject(thread, TIMEOUT_MS) == WAIT_OBJECT_0 && GetExitCodeThread(thread, &code) && code == 0;
    if (!done)
        WaitForSingleObject(thread, INFINITE); /* it gets through once the holder resumes */
    CloseHandle(thread);
    return done;
}

static void nothing_the_clr_calls_during_suspension_waits_for_a_suspended_trace_writer(void **state)
{
    HOSTMEM_CONFIG config;
    HANDLE holder, crosser;
    HOSTMEM_STATS stats;
    BOOL query, load, protect, notified;
    clr_model clr;
    void *p = NULL;
    WCHAR dir[MAX_PATH];
    (void)state;

    assert_true(GetTempPathW(MAX_PATH, dir) > 0);
    assert_true(GetTempFileNameW(dir, L"hms", 0, trace_path) != 0);
    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.commitLimit = LIMIT;
    config.traceFile = trace_path;
    config.retryTimeoutMs = HOSTMEM_RETRY_NONE;
    config.failureAction[eTaskCritical] = HOSTMEM_ACTION_ESCALATE;
    manager = new_manager(&config);
    clr_model_init(&clr, TRUE);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &clr.iface), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 128 * PAGE, MEM_RESERVE, PAGE_NOACCESS,
                                                     eTaskCritical, &p), S_OK);
    region = p;
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, region, PAGE, MEM_COMMIT, PAGE_READWRITE,
                                                     eTaskCritical, &p), S_OK);

    parked = CreateEventW(NULL, TRUE, FALSE, NULL);
    unpark = CreateEventW(NULL, TRUE, FALSE, NULL);
    next_write_file = hm_os.WriteFile;
    hm_os.WriteFile = parking_write_file;
    holder = CreateThread(NULL, 0, escalate, NULL, CREATE_SUSPENDED, (DWORD *)&park_thread);
    assert_non_null(holder);
    ResumeThread(holder);
    assert_int_equal(WaitForSingleObject(parked, TIMEOUT_MS), WAIT_OBJECT_0);
    assert_true(SuspendThread(holder) != (DWORD)-1);

    query = returns_in_time(call_virtual_query);
    load = returns_in_time(call_get_memory_load);
    protect = returns_in_time(call_virtual_protect);
    crosser = CreateThread(NULL, 0, cross_the_high_mark, NULL, 0, NULL);
    assert_non_null(crosser);
    notified = clr_model_wait_low_flag(&clr, TRUE, TIMEOUT_MS);

    /* Let go before asserting, so that a failure leaves nothing hanging. */
    ResumeThread(holder);
    SetEvent(unpark);
    assert_int_equal(WaitForSingleObject(holder, INFINITE), WAIT_OBJECT_0);
    assert_int_equal(WaitForSingleObject(crosser, INFINITE), WAIT_OBJECT_0);
    CloseHandle(holder);
    CloseHandle(crosser);
    assert_true(query);
    assert_true(load);
    assert_true(protect);
    assert_true(notified);

    stats.cbSize = sizeof(stats);
    assert_int_equal(HostMemGetStats((IUnknown *)manager, &stats), S_OK);
    assert_true(stats.traceRowsDropped >= 3); /* the three calls' rows */
    assert_true(stats.notifications[0] >= 1);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, region, 0, MEM_RELEASE), S_OK);
    release_last((IUnknown *)manager);
    hm_os.WriteFile = next_write_file;
    CloseHandle(parked);
    CloseHandle(unpark);
    DeleteFileW(trace_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(nothing_the_clr_calls_during_suspension_waits_for_a_suspended_trace_writer,
                                        fault_setup, fault_teardown),
    };

    return cmocka_run_group_tests_name("suspension", tests, NULL, NULL);
}
