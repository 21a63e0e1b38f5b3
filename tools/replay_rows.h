/*
 * hostmem-replay --from reads a trace through this one narrow interface: open, then
 * one call per row, each row checked strictly (by the project's one trace parser,
 * src/core/trace_format.h) and numbered by its line.
 */
#ifndef HOSTMEM_REPLAY_ROWS_H
#define HOSTMEM_REPLAY_ROWS_H

#include <stddef.h>
#include <stdio.h>

/* Which optional columns a row has (an empty column is absent). */
enum {
    REPLAY_HAS_LEVEL   = 0x01,
    REPLAY_HAS_ADDRESS = 0x02,
    REPLAY_HAS_SIZE    = 0x04,
    REPLAY_HAS_FLAGS   = 0x08,
    REPLAY_HAS_PROTECT = 0x10,
    REPLAY_HAS_HRESULT = 0x20,
    REPLAY_HAS_RESULT  = 0x40
};

typedef struct replay_row {
    unsigned long      line;      /* 1-based line of the file */
    unsigned long long time_us;
    unsigned long      thread;
    char               method[40];
    unsigned           has;       /* REPLAY_HAS_* */
    unsigned           level;
    unsigned long long address, size;
    unsigned long      flags, protect; /* decimal in the Start row, hex elsewhere */
    unsigned long      hresult;
    unsigned long long result;
    unsigned long long committed, malloc_bytes;
} replay_row;

typedef struct replay_rows replay_rows;

/* NULL with a message in error when the file cannot be read. */
replay_rows *replay_rows_open(const char *path, char *error, size_t error_size);
/* 1 and the next row (the header is checked and skipped; the first row returned is
   the Start row); 0 at the end; -1 with "LINE: what is wrong" in error. */
int replay_rows_next(replay_rows *rows, replay_row *row, char *error, size_t error_size);
void replay_rows_close(replay_rows *rows);

#endif /* HOSTMEM_REPLAY_ROWS_H */
