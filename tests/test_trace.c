/*
 * The call trace: one CSV row per call with the books after it, parsed back and
 * checked against HostMemGetStats; the environment override; a file that cannot be
 * opened; an escalation that reaches the file before the CLR could die.
 */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/trace_format.h"

#define PAGE 4096u
#define MAX_ROWS 256
#define FIELDS HM_TRACE_COLUMNS

static const char header[] = HM_TRACE_HEADER;

struct row {
    char *field[FIELDS];
};

struct trace_file {
    char *text;
    struct row rows[MAX_ROWS];
    int count; /* rows after the header */
};

static WCHAR trace_path[MAX_PATH];

static int setup(void **state)
{
    WCHAR dir[MAX_PATH];

    assert_true(GetTempPathW(MAX_PATH, dir) > 0);
    assert_true(GetTempFileNameW(dir, L"hmt", 0, trace_path) != 0);
    return fault_setup(state);
}

static int teardown(void **state)
{
    DeleteFileW(trace_path);
    SetEnvironmentVariableW(L"HOSTMEM_TRACE", NULL);
    return fault_teardown(state);
}

/* The whole file through the readers' strict parser: what hostmem writes is what
   hostmem-report and hostmem-replay accept. */
static void parses_strictly(const char *text)
{
    hm_trace_parser *parser = malloc(sizeof(*parser));
    hm_trace_record record;
    size_t size = strlen(text) + 1;
    char *copy = malloc(size), *line, *next;
    int got = HM_TRACE_GOT_HEADER;

    assert_non_null(parser);
    assert_non_null(copy);
    memcpy(copy, text, size);
    hm_trace_parser_init(parser);
    for (line = copy; *line && got > 0; line = next) {
        next = strchr(line, '\n');
        assert_non_null(next);
        *next++ = 0;
        got = hm_trace_parse_line(parser, line, &record);
    }
    if (got > 0)
        got = hm_trace_parse_end(parser);
    if (got != HM_TRACE_END)
        fail_msg("the trace does not parse: %s", parser->error);
    free(copy);
    free(parser);
}

/* Reads the whole file and splits it; fails the test on a malformed line. */
static void read_trace(struct trace_file *t)
{
    HANDLE file = CreateFileW(trace_path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
    DWORD size, got = 0;
    char *line, *next;

    assert_true(file != INVALID_HANDLE_VALUE);
    size = GetFileSize(file, NULL);
    t->text = calloc(1, size + 1);
    assert_true(ReadFile(file, t->text, size, &got, NULL));
    assert_int_equal(got, size);
    CloseHandle(file);
    parses_strictly(t->text);

    t->count = -1;
    for (line = t->text; line && *line; line = next) {
        char *p = line;
        int f = 0;

        next = strchr(line, '\n');
        assert_non_null(next); /* every row ends with a newline */
        *next++ = 0;
        if (t->count < 0) {
            assert_string_equal(line, header);
            t->count = 0;
            continue;
        }
        assert_true(t->count < MAX_ROWS);
        for (;;) {
            char *comma = strchr(p, ',');
            assert_true(f < FIELDS);
            t->rows[t->count].field[f++] = p;
            if (!comma)
                break;
            *comma = 0;
            p = comma + 1;
        }
        assert_int_equal(f, FIELDS);
        t->count++;
    }
    assert_true(t->count >= 0);
}

static const char *field(const struct trace_file *t, int row, int column)
{
    assert_true(row < t->count);
    return t->rows[row].field[column];
}

enum { TIME, THREAD, METHOD, LEVEL, ADDRESS, BYTES, FLAGS, PROTECT, HR, RESULT, COMMITTED, MALLOC };

static unsigned long long number(const char *text)
{
    char *end;
    unsigned long long value = strtoull(text, &end, 0);

    assert_true(*text && !*end);
    return value;
}


static void every_call_is_one_row_with_the_books_after_it(void **state)
{
    HOSTMEM_CONFIG config;
    IHostMemoryManager *manager;
    IHostMalloc *malloc = NULL;
    struct trace_file t;
    void *base = NULL, *page = NULL, *block = NULL;
    MEMORY_BASIC_INFORMATION info;
    SIZE_T written;
    DWORD load;
    SIZE_T available;
    ULONGLONG committed_after[8];
    unsigned long long last_time = 0;
    char expect[64];
    int i;
    (void)state;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.commitLimit = 64 * PAGE;
    config.traceFile = trace_path;
    manager = new_manager(&config);

    assert_int_equal(IHostMemoryManager_CreateMalloc(manager, MALLOC_THREADSAFE, &malloc), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 16 * PAGE, MEM_RESERVE, PAGE_NOACCESS,
                                                     eAppDomainCritical, &base), S_OK);
    committed_after[0] = stats_of(manager).committedBytes;
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, base, 3 * PAGE, MEM_COMMIT, PAGE_READWRITE,
                                                     eTaskCritical, &page), S_OK);
    committed_after[1] = stats_of(manager).committedBytes;
    assert_int_equal(IHostMalloc_DebugAlloc(malloc, 100, eProcessCritical, (char *)"x.c", 7, &block), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualQuery(manager, base, &info, sizeof(info), &written), S_OK);
    assert_int_equal(IHostMemoryManager_GetMemoryLoad(manager, &load, &available), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, base, PAGE, MEM_DECOMMIT), S_OK);
    /* The column is the whole charge: the malloc's slab is in it now. */
    committed_after[2] = stats_of(manager).committedBytes + stats_of(manager).mallocCommittedBytes;
    assert_int_equal(IHostMalloc_Free(malloc, (void *)0x10), HOST_E_INVALIDOPERATION);
    assert_int_equal(IHostMalloc_Free(malloc, block), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, base, 0, MEM_RELEASE), S_OK);
    /* What is left of the charge: the malloc's one kept empty slab (docs/heap.md). */
    committed_after[3] = stats_of(manager).committedBytes + stats_of(manager).mallocCommittedBytes;
    assert_int_equal(stats_of(manager).committedBytes, 0);
    assert_true(committed_after[3] > 0);
    IHostMalloc_Release(malloc);
    release_last((IUnknown *)manager);

    read_trace(&t);
    assert_int_equal(t.count, 12);
    /* Start: the limit and the water marks, in decimal. */
    assert_string_equal(field(&t, 0, METHOD), "Start");
    assert_int_equal(number(field(&t, 0, BYTES)), 64 * PAGE);
    assert_string_equal(field(&t, 0, FLAGS), "90");
    assert_string_equal(field(&t, 0, PROTECT), "60");

    assert_string_equal(field(&t, 1, METHOD), "CreateMalloc");
    assert_string_equal(field(&t, 1, FLAGS), "0x1");
    assert_string_equal(field(&t, 1, HR), "0x00000000");

    assert_string_equal(field(&t, 2, METHOD), "VirtualAlloc");
    assert_string_equal(field(&t, 2, LEVEL), "1");
    assert_string_equal(field(&t, 2, ADDRESS), "0x0");
    assert_int_equal(number(field(&t, 2, BYTES)), 16 * PAGE);
    assert_string_equal(field(&t, 2, FLAGS), "0x2000");
    assert_string_equal(field(&t, 2, PROTECT), "0x1");
    snprintf(expect, sizeof(expect), "0x%llX", (unsigned long long)(ULONG_PTR)base);
    assert_string_equal(field(&t, 2, RESULT), expect);
    assert_int_equal(number(field(&t, 2, COMMITTED)), committed_after[0]);

    assert_string_equal(field(&t, 3, METHOD), "VirtualAlloc");
    assert_string_equal(field(&t, 3, LEVEL), "0");
    assert_int_equal(number(field(&t, 3, COMMITTED)), committed_after[1]);
    assert_int_equal(number(field(&t, 3, COMMITTED)), 3 * PAGE);

    assert_string_equal(field(&t, 4, METHOD), "DebugAlloc");
    assert_string_equal(field(&t, 4, LEVEL), "2");
    assert_int_equal(number(field(&t, 4, BYTES)), 100);
    assert_int_equal(number(field(&t, 4, MALLOC)), 100);

    assert_string_equal(field(&t, 5, METHOD), "VirtualQuery");
    assert_string_equal(field(&t, 6, METHOD), "GetMemoryLoad");
    assert_string_equal(field(&t, 7, METHOD), "VirtualFree");
    assert_string_equal(field(&t, 7, FLAGS), "0x4000");
    assert_int_equal(number(field(&t, 7, COMMITTED)), committed_after[2]);
    assert_string_equal(field(&t, 8, METHOD), "Free");
    assert_string_equal(field(&t, 8, HR), "0x80131022");
    assert_string_equal(field(&t, 9, METHOD), "Free");
    assert_int_equal(number(field(&t, 9, MALLOC)), 0);
    assert_string_equal(field(&t, 10, METHOD), "VirtualFree");
    assert_int_equal(number(field(&t, 10, COMMITTED)), committed_after[3]);
    assert_string_equal(field(&t, 11, METHOD), "Release");

    for (i = 0; i < t.count; i++) {
        unsigned long long now = number(field(&t, i, TIME));
        assert_true(now >= last_time); /* in time order */
        last_time = now;
        assert_int_equal(number(field(&t, i, THREAD)), GetCurrentThreadId());
    }
    free(t.text);
}

static void notifications_and_refusals_are_traced(void **state)
{
    HOSTMEM_CONFIG config;
    IHostMemoryManager *manager;
    struct trace_file t;
    void *p = NULL;
    int i, notifications = 0, refusals = 0;
    (void)state;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.commitLimit = 10 * PAGE;
    config.traceFile = trace_path;
    manager = new_manager(&config);
    /* Without a callback registered nothing is delivered: register none, but refuse. */
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 11 * PAGE, MEM_RESERVE | MEM_COMMIT,
                                                     PAGE_READWRITE, eTaskCritical, &p), E_OUTOFMEMORY);
    release_last((IUnknown *)manager);
    read_trace(&t);
    for (i = 0; i < t.count; i++) {
        if (!strcmp(field(&t, i, METHOD), "OnMemoryNotification"))
            notifications++;
        if (!strcmp(field(&t, i, HR), "0x8007000E")) {
            refusals++;
            assert_string_equal(field(&t, i, LEVEL), "0");
            assert_string_equal(field(&t, i, RESULT), "0x0");
        }
    }
    assert_int_equal(notifications, 0);
    assert_int_equal(refusals, 1);
    free(t.text);
}

static void an_escalation_reaches_the_file_at_once(void **state)
{
    HOSTMEM_CONFIG config;
    IHostMemoryManager *manager;
    struct trace_file t;
    void *p = NULL;
    (void)state;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.commitLimit = 4 * PAGE;
    config.processHeadroom = HOSTMEM_HEADROOM_NONE;
    config.retryTimeoutMs = HOSTMEM_RETRY_NONE;
    config.traceFile = trace_path;
    manager = new_manager(&config);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 8 * PAGE, MEM_RESERVE | MEM_COMMIT,
                                                     PAGE_READWRITE, eProcessCritical, &p), E_FAIL);
    /* Still alive: the row is on disk already. */
    read_trace(&t);
    assert_int_equal(t.count, 2);
    assert_string_equal(field(&t, 1, HR), "0x80004005");
    free(t.text);
    release_last((IUnknown *)manager);
}

static void environment_trace_overrides_the_config(void **state)
{
    HOSTMEM_CONFIG config;
    IHostMemoryManager *manager;
    struct trace_file t;
    (void)state;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.traceFile = L"Z:\\no\\such\\dir\\never.csv";
    assert_true(SetEnvironmentVariableW(L"HOSTMEM_TRACE", trace_path));
    manager = new_manager(&config);
    assert_true(SetEnvironmentVariableW(L"HOSTMEM_TRACE", NULL));
    release_last((IUnknown *)manager);
    read_trace(&t);
    assert_int_equal(t.count, 2);
    assert_string_equal(field(&t, 0, METHOD), "Start");
    assert_string_equal(field(&t, 0, BYTES), "0");
    assert_string_equal(field(&t, 1, METHOD), "Release");
    free(t.text);
}

static void a_trace_file_that_cannot_be_opened_leaves_hostmem_working(void **state)
{
    HOSTMEM_CONFIG config;
    IHostMemoryManager *manager;
    void *p = NULL;
    (void)state;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.traceFile = L"Z:\\no\\such\\dir\\never.csv";
    manager = new_manager(&config);
    assert_int_equal(os_call_count(OS_CREATE_FILE), 1);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
                                                     eTaskCritical, &p), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, p, 0, MEM_RELEASE), S_OK);
    release_last((IUnknown *)manager);
    assert_int_equal(os_call_count(OS_WRITE_FILE), 0);
}

static void failed_writes_leave_hostmem_working(void **state)
{
    HOSTMEM_CONFIG config;
    IHostMemoryManager *manager;
    void *p = NULL;
    (void)state;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.traceFile = trace_path;
    manager = new_manager(&config);
    fault_always(OS_WRITE_FILE, ERROR_DISK_FULL);
    SetLastError(0);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
                                                     eTaskCritical, &p), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, p, 0, MEM_RELEASE), S_OK);
    release_last((IUnknown *)manager);
    assert_true(os_call_count(OS_WRITE_FILE) >= 1);
}

static void without_a_trace_no_file_is_touched(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    void *p = NULL;
    (void)state;

    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
                                                     eTaskCritical, &p), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, p, 0, MEM_RELEASE), S_OK);
    release_last((IUnknown *)manager);
    assert_int_equal(os_call_count(OS_CREATE_FILE), 0);
    assert_int_equal(os_call_count(OS_WRITE_FILE), 0);
    assert_int_equal(os_call_count(OS_QUERY_PERFORMANCE_COUNTER), 0);
}

static void rows_from_many_threads_stay_whole_and_in_time_order(void **state);

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(every_call_is_one_row_with_the_books_after_it),
        T(notifications_and_refusals_are_traced),
        T(an_escalation_reaches_the_file_at_once),
        T(environment_trace_overrides_the_config),
        T(a_trace_file_that_cannot_be_opened_leaves_hostmem_working),
        T(failed_writes_leave_hostmem_working),
        T(without_a_trace_no_file_is_touched),
        T(rows_from_many_threads_stay_whole_and_in_time_order),
#undef T
    };
    return cmocka_run_group_tests_name("trace", tests, NULL, NULL);
}

/* --- many threads --- */

static IHostMemoryManager *shared;

static DWORD WINAPI churn(void *parameter)
{
    IHostMalloc *malloc = parameter;
    int i;

    for (i = 0; i < 2000; i++) {
        void *p = NULL;
        if (IHostMalloc_Alloc(malloc, 32, eTaskCritical, &p) == S_OK)
            IHostMalloc_Free(malloc, p);
    }
    return 0;
}

static void rows_from_many_threads_stay_whole_and_in_time_order(void **state)
{
    HOSTMEM_CONFIG config;
    IHostMalloc *malloc = NULL;
    HANDLE threads[4];
    struct trace_file t;
    unsigned long long last = 0;
    int i, rows;
    (void)state;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.traceFile = trace_path;
    shared = new_manager(&config);
    assert_int_equal(IHostMemoryManager_CreateMalloc(shared, MALLOC_THREADSAFE, &malloc), S_OK);
    for (i = 0; i < 4; i++)
        threads[i] = CreateThread(NULL, 0, churn, malloc, 0, NULL);
    assert_int_equal(WaitForMultipleObjects(4, threads, TRUE, 60000), WAIT_OBJECT_0);
    for (i = 0; i < 4; i++)
        CloseHandle(threads[i]);
    IHostMalloc_Release(malloc);
    release_last((IUnknown *)shared);

    /* 16,000 rows do not fit MAX_ROWS: check the raw text instead. */
    {
        HANDLE file = CreateFileW(trace_path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
        DWORD size = GetFileSize(file, NULL), got = 0;
        char *text = calloc(1, size + 1), *line, *next;

        assert_true(ReadFile(file, text, size, &got, NULL));
        CloseHandle(file);
        rows = 0;
        for (line = strchr(text, '\n') + 1; *line; line = next) {
            int commas = 0;
            char *c;
            next = strchr(line, '\n');
            assert_non_null(next);
            *next++ = 0;
            for (c = line; *c; c++)
                commas += *c == ',';
            assert_int_equal(commas, FIELDS - 1);
            assert_true(strtoull(line, NULL, 10) >= last);
            last = strtoull(line, NULL, 10);
            rows++;
        }
        assert_int_equal(rows, 1 + 1 + 4 * 2000 * 2 + 1); /* Start, CreateMalloc, the churn, Release */
        free(text);
    }
    (void)t;
}
