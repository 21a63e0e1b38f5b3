/*
 * The trace's CSV format; see trace_format.h.
 *
 * Writing appends one field at a time into the caller's buffer and reports a row
 * that does not fit rather than cut it. Reading is a small state machine over the
 * file's lines (the header, the Start row, then calls); a line is split in place, each
 * field checked against what its column may hold, and the first problem stops the
 * parse with the line number and the column it is in. Column names in messages are
 * taken from HM_TRACE_HEADER, so that the header stays their only spelling.
 */
#include "trace_format.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

/* ------------------------------------------------------------------ writing ---- */

struct out {
    char  *buf;
    size_t size, used;
    int    fits;
};

static void put(struct out *o, const char *format, ...)
{
    va_list args;
    int n;

    if (!o->fits)
        return;
    va_start(args, format);
    /* clang-tidy 14's analyzer takes the va_list started just above for uninitialised. */
    n = vsnprintf(o->buf + o->used, o->size - o->used, format, args); /* NOLINT(clang-analyzer-valist.Uninitialized) */
    va_end(args);
    if (n < 0 || (size_t)n >= o->size - o->used)
        o->fits = 0;
    else
        o->used += (size_t)n;
}

static void put_hex(struct out *o, int present, uint64_t value)
{
    if (present)
        put(o, ",0x%" PRIX64, value);
    else
        put(o, ",");
}

static void put_decimal(struct out *o, int present, uint64_t value)
{
    if (present)
        put(o, ",%" PRIu64, value);
    else
        put(o, ",");
}

size_t hm_trace_format_time(uint64_t time_us, char *buf, size_t size)
{
    struct out o = { buf, size, 0, size > 0 };

    put(&o, "%" PRIu64, time_us);
    return o.fits ? o.used : 0;
}

size_t hm_trace_format_fields(const hm_trace_record *row, char *buf, size_t size)
{
    struct out o = { buf, size, 0, size > 0 };
    unsigned p = row->present;

    put(&o, ",%" PRIu64 ",%s", row->thread, row->method);
    put_decimal(&o, (p & HM_TRACE_LEVEL) != 0, row->level);
    put_hex(&o, (p & HM_TRACE_ADDRESS) != 0, row->address);
    put_decimal(&o, (p & HM_TRACE_SIZE) != 0, row->size);
    if (p & HM_TRACE_DECIMAL) {
        put(&o, ",%" PRIu64 ",%" PRIu64, row->flags, row->protect);
    } else {
        put_hex(&o, (p & HM_TRACE_FLAGS) != 0, row->flags);
        put_hex(&o, (p & HM_TRACE_PROTECT) != 0, row->protect);
    }
    if (p & HM_TRACE_HRESULT)
        put(&o, ",0x%08" PRIX32, row->hresult);
    else
        put(&o, ",");
    put_hex(&o, (p & HM_TRACE_RESULT) != 0, row->result);
    put(&o, ",%" PRIu64 ",%" PRIu64 "\n", row->committed, row->malloc_bytes);
    return o.fits ? o.used : 0;
}

size_t hm_trace_format_row(const hm_trace_record *row, char *buf, size_t size)
{
    size_t n = hm_trace_format_time(row->time_us, buf, size), m;

    if (!n)
        return 0;
    m = hm_trace_format_fields(row, buf + n, size - n);
    return m ? n + m : 0;
}

/* ------------------------------------------------------------------ reading ---- */

enum { EXPECT_HEADER, EXPECT_START, EXPECT_CALLS, EXPECT_NOTHING /* after an error */ };

static const char *const methods[] = {
    "Start", "CreateMalloc", "VirtualAlloc", "VirtualFree", "VirtualQuery", "VirtualProtect",
    "GetMemoryLoad", "RegisterMemoryNotificationCallback", "NeedsVirtualAddressSpace",
    "AcquiredVirtualAddressSpace", "ReleasedVirtualAddressSpace", "Alloc", "DebugAlloc", "Free",
    "OnMemoryNotification", "Release",
    /* HostMemConfigureRuntime and what the CLR calls back (docs/governance.md) */
    "ConfigureRuntime", "OnDefaultAction", "OnTimeout", "OnFailure", "OnEvent",
};

static const char header[] = HM_TRACE_HEADER;

void hm_trace_parser_init(hm_trace_parser *parser)
{
    memset(parser, 0, sizeof(*parser));
    parser->expect = EXPECT_HEADER;
}

/* "LINE: " and the message; the parse is over. */
static int vfail(hm_trace_parser *p, int column, const char *format, va_list args)
{
    size_t size = sizeof(p->error);
    int n;

    if (column >= 0) {
        const char *name = header, *comma;
        int i;
        for (i = 0; i < column; i++)
            name = strchr(name, ',') + 1;
        comma = strchr(name, ',');
        n = snprintf(p->error, size, "%lu: %.*s: ", p->line, comma ? (int)(comma - name) : (int)strlen(name), name);
    } else {
        n = snprintf(p->error, size, "%lu: ", p->line);
    }
    if (n >= 0 && (size_t)n < size) /* the caller started args (the same analyzer mistake as in put) */
        vsnprintf(p->error + n, size - (size_t)n, format, args); /* NOLINT(clang-analyzer-valist.Uninitialized) */
    p->expect = EXPECT_NOTHING;
    return HM_TRACE_MALFORMED;
}

static int fail(hm_trace_parser *p, const char *format, ...)
{
    va_list args;
    int rc;

    va_start(args, format);
    rc = vfail(p, -1, format, args);
    va_end(args);
    return rc;
}

/* The same, the message opening with the column's name. */
static int fail_in(hm_trace_parser *p, int column, const char *format, ...)
{
    va_list args;
    int rc;

    va_start(args, format);
    rc = vfail(p, column, format, args);
    va_end(args);
    return rc;
}

/* Digits only: no sign, no spaces, no empty string; false on overflow. */
static int parse_decimal(const char *s, uint64_t *value)
{
    uint64_t v = 0;

    if (!*s)
        return 0;
    for (; *s; s++) {
        unsigned d;
        if (*s < '0' || *s > '9')
            return 0;
        d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *value = v;
    return 1;
}

/* 0x and 1 to 16 hex digits. */
static int parse_hex(const char *s, uint64_t *value)
{
    uint64_t v = 0;
    size_t digits = 0;

    if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return 0;
    for (s += 2; *s; s++, digits++) {
        unsigned d;
        if (*s >= '0' && *s <= '9') d = (unsigned)(*s - '0');
        else if (*s >= 'a' && *s <= 'f') d = (unsigned)(*s - 'a' + 10);
        else if (*s >= 'A' && *s <= 'F') d = (unsigned)(*s - 'A' + 10);
        else return 0;
        if (digits == 16)
            return 0;
        v = v << 4 | d;
    }
    if (!digits)
        return 0;
    *value = v;
    return 1;
}

static int need_decimal(hm_trace_parser *p, char **field, int i, uint64_t *value)
{
    if (!parse_decimal(field[i], value))
        return fail_in(p, i, "\"%.40s\" is not an unsigned decimal number", field[i]);
    return 0;
}

/* Empty, or hex with 0x; sets `bit` in *present when there is a value. */
static int optional_hex(hm_trace_parser *p, char **field, int i, uint64_t *value, unsigned *present, unsigned bit)
{
    if (!field[i][0])
        return 0;
    if (!parse_hex(field[i], value))
        return fail_in(p, i, "\"%.40s\" is neither empty nor hex (0x...)", field[i]);
    *present |= bit;
    return 0;
}

static int optional_decimal(hm_trace_parser *p, char **field, int i, uint64_t *value, unsigned *present, unsigned bit)
{
    if (!field[i][0])
        return 0;
    if (!parse_decimal(field[i], value))
        return fail_in(p, i, "\"%.40s\" is neither empty nor an unsigned decimal number", field[i]);
    *present |= bit;
    return 0;
}

static int parse_percent(hm_trace_parser *p, char **field, int i, const char *what, uint64_t *percent)
{
    if (!parse_decimal(field[i], percent) || *percent > 100)
        return fail_in(p, i, "the Start row's %s \"%.40s\" is not a decimal percentage (0 to 100)", what, field[i]);
    return 0;
}

/* Splits line in place at commas; returns the number of fields (at most max are kept). */
static int split(char *line, char **field, int max)
{
    int n = 0;
    char *s = line;

    for (;;) {
        char *comma = strchr(s, ',');
        if (n < max)
            field[n] = s;
        n++;
        if (!comma)
            return n;
        *comma = '\0';
        s = comma + 1;
    }
}

static int method_index(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (!strcmp(methods[i], name))
            return (int)i;
    return -1;
}

static int parse_start_row(hm_trace_parser *p, char **field, hm_trace_record *r)
{
    int rc;

    if (strcmp(field[HM_TRACE_COL_METHOD], "Start") != 0)
        return fail(p, "expected the Start row first, found method \"%.40s\"", field[HM_TRACE_COL_METHOD]);
    r->method = methods[0];
    if ((rc = need_decimal(p, field, HM_TRACE_COL_TIME, &r->time_us)) ||
        (rc = need_decimal(p, field, HM_TRACE_COL_THREAD, &r->thread)))
        return rc;
    if (!parse_decimal(field[HM_TRACE_COL_SIZE], &r->size))
        return fail_in(p, HM_TRACE_COL_SIZE, "the Start row's commit limit \"%.40s\" is not a decimal number of bytes",
                       field[HM_TRACE_COL_SIZE]);
    if ((rc = parse_percent(p, field, HM_TRACE_COL_FLAGS, "high-water percent", &r->flags)) ||
        (rc = parse_percent(p, field, HM_TRACE_COL_PROTECT, "low-water percent", &r->protect)) ||
        (rc = need_decimal(p, field, HM_TRACE_COL_COMMITTED, &r->committed)) ||
        (rc = need_decimal(p, field, HM_TRACE_COL_MALLOC, &r->malloc_bytes)))
        return rc;
    r->present = HM_TRACE_SIZE | HM_TRACE_FLAGS | HM_TRACE_PROTECT | HM_TRACE_DECIMAL;
    return 0;
}

static int parse_call_row(hm_trace_parser *p, char **field, hm_trace_record *r)
{
    const char *level = field[HM_TRACE_COL_LEVEL];
    uint64_t hresult = 0;
    int method, rc;

    /* The method first: a second run appended to the file starts with Start at time
       0, and saying so is clearer than "goes back in time". */
    method = method_index(field[HM_TRACE_COL_METHOD]);
    if (method < 0)
        return fail_in(p, HM_TRACE_COL_METHOD, "unknown method \"%.60s\"", field[HM_TRACE_COL_METHOD]);
    if (method == 0)
        return fail(p, "a second Start row: one trace per file");
    r->method = methods[method];
    if ((rc = need_decimal(p, field, HM_TRACE_COL_TIME, &r->time_us)))
        return rc;
    if (r->time_us < p->last_time)
        return fail(p, "time_us %" PRIu64 " goes back in time (line %lu has %" PRIu64 ")", r->time_us, p->last_line,
                    p->last_time);
    if ((rc = need_decimal(p, field, HM_TRACE_COL_THREAD, &r->thread)))
        return rc;
    if (level[0]) {
        if (level[1] || level[0] < '0' || level[0] > '2')
            return fail_in(p, HM_TRACE_COL_LEVEL, "\"%.40s\" is not 0, 1, 2 or empty", level);
        r->level = (uint32_t)(level[0] - '0');
        r->present |= HM_TRACE_LEVEL;
    }
    if ((rc = optional_hex(p, field, HM_TRACE_COL_ADDRESS, &r->address, &r->present, HM_TRACE_ADDRESS)) ||
        (rc = optional_decimal(p, field, HM_TRACE_COL_SIZE, &r->size, &r->present, HM_TRACE_SIZE)) ||
        (rc = optional_hex(p, field, HM_TRACE_COL_FLAGS, &r->flags, &r->present, HM_TRACE_FLAGS)) ||
        (rc = optional_hex(p, field, HM_TRACE_COL_PROTECT, &r->protect, &r->present, HM_TRACE_PROTECT)) ||
        (rc = optional_hex(p, field, HM_TRACE_COL_HRESULT, &hresult, &r->present, HM_TRACE_HRESULT)) ||
        (rc = optional_hex(p, field, HM_TRACE_COL_RESULT, &r->result, &r->present, HM_TRACE_RESULT)) ||
        (rc = need_decimal(p, field, HM_TRACE_COL_COMMITTED, &r->committed)) ||
        (rc = need_decimal(p, field, HM_TRACE_COL_MALLOC, &r->malloc_bytes)))
        return rc;
    if (hresult > 0xFFFFFFFFu)
        return fail_in(p, HM_TRACE_COL_HRESULT, "\"%.40s\" is wider than 32 bits", field[HM_TRACE_COL_HRESULT]);
    r->hresult = (uint32_t)hresult;
    if (!strcmp(r->method, "OnMemoryNotification") &&
        (!(r->present & HM_TRACE_FLAGS) || r->flags < 1 || r->flags > 3))
        return fail_in(p, HM_TRACE_COL_FLAGS,
                       "OnMemoryNotification needs 0x1, 0x2 or 0x3 (Low, Neutral, High), found \"%.40s\"",
                       field[HM_TRACE_COL_FLAGS]);
    return 0;
}

int hm_trace_parse_line(hm_trace_parser *p, char *line, hm_trace_record *record)
{
    char *field[HM_TRACE_COLUMNS];
    size_t len = strlen(line);
    int n, rc;

    if (p->expect == EXPECT_NOTHING)
        return HM_TRACE_MALFORMED;
    p->line++;
    if (len && line[len - 1] == '\r')
        line[--len] = '\0';

    if (p->expect == EXPECT_HEADER) {
        /* A UTF-8 byte order mark, as some editors write, is not a reason to fail. */
        const char *text = strncmp(line, "\xEF\xBB\xBF", 3) != 0 ? line : line + 3;
        if (strcmp(text, HM_TRACE_HEADER) != 0)
            return fail(p, "expected the header " HM_TRACE_HEADER);
        p->expect = EXPECT_START;
        return HM_TRACE_GOT_HEADER;
    }
    if (p->expect == EXPECT_CALLS && !strcmp(line, HM_TRACE_HEADER))
        return fail(p, "a second header: one trace per file");
    n = split(line, field, HM_TRACE_COLUMNS);
    if (n != HM_TRACE_COLUMNS)
        return fail(p, "expected %d fields, found %d", HM_TRACE_COLUMNS, n);

    memset(record, 0, sizeof(*record));
    if (p->expect == EXPECT_START) {
        if ((rc = parse_start_row(p, field, record)))
            return rc;
        p->expect = EXPECT_CALLS;
    } else if ((rc = parse_call_row(p, field, record))) {
        return rc;
    }
    p->last_time = record->time_us;
    p->last_line = p->line;
    return HM_TRACE_GOT_ROW;
}

int hm_trace_parse_end(hm_trace_parser *p)
{
    switch (p->expect) {
    case EXPECT_HEADER:
        p->line = 1;
        return fail(p, "the trace is empty: expected the header " HM_TRACE_HEADER);
    case EXPECT_START:
        p->line = 2;
        return fail(p, "the Start row is missing: the trace ends after its header");
    case EXPECT_CALLS:
        return HM_TRACE_END;
    default:
        return HM_TRACE_MALFORMED;
    }
}

int hm_trace_read_row(hm_trace_parser *p, FILE *in, hm_trace_record *record)
{
    for (;;) {
        char *buf = p->buffer;
        size_t len;
        int rc;

        if (p->expect == EXPECT_NOTHING)
            return HM_TRACE_MALFORMED;
        if (!fgets(buf, (int)sizeof(p->buffer), in)) {
            if (ferror(in)) {
                snprintf(p->error, sizeof(p->error), "reading the trace failed");
                p->expect = EXPECT_NOTHING;
                return HM_TRACE_READ_FAILED;
            }
            return hm_trace_parse_end(p);
        }
        len = strlen(buf);
        if (len && buf[len - 1] == '\n') {
            buf[--len] = '\0';
        } else if (!feof(in)) {
            p->line++;
            return fail(p, "line longer than %d characters", HM_TRACE_LINE_MAX - 2);
        }
        rc = hm_trace_parse_line(p, buf, record);
        if (rc != HM_TRACE_GOT_HEADER)
            return rc;
    }
}
