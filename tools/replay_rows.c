/*
 * A strict reader of hostmem's trace for hostmem-replay --from; see replay_rows.h
 * and README.md ("The trace"). Strict so that a trace and the code reading it cannot
 * drift apart unnoticed: the header must be this format's, every row must have 12
 * fields, a known method, numbers where numbers belong (hex with 0x where the format
 * writes hex), a level of 0, 1 or 2, a time never earlier than the row before; the
 * Start row comes first, and only once.
 */
#include "replay_rows.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace_chart.h" /* HM_TRACE_HEADER, HM_TRACE_FIELDS */

struct replay_rows {
    FILE              *file;
    unsigned long      line;
    unsigned long long last_time;
    int                started;
};

static const char *const methods[] = {
    "Start", "CreateMalloc", "VirtualAlloc", "VirtualFree", "VirtualQuery", "VirtualProtect", "GetMemoryLoad",
    "RegisterMemoryNotificationCallback", "NeedsVirtualAddressSpace", "AcquiredVirtualAddressSpace",
    "ReleasedVirtualAddressSpace", "Alloc", "DebugAlloc", "Free", "OnMemoryNotification", "Release",
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
    return rows;
}

void replay_rows_close(replay_rows *rows)
{
    if (rows) {
        fclose(rows->file);
        free(rows);
    }
}

static int number(const char *text, int hex, unsigned long long *value)
{
    char *end;

    if (hex ? (text[0] != '0' || (text[1] != 'x' && text[1] != 'X') || !text[2]) : !(*text >= '0' && *text <= '9'))
        return 0;
    errno = 0;
    *value = strtoull(hex ? text + 2 : text, &end, hex ? 16 : 10);
    return !*end && errno != ERANGE && end != (hex ? text + 2 : text);
}

#define FAIL(...) do { int n_ = snprintf(error, error_size, "%lu: ", rows->line); \
                       snprintf(error + n_, error_size - (size_t)n_, __VA_ARGS__); return -1; } while (0)

int replay_rows_next(replay_rows *rows, replay_row *row, char *error, size_t error_size)
{
    static const char *const names[HM_TRACE_FIELDS] = {
        "time_us", "thread", "method", "level", "address", "size", "flags", "protect", "hresult", "result",
        "committed", "malloc"
    };
    char text[1024], *field[HM_TRACE_FIELDS], *p;
    unsigned long long v;
    size_t length, i;
    int n, hex_flags;

    for (;;) {
        if (!fgets(text, sizeof(text), rows->file)) {
            if (ferror(rows->file)) {
                snprintf(error, error_size, "%lu: read error", rows->line + 1);
                return -1;
            }
            if (!rows->line) {
                snprintf(error, error_size, "1: empty file, not a hostmem trace");
                return -1;
            }
            if (!rows->started) {
                snprintf(error, error_size, "%lu: the trace ends before its Start row", rows->line + 1);
                return -1;
            }
            return 0;
        }
        rows->line++;
        length = strlen(text);
        if (length && text[length - 1] != '\n' && !feof(rows->file))
            FAIL("line longer than %u characters", (unsigned)sizeof(text) - 2);
        text[strcspn(text, "\r\n")] = 0;
        if (rows->line == 1) {
            if (strcmp(text, HM_TRACE_HEADER))
                FAIL("not a trace of this hostmem's format: the header must read \"%s\" (a trace from an older "
                     "hostmem, or not a hostmem trace)", HM_TRACE_HEADER);
            continue;
        }
        break;
    }

    for (n = 0, p = text;; n++) {
        char *comma = strchr(p, ',');
        if (n == HM_TRACE_FIELDS)
            FAIL("expected %d fields, found more", HM_TRACE_FIELDS);
        field[n] = p;
        if (!comma) {
            n++;
            break;
        }
        *comma = 0;
        p = comma + 1;
    }
    if (n != HM_TRACE_FIELDS)
        FAIL("expected %d fields, found %d", HM_TRACE_FIELDS, n);

    memset(row, 0, sizeof(*row));
    row->line = rows->line;
    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (!strcmp(field[2], methods[i]))
            break;
    if (i == sizeof(methods) / sizeof(methods[0]))
        FAIL("unknown method \"%s\"", field[2]);
    snprintf(row->method, sizeof(row->method), "%s", field[2]);
    if (!rows->started && strcmp(row->method, "Start"))
        FAIL("the first row must be the Start row, found %s", row->method);
    if (rows->started && !strcmp(row->method, "Start"))
        FAIL("a second Start row: one trace per file");
    rows->started = 1;

    if (!number(field[0], 0, &row->time_us))
        FAIL("%s \"%s\" is not a number", names[0], field[0]);
    if (row->time_us < rows->last_time)
        FAIL("time_us %llu is earlier than the row before (%llu)", row->time_us, rows->last_time);
    rows->last_time = row->time_us;
    if (!number(field[1], 0, &v))
        FAIL("%s \"%s\" is not a number", names[1], field[1]);
    row->thread = (unsigned long)v;
    if (*field[3]) {
        if (!number(field[3], 0, &v) || v > 2)
            FAIL("level \"%s\" is not 0, 1 or 2", field[3]);
        row->level = (unsigned)v;
        row->has |= REPLAY_HAS_LEVEL;
    }
    hex_flags = strcmp(row->method, "Start") != 0;
    for (i = 4; i < 10; i++) {
        static const unsigned bit[10] = { 0, 0, 0, 0, REPLAY_HAS_ADDRESS, REPLAY_HAS_SIZE, REPLAY_HAS_FLAGS,
                                          REPLAY_HAS_PROTECT, REPLAY_HAS_HRESULT, REPLAY_HAS_RESULT };
        int hex = i == 4 || i >= 8 || ((i == 6 || i == 7) && hex_flags);

        if (!*field[i])
            continue;
        if (!number(field[i], hex, &v))
            FAIL("%s \"%s\" is not a %s number", names[i], field[i], hex ? "0x hex" : "decimal");
        row->has |= bit[i];
        switch (i) {
        case 4: row->address = v; break;
        case 5: row->size = v; break;
        case 6: row->flags = (unsigned long)v; break;
        case 7: row->protect = (unsigned long)v; break;
        case 8: row->hresult = (unsigned long)v; break;
        default: row->result = v; break;
        }
    }
    if (!number(field[10], 0, &row->committed))
        FAIL("committed \"%s\" is not a number", field[10]);
    if (!number(field[11], 0, &row->malloc_bytes))
        FAIL("malloc \"%s\" is not a number", field[11]);
    return 1;
}
