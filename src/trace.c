/*
 * The call trace; see trace.h. Rows are formatted by core/trace_format.c on the
 * calling thread and appended to one buffer under a lock, so the file is in time order;
 * the buffer goes to the file when full, before an escalation (the CLR may not live
 * much longer) and at the end.
 */
#include "trace.h"

#include <stdio.h>
#include <string.h>

#include "os.h"
#include "sync.h"

#define TRACE_BUFFER (64 * 1024)
#define TRACE_ROW    320

struct hm_trace {
    HANDLE        heap;
    HANDLE        file;
    LARGE_INTEGER start;
    LONGLONG      frequency;
    hm_lock       lock;   /* buffer, file */
    size_t        used;
    char          buffer[TRACE_BUFFER];
};

static const char header[] = HM_TRACE_HEADER "\n";

/* Under the lock. */
static void write_out(hm_trace *trace)
{
    DWORD written;

    if (trace->used)
        hm_os.WriteFile(trace->file, trace->buffer, (DWORD)trace->used, &written, NULL);
    trace->used = 0;
}

hm_trace *hm_trace_open(const WCHAR *path, HANDLE heap)
{
    static LONG reported;
    LARGE_INTEGER frequency;
    hm_trace *trace;
    HANDLE file;

    file = hm_os.CreateFileW(path, GENERIC_WRITE, FILE_SHARE_READ, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (file == INVALID_HANDLE_VALUE) {
        if (!InterlockedExchange(&reported, 1))
            fprintf(stderr, "hostmem: cannot open the trace file \"%ls\" (Win32 error %lu); tracing is off\n",
                    path, (unsigned long)GetLastError());
        return NULL;
    }
    if (!(trace = hm_os.HeapAlloc(heap, 0, sizeof(*trace)))) {
        hm_os.CloseHandle(file);
        return NULL;
    }
    trace->heap = heap;
    trace->file = file;
    trace->used = 0;
    hm_lock_init(&trace->lock);
    if (!hm_os.QueryPerformanceFrequency(&frequency) || frequency.QuadPart <= 0)
        frequency.QuadPart = 1000000;
    trace->frequency = frequency.QuadPart;
    if (!hm_os.QueryPerformanceCounter(&trace->start))
        trace->start.QuadPart = 0;
    memcpy(trace->buffer, header, sizeof(header) - 1);
    trace->used = sizeof(header) - 1;
    return trace;
}

void hm_trace_write(hm_trace *trace, const hm_trace_row *row, ULONGLONG committed, ULONGLONG malloc_bytes,
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
        return;

    if (wait)
        hm_lock_acquire(&trace->lock);
    else if (!hm_lock_try_acquire(&trace->lock))
        return;
    /* The time is taken under the lock, so the file is in time order. */
    if (!hm_os.QueryPerformanceCounter(&now))
        now = trace->start;
    ticks = (ULONGLONG)(now.QuadPart - trace->start.QuadPart);
    m = hm_trace_format_time(ticks / (ULONGLONG)trace->frequency * 1000000 +
                                 ticks % (ULONGLONG)trace->frequency * 1000000 / (ULONGLONG)trace->frequency,
                             stamp, sizeof(stamp));
    if (trace->used + n + m > sizeof(trace->buffer)) {
        if (!wait) {
            hm_lock_release(&trace->lock);
            return; /* writing out could block */
        }
        write_out(trace);
    }
    memcpy(trace->buffer + trace->used, stamp, m);
    memcpy(trace->buffer + trace->used + m, line, n);
    trace->used += n + m;
    hm_lock_release(&trace->lock);
}

void hm_trace_flush(hm_trace *trace)
{
    hm_lock_acquire(&trace->lock);
    write_out(trace);
    hm_lock_release(&trace->lock);
}

void hm_trace_close(hm_trace *trace)
{
    hm_trace_flush(trace);
    hm_os.CloseHandle(trace->file);
    hm_lock_destroy(&trace->lock);
    hm_os.HeapFree(trace->heap, 0, trace);
}
