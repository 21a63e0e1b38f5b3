/*
 * A hostmem trace (HOSTMEM_TRACE's CSV) as a self-contained SVG chart: committed and
 * IHostMalloc bytes over time against the limit and the water marks, with lanes of
 * markers for notifications, refusals per critical level and escalations.
 *
 * Portable C11 without windows.h: hostmem-report and hostmem-replay --chart use it,
 * and it builds natively as well as with MinGW-w64.
 *
 * The trace: CSV, UTF-8, '\n' line ends (a '\r' before it is tolerated). Line 1 is
 *   time_us,thread,method,level,address,size,flags,protect,hresult,result,committed,malloc
 * line 2 the Start row (size = commit limit in bytes, 0 = none; flags = high-water
 * percent; protect = low-water percent; both decimal), then one row per call, in time
 * order. README.md ("The trace") describes every column.
 *
 * The parser is strict, so that a trace and the code that wrote it cannot drift
 * apart unnoticed: every row must have 12 fields, a method from the documented list
 * (an unknown method is an error), numbers where numbers belong (decimal, or hex with
 * 0x where the format says hex), a level of 0, 1, 2 or empty, and time_us never
 * smaller than the row before. One trace per file: a second header or Start row is an
 * error.
 */
#ifndef HOSTMEM_TRACE_CHART_H
#define HOSTMEM_TRACE_CHART_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HM_TRACE_HEADER "time_us,thread,method,level,address,size,flags,protect,hresult,result,committed,malloc"
#define HM_TRACE_FIELDS 12

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
