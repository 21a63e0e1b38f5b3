/*
 * The call trace: one CSV line per call into hostmem, written through a buffer so that
 * tracing costs little. The format is core/trace_format.h's (README.md, "The trace",
 * describes it); the report tool and hostmem-replay read it back through the same file.
 */
#ifndef HOSTMEM_TRACE_H
#define HOSTMEM_TRACE_H

#include <windows.h>

#include "core/trace_format.h" /* the columns, and HM_TRACE_* for which a row fills */

typedef struct hm_trace hm_trace;

/* What a call site fills: a row in the caller's types, less the time, the thread and
   the books, which hm_trace_write adds. */
typedef struct hm_trace_row {
    const char *method;
    unsigned    present;   /* HM_TRACE_* (core/trace_format.h) */
    DWORD       level;
    const void *address;
    ULONGLONG   size;
    DWORD       flags;
    DWORD       protect;
    HRESULT     hr;
    const void *result;
} hm_trace_row;

/* Creates (truncates) the file and writes the header. NULL when it cannot be opened:
   that is reported once on stderr and hostmem goes on without a trace. */
hm_trace *hm_trace_open(const WCHAR *path, HANDLE heap);
/* Appends one row; committed and malloc are the books after the call. With `wait`
   FALSE the row is dropped rather than wait for the buffer (VirtualQuery may run
   while other threads are suspended, holding it). */
void hm_trace_write(hm_trace *trace, const hm_trace_row *row, ULONGLONG committed, ULONGLONG malloc_bytes,
                    BOOL wait);
/* Writes out what the buffer holds (before an escalation, and at the end). */
void hm_trace_flush(hm_trace *trace);
/* Flushes, closes the file and frees the trace (its memory lives in `heap`). */
void hm_trace_close(hm_trace *trace);

#endif /* HOSTMEM_TRACE_H */
