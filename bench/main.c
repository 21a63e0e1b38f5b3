/*
 * hostmem-bench: what hostmem costs a CLR host, measured against the raw Win32 call it
 * stands in front of, side by side in one process (BENCHMARKS.md has the figures).
 *
 *   hostmem-bench [--quick] [--json FILE] [--pairs LIST] [--costs] [--control]
 *
 * Every pair runs in rounds of hostmem and raw, each side first in every other round
 * (measure.c). Printed per pair: the median ns per operation of each side, the ratio
 * (median of the per-round ratios hostmem / raw) and its spread (the 95% confidence
 * interval's half-width, relative), the target and, in a full run, whether it was met.
 *
 * hostmem runs as a CLR host sets it up: a host control with a commit limit, the
 * manager from GetHostManager, a thread-safe malloc, a notification callback. Its
 * books are checked after every pair; the exit status is 1 when a call failed or the
 * books drifted, never because of a time (--quick is CI's smoke test).
 *
 * Linked with the static hostmem objects, not the DLL: they are the very objects the
 * DLL is made of, every timed call goes through the same COM vtables, and row 6 needs
 * the manager's private bookkeeping heap (host.c).
 *
 * This file: the options, the run modes, the machine's description, and the order of
 * the rows.
 */
#include "bench.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN64
const mode full_mode  = { "full", 2e6, 21, 4001, 4.0, { 1000, 10000, 100000 }, 10000, 16, 10000 };
const mode quick_mode = { "quick", 2e5, 5, 5, 0.05, { 100, 1000, 10000 }, 1000, 4, 1000 };
#else
/* A 32-bit process has 2 GiB of address space, and pair 2 holds two 256 MiB regions of
   it throughout: row 4 takes its live reservations from one free range, and under
   Wine 8 no free range of 8,000 x 72 KiB + 64 MiB is left (4,000 fit); and 256 MiB
   reservations are weighed two at a time, not 16 (4 GiB). */
const mode full_mode  = { "full", 2e6, 21, 4001, 4.0, { 250, 1000, 4000 }, 10000, 2, 10000 };
const mode quick_mode = { "quick", 2e5, 5, 5, 0.05, { 100, 1000, 4000 }, 1000, 2, 1000 };
#endif
const mode *run;
SIZE_T page_size;
static const char *only; /* --pairs: run only the rows whose number is listed */

/* Whether a row or group of rows is wanted: --pairs 1,3b,5 runs 1, 3b, 5a and 5b. */
BOOL wanted(const char *id)
{
    const char *token = only;

    while (token && *token) {
        size_t n = strcspn(token, ",");
        if (!strncmp(id, token, n < strlen(id) ? n : strlen(id)))
            return TRUE;
        token += n + (token[n] == ',');
    }
    return !only;
}

_Noreturn void fatal(const char *format, ...)
{
    va_list args;

    va_start(args, format);
    fprintf(stderr, "hostmem-bench: ");
    vfprintf(stderr, format, args);
    fprintf(stderr, "\n");
    va_end(args);
    exit(1);
}

void check_failed(HRESULT hr, const char *what)
{
    fatal("%s answered 0x%08lx (Win32 error %lu)", what, (unsigned long)hr, (unsigned long)GetLastError());
}

/* Under Wine the Linux root is drive Z:; the load says whether others had the CPU. */
static BOOL read_load(float *one)
{
    FILE *f = fopen("Z:\\proc\\loadavg", "r");
    BOOL ok;

    if (!f)
        return FALSE;
    ok = fscanf(f, "%f", one) == 1;
    fclose(f);
    return ok;
}

static void describe_machine(char *out, size_t size)
{
    const char *(CDECL *wine_get_version)(void) =
        (void *)GetProcAddress(GetModuleHandleA("ntdll.dll"), "wine_get_version");
    SYSTEM_INFO info;
    char load[64] = "";
    float one;

    GetSystemInfo(&info);
    if (wine_get_version && read_load(&one))
        snprintf(load, sizeof(load), ", load average %.2f at start", one);
    snprintf(out, size, "%s%s, %lu CPUs%s", wine_get_version ? "Wine " : "Windows",
             wine_get_version ? wine_get_version() : "", (unsigned long)info.dwNumberOfProcessors, load);
}

static void usage(void)
{
    fprintf(stderr, "usage: hostmem-bench [--quick] [--json FILE] [--pairs LIST] [--costs] [--control]\n"
                    "  --quick         a few hundred milliseconds in all: a smoke test, the figures mean little\n"
                    "  --json FILE     the same figures as JSON\n"
                    "  --pairs LIST    only these rows, e.g. --pairs 1,3b,5 (when profiling)\n"
                    "  --costs         also time the pieces of an IHostMalloc call (locks, counter, table)\n"
                    "  --control       also rows 0a, 0b: pairs 1 and 2 with raw kernel32 on both sides, and\n"
                    "                  0c, 0d: through a manager that keeps no books\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *json = NULL;
    char machine[160];
    LARGE_INTEGER frequency;
    LONGLONG started;
    BOOL costs = FALSE, control = FALSE;
    SYSTEM_INFO info;
    HOSTMEM_STATS books;
    vm_context vm;
    host h;
    int arg;

    run = &full_mode;
    for (arg = 1; arg < argc; arg++) {
        if (!strcmp(argv[arg], "--quick"))
            run = &quick_mode;
        else if (!strcmp(argv[arg], "--json") && arg + 1 < argc)
            json = argv[++arg];
        else if (!strcmp(argv[arg], "--pairs") && arg + 1 < argc)
            only = argv[++arg];
        else if (!strcmp(argv[arg], "--costs"))
            costs = TRUE;
        else if (!strcmp(argv[arg], "--control"))
            control = TRUE;
        else
            usage();
    }
    QueryPerformanceFrequency(&frequency);
    ns_per_tick = 1e9 / (double)frequency.QuadPart;
    started = ticks();
    GetSystemInfo(&info);
    page_size = info.dwPageSize;
    make_sequence();

    describe_machine(machine, sizeof(machine));
    printf("hostmem-bench (%s run): %s; commit limit %llu GiB, full accounting, no tracing\n", run->name, machine,
           (unsigned long long)(COMMIT_LIMIT / GIB));
    printf("ratio = median over rounds of hostmem/raw (rounds alternate, and so does who goes first); spread = 95%% CI of that median\n\n");
    print_table_header();

    host_start(&h);
    vm_start(&h, &vm);
    books = host_stats(&h);

    if (control) {
        control_pairs(&vm);
        forward_pairs(&vm);
    }
    vm_pairs(&h, &books, &vm);
    if (wanted("3"))
        malloc_pairs(&h, &books);
    if (wanted("4"))
        scaling_pairs(&h, &vm);
    query_pairs(&h, &books, &vm);

    vm_stop(&h, &vm);
    host_stop(&h);

    if (wanted("6"))
        weight_rows();
    if (costs)
        print_costs();
    {
        float one;
        char load[48] = "";

        if (read_load(&one))
            snprintf(load, sizeof(load), ", load average %.2f at the end", one);
        printf("\nbooks exact after every pair; %.2f s in all%s\n", (double)(ticks() - started) * ns_per_tick / 1e9,
               load);
    }

    if (json)
        write_json(json, machine);
    return 0;
}
