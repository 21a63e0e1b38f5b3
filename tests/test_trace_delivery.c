/*
 * When and where the trace's rows reach the file (docs/trace-delivery.md): while the
 * manager lives, within about a second; the E_FAIL row before the host's escalation
 * callback runs; every row of a process that exits without Release (a child process,
 * tests/trace_exit_child.c, through the DLL); and one file per manager when several
 * trace at once.
 */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "clr_model.h"

#define PAGE    4096u
#define WAIT_MS 10000

static WCHAR trace_path[MAX_PATH], second_path[MAX_PATH + 16];

static int setup(void **state)
{
    WCHAR dir[MAX_PATH];

    assert_true(GetTempPathW(MAX_PATH, dir) > 0);
    /* A name with an extension, so the derived ones are easy to predict. */
    _snwprintf(trace_path, MAX_PATH, L"%lshmtd%lu.csv", dir, (unsigned long)GetCurrentProcessId());
    _snwprintf(second_path, MAX_PATH + 16, L"%lshmtd%lu.2.csv", dir, (unsigned long)GetCurrentProcessId());
    DeleteFileW(trace_path);
    DeleteFileW(second_path);
    SetEnvironmentVariableW(L"HOSTMEM_TRACE", NULL);
    return fault_setup(state);
}

static int teardown(void **state)
{
    DeleteFileW(trace_path);
    DeleteFileW(second_path);
    return fault_teardown(state);
}

/* The file as it is now (read beside the writer); NULL if it does not exist. */
static char *read_now(const WCHAR *path)
{
    HANDLE file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                              OPEN_EXISTING, 0, NULL);
    DWORD size, got = 0;
    char *text;

    if (file == INVALID_HANDLE_VALUE)
        return NULL;
    size = GetFileSize(file, NULL);
    text = calloc(1, size + 1);
    if (!ReadFile(file, text, size, &got, NULL))
        got = 0;
    text[got] = 0;
    CloseHandle(file);
    return text;
}

static BOOL file_contains(const WCHAR *path, const char *needle)
{
    char *text = read_now(path);
    BOOL found = text && strstr(text, needle) != NULL;

    free(text);
    return found;
}

static BOOL wait_for_text(const WCHAR *path, const char *needle)
{
    unsigned waited;

    for (waited = 0; waited < WAIT_MS / 10; waited++) {
        if (file_contains(path, needle))
            return TRUE;
        Sleep(10);
    }
    return FALSE;
}

static HOSTMEM_CONFIG traced_config(ULONGLONG limit)
{
    HOSTMEM_CONFIG config;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.commitLimit = limit;
    config.traceFile = trace_path;
    config.retryTimeoutMs = HOSTMEM_RETRY_NONE;
    return config;
}

/* --- while the manager lives -------------------------------------------------------- */

static void rows_reach_the_file_while_the_manager_lives(void **state)
{
    HOSTMEM_CONFIG config = traced_config(1024 * 1024);
    IHostMemoryManager *manager = new_manager(&config);
    clr_model clr;
    void *p = NULL;
    (void)state;

    /* The runtime registers (as SetHostControl does): the notifier's thread writes the
       buffer out every second, with no further call needed. */
    clr_model_init(&clr, TRUE);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &clr.iface), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 64 * 1024, MEM_RESERVE, PAGE_NOACCESS,
                                                     eTaskCritical, &p), S_OK);
    assert_true(wait_for_text(trace_path, ",VirtualAlloc,"));
    assert_true(file_contains(trace_path, ",RegisterMemoryNotificationCallback,"));
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, p, 0, MEM_RELEASE), S_OK);
    release_last((IUnknown *)manager);
}

static void a_row_older_than_a_second_is_written_by_the_next_call(void **state)
{
    HOSTMEM_CONFIG config = traced_config(0);
    IHostMemoryManager *manager = new_manager(&config);
    void *p = NULL;
    DWORD load;
    SIZE_T available;
    (void)state;

    /* No callback, so no notifier thread: the next call writes the old rows out. */
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 64 * 1024, MEM_RESERVE, PAGE_NOACCESS,
                                                     eTaskCritical, &p), S_OK);
    Sleep(1200);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, p, 0, MEM_RELEASE), S_OK);
    assert_true(file_contains(trace_path, ",VirtualAlloc,"));
    assert_int_equal(IHostMemoryManager_GetMemoryLoad(manager, &load, &available), S_OK);
    release_last((IUnknown *)manager);
}

/* --- the escalation ------------------------------------------------------------------ */

static volatile LONG escalations_seen, row_was_there;

static void WINAPI look_at_the_file(void *context, const HOSTMEM_ESCALATION *info)
{
    (void)context;
    InterlockedIncrement(&escalations_seen);
    if (info->level == eTaskCritical && file_contains(trace_path, ",VirtualAlloc,0,0x0,67108864,0x3000,0x4,0x80004005,"))
        InterlockedIncrement(&row_was_there);
}

static void the_e_fail_row_is_in_the_file_before_the_escalation_callback_runs(void **state)
{
    HOSTMEM_CONFIG config = traced_config(1024 * 1024);
    IHostMemoryManager *manager;
    void *p = NULL;
    (void)state;

    config.failureAction[eTaskCritical] = HOSTMEM_ACTION_ESCALATE;
    config.escalationCallback = look_at_the_file;
    escalations_seen = row_was_there = 0;
    manager = new_manager(&config);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 64 * 1024 * 1024, MEM_RESERVE | MEM_COMMIT,
                                                     PAGE_READWRITE, eTaskCritical, &p),
                     E_FAIL);
    assert_int_equal(escalations_seen, 1);
    assert_int_equal(row_was_there, 1);
    release_last((IUnknown *)manager);
}

/* --- several managers ------------------------------------------------------------------ */

static void several_managers_trace_at_once_each_to_its_own_file(void **state)
{
    HOSTMEM_CONFIG config = traced_config(0);
    IHostMemoryManager *first = new_manager(&config), *second = new_manager(&config), *third;
    void *a = NULL, *b = NULL;
    (void)state;

    assert_int_equal(IHostMemoryManager_VirtualAlloc(first, NULL, 64 * 1024, MEM_RESERVE, PAGE_NOACCESS,
                                                     eTaskCritical, &a), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(second, NULL, 128 * 1024, MEM_RESERVE, PAGE_NOACCESS,
                                                     eTaskCritical, &b), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualFree(first, a, 0, MEM_RELEASE), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualFree(second, b, 0, MEM_RELEASE), S_OK);
    release_last((IUnknown *)second);
    /* The second wrote trace.2.csv, whole, with only its own calls. */
    assert_true(file_contains(second_path, ",Start,"));
    assert_true(file_contains(second_path, ",VirtualAlloc,0,0x0,131072,"));
    assert_false(file_contains(second_path, ",VirtualAlloc,0,0x0,65536,"));
    assert_true(file_contains(second_path, ",Release,"));
    /* trace.2.csv is free again; trace.csv is still the first's. */
    third = new_manager(&config);
    release_last((IUnknown *)third);
    release_last((IUnknown *)first);
    assert_true(file_contains(trace_path, ",VirtualAlloc,0,0x0,65536,"));
    assert_false(file_contains(trace_path, ",VirtualAlloc,0,0x0,131072,"));
    assert_true(file_contains(trace_path, ",Release,"));
}

/* --- a process that exits without Release ---------------------------------------------- */

static DWORD run_child(const WCHAR *mode)
{
    WCHAR exe[MAX_PATH], *slash, command[3 * MAX_PATH];
    STARTUPINFOW startup;
    PROCESS_INFORMATION process;
    DWORD code = 0xFFFFFFFF;

    assert_true(GetModuleFileNameW(NULL, exe, MAX_PATH) > 0);
    slash = wcsrchr(exe, L'\\');
    assert_non_null(slash);
    wcscpy(slash + 1, L"trace_exit_child.exe");
    _snwprintf(command, ARRAYSIZE(command), L"\"%ls\" %ls \"%ls\"", exe, mode, trace_path);
    memset(&startup, 0, sizeof(startup));
    startup.cb = sizeof(startup);
    assert_true(CreateProcessW(exe, command, NULL, NULL, FALSE, 0, NULL, NULL, &startup, &process));
    assert_int_equal(WaitForSingleObject(process.hProcess, 60000), WAIT_OBJECT_0);
    assert_true(GetExitCodeProcess(process.hProcess, &code));
    CloseHandle(process.hProcess);
    CloseHandle(process.hThread);
    return code;
}

static void a_process_that_exits_without_release_leaves_every_row(void **state)
{
    (void)state;

    assert_int_equal(run_child(L"exit"), 0);
    assert_true(file_contains(trace_path, "time_us,thread,method,"));
    assert_true(file_contains(trace_path, ",Start,"));
    assert_true(file_contains(trace_path, ",VirtualAlloc,0,0x0,65536,0x2000,0x1,0x00000000,"));
    assert_true(file_contains(trace_path, ",VirtualAlloc,0,"));
    assert_true(file_contains(trace_path, ",4096,0x1000,0x4,0x00000000,"));
}

static void a_host_that_exits_from_its_escalation_callback_leaves_the_e_fail_row(void **state)
{
    (void)state;

    assert_int_equal(run_child(L"escalate"), 3);
    assert_true(file_contains(trace_path, ",4096,0x1000,0x4,0x00000000,"));
    assert_true(file_contains(trace_path, ",VirtualAlloc,0,0x0,67108864,0x3000,0x4,0x80004005,"));
}

int main(void)
{
#define T(test) cmocka_unit_test_setup_teardown(test, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(rows_reach_the_file_while_the_manager_lives),
        T(a_row_older_than_a_second_is_written_by_the_next_call),
        T(the_e_fail_row_is_in_the_file_before_the_escalation_callback_runs),
        T(several_managers_trace_at_once_each_to_its_own_file),
        T(a_process_that_exits_without_release_leaves_every_row),
        T(a_host_that_exits_from_its_escalation_callback_leaves_the_e_fail_row),
    };
#undef T

    return cmocka_run_group_tests_name("trace delivery", tests, NULL, NULL);
}
