/*
 * hostmem-replay --from's rows, read through the project's one trace parser
 * (src/core/trace_format.c): the same strict checks as hostmem-report and the
 * replay's own trace check, so a trace and the code reading it cannot drift apart.
 * This file only turns the parser's records into replay_row; see replay_rows.h.
 */
#include "replay_rows.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/trace_format.h"

struct replay_rows {
    FILE           *file;
    hm_trace_parser parser;
};

replay_rows *replay_rows_open(const char *path, char *error, size_t error_size)
{
    replay_rows *rows;
    FILE *file = fopen(path, "rb");

    if (!file) {
        snprintf(error, error_size, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    if (!(rows = calloc(1, sizeof(*rows)))) {
        fclose(file);
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    rows->file = file;
    hm_trace_parser_init(&rows->parser);
    return rows;
}

void replay_rows_close(replay_rows *rows)
{
    if (rows) {
        fclose(rows->file);
        free(rows);
    }
}

int replay_rows_next(replay_rows *rows, replay_row *row, char *error, size_t error_size)
{
    static const struct { unsigned trace, replay; } columns[] = {
        { HM_TRACE_LEVEL, REPLAY_HAS_LEVEL },     { HM_TRACE_ADDRESS, REPLAY_HAS_ADDRESS },
        { HM_TRACE_SIZE, REPLAY_HAS_SIZE },       { HM_TRACE_FLAGS, REPLAY_HAS_FLAGS },
        { HM_TRACE_PROTECT, REPLAY_HAS_PROTECT }, { HM_TRACE_HRESULT, REPLAY_HAS_HRESULT },
        { HM_TRACE_RESULT, REPLAY_HAS_RESULT },
    };
    hm_trace_record record;
    size_t i;

    switch (hm_trace_read_row(&rows->parser, rows->file, &record)) {
    case HM_TRACE_GOT_ROW:
        break;
    case HM_TRACE_END:
        return 0;
    default:
        snprintf(error, error_size, "%s", rows->parser.error);
        return -1;
    }
    memset(row, 0, sizeof(*row));
    row->line = rows->parser.line;
    row->time_us = record.time_us;
    row->thread = (unsigned long)record.thread;
    snprintf(row->method, sizeof(row->method), "%s", record.method);
    /* The Start row writes its flags and protect in decimal, always: present. */
    if (record.present & HM_TRACE_DECIMAL)
        row->has |= REPLAY_HAS_FLAGS | REPLAY_HAS_PROTECT;
    for (i = 0; i < sizeof(columns) / sizeof(columns[0]); i++)
        if (record.present & columns[i].trace)
            row->has |= columns[i].replay;
    row->level = record.level;
    row->address = record.address;
    row->size = record.size;
    row->flags = (unsigned long)record.flags;
    row->protect = (unsigned long)record.protect;
    row->hresult = record.hresult;
    row->result = record.result;
    row->committed = record.committed;
    row->malloc_bytes = record.malloc_bytes;
    return 1;
}
