/*
 * The call trace: one CSV line per call into hostmem, written through a buffer so that
 * tracing costs little. The format is core/trace_format.h's (docs/trace.md describes
 * it); the report tool and hostmem-replay read it back through the same file. When
 * and where rows reach the file: docs/trace-delivery.md.
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

/* How long a row may wait in the buffer: a write finding an older row writes the
   buffer out first, and the notifier's thread writes it out this often. */
#define HM_TRACE_FLUSH_MS 1000

/* Creates (truncates) the file and writes the header. Several managers of one
   process trace at once: the first takes `path`, the others a derived name
   (trace.csv, trace.2.csv, trace.3.csv...: the first name no live trace of this
   process holds and no other process has open). NULL when it cannot be opened: that
   is reported on stderr, every time, and hostmem goes on without a trace. */
hm_trace *hm_trace_open(const WCHAR *path, HANDLE heap);
/* The file name the trace got. */
const WCHAR *hm_trace_path(const hm_trace *trace);
/* `wait` for hm_trace_write: TRUE waits for the buffer's lock; FALSE drops (and
   counts) a row that would have to wait (the CLR may call with other threads
   suspended, one of them holding it); HM_TRACE_TRY_LATER drops it uncounted, for a
   caller that writes it again, waiting, later. */
#define HM_TRACE_TRY_LATER 2
/* Appends one row; committed and malloc are the books after the call. TRUE when the
   row is in the buffer. */
BOOL hm_trace_write(hm_trace *trace, const hm_trace_row *row, ULONGLONG committed, ULONGLONG malloc_bytes,
                    BOOL wait);
/* Rows dropped rather than wait. */
ULONGLONG hm_trace_dropped(const hm_trace *trace);
/* Writes out what the buffer holds (before an escalation, and at the end). */
void hm_trace_flush(hm_trace *trace);
/* The same unless the buffer's lock is held (the notifier's periodic flush). */
void hm_trace_flush_if_free(hm_trace *trace);
/* Flushes, closes the file and frees the trace (its memory lives in `heap`). */
void hm_trace_close(hm_trace *trace);
/* DLL_PROCESS_DETACH: writes out every live trace's buffer. process_exit: the other
   threads are gone, so a lock one of them held is not waited for (the buffer up to
   its last whole row is written); otherwise (FreeLibrary) a trace whose lock is held
   is left alone. */
void hm_trace_detach(BOOL process_exit);

#endif /* HOSTMEM_TRACE_H */
