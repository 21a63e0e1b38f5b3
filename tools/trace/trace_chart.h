/*
 * A hostmem trace (HOSTMEM_TRACE's CSV) as a self-contained SVG chart: committed and
 * IHostMalloc bytes over time against the limit and the water marks, with lanes of
 * markers for notifications, refusals per critical level and escalations.
 *
 * Portable C11 without windows.h: hostmem-report and hostmem-replay --chart use it,
 * and it builds natively as well as with MinGW-w64.
 *
 * The trace is read through src/core/trace_format.h, whose strict parser decides what
 * a well-formed trace is and words every complaint about one.
 */
#ifndef HOSTMEM_TRACE_CHART_H
#define HOSTMEM_TRACE_CHART_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* hm_write_chart_svg's results. */
#define HM_CHART_OK        0
#define HM_CHART_BAD_TRACE 2   /* error reads "LINE: what is wrong", e.g. "17: expected 12 fields, found 9" */
#define HM_CHART_IO_ERROR  3   /* reading the trace or writing the SVG failed; error says which */
#define HM_CHART_NO_MEMORY 4

/* Reads the whole trace, then writes the chart; nothing is written to svg when the
   trace is malformed. title may be NULL ("hostmem trace"). error (may be NULL) gets a
   NUL-terminated message on failure, prefixed by the 1-based line number for
   HM_CHART_BAD_TRACE so that callers can print "FILE:" error. */
int hm_write_chart_svg(FILE *trace, FILE *svg, const char *title, char *error, size_t error_size);

#ifdef __cplusplus
}
#endif

#endif /* HOSTMEM_TRACE_CHART_H */
