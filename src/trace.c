/*
 * The call trace; see trace.h. Rows are formatted by core/trace_format.c on the
 * calling thread and appended to one buffer under a lock, so the file is in time order.
 * The buffer goes to the file when full, when a write finds a row in it older than
 * HM_TRACE_FLUSH_MS, when the notifier's thread ticks, before an escalation (the CLR
 * may not live much longer), at the end, and at DLL_PROCESS_DETACH for a process that
 * never released its managers. Every open trace is on one list, for the derived names
 * and the detach.
 */
#include "trace.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "os.h"
#include "sync.h"

#define TRACE_BUFFER (64 * 1024)
#define TRACE_ROW    320
#define TRACE_NAMES  1000 /* derived names tried before giving up */

struct hm_trace {
    HANDLE             heap;
    HANDLE             file;
    LARGE_INTEGER      start;
    LONGLONG           frequency;
    hm_lock            lock;      /* buffer, file */
    size_t             used;      /* bytes of whole rows in buffer */
    LONGLONG           oldest;    /* performance counter at the first row in buffer */
    _Atomic(ULONGLONG) dropped;
    struct hm_trace   *next;      /* on the list of open traces */
    WCHAR              path[MAX_PATH + 16];
    char               buffer[TRACE_BUFFER];
};

static const char header[] = HM_TRACE_HEADER "\n";

/* The open traces. An SRW lock needs no initialisation and DllMain can try it. */
static SRWLOCK traces_lock = SRWLOCK_INIT;
static hm_trace *traces;

/* Under the lock (or at process exit, its holder gone). */
static void write_out(hm_trace *trace)
{
    DWORD written;
    size_t used = trace->used;

    if (used)
        hm_os.WriteFile(trace->file, trace->buffer, (DWORD)used, &written, NULL);
    trace->used = 0;
}

/* The n-th name for `path` (n >= 2): ".n" before the extension, or at the end. */
static BOOL derived_name(const WCHAR *path, unsigned n, WCHAR *out, size_t room)
{
    const WCHAR *dot = wcsrchr(path, L'.'), *slash = wcsrchr(path, L'\\'), *other = wcsrchr(path, L'/');
    size_t stem;
    int written;

    if (n == 1) {
        if (wcslen(path) >= room)
            return FALSE;
        wcscpy(out, path);
        return TRUE;
    }
    if (other > slash)
        slash = other;
    stem = dot && dot > (slash ? slash : path) && dot != path ? (size_t)(dot - path) : wcslen(path);
    written = _snwprintf(out, room, L"%.*ls.%u%ls", (int)stem, path, n, path + stem);
    return written > 0 && (size_t)written < room;
}

/* Under traces_lock. */
static BOOL name_in_use(const WCHAR *name)
{
    hm_trace *t;

    for (t = traces; t; t = t->next)
        if (!_wcsicmp(t->path, name))
            return TRUE;
    return FALSE;
}

hm_trace *hm_trace_open(const WCHAR *path, HANDLE heap)
{
    LARGE_INTEGER frequency;
    hm_trace *trace;
    HANDLE file = INVALID_HANDLE_VALUE;
    DWORD error = ERROR_SHARING_VIOLATION;
    unsigned n;

    if (!(trace = hm_os.HeapAlloc(heap, 0, sizeof(*trace)))) {
        fprintf(stderr, "hostmem: no memory for the trace of \"%ls\"; tracing is off\n", path);
        return NULL;
    }
    AcquireSRWLockExclusive(&traces_lock);
    /* A name another manager of this process writes is skipped; one another process
       holds open (a sharing violation) too. */
    for (n = 1; n <= TRACE_NAMES && error == ERROR_SHARING_VIOLATION; n++) {
        if (!derived_name(path, n, trace->path, ARRAYSIZE(trace->path))) {
            error = ERROR_FILENAME_EXCED_RANGE;
            break;
        }
        if (name_in_use(trace->path))
            continue;
        file = hm_os.CreateFileW(trace->path, GENERIC_WRITE, FILE_SHARE_READ, NULL, CREATE_ALWAYS,
                                 FILE_ATTRIBUTE_NORMAL, NULL);
        if (file != INVALID_HANDLE_VALUE)
            break;
        error = GetLastError();
    }
    if (file == INVALID_HANDLE_VALUE) {
        ReleaseSRWLockExclusive(&traces_lock);
        hm_os.HeapFree(heap, 0, trace);
        fprintf(stderr, "hostmem: cannot open the trace file \"%ls\" (Win32 error %lu); tracing is off\n",
                path, (unsigned long)error);
        return NULL;
    }
    trace->heap = heap;
    trace->file = file;
    hm_lock_init(&trace->lock);
    atomic_init(&trace->dropped, 0);
    if (!hm_os.QueryPerformanceFrequency(&frequency) || frequency.QuadPart <= 0)
        frequency.QuadPart = 1000000;
    trace->frequency = frequency.QuadPart;
    if (!hm_os.QueryPerformanceCounter(&trace->start))
        trace->start.QuadPart = 0;
    trace->oldest = trace->start.QuadPart;
    memcpy(trace->buffer, header, sizeof(header) - 1);
    trace->used = sizeof(header) - 1;
    trace->next = traces;
    traces = trace;
    ReleaseSRWLockExclusive(&traces_lock);
    return trace;
}

const WCHAR *hm_trace_path(const hm_trace *trace)
{
    return trace->path;
}

static BOOL dropped(hm_trace *trace, BOOL wait)
{
    if (wait != HM_TRACE_TRY_LATER)
        atomic_fetch_add_explicit(&trace->dropped, 1, memory_order_relaxed);
    return FALSE;
}

BOOL hm_trace_write(hm_trace *trace, const hm_trace_row *row, ULONGLONG committed, ULONGLONG malloc_bytes,
                    BOOL wait)
{
    hm_trace_record record;
    char line[TRACE_ROW], stamp[24];
    LARGE_INTEGER now;
    ULONGLONG ticks;
    size_t n, m;

    /* Everything but the time first, outside the lock. */
    record.time_us = 0;
    record.thread = GetCurrentThreadId();
    record.method = row->method;
    record.present = row->present;
    record.level = row->level;
    record.address = (uint64_t)(ULONG_PTR)row->address;
    record.size = row->size;
    record.flags = row->flags;
    record.protect = row->protect;
    record.hresult = (uint32_t)row->hr;
    record.result = (uint64_t)(ULONG_PTR)row->result;
    record.committed = committed;
    record.malloc_bytes = malloc_bytes;
    if (!(n = hm_trace_format_fields(&record, line, sizeof(line))))
        return FALSE;

    if (wait == TRUE)
        hm_lock_acquire(&trace->lock);
    else if (!hm_lock_try_acquire(&trace->lock))
        return dropped(trace, wait);
    /* The time is taken under the lock, so the file is in time order. */
    if (!hm_os.QueryPerformanceCounter(&now))
        now = trace->start;
    ticks = (ULONGLONG)(now.QuadPart - trace->start.QuadPart);
    m = hm_trace_format_time(ticks / (ULONGLONG)trace->frequency * 1000000 +
                                 ticks % (ULONGLONG)trace->frequency * 1000000 / (ULONGLONG)trace->frequency,
                             stamp, sizeof(stamp));
    if (trace->used + n + m > sizeof(trace->buffer) ||
        (wait == TRUE && trace->used && now.QuadPart - trace->oldest >= trace->frequency / 1000 * HM_TRACE_FLUSH_MS)) {
        if (wait != TRUE) {
            hm_lock_release(&trace->lock);
            return dropped(trace, wait); /* writing out could block */
        }
        write_out(trace);
    }
    if (!trace->used)
        trace->oldest = now.QuadPart;
    memcpy(trace->buffer + trace->used, stamp, m);
    memcpy(trace->buffer + trace->used + m, line, n);
    /* The row is whole before it counts: a detach at process exit writes only whole rows. */
    atomic_signal_fence(memory_order_release);
    trace->used += n + m;
    hm_lock_release(&trace->lock);
    return TRUE;
}

ULONGLONG hm_trace_dropped(const hm_trace *trace)
{
    return atomic_load_explicit(&((hm_trace *)trace)->dropped, memory_order_relaxed);
}

void hm_trace_flush(hm_trace *trace)
{
    hm_lock_acquire(&trace->lock);
    write_out(trace);
    hm_lock_release(&trace->lock);
}

void hm_trace_flush_if_free(hm_trace *trace)
{
    if (!hm_lock_try_acquire(&trace->lock))
        return;
    write_out(trace);
    hm_lock_release(&trace->lock);
}

void hm_trace_close(hm_trace *trace)
{
    hm_trace **link;

    AcquireSRWLockExclusive(&traces_lock);
    for (link = &traces; *link && *link != trace; link = &(*link)->next)
        ;
    if (*link)
        *link = trace->next;
    ReleaseSRWLockExclusive(&traces_lock);
    hm_trace_flush(trace);
    hm_os.CloseHandle(trace->file);
    hm_lock_destroy(&trace->lock);
    hm_os.HeapFree(trace->heap, 0, trace);
}

void hm_trace_detach(BOOL process_exit)
{
    BOOL listed = TryAcquireSRWLockExclusive(&traces_lock);
    hm_trace *t;

    if (!listed && !process_exit)
        return;
    for (t = traces; t; t = t->next) {
        if (hm_lock_try_acquire(&t->lock)) {
            write_out(t);
            hm_lock_release(&t->lock);
        } else if (process_exit) {
            write_out(t); /* its holder was killed; `used` counts whole rows only */
        }
    }
    if (listed)
        ReleaseSRWLockExclusive(&traces_lock);
}
