/*
 * The published statistics: read from another process (a child host publishing known
 * values), never torn under a writer that does not stop, not writable through the
 * name, switched on by the flag or HOSTMEM_PUBLISH=1; and hostmem-stat --once --json
 * read back.
 */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "publish_layout.h"

#define MIB ((ULONGLONG)1 << 20)

static void section_name(WCHAR *name, DWORD pid, unsigned n)
{
    swprintf(name, HM_PUBLISH_NAME_CHARS, HM_PUBLISH_NAME, (unsigned long)pid, n);
}

static HANDLE open_section(DWORD pid, unsigned n, DWORD access)
{
    WCHAR name[HM_PUBLISH_NAME_CHARS];

    section_name(name, pid, n);
    return OpenFileMappingW(access, FALSE, name);
}

/* The snapshot of manager n of pid; FALSE when there is none. */
static BOOL read_section(DWORD pid, unsigned n, hm_published_values *values)
{
    HANDLE mapping = open_section(pid, n, FILE_MAP_READ);
    const hm_published *shared;
    BOOL ok = FALSE;

    if (!mapping)
        return FALSE;
    if ((shared = MapViewOfFile(mapping, FILE_MAP_READ, 0, 0, sizeof(*shared)))) {
        ok = shared->pid == pid && shared->manager == n && hm_published_read(shared, values, 100000);
        UnmapViewOfFile(shared);
    }
    CloseHandle(mapping);
    return ok;
}

/* A program beside this test's executable. */
static void sibling(char *path, size_t size, const char *program)
{
    char *slash;

    assert_true(GetModuleFileNameA(NULL, path, (DWORD)size) > 0);
    slash = strrchr(path, '\\');
    if (!slash)
        slash = strrchr(path, '/');
    assert_non_null(slash);
    snprintf(slash + 1, size - (size_t)(slash + 1 - path), "%s", program);
}

typedef struct child {
    PROCESS_INFORMATION process;
    HANDLE to_child, from_child;
} child;

static void start(child *c, const char *command_line, BOOL with_stdin)
{
    SECURITY_ATTRIBUTES inherit = { sizeof(inherit), NULL, TRUE };
    STARTUPINFOA startup;
    HANDLE child_in = NULL, child_out = NULL;
    char line[MAX_PATH * 2];

    memset(c, 0, sizeof(*c));
    assert_true(CreatePipe(&c->from_child, &child_out, &inherit, 0));
    SetHandleInformation(c->from_child, HANDLE_FLAG_INHERIT, 0);
    if (with_stdin) {
        assert_true(CreatePipe(&child_in, &c->to_child, &inherit, 0));
        SetHandleInformation(c->to_child, HANDLE_FLAG_INHERIT, 0);
    }
    memset(&startup, 0, sizeof(startup));
    startup.cb = sizeof(startup);
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = child_in ? child_in : GetStdHandle(STD_INPUT_HANDLE);
    startup.hStdOutput = child_out;
    startup.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    snprintf(line, sizeof(line), "%s", command_line);
    assert_true(CreateProcessA(NULL, line, NULL, NULL, TRUE, 0, NULL, NULL, &startup, &c->process));
    CloseHandle(child_out);
    if (child_in)
        CloseHandle(child_in);
}

/* Everything the child writes until it closes its output (or `until` appears). */
static size_t read_output(child *c, char *out, size_t size, const char *until)
{
    size_t used = 0;
    DWORD got;

    while (used + 1 < size && ReadFile(c->from_child, out + used, (DWORD)(size - used - 1), &got, NULL) && got) {
        used += got;
        out[used] = 0;
        if (until && strstr(out, until))
            break;
    }
    out[used] = 0;
    return used;
}

static DWORD finish(child *c)
{
    DWORD code = 0;

    if (c->to_child)
        CloseHandle(c->to_child);
    assert_int_equal(WaitForSingleObject(c->process.hProcess, 60000), WAIT_OBJECT_0);
    assert_true(GetExitCodeProcess(c->process.hProcess, &code));
    CloseHandle(c->from_child);
    CloseHandle(c->process.hProcess);
    CloseHandle(c->process.hThread);
    return code;
}

/* The number after "key": in a JSON line. */
static ULONGLONG json_number(const char *json, const char *key)
{
    char pattern[64];
    const char *at;

    snprintf(pattern, sizeof(pattern), "\"%s\":", key);
    at = strstr(json, pattern);
    assert_non_null(at);
    return strtoull(at + strlen(pattern), NULL, 10);
}

/* The n-th number of "key":[a,b,c]. */
static ULONGLONG json_element(const char *json, const char *key, int n)
{
    char pattern[64];
    const char *at;
    char *end;
    ULONGLONG value = 0;
    int i;

    snprintf(pattern, sizeof(pattern), "\"%s\":[", key);
    at = strstr(json, pattern);
    assert_non_null(at);
    at += strlen(pattern);
    for (i = 0; i <= n; i++) {
        value = strtoull(at, &end, 10);
        assert_true(end != at);
        at = end + 1;
    }
    return value;
}

static BOOL has_the_known_values(const hm_published_values *v)
{
    return v->committedBytes == 1 * MIB && v->mallocBytes == 1000 && v->failures[0] == 1 &&
           v->mappedBytes == 64 * 1024;
}

static void a_child_publishes_known_values_read_from_outside(void **state)
{
    char program[MAX_PATH], command[MAX_PATH * 2], output[8192], *second_line;
    hm_published_values v;
    child host, stat;
    HANDLE mapping;
    void *view;
    unsigned tries;
    (void)state;

    sibling(program, sizeof(program), "hostmem-publish-child.exe");
    start(&host, program, TRUE);
    read_output(&host, output, sizeof(output), "ready");
    assert_non_null(strstr(output, "ready"));

    /* The publisher writes within a few milliseconds; no bound on it is asserted. */
    for (tries = 0; tries < 2000; tries++) {
        if (read_section(host.process.dwProcessId, 1, &v) && has_the_known_values(&v))
            break;
        Sleep(10);
    }
    assert_true(has_the_known_values(&v));
    assert_int_equal(v.peakCommittedBytes, 4 * MIB);
    assert_int_equal(v.reservedBytes, 16 * MIB);
    assert_int_equal(v.failures[1], 0);
    assert_int_equal(v.failures[2], 0);
    assert_int_equal(v.escalations, 0);
    assert_int_equal(v.commitLimit, 8 * MIB);
    assert_int_equal(v.escalatingLevels, 1u << eProcessCritical); /* the default policy */
    assert_true(v.updates >= 1);
    /* The second manager publishes under the next number. */
    assert_true(read_section(host.process.dwProcessId, 2, &v));
    assert_int_equal(v.committedBytes, 0);
    assert_int_equal(v.commitLimit, 0);

    /* Readable by name, never writable by name. */
    assert_null(open_section(host.process.dwProcessId, 1, FILE_MAP_WRITE));
    assert_int_equal(GetLastError(), ERROR_ACCESS_DENIED);
    assert_null(open_section(host.process.dwProcessId, 1, FILE_MAP_ALL_ACCESS));
    mapping = open_section(host.process.dwProcessId, 1, FILE_MAP_READ);
    assert_non_null(mapping);
    assert_null(MapViewOfFile(mapping, FILE_MAP_WRITE, 0, 0, 0));
    view = MapViewOfFile(mapping, FILE_MAP_READ, 0, 0, 0);
    assert_non_null(view);
    UnmapViewOfFile(view);
    CloseHandle(mapping);

    /* hostmem-stat PID --once --json: one object per manager, the same values. */
    sibling(program, sizeof(program), "hostmem-stat.exe");
    snprintf(command, sizeof(command), "\"%s\" %lu --once --json", program, (unsigned long)host.process.dwProcessId);
    start(&stat, command, FALSE);
    read_output(&stat, output, sizeof(output), NULL);
    assert_int_equal(finish(&stat), 0);
    second_line = strchr(output, '\n');
    assert_non_null(second_line);
    *second_line++ = 0;
    assert_int_equal(json_number(output, "pid"), host.process.dwProcessId);
    assert_int_equal(json_number(output, "manager"), 1);
    assert_int_equal(json_number(output, "committedBytes"), 1 * MIB);
    assert_int_equal(json_number(output, "peakCommittedBytes"), 4 * MIB);
    assert_int_equal(json_number(output, "reservedBytes"), 16 * MIB);
    assert_int_equal(json_number(output, "mallocBytes"), 1000);
    assert_int_equal(json_number(output, "mappedBytes"), 64 * 1024);
    assert_int_equal(json_element(output, "failures", 0), 1);
    assert_int_equal(json_element(output, "failures", 1), 0);
    assert_int_equal(json_element(output, "failures", 2), 0);
    assert_int_equal(json_number(output, "escalations"), 0);
    assert_int_equal(json_element(output, "notifications", 0), 0);
    assert_int_equal(json_number(second_line, "manager"), 2);
    assert_int_equal(json_number(second_line, "committedBytes"), 0);

    /* Without a PID: every process (a Toolhelp32 snapshot), the child among them. */
    snprintf(command, sizeof(command), "\"%s\" --once --json", program);
    start(&stat, command, FALSE);
    read_output(&stat, output, sizeof(output), NULL);
    assert_int_equal(finish(&stat), 0);
    snprintf(command, sizeof(command), "{\"pid\":%lu,\"manager\":1,\"committedBytes\":1048576,",
             (unsigned long)host.process.dwProcessId);
    assert_non_null(strstr(output, command));

    assert_int_equal(finish(&host), 0);
}

static void hostmem_stat_of_a_process_without_managers_exits_3(void **state)
{
    char program[MAX_PATH], command[MAX_PATH * 2], output[4096];
    child stat;
    (void)state;

    /* This test process publishes nothing at this point. */
    sibling(program, sizeof(program), "hostmem-stat.exe");
    snprintf(command, sizeof(command), "\"%s\" %lu --once", program, (unsigned long)GetCurrentProcessId());
    start(&stat, command, FALSE);
    read_output(&stat, output, sizeof(output), NULL);
    assert_int_equal(finish(&stat), 3);
    assert_null(strstr(output, "committed"));
}

/* --- the sequence counter --- */

typedef struct writer_loop {
    hm_published *shared;
    volatile LONG stop;
    ULONGLONG written;
} writer_loop;

static DWORD WINAPI write_forever(void *parameter)
{
    writer_loop *w = parameter;
    hm_published_values values;
    ULONGLONG k = 0;

    while (!w->stop) {
        k++;
        /* Every word of snapshot k reads k: a torn copy mixes two k. */
        for (size_t i = 0; i < sizeof(values) / sizeof(uint64_t); i++)
            ((uint64_t *)&values)[i] = k;
        hm_published_write(w->shared, &values);
    }
    w->written = k;
    return 0;
}

static void reads_are_never_torn_under_a_writer_loop(void **state)
{
    HANDLE mapping = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, HM_PUBLISH_BYTES, NULL);
    hm_published *writer_view, *reader_view;
    writer_loop w;
    HANDLE thread;
    unsigned reads = 0, fresh = 0, i;
    ULONGLONG last = 0;
    (void)state;

    assert_non_null(mapping);
    /* Two views of one section: the reader's addresses are not the writer's, as in
       another process. */
    writer_view = MapViewOfFile(mapping, FILE_MAP_WRITE, 0, 0, 0);
    reader_view = MapViewOfFile(mapping, FILE_MAP_READ, 0, 0, 0);
    assert_non_null(writer_view);
    assert_non_null(reader_view);
    writer_view->version = HM_PUBLISH_VERSION;
    writer_view->size = sizeof(hm_published);
    writer_view->magic = HM_PUBLISH_MAGIC;
    memset(&w, 0, sizeof(w));
    w.shared = writer_view;
    thread = CreateThread(NULL, 0, write_forever, &w, 0, NULL);
    assert_non_null(thread);

    while (reads < 20000 || fresh < 100) {
        hm_published_values v;

        if (!hm_published_read(reader_view, &v, 1000))
            continue;
        reads++;
        for (i = 1; i < sizeof(v) / sizeof(uint64_t); i++)
            assert_int_equal(((uint64_t *)&v)[i], ((uint64_t *)&v)[0]);
        assert_true(v.committedBytes >= last); /* never an older snapshot after a newer one */
        if (v.committedBytes != last)
            fresh++;
        last = v.committedBytes;
        if (reads > 5000000)
            break;
    }
    w.stop = 1;
    WaitForSingleObject(thread, INFINITE);
    CloseHandle(thread);
    assert_true(w.written >= last);
    assert_true(fresh > 1);
    UnmapViewOfFile(reader_view);
    UnmapViewOfFile(writer_view);
    CloseHandle(mapping);
}

static void a_section_of_another_kind_is_not_read(void **state)
{
    hm_published shared;
    hm_published_values v;
    (void)state;

    memset(&shared, 0, sizeof(shared));
    assert_false(hm_published_read(&shared, &v, 10));
    shared.magic = HM_PUBLISH_MAGIC;
    shared.version = HM_PUBLISH_VERSION + 1; /* a newer layout */
    shared.size = sizeof(shared);
    assert_false(hm_published_read(&shared, &v, 10));
    shared.version = HM_PUBLISH_VERSION;
    shared.sequence = 1; /* a writer that never finishes */
    assert_false(hm_published_read(&shared, &v, 10));
    shared.sequence = 2;
    assert_true(hm_published_read(&shared, &v, 10));
}

/* --- switching it on --- */

static BOOL published(unsigned n)
{
    HANDLE mapping = open_section(GetCurrentProcessId(), n, FILE_MAP_READ);

    if (!mapping)
        return FALSE;
    CloseHandle(mapping);
    return TRUE;
}

static void the_flag_publishes_under_the_lowest_free_number(void **state)
{
    HOSTMEM_CONFIG config;
    IHostMemoryManager *a, *b, *c, *quiet;
    hm_published_values v;
    void *p = NULL;
    (void)state;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    quiet = new_manager(&config);
    assert_false(published(1));
    config.flags = HOSTMEM_FLAG_PUBLISH_STATS;
    a = new_manager(&config);
    b = new_manager(&config);
    assert_true(published(1));
    assert_true(published(2));
    assert_int_equal(IHostMemoryManager_VirtualAlloc(b, NULL, 1 << 20, MEM_RESERVE, PAGE_READWRITE, eTaskCritical, &p),
                     S_OK);
    /* The publisher catches up (no bound on how fast is asserted). */
    while (!read_section(GetCurrentProcessId(), 2, &v) || v.reservedBytes != 1 << 20)
        Sleep(5);
    release_last((IUnknown *)a);
    assert_false(published(1)); /* gone with its manager */
    c = new_manager(&config);
    assert_true(published(1));  /* the free number again */
    assert_false(published(3));
    assert_int_equal(IHostMemoryManager_VirtualFree(b, p, 0, MEM_RELEASE), S_OK);
    release_last((IUnknown *)b);
    release_last((IUnknown *)c);
    release_last((IUnknown *)quiet);
    assert_false(published(1));
    assert_false(published(2));
}

static void the_environment_publishes_and_a_cut_flag_does_not(void **state)
{
    HOSTMEM_CONFIG config;
    IHostMemoryManager *manager = NULL;
    (void)state;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    SetEnvironmentVariableW(L"HOSTMEM_PUBLISH", L"1");
    manager = new_manager(&config);
    SetEnvironmentVariableW(L"HOSTMEM_PUBLISH", NULL);
    assert_true(published(1));
    release_last((IUnknown *)manager);

    SetEnvironmentVariableW(L"HOSTMEM_PUBLISH", L"0");
    manager = new_manager(&config);
    SetEnvironmentVariableW(L"HOSTMEM_PUBLISH", NULL);
    assert_false(published(1));
    release_last((IUnknown *)manager);

    /* flags lies beyond cbSize: absent. */
    config.flags = HOSTMEM_FLAG_PUBLISH_STATS;
    config.cbSize = offsetof(HOSTMEM_CONFIG, flags);
    manager = new_manager(&config);
    assert_false(published(1));
    release_last((IUnknown *)manager);

    config.cbSize = sizeof(config);
    config.flags = 0x80000000u;
    assert_int_equal(HostMemCreateMemoryManager(&config, &manager), E_INVALIDARG);
    assert_null(manager);
}

static HANDLE WINAPI refuse_mapping(HANDLE file, LPSECURITY_ATTRIBUTES security, DWORD protect, DWORD high, DWORD low,
                                    LPCWSTR name)
{
    (void)file; (void)security; (void)protect; (void)high; (void)low; (void)name;
    SetLastError(ERROR_NOT_ENOUGH_MEMORY);
    return NULL;
}

static void a_refused_section_leaves_the_manager_working(void **state)
{
    HOSTMEM_CONFIG config;
    IHostMemoryManager *manager;
    void *p = NULL;
    (void)state;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.flags = HOSTMEM_FLAG_PUBLISH_STATS;
    hm_os.CreateFileMappingW = refuse_mapping;
    manager = new_manager(&config);
    hm_os.CreateFileMappingW = CreateFileMappingW;
    assert_false(published(1));
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 65536, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
                                                     eTaskCritical, &p), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, p, 0, MEM_RELEASE), S_OK);
    release_last((IUnknown *)manager);
    /* Every other step of the publisher refused in turn. */
    for (unsigned n = 1; n < 40; n++) {
        fault_nth_call(n, ERROR_NOT_ENOUGH_MEMORY);
        manager = NULL;
        if (HostMemCreateMemoryManager(&config, &manager) == S_OK)
            release_last((IUnknown *)manager);
        fault_clear();
    }
    /* Whatever step failed, no publisher thread outlives its manager. */
    assert_true(os_thread_count() > 0);
    assert_true(os_threads_ended(10000));
}

/* Each step of publishing refused by the OS in turn (these entries of the OS table
   are not among test_support's counted ones, so they are replaced here directly). */
static BOOL WINAPI refuse_token(HANDLE p, DWORD a, PHANDLE t) { (void)p; (void)a; (void)t; SetLastError(ERROR_ACCESS_DENIED); return FALSE; }
static BOOL WINAPI refuse_token_info(HANDLE t, TOKEN_INFORMATION_CLASS c, LPVOID b, DWORD s, PDWORD n)
{ (void)t; (void)c; (void)b; (void)s; (void)n; SetLastError(ERROR_INSUFFICIENT_BUFFER); return FALSE; }
static unsigned sid_calls, sid_refused_at;
static BOOL WINAPI refuse_sid(WELL_KNOWN_SID_TYPE k, PSID d, PSID sid, DWORD *size)
{
    if (++sid_calls == sid_refused_at) {
        SetLastError(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    return CreateWellKnownSid(k, d, sid, size);
}
static BOOL WINAPI refuse_acl(PACL a, DWORD s, DWORD r) { (void)a; (void)s; (void)r; SetLastError(ERROR_INVALID_PARAMETER); return FALSE; }
static unsigned ace_calls, ace_refused_at;
static BOOL WINAPI refuse_ace(PACL a, DWORD r, DWORD m, PSID sid)
{
    if (++ace_calls == ace_refused_at) {
        SetLastError(ERROR_ALLOTTED_SPACE_EXCEEDED);
        return FALSE;
    }
    return AddAccessAllowedAce(a, r, m, sid);
}
static BOOL WINAPI refuse_descriptor(PSECURITY_DESCRIPTOR d, DWORD r) { (void)d; (void)r; SetLastError(ERROR_INVALID_PARAMETER); return FALSE; }
static BOOL WINAPI refuse_dacl(PSECURITY_DESCRIPTOR d, BOOL p, PACL a, BOOL f) { (void)d; (void)p; (void)a; (void)f; SetLastError(ERROR_INVALID_PARAMETER); return FALSE; }
static LPVOID WINAPI refuse_view(HANDLE m, DWORD a, DWORD h, DWORD l, SIZE_T b)
{ (void)m; (void)a; (void)h; (void)l; (void)b; SetLastError(ERROR_NOT_ENOUGH_MEMORY); return NULL; }

static void expect_unpublished_and_working_(int line)
{
    HOSTMEM_CONFIG config;
    IHostMemoryManager *manager;
    void *p = NULL;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.flags = HOSTMEM_FLAG_PUBLISH_STATS;
    manager = new_manager(&config);
    hm_os_restore();
    if (published(1))
        fail_msg("published although the step refused at line %d", line);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 65536, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
                                                     eTaskCritical, &p), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, p, 0, MEM_RELEASE), S_OK);
    release_last((IUnknown *)manager);
}

#define expect_unpublished_and_working() expect_unpublished_and_working_(__LINE__)

static void every_refused_security_step_leaves_the_manager_unpublished(void **state)
{
    unsigned i;
    (void)state;

    hm_os.OpenProcessToken = refuse_token;
    expect_unpublished_and_working();
    hm_os.GetTokenInformation = refuse_token_info;
    expect_unpublished_and_working();
    sid_calls = 0;
    sid_refused_at = 1; /* Administrators */
    hm_os.CreateWellKnownSid = refuse_sid;
    expect_unpublished_and_working();
    hm_os.InitializeAcl = refuse_acl;
    expect_unpublished_and_working();
    for (i = 1; i <= 3; i++) { /* the user's entry, the Administrators', OWNER RIGHTS' */
        ace_calls = 0;
        ace_refused_at = i;
        hm_os.AddAccessAllowedAce = refuse_ace;
        expect_unpublished_and_working();
    }
    hm_os.InitializeSecurityDescriptor = refuse_descriptor;
    expect_unpublished_and_working();
    hm_os.SetSecurityDescriptorDacl = refuse_dacl;
    expect_unpublished_and_working();
    hm_os.MapViewOfFile = refuse_view;
    expect_unpublished_and_working();
}

static void without_owner_rights_the_section_is_still_read_only(void **state)
{
    HOSTMEM_CONFIG config;
    IHostMemoryManager *manager;
    (void)state;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.flags = HOSTMEM_FLAG_PUBLISH_STATS;
    sid_calls = 0;
    sid_refused_at = 2; /* an OS that does not know OWNER RIGHTS */
    hm_os.CreateWellKnownSid = refuse_sid;
    manager = new_manager(&config);
    hm_os_restore();
    assert_true(published(1));
    assert_null(open_section(GetCurrentProcessId(), 1, FILE_MAP_WRITE));
    assert_int_equal(GetLastError(), ERROR_ACCESS_DENIED);
    release_last((IUnknown *)manager);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hostmem_stat_of_a_process_without_managers_exits_3),
        cmocka_unit_test(a_child_publishes_known_values_read_from_outside),
        cmocka_unit_test(reads_are_never_torn_under_a_writer_loop),
        cmocka_unit_test(a_section_of_another_kind_is_not_read),
        cmocka_unit_test(the_flag_publishes_under_the_lowest_free_number),
        cmocka_unit_test(the_environment_publishes_and_a_cut_flag_does_not),
        cmocka_unit_test(every_refused_security_step_leaves_the_manager_unpublished),
        cmocka_unit_test(without_owner_rights_the_section_is_still_read_only),
        /* Last: an injected CloseHandle failure leaves a section's handle open for good. */
        cmocka_unit_test_setup_teardown(a_refused_section_leaves_the_manager_working, fault_setup, fault_teardown),
    };
    return cmocka_run_group_tests_name("publish", tests, NULL, NULL);
}
