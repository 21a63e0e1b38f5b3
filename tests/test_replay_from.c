/*
 * hostmem-replay --from: a trace recorded by the synthetic replay, replayed under the
 * same limit, reproduces the recorded totals; under a smaller one it first fails at
 * the call the trace says must fail first. The trace reader names the line of
 * whatever is wrong, and refuses a trace of another format.
 */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/trace_format.h"
#include "replay_rows.h"

#define MIB (1024ull * 1024)
#define RECORDED_LIMIT (24 * MIB)

/* Runs a program beside this test with arguments; its exit code, its stdout and
   stderr together in out. */
static DWORD run(const char *program, const char *arguments, char *out, size_t size)
{
    SECURITY_ATTRIBUTES inherit = { sizeof(inherit), NULL, TRUE };
    char path[MAX_PATH], line[MAX_PATH * 3], *slash;
    STARTUPINFOA startup;
    PROCESS_INFORMATION process;
    HANDLE reader, writer;
    DWORD got, code = 0;
    size_t used = 0;

    assert_true(GetModuleFileNameA(NULL, path, sizeof(path)) > 0);
    slash = strrchr(path, '\\') ? strrchr(path, '\\') : strrchr(path, '/');
    assert_non_null(slash);
    snprintf(slash + 1, sizeof(path) - (size_t)(slash + 1 - path), "%s", program);
    snprintf(line, sizeof(line), "\"%s\" %s", path, arguments);
    assert_true(CreatePipe(&reader, &writer, &inherit, 0));
    SetHandleInformation(reader, HANDLE_FLAG_INHERIT, 0);
    memset(&startup, 0, sizeof(startup));
    startup.cb = sizeof(startup);
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    startup.hStdOutput = writer;
    startup.hStdError = writer;
    assert_true(CreateProcessA(NULL, line, NULL, NULL, TRUE, 0, NULL, NULL, &startup, &process));
    CloseHandle(writer);
    while (used + 1 < size && ReadFile(reader, out + used, (DWORD)(size - used - 1), &got, NULL) && got)
        used += got;
    out[used] = 0;
    CloseHandle(reader);
    assert_int_equal(WaitForSingleObject(process.hProcess, 120000), WAIT_OBJECT_0);
    GetExitCodeProcess(process.hProcess, &code);
    CloseHandle(process.hProcess);
    CloseHandle(process.hThread);
    return code;
}

/* The two numbers after `label` in a summary line ("  label   recorded  replayed"). */
static void two_numbers(const char *out, const char *label, double *recorded, double *replayed)
{
    const char *at = strstr(out, label);
    char *end;

    assert_non_null(at);
    at += strlen(label);
    *recorded = strtod(at, &end);
    assert_true(end != at);
    at = end;
    if (!strncmp(at, " MiB", 4))
        at += 4;
    *replayed = strtod(at, &end);
    assert_true(end != at);
}

static char output[1 << 16];

static const char *record(void)
{
    static int recorded;
    const char *trace = "replay_from_recorded.csv";

    if (!recorded) {
        /* One managed thread: every commit comes from one thread, so the order of the
           file is the order the books went through. */
        assert_int_equal(run("hostmem-replay.exe", "--limit 24M --threads 1 --ops 3000 --seed 5 --quiet "
                                                   "--trace replay_from_recorded.csv", output, sizeof(output)), 0);
        assert_non_null(strstr(output, "agrees with the statistics"));
        recorded = 1;
    }
    return trace;
}

/* The IHostMalloc heap is inside the limit (docs/heap.md), and which of its arenas a
   block lands in follows the calling thread's stack, so its slabs are not laid out the
   same way in two processes. Under the same limit the replay reproduces exactly what
   does not hinge on that layout (the levels that never failed, escalations, nothing
   skipped), and the rest as the same kind of run: task-level refusals in both, each
   peak inside the limit and its headroom (docs/observing.md, "What a replay
   reproduces"). */
static void the_same_limit_reproduces_the_recorded_totals(void **state)
{
    static const char *const exact[] = { "failures at eAppDomainCritical", "failures at eProcessCritical",
                                         "escalations (E_FAIL)" };
    char arguments[256];
    double recorded, replayed, failures = 0;
    unsigned i;
    (void)state;

    snprintf(arguments, sizeof(arguments), "--from %s --fast", record());
    assert_int_equal(run("hostmem-replay.exe", arguments, output, sizeof(output)), 0);
    for (i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
        two_numbers(output, exact[i], &recorded, &replayed);
        assert_true(recorded == replayed);
    }
    two_numbers(output, "failures at eTaskCritical", &recorded, &replayed);
    assert_true(recorded > 0 && replayed > 0);
    failures = recorded;
    two_numbers(output, "peak committed", &recorded, &replayed);
    assert_true(recorded <= 24 * 1.1 && replayed <= 24 * 1.1);
    assert_true(recorded >= 24 * 0.9 && replayed >= 24 * 0.9);
    two_numbers(output, "commit limit", &recorded, &replayed);
    assert_true(recorded == 24 && replayed == 24);
    assert_true(failures > 0); /* the recording did meet its limit */
    assert_non_null(strstr(output, "calls skipped: their allocation failed                0"));
    assert_non_null(strstr(output, "calls skipped: not hostmem's memory                 0"));
}

/* The first row at which the recorded books rose above `limit` plus the row's level
   headroom (5% and 10%, hostmem's defaults): the replay's first failure. */
static unsigned long first_row_over(const char *trace, unsigned long long limit)
{
    static const unsigned percent[3] = { 0, 5, 10 };
    char error[256];
    replay_rows *rows = replay_rows_open(trace, error, sizeof(error));
    replay_row row;
    unsigned long line = 0;

    assert_non_null(rows);
    while (replay_rows_next(rows, &row, error, sizeof(error)) == 1)
        if (!strcmp(row.method, "VirtualAlloc") && row.hresult == 0 &&
            row.committed > limit + limit / 100 * percent[row.level]) {
            line = row.line;
            break;
        }
    replay_rows_close(rows);
    return line;
}

static void a_smaller_limit_fails_first_where_the_trace_says(void **state)
{
    char arguments[256];
    double recorded, replayed;
    unsigned long line, lower, upper;
    const char *at;
    unsigned long first = 0;
    int i;
    (void)state;

    snprintf(arguments, sizeof(arguments), "--from %s --fast --limit 12M --chart replay_from_12M.svg", record());
    assert_int_equal(run("hostmem-replay.exe", arguments, output, sizeof(output)), 0);
    two_numbers(output, "failures at eTaskCritical", &recorded, &replayed);
    assert_true(replayed > recorded);
    two_numbers(output, "peak committed", &recorded, &replayed);
    assert_true(replayed < recorded);
    assert_true(replayed <= 12 * 1.1); /* the limit and the process headroom */

    line = first_row_over(record(), 12 * MIB);
    assert_true(line > 0);
    /* The earliest of the three "first replayed failure" lines is that row, give or take
       where the heap's slabs fall (docs/observing.md, "What a replay reproduces"): a
       row whose recorded charge is within 1 MiB of passing the limit. */
    lower = first_row_over(record(), 11 * MIB);
    upper = first_row_over(record(), 13 * MIB);
    assert_true(lower > 0 && lower <= line && (upper == 0 || line <= upper));
    for (i = 0, at = output; (at = strstr(at, "first replayed failure, ")); i++, at++) {
        const char *l = strstr(at, " line ");
        if (l && l < strchr(at, '\n')) {
            unsigned long n = strtoul(l + 6, NULL, 10);
            if (!first || n < first)
                first = n;
        }
    }
    assert_int_equal(i, 3);
    assert_true(first >= lower && (upper == 0 || first <= upper));
    assert_non_null(strstr(output, "chart replay_from_12M.svg: written"));
}

/* --- the reader --- */

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return 0;
}

/* The message for the first bad row, or "" when every row reads. */
static const char *read_all(const char *text)
{
    static char error[512];
    replay_rows *rows;
    replay_row row;
    int got;

    write_file("replay_from_rows.csv", text);
    rows = replay_rows_open("replay_from_rows.csv", error, sizeof(error));
    assert_non_null(rows);
    while ((got = replay_rows_next(rows, &row, error, sizeof(error))) == 1)
        ;
    replay_rows_close(rows);
    return got < 0 ? error : "";
}

#define HEADER HM_TRACE_HEADER "\n"
#define START  "0,7,Start,,,1048576,90,60,,,0,0\n"

/* The messages are the shared parser's (src/core/trace_format.c), as hostmem-report
   prints them too. */
static void the_reader_names_the_line_of_what_is_wrong(void **state)
{
    (void)state;

    assert_string_equal(read_all(HEADER START "5,7,VirtualAlloc,0,0x0,65536,0x2000,0x4,0x00000000,0x10000,0,0\n"), "");
    assert_string_equal(read_all(HEADER START "5,7,VirtualAlloc,0,0x0,65536\n"), "3: expected 12 fields, found 6");
    assert_string_equal(read_all(HEADER START "5,7,VirtualAlloc,3,0x0,65536,0x2000,0x4,0x00000000,0x10000,0,0\n"),
                        "3: level: \"3\" is not 0, 1, 2 or empty");
    assert_string_equal(read_all(HEADER START "5,7,Malloc,,,,,,,,0,0\n"), "3: method: unknown method \"Malloc\"");
    assert_string_equal(read_all(HEADER START "9,7,GetMemoryLoad,,,,,,0x00000000,,0,0\n"
                                              "5,7,GetMemoryLoad,,,,,,0x00000000,,0,0\n"),
                        "4: time_us 5 goes back in time (line 3 has 9)");
    assert_string_equal(read_all(HEADER START "5,7,VirtualFree,,65536,0,0x8000,,0x00000000,,0,0\n"),
                        "3: address: \"65536\" is neither empty nor hex (0x...)");
    assert_string_equal(read_all(HEADER START START), "3: a second Start row: one trace per file");
    assert_string_equal(read_all(HEADER "5,7,GetMemoryLoad,,,,,,0x00000000,,0,0\n"),
                        "2: expected the Start row first, found method \"GetMemoryLoad\"");
    assert_string_equal(read_all(""), "1: the trace is empty: expected the header " HM_TRACE_HEADER);
    assert_string_equal(read_all(HEADER), "2: the Start row is missing: the trace ends after its header");
    /* An older format: fewer columns in the header. */
    assert_non_null(strstr(read_all("time_us,thread,method,level,address,size,flags,protect,hresult,result,committed\n"
                                    START), "1: expected the header " HM_TRACE_HEADER));
}

static void a_malformed_trace_is_refused_with_file_and_line(void **state)
{
    (void)state;

    write_file("replay_from_bad.csv", HEADER START "5,7,VirtualAlloc,0,0x0,65536\n");
    assert_int_equal(run("hostmem-replay.exe", "--from replay_from_bad.csv --fast", output, sizeof(output)), 3);
    assert_non_null(strstr(output, "hostmem-replay: replay_from_bad.csv:3: expected 12 fields, found 6"));
    assert_int_equal(run("hostmem-replay.exe", "--from no-such-trace.csv", output, sizeof(output)), 1);
    assert_non_null(strstr(output, "cannot open no-such-trace.csv"));
    assert_int_equal(run("hostmem-replay.exe", "--from replay_from_bad.csv --threads 2", output, sizeof(output)), 2);
    assert_non_null(strstr(output, "--threads does not go with --from"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_same_limit_reproduces_the_recorded_totals),
        cmocka_unit_test(a_smaller_limit_fails_first_where_the_trace_says),
        cmocka_unit_test(the_reader_names_the_line_of_what_is_wrong),
        cmocka_unit_test(a_malformed_trace_is_refused_with_file_and_line),
    };
    return cmocka_run_group_tests_name("replay_from", tests, NULL, NULL);
}
