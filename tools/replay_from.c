/*
 * hostmem-replay --from TRACE: what would this workload have done under another
 * limit? The trace (HOSTMEM_TRACE's CSV, written here or on a production host) is
 * read whole, then replayed against a fresh hostmem: one thread per recorded thread,
 * each making its recorded calls in their recorded order.
 *
 * Across threads the calls are made in the order of the file, one at a time (a turn
 * counter), which is the order in which the recorded calls completed: so the books
 * go through the same states as they did when recorded, the replay is repeatable,
 * and under the recorded limit it reproduces the recorded totals. With --speed N the
 * calls also keep the recorded pace (N times faster); --fast does not wait.
 *
 * Addresses: each recorded reservation is mapped to the one the replay got, and every
 * later address inside it is translated. When the replay's reservation (or IHostMalloc
 * block) failed where the recording's succeeded, the calls that use it are skipped and
 * counted. Calls at addresses hostmem never reserved (the CLR's own blocks) are skipped
 * too. The trace does not say which IHostMalloc a block came from, so every block of
 * the replay comes from one. Notification deliveries (OnMemoryNotification rows) are
 * hostmem's, not calls: the replay's own are counted instead.
 */
#define COBJMACROS
#include "replay_from.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostmem.h"
#include "clr/clr_callback.h"
#include "replay_rows.h"

#define MAX_THREADS 256
#define MiB         (1024.0 * 1024.0)
#define HR_OOM      0x8007000Eul
#define HR_FAIL     0x80004005ul

struct from_options {
    const char        *trace, *chart;
    unsigned long long limit;
    int                limit_given, fast;
    double             speed;
};

/* A recorded address range and where the replay has it (NULL: its allocation failed). */
typedef struct mapping {
    unsigned long long recorded, size;
    char              *replayed;
} mapping;

typedef struct failure_note {
    unsigned long      line;
    unsigned long long time_us, size;
    char               method[40];
} failure_note;

static struct {
    struct from_options o;
    replay_row         *rows;
    unsigned long       count;
    unsigned long long *replayed_committed; /* per row, after the call */
    unsigned char      *failed;             /* per row: the replay's call failed for lack of memory */
    IHostMemoryManager *manager;
    IHostMalloc        *malloc;
    mapping            *regions, *blocks;
    unsigned long       region_count, region_room, block_count, block_room;
    void              **extra;              /* reservations the recording never had (it failed there) */
    unsigned long       extra_count, extra_room;
    SRWLOCK             lock;
    CONDITION_VARIABLE  turn_changed;
    unsigned long       turn;               /* the row whose call is next */
    LARGE_INTEGER       started, frequency;
    unsigned long       skipped_failed, skipped_foreign, succeeded_where_failed, calls;
    failure_note        first_failure[3], first_escalation;
    unsigned long long  recorded_failures[3], recorded_escalations, recorded_notifications[3], recorded_peak;
    unsigned long long  recorded_limit, recorded_end;
} r;

static HRESULT WINAPI on_notification(ICLRMemoryNotificationCallback *iface, EMemoryAvailable state)
{
    (void)iface;
    (void)state;
    return S_OK;
}
static ICLRMemoryNotificationCallbackVtbl callback_vtbl = CLR_CALLBACK_VTBL(on_notification);
static ICLRMemoryNotificationCallback callback = { &callback_vtbl };

/* --- options --- */

static void usage(FILE *out)
{
    fprintf(out, "usage: hostmem-replay --from TRACE [--limit SIZE] [--speed N | --fast] [--chart FILE]\n"
                 "  --from TRACE   replay this hostmem trace (HOSTMEM_TRACE's CSV)\n"
                 "  --limit SIZE   commit limit of the replay (512M, 2G, bytes; 0 = none)  default: the recorded one\n"
                 "  --speed N      keep the recorded pace, N times faster                   default 1\n"
                 "  --fast         do not wait between calls\n"
                 "  --chart FILE   an SVG of the recorded and the replayed committed bytes\n"
                 "exit status: 0 replayed, 1 error, 2 usage, 3 malformed trace or another format\n");
}

static int parse_size(const char *text, unsigned long long *bytes)
{
    unsigned long long value = 0;
    unsigned shift = 0;

    if (!*text)
        return 0;
    for (; *text >= '0' && *text <= '9'; text++) {
        if (value > (~0ULL - 9) / 10)
            return 0;
        value = value * 10 + (unsigned long long)(*text - '0');
    }
    switch (*text) {
    case 'k': case 'K': shift = 10; text++; break;
    case 'm': case 'M': shift = 20; text++; break;
    case 'g': case 'G': shift = 30; text++; break;
    case 't': case 'T': shift = 40; text++; break;
    default: break;
    }
    if (*text || (shift && value > (~0ULL >> shift)))
        return 0;
    *bytes = value << shift;
    return 1;
}

static int parse_options(int argc, char **argv, struct from_options *o)
{
    int i;

    memset(o, 0, sizeof(*o));
    o->speed = 1;
    for (i = 1; i < argc; i++) /* anywhere, even where a value is expected: --from --help */
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            exit(0);
        }
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end;

        if (!strcmp(a, "--fast")) {
            o->fast = 1;
            continue;
        }
        if (!strcmp(a, "--quiet"))
            continue;
        if (!v) {
            fprintf(stderr, "hostmem-replay: %s needs a value\n", a);
            return 0;
        }
        i++;
        if (!strcmp(a, "--from")) {
            o->trace = v;
        } else if (!strcmp(a, "--limit")) {
            if (!parse_size(v, &o->limit)) {
                fprintf(stderr, "hostmem-replay: --limit %s is not a size (512M, 2G, bytes)\n", v);
                return 0;
            }
            o->limit_given = 1;
        } else if (!strcmp(a, "--speed")) {
            o->speed = strtod(v, &end);
            if (*end || !(o->speed > 0) || o->speed > 1e6) {
                fprintf(stderr, "hostmem-replay: --speed takes a factor above 0 (2 = twice as fast)\n");
                return 0;
            }
        } else if (!strcmp(a, "--chart")) {
            o->chart = v;
        } else {
            fprintf(stderr, "hostmem-replay: %s does not go with --from\n", a);
            return 0;
        }
    }
    if (!o->trace) {
        fprintf(stderr, "hostmem-replay: --from needs a trace\n");
        return 0;
    }
    return 1;
}

/* --- reading the trace, and what it says of the recorded run --- */

static int load(void)
{
    char error[512];
    replay_rows *rows = replay_rows_open(r.o.trace, error, sizeof(error));
    unsigned long room = 0;
    replay_row row;
    int got;

    if (!rows) {
        fprintf(stderr, "hostmem-replay: %s\n", error);
        return 1;
    }
    while ((got = replay_rows_next(rows, &row, error, sizeof(error))) == 1) {
        if (r.count == room) {
            replay_row *more = realloc(r.rows, (room = room ? room * 2 : 1024) * sizeof(*more));
            if (!more) {
                replay_rows_close(rows);
                fprintf(stderr, "hostmem-replay: out of memory reading %s\n", r.o.trace);
                return 1;
            }
            r.rows = more;
        }
        r.rows[r.count++] = row;
        if (row.committed > r.recorded_peak)
            r.recorded_peak = row.committed;
        r.recorded_end = row.committed;
        if (!strcmp(row.method, "Start"))
            r.recorded_limit = row.size;
        else if (!strcmp(row.method, "OnMemoryNotification") && row.flags >= 1 && row.flags <= 3)
            r.recorded_notifications[row.flags - 1]++;
        else if ((row.has & REPLAY_HAS_LEVEL) && (row.hresult == HR_OOM || row.hresult == HR_FAIL)) {
            r.recorded_failures[row.level]++;
            r.recorded_escalations += row.hresult == HR_FAIL;
        }
    }
    replay_rows_close(rows);
    if (got < 0) {
        fprintf(stderr, "hostmem-replay: %s:%s\n", r.o.trace, error);
        return 3;
    }
    r.replayed_committed = calloc(r.count, sizeof(*r.replayed_committed));
    r.failed = calloc(r.count, 1);
    if (!r.replayed_committed || !r.failed) {
        fprintf(stderr, "hostmem-replay: out of memory\n");
        return 1;
    }
    return 0;
}

/* --- address maps (small, unsorted: a trace holds few live reservations) --- */

static int map_add(mapping **table, unsigned long *count, unsigned long *room, unsigned long long recorded,
                   unsigned long long size, void *replayed)
{
    if (*count == *room) {
        mapping *more = realloc(*table, (*room = *room ? *room * 2 : 256) * sizeof(*more));
        if (!more)
            return 0;
        *table = more;
    }
    (*table)[*count].recorded = recorded;
    (*table)[*count].size = size ? size : 1;
    (*table)[(*count)++].replayed = replayed;
    return 1;
}

/* The mapping whose recorded range holds address, or NULL. */
static mapping *map_find(mapping *table, unsigned long count, unsigned long long address)
{
    unsigned long i;

    for (i = count; i-- > 0;)
        if (address >= table[i].recorded && address - table[i].recorded < table[i].size)
            return &table[i];
    return NULL;
}

static void map_remove(mapping *table, unsigned long *count, mapping *entry)
{
    *entry = table[--*count];
}

/* --- one recorded call, made again --- */

static void note(failure_note *note, const replay_row *row)
{
    note->line = row->line;
    note->time_us = row->time_us;
    note->size = row->size;
    snprintf(note->method, sizeof(note->method), "%s", row->method);
}

static void note_failure(const replay_row *row, HRESULT hr)
{
    if (hr != E_OUTOFMEMORY && hr != E_FAIL)
        return;
    r.failed[row - r.rows] = 1;
    if (hr == E_FAIL && !r.first_escalation.line)
        note(&r.first_escalation, row);
    if (!r.first_failure[row->level].line)
        note(&r.first_failure[row->level], row);
}

/* The replay's address for a recorded one inside a reservation; FALSE (counted) when
   the call must be skipped. */
static BOOL translate(unsigned long long address, char **out)
{
    mapping *m = map_find(r.regions, r.region_count, address);

    if (!m) {
        r.skipped_foreign++;
        return FALSE;
    }
    if (!m->replayed) {
        r.skipped_failed++;
        return FALSE;
    }
    *out = m->replayed + (address - m->recorded);
    return TRUE;
}

static void virtual_alloc(const replay_row *row)
{
    DWORD type = (DWORD)row->flags;
    BOOL reserves = (type & MEM_RESERVE) || ((type & MEM_COMMIT) && !row->address);
    char *address = NULL;
    void *p = NULL;
    HRESULT hr;

    if (reserves) {
        /* A reservation at a chosen address: the replay's address space is not the
           recording's, so it goes where the OS puts it. */
        mapping *m = row->address ? map_find(r.regions, r.region_count, row->address) : NULL;
        if (m && m->replayed)
            address = m->replayed + (row->address - m->recorded);
    } else if (row->address && !translate(row->address, &address)) {
        return;
    }
    hr = IHostMemoryManager_VirtualAlloc(r.manager, address, (SIZE_T)row->size, type, (DWORD)row->protect,
                                         (EMemoryCriticalLevel)row->level, &p);
    note_failure(row, hr);
    if (!reserves)
        return;
    if (row->hresult == 0 && row->result) {
        if (!map_add(&r.regions, &r.region_count, &r.region_room, row->result, row->size, hr == S_OK ? p : NULL))
            fprintf(stderr, "hostmem-replay: out of memory for the address map\n");
    } else if (hr == S_OK) {
        void **more = r.extra_count < r.extra_room ? r.extra
                                                   : realloc(r.extra, (r.extra_room = r.extra_room * 2 + 64) * sizeof(*more));
        r.succeeded_where_failed++;
        if (more) {
            r.extra = more;
            r.extra[r.extra_count++] = p;
        }
    }
}

static void virtual_free(const replay_row *row)
{
    mapping *m = map_find(r.regions, r.region_count, row->address);
    char *address;

    if (!translate(row->address, &address)) {
        if (m && row->flags == MEM_RELEASE)
            map_remove(r.regions, &r.region_count, m);
        return;
    }
    IHostMemoryManager_VirtualFree(r.manager, address, (SIZE_T)row->size, (DWORD)row->flags);
    if (row->flags == MEM_RELEASE && row->hresult == 0)
        map_remove(r.regions, &r.region_count, m);
}

static void host_alloc(const replay_row *row)
{
    void *p = NULL;
    HRESULT hr;

    if (!r.malloc)
        return;
    hr = IHostMalloc_Alloc(r.malloc, (SIZE_T)row->size, (EMemoryCriticalLevel)row->level, &p);
    note_failure(row, hr);
    if (row->hresult == 0 && row->result)
        map_add(&r.blocks, &r.block_count, &r.block_room, row->result, 1, hr == S_OK ? p : NULL);
    else if (hr == S_OK) {
        r.succeeded_where_failed++;
        IHostMalloc_Free(r.malloc, p); /* the recorded program never had it */
    }
}

static void host_free(const replay_row *row)
{
    mapping *m = map_find(r.blocks, r.block_count, row->address);

    if (!m)
        r.skipped_foreign++;
    else if (!m->replayed)
        r.skipped_failed++;
    else
        IHostMalloc_Free(r.malloc, m->replayed);
    if (m)
        map_remove(r.blocks, &r.block_count, m);
}

static void replay_call(const replay_row *row)
{
    const char *m = row->method;
    char *address;

    if (!strcmp(m, "Start") || !strcmp(m, "OnMemoryNotification") || !strcmp(m, "Release"))
        return;
    r.calls++;
    if (!strcmp(m, "VirtualAlloc")) {
        virtual_alloc(row);
    } else if (!strcmp(m, "VirtualFree")) {
        virtual_free(row);
    } else if (!strcmp(m, "Alloc") || !strcmp(m, "DebugAlloc")) {
        host_alloc(row);
    } else if (!strcmp(m, "Free")) {
        host_free(row);
    } else if (!strcmp(m, "CreateMalloc")) {
        IHostMalloc *heap = NULL;
        if (IHostMemoryManager_CreateMalloc(r.manager, (DWORD)row->flags | MALLOC_THREADSAFE, &heap) == S_OK) {
            if (!r.malloc)
                r.malloc = heap;
            else
                IHostMalloc_Release(heap); /* the replay's blocks all come from the first */
        }
    } else if (!strcmp(m, "VirtualQuery")) {
        MEMORY_BASIC_INFORMATION info;
        SIZE_T written;
        if (translate(row->address, &address))
            IHostMemoryManager_VirtualQuery(r.manager, address, &info, sizeof(info), &written);
    } else if (!strcmp(m, "VirtualProtect")) {
        DWORD old;
        if (translate(row->address, &address))
            IHostMemoryManager_VirtualProtect(r.manager, address, (SIZE_T)row->size, (DWORD)row->protect, &old);
    } else if (!strcmp(m, "GetMemoryLoad")) {
        DWORD load;
        SIZE_T available;
        IHostMemoryManager_GetMemoryLoad(r.manager, &load, &available);
    } else if (!strcmp(m, "RegisterMemoryNotificationCallback")) {
        IHostMemoryManager_RegisterMemoryNotificationCallback(r.manager, row->address ? &callback : NULL);
    } else if (!strcmp(m, "NeedsVirtualAddressSpace")) {
        IHostMemoryManager_NeedsVirtualAddressSpace(r.manager, (void *)(ULONG_PTR)row->address, (SIZE_T)row->size);
    } else if (!strcmp(m, "AcquiredVirtualAddressSpace")) {
        IHostMemoryManager_AcquiredVirtualAddressSpace(r.manager, (void *)(ULONG_PTR)row->address, (SIZE_T)row->size);
    } else if (!strcmp(m, "ReleasedVirtualAddressSpace")) {
        IHostMemoryManager_ReleasedVirtualAddressSpace(r.manager, (void *)(ULONG_PTR)row->address);
    }
}

/* --- the threads, taking turns in the file's order --- */

static unsigned long thread_ids[MAX_THREADS];
static unsigned thread_count;

static double elapsed_us(void)
{
    LARGE_INTEGER now;

    QueryPerformanceCounter(&now);
    return (double)(now.QuadPart - r.started.QuadPart) * 1e6 / (double)r.frequency.QuadPart;
}

static DWORD WINAPI replay_thread(void *parameter)
{
    unsigned long me = thread_ids[(ULONG_PTR)parameter], i;

    for (i = 0; i < r.count; i++) {
        const replay_row *row = &r.rows[i];
        HOSTMEM_STATS stats;

        if (row->thread != me)
            continue;
        AcquireSRWLockExclusive(&r.lock);
        while (r.turn != i)
            SleepConditionVariableSRW(&r.turn_changed, &r.lock, INFINITE, 0);
        ReleaseSRWLockExclusive(&r.lock);

        if (!r.o.fast) {
            double due = (double)row->time_us / r.o.speed, now;
            while ((now = elapsed_us()) < due)
                Sleep((DWORD)((due - now) / 1000) + ((due - now) < 1000 ? 0 : 1));
        }
        replay_call(row);
        stats.cbSize = sizeof(stats);
        HostMemGetStats((IUnknown *)r.manager, &stats);
        r.replayed_committed[i] = stats.committedBytes + stats.mallocCommittedBytes; /* as the trace's column */

        AcquireSRWLockExclusive(&r.lock);
        r.turn = i + 1; /* every row belongs to one of the threads: its owner goes next */
        ReleaseSRWLockExclusive(&r.lock);
        WakeAllConditionVariable(&r.turn_changed);
    }
    return 0;
}

static int run(void)
{
    HANDLE threads[MAX_THREADS];
    unsigned long i;
    unsigned t;

    for (i = 0; i < r.count; i++) {
        t = 0;
        while (t < thread_count && thread_ids[t] != r.rows[i].thread)
            t++;
        if (t == thread_count) {
            if (thread_count == MAX_THREADS) {
                fprintf(stderr, "hostmem-replay: %s: more than %d threads\n", r.o.trace, MAX_THREADS);
                return 1;
            }
            thread_ids[thread_count++] = r.rows[i].thread;
        }
    }
    InitializeSRWLock(&r.lock);
    InitializeConditionVariable(&r.turn_changed);
    QueryPerformanceFrequency(&r.frequency);
    QueryPerformanceCounter(&r.started);
    for (t = 0; t < thread_count; t++)
        if (!(threads[t] = CreateThread(NULL, 0, replay_thread, (void *)(ULONG_PTR)t, 0, NULL))) {
            fprintf(stderr, "hostmem-replay: cannot start a replay thread (error %lu)\n", GetLastError());
            exit(1); /* the started threads wait for turns that never come */
        }
    WaitForMultipleObjects(thread_count, threads, TRUE, INFINITE);
    for (t = 0; t < thread_count; t++)
        CloseHandle(threads[t]);
    return 0;
}

/* --- the summary --- */

static const char *limit_text(unsigned long long limit, char *out, size_t size)
{
    if (limit)
        snprintf(out, size, "%.1f MiB", (double)limit / MiB);
    else
        snprintf(out, size, "none");
    return out;
}

static void print_failure(const char *what, const failure_note *note)
{
    if (note->line)
        printf("  %-36s line %lu at %.3f s: %s of %llu bytes\n", what, note->line, (double)note->time_us / 1e6,
               note->method, note->size);
    else
        printf("  %-36s none\n", what);
}

/* Threads that made calls (the notifier's thread only delivered notifications). */
static unsigned calling_threads(void)
{
    unsigned t, n = 0;
    unsigned long i;

    for (t = 0; t < thread_count; t++)
        for (i = 0; i < r.count; i++)
            if (r.rows[i].thread == thread_ids[t] && strcmp(r.rows[i].method, "OnMemoryNotification") &&
                strcmp(r.rows[i].method, "Start") && strcmp(r.rows[i].method, "Release")) {
                n++;
                break;
            }
    return n;
}

static void print_summary(const HOSTMEM_STATS *s, unsigned long long limit)
{
    char a[32], b[32];
    static const char *const level_names[3] = { "eTaskCritical", "eAppDomainCritical", "eProcessCritical" };
    int i;

    printf("\nReplay of %s: %lu calls on %u threads, %s\n", r.o.trace, r.calls, calling_threads(),
           r.o.fast ? "as fast as possible" : "at the recorded pace");
    printf("  %-36s %16s %16s\n", "", "recorded", "replayed");
    printf("  %-36s %16s %16s\n", "commit limit", limit_text(r.recorded_limit, a, sizeof(a)),
           limit_text(limit, b, sizeof(b)));
    printf("  %-36s %12.1f MiB %12.1f MiB", "peak committed", (double)r.recorded_peak / MiB,
           (double)s->peakCommittedBytes / MiB);
    if (limit)
        printf(" (%.0f%% of the limit)", 100.0 * (double)s->peakCommittedBytes / (double)limit);
    printf("\n");
    for (i = 0; i < 3; i++) {
        char what[48];
        snprintf(what, sizeof(what), "failures at %s", level_names[i]);
        printf("  %-36s %16llu %16llu\n", what, r.recorded_failures[i], (unsigned long long)s->failures[i]);
    }
    printf("  %-36s %16llu %16llu\n", "escalations (E_FAIL)", r.recorded_escalations,
           (unsigned long long)s->escalations);
    printf("  %-36s %10llu/%llu/%llu %10llu/%llu/%llu\n", "notifications Low/Neutral/High",
           r.recorded_notifications[0], r.recorded_notifications[1], r.recorded_notifications[2],
           (unsigned long long)s->notifications[0], (unsigned long long)s->notifications[1],
           (unsigned long long)s->notifications[2]);
    for (i = 0; i < 3; i++) {
        static const char *const short_names[3] = { "task", "domain", "process" };
        char what[48];
        snprintf(what, sizeof(what), "first replayed failure, %s", short_names[i]);
        print_failure(what, &r.first_failure[i]);
    }
    printf("  %-36s %16lu\n", "calls skipped: their allocation failed", r.skipped_failed);
    printf("  %-36s %16lu\n", "calls skipped: not hostmem's memory", r.skipped_foreign);
    printf("  %-36s %16lu\n", "succeeded where the recording failed", r.succeeded_where_failed);
    if (r.first_escalation.line)
        printf("  %-36s escalation at line %lu (%.3f s): %s of %llu bytes returned E_FAIL; the CLR would be "
               "finished there\n", "outcome", r.first_escalation.line, (double)r.first_escalation.time_us / 1e6,
               r.first_escalation.method, r.first_escalation.size);
    else
        printf("  %-36s %s\n", "outcome", "the CLR would have run to the end");
}

int replay_from_main(int argc, char **argv)
{
    HOSTMEM_CONFIG config;
    HOSTMEM_STATS stats;
    unsigned long i;
    int status;

    setvbuf(stdout, NULL, _IONBF, 0);
    if (!parse_options(argc, argv, &r.o)) {
        usage(stderr);
        return 2;
    }
    if ((status = load()))
        return status;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.commitLimit = r.o.limit_given ? r.o.limit : r.recorded_limit;
    /* While one call runs every other replay thread waits for its turn, so nothing
       can free memory during hostmem's wait before a retry: the retry would find the
       books as they were. Failing at once gives the same answers, without the wait. */
    config.retryTimeoutMs = HOSTMEM_RETRY_NONE;
    /* The Start row also carries the recorded water marks. */
    if (r.rows[0].flags && r.rows[0].protect && r.rows[0].protect < r.rows[0].flags && r.rows[0].flags <= 100) {
        config.highWaterPercent = (DWORD)r.rows[0].flags;
        config.lowWaterPercent = (DWORD)r.rows[0].protect;
    }
    if (HostMemCreateMemoryManager(&config, &r.manager) != S_OK) {
        fprintf(stderr, "hostmem-replay: HostMemCreateMemoryManager failed\n");
        return 1;
    }
    printf("hostmem-replay %s --from %s: %lu rows\n", HOSTMEM_VERSION_STRING, r.o.trace, r.count);
    if ((status = run()))
        return status;

    /* What the recording left allocated is given back, so the replay ends clean. */
    for (i = 0; i < r.block_count; i++)
        if (r.blocks[i].replayed)
            IHostMalloc_Free(r.malloc, r.blocks[i].replayed);
    for (i = 0; i < r.region_count; i++)
        if (r.regions[i].replayed)
            IHostMemoryManager_VirtualFree(r.manager, r.regions[i].replayed, 0, MEM_RELEASE);
    for (i = 0; i < r.extra_count; i++)
        IHostMemoryManager_VirtualFree(r.manager, r.extra[i], 0, MEM_RELEASE);
    IHostMemoryManager_RegisterMemoryNotificationCallback(r.manager, NULL);
    stats.cbSize = sizeof(stats);
    HostMemGetStats((IUnknown *)r.manager, &stats);
    print_summary(&stats, config.commitLimit);
    if (r.malloc)
        IHostMalloc_Release(r.malloc);
    IHostMemoryManager_Release(r.manager);

    if (r.o.chart) {
        unsigned long long *times = malloc(r.count * sizeof(*times)), *recorded = malloc(r.count * sizeof(*recorded));
        int error = times && recorded ? 0 : ENOMEM;

        for (i = 0; !error && i < r.count; i++) {
            times[i] = r.rows[i].time_us;
            recorded[i] = r.rows[i].committed;
        }
        if (!error)
            error = replay_from_write_chart(r.o.chart, r.o.trace, times, recorded, r.replayed_committed, r.failed,
                                            r.count, r.recorded_limit, config.commitLimit);
        if (error) {
            printf("chart %s: cannot be written (%s)\n", r.o.chart, strerror(error));
            status = 1;
        } else {
            printf("chart %s: written\n", r.o.chart);
        }
        free(times);
        free(recorded);
    }
    return status;
}
