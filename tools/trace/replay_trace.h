/*
 * hostmem-replay reads back the trace hostmem wrote during the run: to check it against
 * the statistics, and to draw the chart.
 */
#ifndef HOSTMEM_REPLAY_TRACE_H
#define HOSTMEM_REPLAY_TRACE_H

#include "hostmem.h"

/* Parses the trace at path and checks it against the statistics read at the end of the
   run: refusals and escalations per level, notifications per state, a peak no higher
   than the statistics', and a last row with nothing committed. FALSE with a reason in
   error otherwise. */
BOOL replay_check_trace(const char *path, const HOSTMEM_STATS *stats, char *error, size_t error_size);

/* Draws the trace at trace_path into an SVG at svg_path. */
BOOL replay_write_chart(const char *trace_path, const char *svg_path, char *error, size_t error_size);

#endif /* HOSTMEM_REPLAY_TRACE_H */
