/*
 * Reading a hostmem trace back; see replay_trace.h. The rows come from the strict
 * parser of core/trace_format.h, the same one hostmem-report draws from, so a trace
 * the replay accepts is one the chart accepts too.
 */
#include "replay_trace.h"

#include "core/trace_format.h"
#include "trace_chart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HR_E_OUTOFMEMORY 0x8007000Eu
#define HR_E_FAIL        0x80004005u

BOOL replay_check_trace(const char *path, const HOSTMEM_STATS *stats, char *error, size_t error_size)
{
    ULONGLONG failures[3] = { 0, 0, 0 }, escalations = 0, notifications[3] = { 0, 0, 0 }, peak = 0, last = 0;
    hm_trace_parser *parser;
    hm_trace_record row;
    FILE *file = fopen(path, "r");
    int got, i;

    if (!file) {
        snprintf(error, error_size, "cannot be read");
        return FALSE;
    }
    if (!(parser = malloc(sizeof(*parser)))) {
        fclose(file);
        snprintf(error, error_size, "out of memory");
        return FALSE;
    }
    hm_trace_parser_init(parser);
    while ((got = hm_trace_read_row(parser, file, &row)) == HM_TRACE_GOT_ROW) {
        last = row.committed;
        if (last > peak)
            peak = last;
        if (!strcmp(row.method, "OnMemoryNotification")) {
            notifications[row.flags - 1]++; /* the parser allows 1, 2 and 3 only */
        } else if ((row.present & HM_TRACE_HRESULT) &&
                   (row.hresult == HR_E_OUTOFMEMORY || row.hresult == HR_E_FAIL)) {
            if (row.present & HM_TRACE_LEVEL)
                failures[row.level]++;
            if (row.hresult == HR_E_FAIL)
                escalations++;
        }
    }
    fclose(file);
    if (got != HM_TRACE_END) {
        /* The parser's "LINE: what is wrong", or that reading failed. */
        if (got == HM_TRACE_MALFORMED)
            snprintf(error, error_size, "line %s", parser->error);
        else
            snprintf(error, error_size, "%s", parser->error);
        free(parser);
        return FALSE;
    }
    free(parser);

    for (i = 0; i < 3; i++) {
        if (failures[i] != stats->failures[i]) {
            snprintf(error, error_size, "%llu failures at level %d in the trace, %llu in the statistics",
                     (unsigned long long)failures[i], i, (unsigned long long)stats->failures[i]);
            return FALSE;
        }
        if (notifications[i] != stats->notifications[i]) {
            snprintf(error, error_size, "%llu notifications of state %d in the trace, %llu in the statistics",
                     (unsigned long long)notifications[i], i + 1, (unsigned long long)stats->notifications[i]);
            return FALSE;
        }
    }
    if (escalations != stats->escalations) {
        snprintf(error, error_size, "%llu escalations in the trace, %llu in the statistics",
                 (unsigned long long)escalations, (unsigned long long)stats->escalations);
        return FALSE;
    }
    /* Rows show the books after each call; between two rows another thread may have
       taken the books higher for a moment, never the other way round. */
    if (peak > stats->peakCommittedBytes) {
        snprintf(error, error_size, "peak %llu in the trace, %llu in the statistics", (unsigned long long)peak,
                 (unsigned long long)stats->peakCommittedBytes);
        return FALSE;
    }
    if (last != 0) {
        snprintf(error, error_size, "%llu bytes still committed at the end of the trace", (unsigned long long)last);
        return FALSE;
    }
    return TRUE;
}

BOOL replay_write_chart(const char *trace_path, const char *svg_path, char *error, size_t error_size)
{
    FILE *trace = fopen(trace_path, "r"), *svg;
    char why[256];
    int result;

    if (!trace) {
        snprintf(error, error_size, "the trace %s cannot be read", trace_path);
        return FALSE;
    }
    if (!(svg = fopen(svg_path, "w"))) {
        fclose(trace);
        snprintf(error, error_size, "cannot be written");
        return FALSE;
    }
    result = hm_write_chart_svg(trace, svg, "hostmem-replay: the CLR under hostmem", why, sizeof(why));
    fclose(trace);
    if (fclose(svg) && result == HM_CHART_OK)
        result = HM_CHART_IO_ERROR;
    if (result != HM_CHART_OK) {
        if (result == HM_CHART_BAD_TRACE)
            snprintf(error, error_size, "%s:%s", trace_path, why);
        else
            snprintf(error, error_size, "%s", why);
        remove(svg_path);
        return FALSE;
    }
    return TRUE;
}
