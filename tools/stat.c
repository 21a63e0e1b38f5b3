/*
 * hostmem-stat: watch a running host from another console. Lists the hostmem managers
 * that publish their statistics (HOSTMEM_FLAG_PUBLISH_STATS or HOSTMEM_PUBLISH=1) in
 * one process, or in every process, and shows them refreshing in place: committed
 * against the limit as a bar, peak, malloc, reserved, mapped, the notification state,
 * failures per level, escalations and domain unloads. --json prints one object per
 * manager per refresh instead.
 *
 * It opens each section read-only (Local\hostmem-<pid>-<n>, src/publish_layout.h) and
 * copies it with the sequence-counter protocol, so it never shows a torn snapshot.
 *
 * Exit status: 0; 2 usage; 3 nothing published (by that PID, or by any process).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <tlhelp32.h>

#include "publish_layout.h"

#define MAX_MANAGERS 256
/* Names are taken lowest-first, so one is free only where a manager went away: a
   run of this many free names ends the probe. */
#define PROBE_GAP    16
#define BAR_WIDTH    30
#define LINES_PER_MANAGER 5 /* print_table's */
#define MiB          (1024.0 * 1024.0)

struct options {
    DWORD    pid;       /* 0: every process */
    BOOL     once;
    BOOL     json;
    unsigned interval;  /* ms */
};

typedef struct found {
    DWORD               pid;
    unsigned            manager;
    hm_published_values values;
} found;

static void usage(FILE *out)
{
    fprintf(out, "usage: hostmem-stat [PID] [--once] [--json] [--interval MS]\n"
                 "  PID            the process to watch (default: every process)\n"
                 "  --once         print once and exit\n"
                 "  --json         one JSON object per manager per refresh\n"
                 "  --interval MS  refresh period, 10..60000                     default 500\n"
                 "exit status: 0; 2 usage; 3 no hostmem manager published\n");
}

static BOOL parse_options(int argc, char **argv, struct options *o)
{
    int i;

    memset(o, 0, sizeof(*o));
    o->interval = 500;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *end;

        if (!strcmp(a, "--once")) {
            o->once = TRUE;
        } else if (!strcmp(a, "--json")) {
            o->json = TRUE;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--interval")) {
            unsigned long ms;
            if (i + 1 >= argc) {
                fprintf(stderr, "hostmem-stat: --interval needs a value\n");
                return FALSE;
            }
            ms = strtoul(argv[++i], &end, 10);
            if (*end || ms < 10 || ms > 60000) {
                fprintf(stderr, "hostmem-stat: --interval takes 10..60000 milliseconds\n");
                return FALSE;
            }
            o->interval = (unsigned)ms;
        } else if (a[0] >= '0' && a[0] <= '9' && !o->pid) {
            unsigned long pid = strtoul(a, &end, 10);
            if (*end || !pid || pid > 0xFFFFFFFFul) {
                fprintf(stderr, "hostmem-stat: %s is not a process id\n", a);
                return FALSE;
            }
            o->pid = (DWORD)pid;
        } else {
            fprintf(stderr, "hostmem-stat: unknown argument %s\n", a);
            return FALSE;
        }
    }
    return TRUE;
}

/* One manager's snapshot; FALSE when no such section (or not one of hostmem's). */
static BOOL read_manager(DWORD pid, unsigned n, hm_published_values *values)
{
    WCHAR name[HM_PUBLISH_NAME_CHARS];
    HANDLE mapping;
    const hm_published *shared;
    BOOL ok = FALSE;

    swprintf(name, HM_PUBLISH_NAME_CHARS, HM_PUBLISH_NAME, (unsigned long)pid, n);
    if (!(mapping = OpenFileMappingW(FILE_MAP_READ, FALSE, name)))
        return FALSE;
    if ((shared = MapViewOfFile(mapping, FILE_MAP_READ, 0, 0, sizeof(hm_published)))) {
        ok = shared->pid == pid && shared->manager == n && hm_published_read(shared, values, 10000);
        UnmapViewOfFile(shared);
    }
    CloseHandle(mapping);
    return ok;
}

static unsigned probe_process(DWORD pid, found *out, unsigned room)
{
    unsigned n, gap = 0, count = 0;

    for (n = 1; gap < PROBE_GAP && count < room; n++) {
        if (read_manager(pid, n, &out[count].values)) {
            out[count].pid = pid;
            out[count].manager = n;
            count++;
            gap = 0;
        } else {
            gap++;
        }
    }
    return count;
}

static unsigned probe(const struct options *o, found *out, unsigned room)
{
    PROCESSENTRY32W entry;
    HANDLE snapshot;
    unsigned count = 0;

    if (o->pid)
        return probe_process(o->pid, out, room);
    snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    if (snapshot == INVALID_HANDLE_VALUE)
        return 0;
    entry.dwSize = sizeof(entry);
    if (Process32FirstW(snapshot, &entry))
        do {
            if (entry.th32ProcessID)
                count += probe_process(entry.th32ProcessID, out + count, room - count);
        } while (count < room && Process32NextW(snapshot, &entry));
    CloseHandle(snapshot);
    return count;
}

static const char *state_name(uint32_t state)
{
    switch (state) {
    case 1:  return "Low";
    case 2:  return "Neutral";
    case 3:  return "High";
    default: return "none yet";
    }
}

/* E_OUTOFMEMORY at eAppDomainCritical makes the CLR unload the domain. */
static unsigned long long domain_unloads(const hm_published_values *v)
{
    return (v->escalatingLevels & 2) ? 0 : (unsigned long long)v->failures[1];
}

static void print_json(const found *f)
{
    const hm_published_values *v = &f->values;

    printf("{\"pid\":%lu,\"manager\":%u,\"committedBytes\":%llu,\"peakCommittedBytes\":%llu,\"reservedBytes\":%llu,"
           "\"mallocBytes\":%llu,\"mappedBytes\":%llu,\"failures\":[%llu,%llu,%llu],\"escalations\":%llu,"
           "\"notifications\":[%llu,%llu,%llu],\"commitLimit\":%llu,\"addressSpaceLimit\":%llu,"
           "\"notificationState\":%lu,\"domainUnloads\":%llu,\"updates\":%llu}\n",
           (unsigned long)f->pid, f->manager, (unsigned long long)v->committedBytes,
           (unsigned long long)v->peakCommittedBytes, (unsigned long long)v->reservedBytes,
           (unsigned long long)v->mallocBytes, (unsigned long long)v->mappedBytes,
           (unsigned long long)v->failures[0], (unsigned long long)v->failures[1],
           (unsigned long long)v->failures[2], (unsigned long long)v->escalations,
           (unsigned long long)v->notifications[0], (unsigned long long)v->notifications[1],
           (unsigned long long)v->notifications[2], (unsigned long long)v->commitLimit,
           (unsigned long long)v->addressSpaceLimit, (unsigned long)v->notificationState, domain_unloads(v),
           (unsigned long long)v->updates);
}

static BOOL in_place; /* refreshing in place on a console */

/* In place each line is padded, so a refresh overwrites the previous one wholly. */
static void line(const char *format, ...)
{
    char text[160];
    va_list args;

    va_start(args, format);
    vsnprintf(text, sizeof(text), format, args);
    va_end(args);
    printf(in_place ? "%-79s\n" : "%s\n", text);
}

/* 1000 B, 97.7 KiB, 1.0 MiB, 2.50 GiB: a few significant digits in one of four buffers. */
static const char *bytes_text(uint64_t bytes)
{
    static char text[4][24];
    static unsigned next;
    char *out = text[next++ % 4];

    if (bytes < 1024)
        snprintf(out, sizeof(text[0]), "%llu B", (unsigned long long)bytes);
    else if (bytes < 1024 * 1024)
        snprintf(out, sizeof(text[0]), "%.1f KiB", bytes / 1024.0);
    else if (bytes < (uint64_t)1 << 30)
        snprintf(out, sizeof(text[0]), "%.1f MiB", bytes / MiB);
    else
        snprintf(out, sizeof(text[0]), "%.2f GiB", bytes / (MiB * 1024.0));
    return out;
}

static void print_table(const found *f)
{
    const hm_published_values *v = &f->values;
    char bar[BAR_WIDTH + 1];
    unsigned i, filled = 0;

    if (v->commitLimit) {
        double share = (double)v->committedBytes / (double)v->commitLimit;
        filled = share >= 1 ? BAR_WIDTH : (unsigned)(share * BAR_WIDTH + 0.5);
    }
    for (i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[BAR_WIDTH] = 0;
    line("pid %lu, manager %u", (unsigned long)f->pid, f->manager);
    if (v->commitLimit)
        line("  committed [%s] %s of %s (%.0f%%)", bar, bytes_text(v->committedBytes), bytes_text(v->commitLimit),
             100.0 * (double)v->committedBytes / (double)v->commitLimit);
    else
        line("  committed %s (no limit)", bytes_text(v->committedBytes));
    line("  peak %s, malloc %s, reserved %s, mapped %s", bytes_text(v->peakCommittedBytes),
         bytes_text(v->mallocBytes), bytes_text(v->reservedBytes), bytes_text(v->mappedBytes));
    line("  notification state %s (delivered: %llu Low, %llu Neutral, %llu High)", state_name(v->notificationState),
         (unsigned long long)v->notifications[0], (unsigned long long)v->notifications[1],
         (unsigned long long)v->notifications[2]);
    line("  failures: %llu task, %llu domain, %llu process; escalations %llu; domain unloads %llu",
         (unsigned long long)v->failures[0], (unsigned long long)v->failures[1], (unsigned long long)v->failures[2],
         (unsigned long long)v->escalations, domain_unloads(v));
}

int main(int argc, char **argv)
{
    static found managers[MAX_MANAGERS];
    struct options o;
    HANDLE console = GetStdHandle(STD_OUTPUT_HANDLE);
    CONSOLE_SCREEN_BUFFER_INFO screen;
    COORD home = { 0, 0 };
    unsigned count, i, rounds = 0;

    if (!parse_options(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    /* In place only on a console; into a pipe or file each refresh follows the last. */
    in_place = !o.json && !o.once && GetConsoleScreenBufferInfo(console, &screen);
    home = screen.dwCursorPosition;
    for (;; rounds++) {
        count = probe(&o, managers, MAX_MANAGERS);
        if (!count) {
            if (rounds) {
                printf("hostmem-stat: no manager published any more\n");
                return 0;
            }
            if (o.pid)
                fprintf(stderr, "hostmem-stat: process %lu publishes no hostmem statistics (is it running, "
                                "with HOSTMEM_PUBLISH=1 or HOSTMEM_FLAG_PUBLISH_STATS?)\n", (unsigned long)o.pid);
            else
                fprintf(stderr, "hostmem-stat: no process publishes hostmem statistics (HOSTMEM_PUBLISH=1 or "
                                "HOSTMEM_FLAG_PUBLISH_STATS)\n");
            return 3;
        }
        if (in_place)
            SetConsoleCursorPosition(console, home);
        for (i = 0; i < count; i++)
            if (o.json)
                print_json(&managers[i]);
            else
                print_table(&managers[i]);
        fflush(stdout);
        /* The screen may have scrolled: the next refresh starts where this one did. */
        if (in_place && GetConsoleScreenBufferInfo(console, &screen)) {
            int top = screen.dwCursorPosition.Y - (int)(count * LINES_PER_MANAGER);
            home.X = 0;
            home.Y = (SHORT)(top > 0 ? top : 0);
        }
        if (o.once)
            return 0;
        Sleep(o.interval);
    }
}
