/*
 * Reading a hostmem trace back; see replay_trace.h and README.md ("The trace").
 */
#include "replay_trace.h"

#include "trace_chart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELDS 12
enum { TIME, THREAD, METHOD, LEVEL, ADDRESS, BYTES, FLAGS, PROTECT, HR, RESULT, COMMITTED, MALLOC };

static int split(char *line, char **field)
{
    int n = 0;
    char *p = line, *comma;

    line[strcspn(line, "\r\n")] = 0;
    for (;;) {
        if (n == FIELDS)
            return n + 1;
        field[n++] = p;
        if (!(comma = strchr(p, ',')))
            return n;
        *comma = 0;
        p = comma + 1;
    }
}

BOOL replay_check_trace(const char *path, const HOSTMEM_STATS *stats, char *error, size_t error_size)
{
    ULONGLONG failures[3] = { 0, 0, 0 }, escalations = 0, notifications[3] = { 0, 0, 0 }, peak = 0, last = 0;
    char line[512], *field[FIELDS + 1];
    unsigned long number = 0;
    FILE *file = fopen(path, "r");
    int i;

    if (!file) {
        snprintf(error, error_size, "cannot be read");
        return FALSE;
    }
    while (fgets(line, sizeof(line), file)) {
        number++;
        if (number == 1)
            continue; /* the header */
        if (split(line, field) != FIELDS) {
            snprintf(error, error_size, "line %lu does not have %d fields", number, FIELDS);
            fclose(file);
            return FALSE;
        }
        last = strtoull(field[COMMITTED], NULL, 10);
        if (last > peak)
            peak = last;
        if (!strcmp(field[METHOD], "OnMemoryNotification")) {
            unsigned long state = strtoul(field[FLAGS], NULL, 0);
            if (state >= 1 && state <= 3)
                notifications[state - 1]++;
        } else if (!strcmp(field[HR], "0x8007000E") || !strcmp(field[HR], "0x80004005")) {
            unsigned long level = strtoul(field[LEVEL], NULL, 10);
            if (level < 3 && *field[LEVEL])
                failures[level]++;
            if (!strcmp(field[HR], "0x80004005"))
                escalations++;
        }
    }
    fclose(file);

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
