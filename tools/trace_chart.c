/*
 * A hostmem trace as an SVG chart; see trace_chart.h.
 *
 * The trace is read once, row by row, into a fixed number of time buckets (1024):
 * when a row falls beyond the last bucket, neighbouring buckets are merged and each
 * bucket covers twice the time. A bucket keeps the first, last, smallest and largest
 * committed and IHostMalloc figures and how many events of each kind it saw, so a
 * trace of any length gives a chart of bounded size that still shows every peak and
 * every event; a short trace keeps one row per bucket and is drawn exactly.
 */
#include "trace_chart.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ the model ---- */

enum event_kind {
    EV_LOW, EV_NEUTRAL, EV_HIGH,                      /* OnMemoryNotification */
    EV_REFUSED_TASK, EV_REFUSED_DOMAIN, EV_REFUSED_PROCESS, EV_REFUSED_NO_LEVEL,
    EV_ESCALATION,                                    /* E_FAIL */
    EV_KINDS
};

#define HM_E_OUTOFMEMORY 0x8007000Eu
#define HM_E_FAIL        0x80004005u

struct span {
    uint64_t first, last, min, max;
};

struct bucket {
    int      used;
    uint64_t t_first, t_last;
    struct span committed, malloc_bytes;
    uint32_t count[EV_KINDS];
    uint64_t t_event[EV_KINDS];   /* time of the bucket's first event of each kind */
};

#define BUCKETS 1024
#define MAX_THREADS_COUNTED 256

struct chart {
    struct bucket bucket[BUCKETS];
    uint64_t bucket_us;           /* time each bucket covers */
    uint64_t limit;               /* from the Start row; 0 = none */
    unsigned high_percent, low_percent;
    uint64_t t_end;
    uint64_t rows;                /* after the Start row */
    uint64_t peak_committed, peak_malloc;
    uint64_t total[EV_KINDS];
    uint32_t thread[MAX_THREADS_COUNTED];
    unsigned threads;
    int      more_threads;
};

static void span_start(struct span *s, uint64_t v)
{
    s->first = s->last = s->min = s->max = v;
}

static void span_add(struct span *s, uint64_t v)
{
    s->last = v;
    if (v < s->min) s->min = v;
    if (v > s->max) s->max = v;
}

static void span_merge(struct span *into, const struct span *next)
{
    into->last = next->last;
    if (next->min < into->min) into->min = next->min;
    if (next->max > into->max) into->max = next->max;
}

static void bucket_merge(struct bucket *into, const struct bucket *next)
{
    int k;

    if (!next->used)
        return;
    if (!into->used) {
        *into = *next;
        return;
    }
    into->t_last = next->t_last;
    span_merge(&into->committed, &next->committed);
    span_merge(&into->malloc_bytes, &next->malloc_bytes);
    for (k = 0; k < EV_KINDS; k++) {
        if (!into->count[k])
            into->t_event[k] = next->t_event[k];
        into->count[k] += next->count[k];
    }
}

/* Every bucket now covers twice the time. */
static void compact(struct chart *c)
{
    size_t j;

    for (j = 0; j < BUCKETS / 2; j++) {
        struct bucket merged = c->bucket[2 * j];
        bucket_merge(&merged, &c->bucket[2 * j + 1]);
        c->bucket[j] = merged;
    }
    memset(&c->bucket[BUCKETS / 2], 0, sizeof(c->bucket) / 2);
    c->bucket_us *= 2;
}

static void add_row(struct chart *c, uint64_t t, uint64_t committed, uint64_t malloc_bytes, int kind)
{
    struct bucket *b;

    while (t / c->bucket_us >= BUCKETS)
        compact(c);
    b = &c->bucket[t / c->bucket_us];
    if (!b->used) {
        b->used = 1;
        b->t_first = t;
        span_start(&b->committed, committed);
        span_start(&b->malloc_bytes, malloc_bytes);
    } else {
        span_add(&b->committed, committed);
        span_add(&b->malloc_bytes, malloc_bytes);
    }
    b->t_last = t;
    if (kind >= 0) {
        if (!b->count[kind])
            b->t_event[kind] = t;
        b->count[kind]++;
        c->total[kind]++;
    }
    if (committed > c->peak_committed) c->peak_committed = committed;
    if (malloc_bytes > c->peak_malloc) c->peak_malloc = malloc_bytes;
    c->t_end = t;
}

static void count_thread(struct chart *c, uint64_t id)
{
    unsigned i;

    for (i = 0; i < c->threads; i++)
        if (c->thread[i] == (uint32_t)id)
            return;
    if (c->threads < MAX_THREADS_COUNTED)
        c->thread[c->threads++] = (uint32_t)id;
    else
        c->more_threads = 1;
}

/* ---------------------------------------------------------------- the parser ---- */

static const char *const methods[] = {
    "Start", "CreateMalloc", "VirtualAlloc", "VirtualFree", "VirtualQuery", "VirtualProtect",
    "GetMemoryLoad", "RegisterMemoryNotificationCallback", "NeedsVirtualAddressSpace",
    "AcquiredVirtualAddressSpace", "ReleasedVirtualAddressSpace", "Alloc", "DebugAlloc", "Free",
    "OnMemoryNotification", "Release",
    /* HostMemConfigureRuntime and what the CLR calls back (docs/governance.md) */
    "ConfigureRuntime", "OnDefaultAction", "OnTimeout", "OnFailure", "OnEvent",
};

static const char *const column[HM_TRACE_FIELDS] = {
    "time_us", "thread", "method", "level", "address", "size", "flags", "protect", "hresult",
    "result", "committed", "malloc",
};
enum { F_TIME, F_THREAD, F_METHOD, F_LEVEL, F_ADDRESS, F_SIZE, F_FLAGS, F_PROTECT, F_HRESULT,
       F_RESULT, F_COMMITTED, F_MALLOC };

struct parser {
    unsigned long line;
    char *error;
    size_t error_size;
};

static int fail(struct parser *p, const char *format, ...)
{
    va_list args;
    int n;

    if (p->error && p->error_size) {
        n = snprintf(p->error, p->error_size, "%lu: ", p->line);
        if (n >= 0 && (size_t)n < p->error_size) {
            va_start(args, format);
            vsnprintf(p->error + n, p->error_size - (size_t)n, format, args);
            va_end(args);
        }
    }
    return HM_CHART_BAD_TRACE;
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

static int need_decimal(struct parser *p, char **field, int i, uint64_t *value)
{
    if (!parse_decimal(field[i], value))
        return fail(p, "%s: \"%.40s\" is not an unsigned decimal number", column[i], field[i]);
    return 0;
}

/* Empty, or hex with 0x; *present says which. */
static int optional_hex(struct parser *p, char **field, int i, uint64_t *value, int *present)
{
    *present = field[i][0] != '\0';
    if (*present && !parse_hex(field[i], value))
        return fail(p, "%s: \"%.40s\" is neither empty nor hex (0x...)", column[i], field[i]);
    return 0;
}

static int optional_decimal(struct parser *p, char **field, int i)
{
    uint64_t ignored;

    if (field[i][0] && !parse_decimal(field[i], &ignored))
        return fail(p, "%s: \"%.40s\" is neither empty nor an unsigned decimal number", column[i], field[i]);
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

static int parse_percent(struct parser *p, char **field, int i, const char *what, unsigned *percent)
{
    uint64_t v;

    if (!parse_decimal(field[i], &v) || v > 100)
        return fail(p, "%s: the Start row's %s \"%.40s\" is not a decimal percentage (0 to 100)",
                    column[i], what, field[i]);
    *percent = (unsigned)v;
    return 0;
}

static int parse_start_row(struct parser *p, struct chart *c, char **field)
{
    uint64_t t, thread, committed, malloc_bytes;
    int rc;

    if (strcmp(field[F_METHOD], "Start"))
        return fail(p, "expected the Start row first, found method \"%.40s\"", field[F_METHOD]);
    if ((rc = need_decimal(p, field, F_TIME, &t)) || (rc = need_decimal(p, field, F_THREAD, &thread)))
        return rc;
    if (!parse_decimal(field[F_SIZE], &c->limit))
        return fail(p, "size: the Start row's commit limit \"%.40s\" is not a decimal number of bytes",
                    field[F_SIZE]);
    if ((rc = parse_percent(p, field, F_FLAGS, "high-water percent", &c->high_percent)) ||
        (rc = parse_percent(p, field, F_PROTECT, "low-water percent", &c->low_percent)) ||
        (rc = need_decimal(p, field, F_COMMITTED, &committed)) ||
        (rc = need_decimal(p, field, F_MALLOC, &malloc_bytes)))
        return rc;
    count_thread(c, thread);
    add_row(c, t, committed, malloc_bytes, -1);
    return 0;
}

static int parse_call_row(struct parser *p, struct chart *c, char **field, uint64_t *last_time,
                          unsigned long *last_line)
{
    uint64_t t, thread, committed, malloc_bytes, flags = 0, hresult = 0, ignored;
    int method, has_flags, has_hresult, present, kind = -1, rc;

    /* The method first: a second run appended to the file starts with Start at time
       0, and saying so is clearer than "goes back in time". */
    method = method_index(field[F_METHOD]);
    if (method < 0)
        return fail(p, "method: unknown method \"%.60s\"", field[F_METHOD]);
    if (method == 0)
        return fail(p, "a second Start row: one trace per file");
    if ((rc = need_decimal(p, field, F_TIME, &t)))
        return rc;
    if (t < *last_time)
        return fail(p, "time_us %" PRIu64 " goes back in time (line %lu has %" PRIu64 ")", t, *last_line,
                    *last_time);
    if ((rc = need_decimal(p, field, F_THREAD, &thread)))
        return rc;
    if (field[F_LEVEL][0] && (field[F_LEVEL][1] || field[F_LEVEL][0] < '0' || field[F_LEVEL][0] > '2'))
        return fail(p, "level: \"%.40s\" is not 0, 1, 2 or empty", field[F_LEVEL]);
    if ((rc = optional_hex(p, field, F_ADDRESS, &ignored, &present)) ||
        (rc = optional_decimal(p, field, F_SIZE)) ||
        (rc = optional_hex(p, field, F_FLAGS, &flags, &has_flags)) ||
        (rc = optional_hex(p, field, F_PROTECT, &ignored, &present)) ||
        (rc = optional_hex(p, field, F_HRESULT, &hresult, &has_hresult)) ||
        (rc = optional_hex(p, field, F_RESULT, &ignored, &present)) ||
        (rc = need_decimal(p, field, F_COMMITTED, &committed)) ||
        (rc = need_decimal(p, field, F_MALLOC, &malloc_bytes)))
        return rc;
    if (has_hresult && hresult > 0xFFFFFFFFu)
        return fail(p, "hresult: \"%.40s\" is wider than 32 bits", field[F_HRESULT]);

    if (!strcmp(methods[method], "OnMemoryNotification")) {
        if (!has_flags || flags < 1 || flags > 3)
            return fail(p, "flags: OnMemoryNotification needs 0x1, 0x2 or 0x3 (Low, Neutral, High), found \"%.40s\"",
                        field[F_FLAGS]);
        kind = EV_LOW + (int)(flags - 1);
    } else if (has_hresult && hresult == HM_E_OUTOFMEMORY) {
        kind = field[F_LEVEL][0] ? EV_REFUSED_TASK + (field[F_LEVEL][0] - '0') : EV_REFUSED_NO_LEVEL;
    } else if (has_hresult && hresult == HM_E_FAIL) {
        kind = EV_ESCALATION;
    }
    count_thread(c, thread);
    add_row(c, t, committed, malloc_bytes, kind);
    c->rows++;
    *last_time = t;
    *last_line = p->line;
    return 0;
}

#define MAX_LINE 4096

/* One line without its '\n' (and a '\r' before it) into buf; 1 = a line, 0 = end of
   file, <0 = error (already reported). */
static int read_line(FILE *in, struct parser *p, char *buf, size_t size, int *rc)
{
    size_t len;

    if (!fgets(buf, (int)size, in)) {
        if (ferror(in)) {
            if (p->error && p->error_size)
                snprintf(p->error, p->error_size, "reading the trace failed");
            *rc = HM_CHART_IO_ERROR;
            return -1;
        }
        return 0;
    }
    p->line++;
    len = strlen(buf);
    if (len && buf[len - 1] == '\n')
        buf[--len] = '\0';
    else if (!feof(in)) {
        *rc = fail(p, "line longer than %d characters", MAX_LINE - 2);
        return -1;
    }
    if (len && buf[len - 1] == '\r')
        buf[--len] = '\0';
    return 1;
}

static int parse_trace(FILE *in, struct chart *c, struct parser *p)
{
    char *buf = malloc(MAX_LINE);
    char *field[HM_TRACE_FIELDS];
    uint64_t last_time = 0;
    unsigned long last_line = 0;
    int got, n, rc = 0;

    if (!buf)
        return HM_CHART_NO_MEMORY;
    c->bucket_us = 1;

    got = read_line(in, p, buf, MAX_LINE, &rc);
    if (got == 0) {
        p->line = 1;
        rc = fail(p, "the trace is empty: expected the header " HM_TRACE_HEADER);
    } else if (got > 0) {
        /* A UTF-8 byte order mark, as some editors write, is not a reason to fail. */
        const char *text = strncmp(buf, "\xEF\xBB\xBF", 3) ? buf : buf + 3;
        if (strcmp(text, HM_TRACE_HEADER))
            rc = fail(p, "expected the header " HM_TRACE_HEADER);
    }
    if (got <= 0 || rc)
        goto done;

    got = read_line(in, p, buf, MAX_LINE, &rc);
    if (got == 0) {
        p->line = 2;
        rc = fail(p, "the Start row is missing: the trace ends after its header");
        goto done;
    }
    if (got < 0)
        goto done;
    n = split(buf, field, HM_TRACE_FIELDS);
    if (n != HM_TRACE_FIELDS) {
        rc = fail(p, "expected %d fields, found %d", HM_TRACE_FIELDS, n);
        goto done;
    }
    if ((rc = parse_start_row(p, c, field)))
        goto done;
    last_time = c->t_end;
    last_line = p->line;

    while ((got = read_line(in, p, buf, MAX_LINE, &rc)) > 0) {
        if (!strcmp(buf, HM_TRACE_HEADER)) {
            rc = fail(p, "a second header: one trace per file");
            break;
        }
        n = split(buf, field, HM_TRACE_FIELDS);
        if (n != HM_TRACE_FIELDS) {
            rc = fail(p, "expected %d fields, found %d", HM_TRACE_FIELDS, n);
            break;
        }
        if ((rc = parse_call_row(p, c, field, &last_time, &last_line)))
            break;
    }
done:
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------ the chart ---- */

/* Geometry, in SVG user units (px). */
#define W        1000.0
#define PLOT_X0  132.0
#define PLOT_X1  872.0
#define PLOT_Y0  128.0
#define PLOT_Y1  448.0
#define LANE_Y0  464.0
#define LANE_H   22.0

#define COLOR_COMMITTED "#1f5fbf"
#define COLOR_MALLOC    "#8e44ad"
#define COLOR_LIMIT     "#c0392b"
#define COLOR_HIGH      "#e67e22"
#define COLOR_LOW       "#27ae60"
#define COLOR_N_LOW     "#c0392b"
#define COLOR_N_NEUTRAL "#7f8c8d"
#define COLOR_N_HIGH    "#27ae60"
#define COLOR_R_TASK    "#f5b041"
#define COLOR_R_DOMAIN  "#e67e22"
#define COLOR_R_PROCESS "#a93226"
#define COLOR_R_NOLEVEL "#95a5a6"
#define COLOR_ESCALATE  "#111111"

struct axis {
    double unit;          /* bytes or microseconds per displayed unit */
    const char *name;     /* "MiB", "ms", ... */
    double step, top;     /* in displayed units */
    int decimals;
};

/* 1, 2 or 5 times a power of ten, giving about `ticks` steps over range. */
static double nice_step(double range, int ticks)
{
    double raw = range / ticks, magnitude = 1.0, norm;

    while (magnitude * 10.0 <= raw)
        magnitude *= 10.0;
    while (magnitude > raw)
        magnitude /= 10.0;
    norm = raw / magnitude;
    if (norm < 1.5) return magnitude;
    if (norm < 3.5) return 2.0 * magnitude;
    if (norm < 7.5) return 5.0 * magnitude;
    return 10.0 * magnitude;
}

static void axis_fit(struct axis *a, double max_units, double headroom, int ticks)
{
    double want = max_units * headroom;
    double n;

    if (want <= 0.0)
        want = 1.0;
    a->step = nice_step(want, ticks);
    n = (double)(uint64_t)(want / a->step);
    if (n * a->step < want - a->step * 1e-9)
        n += 1.0;
    a->top = n * a->step;
    a->decimals = a->step >= 1.0 ? 0 : a->step >= 0.1 ? 1 : a->step >= 0.01 ? 2 : 3;
}

static void bytes_axis(struct axis *a, uint64_t max_bytes)
{
    if (max_bytes < 1024u * 1024u) {
        a->unit = 1024.0;
        a->name = "KiB";
    } else if (max_bytes < (uint64_t)10 << 30) {
        a->unit = 1024.0 * 1024.0;
        a->name = "MiB";
    } else {
        a->unit = 1024.0 * 1024.0 * 1024.0;
        a->name = "GiB";
    }
    axis_fit(a, (double)max_bytes / a->unit, 1.08, 5);
}

static void time_axis(struct axis *a, uint64_t end_us)
{
    if (end_us < 2000u) {
        a->unit = 1.0;
        a->name = "\xC2\xB5s";   /* µs, UTF-8 */
    } else if (end_us < 2000000u) {
        a->unit = 1000.0;
        a->name = "ms";
    } else {
        a->unit = 1000000.0;
        a->name = "s";
    }
    axis_fit(a, (double)(end_us ? end_us : 1) / a->unit, 1.0, 8);
    /* The plot ends where the trace ends: no empty stretch after the last call. */
    a->top = (double)(end_us ? end_us : 1) / a->unit;
}

struct svg {
    FILE *out;
    const struct chart *c;
    struct axis x, y;
    double lane_y[EV_KINDS];   /* centre of each kind's lane; <0: no lane */
    int lanes;
};

static double sx(const struct svg *s, uint64_t t)
{
    return PLOT_X0 + (double)t / s->x.unit / s->x.top * (PLOT_X1 - PLOT_X0);
}

static double sy(const struct svg *s, uint64_t bytes)
{
    return PLOT_Y1 - (double)bytes / s->y.unit / s->y.top * (PLOT_Y1 - PLOT_Y0);
}

/* Text for XML: &, <, >, " escaped; control characters dropped. */
static void put_text(FILE *out, const char *text)
{
    for (; *text; text++) {
        switch (*text) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        default:
            if ((unsigned char)*text >= 0x20)
                fputc(*text, out);
        }
    }
}

/* "512 MiB", "37.5 MiB", "4 KiB", "100 B". */
static void format_bytes(char *buf, size_t size, uint64_t bytes)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)bytes;
    int u = 0;

    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    if (u == 0 || v == (double)(uint64_t)v)
        snprintf(buf, size, "%.0f %s", v, units[u]);
    else
        snprintf(buf, size, "%.1f %s", v, units[u]);
}

/* "1,234,567". */
static void format_count(char *buf, size_t size, uint64_t n)
{
    char digits[32];
    size_t len, i, o = 0;

    snprintf(digits, sizeof(digits), "%" PRIu64, n);
    len = strlen(digits);
    for (i = 0; i < len && o + 2 < size; i++) {
        if (i && (len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

static void format_time(const struct svg *s, char *buf, size_t size, uint64_t t)
{
    snprintf(buf, size, "%.*f %s", s->x.unit == 1.0 ? 0 : 3, (double)t / s->x.unit, s->x.name);
}

/* A polyline's points, skipping points that round to the previous one. */
struct points {
    FILE *out;
    long last_x, last_y;
    int any;
    double end_x;
};

static void point(struct points *p, double x, double y)
{
    long ix = (long)(x * 10.0 + 0.5), iy = (long)(y * 10.0 + 0.5);

    if (p->any && ix == p->last_x && iy == p->last_y)
        return;
    fprintf(p->out, "%s%ld.%ld,%ld.%ld", p->any ? " " : "", ix / 10, ix % 10, iy / 10, iy % 10);
    p->last_x = ix;
    p->last_y = iy;
    p->any = 1;
    p->end_x = x;
}

/* The step line of committed (which = 0) or IHostMalloc bytes (which = 1). */
static void series_points(const struct svg *s, int which, struct points *p)
{
    const struct chart *c = s->c;
    uint64_t prev = 0;
    int first = 1;
    size_t i;

    for (i = 0; i < BUCKETS; i++) {
        const struct bucket *b = &c->bucket[i];
        const struct span *v = which ? &b->malloc_bytes : &b->committed;
        double x1, x2;

        if (!b->used)
            continue;
        x1 = sx(s, b->t_first);
        x2 = sx(s, b->t_last);
        if (!first)
            point(p, x1, sy(s, prev));
        point(p, x1, sy(s, v->first));
        point(p, x1, sy(s, v->min));
        point(p, x1, sy(s, v->max));
        point(p, x2, sy(s, v->max));
        point(p, x2, sy(s, v->last));
        prev = v->last;
        first = 0;
    }
}

static void draw_series(const struct svg *s)
{
    struct points p;

    /* committed: a light area under the line, then the line */
    memset(&p, 0, sizeof(p));
    p.out = s->out;
    fprintf(s->out, "<polygon class=\"committed-area\" fill=\"" COLOR_COMMITTED "\" fill-opacity=\"0.10\" points=\"");
    series_points(s, 0, &p);
    point(&p, p.end_x, PLOT_Y1);
    point(&p, PLOT_X0, PLOT_Y1);
    fputs("\"/>\n", s->out);

    memset(&p, 0, sizeof(p));
    p.out = s->out;
    fprintf(s->out, "<polyline class=\"malloc\" fill=\"none\" stroke=\"" COLOR_MALLOC "\" stroke-width=\"1.4\" "
                    "stroke-linejoin=\"round\" points=\"");
    series_points(s, 1, &p);
    fputs("\"/>\n", s->out);

    memset(&p, 0, sizeof(p));
    p.out = s->out;
    fprintf(s->out, "<polyline class=\"committed\" fill=\"none\" stroke=\"" COLOR_COMMITTED "\" stroke-width=\"1.8\" "
                    "stroke-linejoin=\"round\" points=\"");
    series_points(s, 0, &p);
    fputs("\"/>\n", s->out);
}

static void draw_axes(const struct svg *s, double lanes_bottom)
{
    FILE *out = s->out;
    double v;

    /* horizontal grid and the bytes axis */
    fputs("<g class=\"y-axis\" font-size=\"11\" fill=\"#444\" text-anchor=\"end\">\n", out);
    for (v = 0.0; v <= s->y.top + s->y.step * 1e-6; v += s->y.step) {
        double y = PLOT_Y1 - v / s->y.top * (PLOT_Y1 - PLOT_Y0);
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e3e3\"/>", PLOT_X0, y, PLOT_X1, y);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">%.*f</text>\n", PLOT_X0 - 6, y + 4, s->y.decimals, v);
    }
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" fill=\"#222\" "
                 "transform=\"rotate(-90 %.1f %.1f)\">memory (%s)</text>\n",
            PLOT_X0 - 48, (PLOT_Y0 + PLOT_Y1) / 2, PLOT_X0 - 48, (PLOT_Y0 + PLOT_Y1) / 2, s->y.name);
    fputs("</g>\n", out);

    /* vertical grid through the plot and the lanes, and the time axis */
    fputs("<g class=\"x-axis\" font-size=\"11\" fill=\"#444\" text-anchor=\"middle\">\n", out);
    for (v = 0.0; v <= s->x.top + s->x.step * 1e-6; v += s->x.step) {
        double x = PLOT_X0 + v / s->x.top * (PLOT_X1 - PLOT_X0);
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ececec\"/>", x, PLOT_Y0, x,
                lanes_bottom);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">%.*f</text>\n", x, lanes_bottom + 16, s->x.decimals, v);
    }
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"#222\">time since hostmem started (%s)</text>\n",
            (PLOT_X0 + PLOT_X1) / 2, lanes_bottom + 36, s->x.name);
    fputs("</g>\n", out);
    fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#999\"/>\n",
            PLOT_X0, PLOT_Y0, PLOT_X1 - PLOT_X0, PLOT_Y1 - PLOT_Y0);
}

/* A horizontal mark across the plot, its label in the right margin at label_y. */
static void draw_mark(const struct svg *s, const char *cls, uint64_t bytes, const char *color, const char *dash,
                      const char *label, double label_y)
{
    double y = sy(s, bytes);

    fprintf(s->out, "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                    "stroke-width=\"1.5\"%s%s%s/>\n",
            cls, PLOT_X0, y, PLOT_X1, y, color, dash ? " stroke-dasharray=\"" : "", dash ? dash : "", dash ? "\"" : "");
    fprintf(s->out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"%s\">", PLOT_X1 + 6, label_y + 4, color);
    put_text(s->out, label);
    fputs("</text>\n", s->out);
}

static uint64_t percent_of(uint64_t bytes, unsigned percent)
{
    return bytes / 100 * percent + bytes % 100 * percent / 100;
}

/* The limit and the water marks, labelled in the right margin; labels that would
   overlap are pushed apart (the limit's stays on its line). */
static void draw_marks(const struct svg *s)
{
    const struct chart *c = s->c;
    char size[32], label[3][64];
    uint64_t bytes[3];
    double y[3];
    int i, n = 1;

    if (!c->limit)
        return;
    format_bytes(size, sizeof(size), c->limit);
    snprintf(label[0], sizeof(label[0]), "limit %s", size);
    bytes[0] = c->limit;
    snprintf(label[1], sizeof(label[1]), "high water %u%%", c->high_percent);
    bytes[1] = percent_of(c->limit, c->high_percent);
    snprintf(label[2], sizeof(label[2]), "low water %u%%", c->low_percent);
    bytes[2] = percent_of(c->limit, c->low_percent);
    if (c->high_percent)
        n = c->low_percent ? 3 : 2;
    for (i = 0; i < 3; i++)
        y[i] = sy(s, bytes[i]);
    for (i = 1; i < n; i++)
        if (y[i] < y[i - 1] + 13.0)
            y[i] = y[i - 1] + 13.0;
    draw_mark(s, "limit", bytes[0], COLOR_LIMIT, NULL, label[0], y[0]);
    if (n > 1)
        draw_mark(s, "high-water", bytes[1], COLOR_HIGH, "6 4", label[1], y[1]);
    if (n > 2)
        draw_mark(s, "low-water", bytes[2], COLOR_LOW, "6 4", label[2], y[2]);
}

/* Marker shapes, centred on (x, y). */
static void shape_path(FILE *out, int kind, double x, double y)
{
    const double r = 5.0;

    switch (kind) {
    case EV_LOW:      /* down: memory is low */
        fprintf(out, "M%.1f %.1fL%.1f %.1fL%.1f %.1fZ", x - r, y - r, x + r, y - r, x, y + r);
        break;
    case EV_HIGH:     /* up: memory is plentiful again */
        fprintf(out, "M%.1f %.1fL%.1f %.1fL%.1f %.1fZ", x - r, y + r, x + r, y + r, x, y - r);
        break;
    case EV_NEUTRAL:  /* a circle */
        fprintf(out, "M%.1f %.1fa4 4 0 1 0 8 0a4 4 0 1 0 -8 0Z", x - 4, y);
        break;
    case EV_ESCALATION:
        fprintf(out, "M%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f %.1f", x - r, y - r, x + r, y + r, x - r, y + r, x + r, y - r);
        break;
    default:          /* refusals: a diamond */
        fprintf(out, "M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fZ", x, y - r - 1, x + r, y, x, y + r + 1, x - r, y);
        break;
    }
}

static const char *kind_class(int kind)
{
    static const char *const names[EV_KINDS] = {
        "notification low", "notification neutral", "notification high", "refusal task", "refusal domain",
        "refusal process", "refusal no-level", "escalation",
    };
    return names[kind];
}

static const char *kind_color(int kind)
{
    static const char *const colors[EV_KINDS] = {
        COLOR_N_LOW, COLOR_N_NEUTRAL, COLOR_N_HIGH, COLOR_R_TASK, COLOR_R_DOMAIN, COLOR_R_PROCESS,
        COLOR_R_NOLEVEL, COLOR_ESCALATE,
    };
    return colors[kind];
}

static const char *kind_words(int kind, uint64_t n)
{
    static const char *const one[EV_KINDS] = {
        "Low notification", "Neutral notification", "High notification", "refusal at eTaskCritical",
        "refusal at eAppDomainCritical", "refusal at eProcessCritical", "refusal without a critical level",
        "escalation (E_FAIL)",
    };
    static const char *const many[EV_KINDS] = {
        "Low notifications", "Neutral notifications", "High notifications", "refusals at eTaskCritical",
        "refusals at eAppDomainCritical", "refusals at eProcessCritical", "refusals without a critical level",
        "escalations (E_FAIL)",
    };
    return n == 1 ? one[kind] : many[kind];
}

/* One marker; its colours come from the lane's group. */
static void marker(const struct svg *s, int kind, double x, double y, uint64_t count, uint64_t t)
{
    char when[48];

    format_time(s, when, sizeof(when), t);
    fprintf(s->out, "<path class=\"marker %s\" d=\"", kind_class(kind));
    shape_path(s->out, kind, x, y);
    fprintf(s->out, "\"><title>%" PRIu64 " %s at %s</title></path>\n", count, kind_words(kind, count), when);
}

/* Lanes under the plot: one row of markers per kind of event, sharing the time axis. */
static double draw_lanes(struct svg *s)
{
    static const struct { const char *label; int kinds[3]; int n; } lane[] = {
        { "notifications",   { EV_LOW, EV_NEUTRAL, EV_HIGH }, 3 },
        { "refused: task",   { EV_REFUSED_TASK }, 1 },
        { "refused: domain", { EV_REFUSED_DOMAIN }, 1 },
        { "refused: process", { EV_REFUSED_PROCESS }, 1 },
        { "refused: no level", { EV_REFUSED_NO_LEVEL }, 1 },
        { "escalations",     { EV_ESCALATION }, 1 },
    };
    const struct chart *c = s->c;
    FILE *out = s->out;
    double y = LANE_Y0;
    size_t l;
    int k, shown = 0;

    for (l = 0; l < sizeof(lane) / sizeof(lane[0]); l++) {
        uint64_t total = 0;
        char count[32];

        /* The no-level lane only when such refusals exist (NeedsVirtualAddressSpace, CreateMalloc). */
        if (lane[l].kinds[0] == EV_REFUSED_NO_LEVEL && !c->total[EV_REFUSED_NO_LEVEL])
            continue;
        for (k = 0; k < lane[l].n; k++)
            total += c->total[lane[l].kinds[k]];
        if (shown++ % 2 == 0)
            fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#f6f6f6\"/>\n", PLOT_X0, y,
                    PLOT_X1 - PLOT_X0, LANE_H);
        fprintf(out, "<text class=\"lane-label\" x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\" "
                     "fill=\"#222\">%s</text>\n", PLOT_X0 - 6, y + LANE_H / 2 + 4, lane[l].label);
        format_count(count, sizeof(count), total);
        fprintf(out, "<text class=\"lane-count\" x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"%s\">%s</text>\n",
                PLOT_X1 + 12, y + LANE_H / 2 + 4, total ? "#222" : "#aaa", count);
        for (k = 0; k < lane[l].n; k++)
            s->lane_y[lane[l].kinds[k]] = y + LANE_H / 2;
        y += LANE_H;
    }
    s->lanes = shown;

    for (k = 0; k < EV_KINDS; k++) {
        size_t i;
        if (!c->total[k])
            continue;
        if (k == EV_ESCALATION)
            fprintf(out, "<g class=\"lane %s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2.2\">\n", kind_class(k),
                    kind_color(k));
        else
            fprintf(out, "<g class=\"lane %s\" fill=\"%s\" stroke=\"#ffffff\" stroke-width=\"0.6\">\n", kind_class(k),
                    kind_color(k));
        for (i = 0; i < BUCKETS; i++) {
            const struct bucket *b = &c->bucket[i];
            if (b->used && b->count[k])
                marker(s, k, sx(s, b->t_event[k]), s->lane_y[k], b->count[k], b->t_event[k]);
        }
        fputs("</g>\n", out);
    }
    return y;
}

/* A dotted line through the plot at each escalation: the moment the CLR would be lost. */
static void draw_escalation_lines(const struct svg *s)
{
    const struct chart *c = s->c;
    size_t i;

    if (!c->total[EV_ESCALATION])
        return;
    fputs("<g class=\"escalation-lines\" stroke=\"" COLOR_ESCALATE "\" stroke-width=\"1\" stroke-dasharray=\"2 3\">\n",
          s->out);
    for (i = 0; i < BUCKETS; i++) {
        const struct bucket *b = &c->bucket[i];
        if (b->used && b->count[EV_ESCALATION]) {
            double x = sx(s, b->t_event[EV_ESCALATION]);
            fprintf(s->out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x, PLOT_Y0, x, PLOT_Y1);
        }
    }
    fputs("</g>\n", s->out);
}

static double legend_line(FILE *out, double x, double y, const char *color, const char *dash, double width,
                          const char *label)
{
    fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%.1f\"%s%s%s/>",
            x, y - 4, x + 22, y - 4, color, width, dash ? " stroke-dasharray=\"" : "", dash ? dash : "",
            dash ? "\"" : "");
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", x + 28, y, label);
    return x + 28 + 7.0 * (double)strlen(label) + 22;
}

static double legend_marker(FILE *out, double x, double y, int kind, const char *label)
{
    fprintf(out, "<path d=\"");
    shape_path(out, kind, x + 6, y - 4);
    if (kind == EV_ESCALATION)
        fprintf(out, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"2.2\"/>", kind_color(kind));
    else
        fprintf(out, "\" fill=\"%s\"/>", kind_color(kind));
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", x + 16, y, label);
    return x + 16 + 7.0 * (double)strlen(label) + 16;
}

static void draw_legend(const struct svg *s)
{
    const struct chart *c = s->c;
    FILE *out = s->out;
    double x = PLOT_X0, y = 94;

    fputs("<g class=\"legend\" font-size=\"12\" fill=\"#222\">\n", out);
    x = legend_line(out, x, y, COLOR_COMMITTED, NULL, 2.0, "committed (VirtualAlloc)");
    x = legend_line(out, x, y, COLOR_MALLOC, NULL, 1.6, "IHostMalloc");
    if (c->limit) {
        x = legend_line(out, x, y, COLOR_LIMIT, NULL, 1.5, "limit");
        x = legend_line(out, x, y, COLOR_HIGH, "6 4", 1.5, "high water");
        legend_line(out, x, y, COLOR_LOW, "6 4", 1.5, "low water");
    } else {
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#777\">no commit limit</text>\n", x, y);
    }
    x = PLOT_X0;
    y += 20;
    x = legend_marker(out, x, y, EV_LOW, "Low");
    x = legend_marker(out, x, y, EV_NEUTRAL, "Neutral");
    x = legend_marker(out, x, y, EV_HIGH, "High notification");
    x = legend_marker(out, x, y, EV_REFUSED_TASK, "refused (E_OUTOFMEMORY): task");
    x = legend_marker(out, x, y, EV_REFUSED_DOMAIN, "domain");
    x = legend_marker(out, x, y, EV_REFUSED_PROCESS, "process");
    legend_marker(out, x, y, EV_ESCALATION, "escalated (E_FAIL)");
    fputs("</g>\n", out);
}

/* Two lines under the title: the memory figures, then what happened. */
static void write_summary(const struct svg *s, char *memory, char *events, size_t size)
{
    const struct chart *c = s->c;
    char limit[32], peak[32], peak_malloc[32], calls[32], when[48];
    uint64_t refusals = c->total[EV_REFUSED_TASK] + c->total[EV_REFUSED_DOMAIN] + c->total[EV_REFUSED_PROCESS] +
                        c->total[EV_REFUSED_NO_LEVEL];

    format_bytes(peak, sizeof(peak), c->peak_committed);
    format_bytes(peak_malloc, sizeof(peak_malloc), c->peak_malloc);
    format_count(calls, sizeof(calls), c->rows);
    format_time(s, when, sizeof(when), c->t_end);
    if (c->limit) {
        format_bytes(limit, sizeof(limit), c->limit);
        snprintf(memory, size, "limit %s (high water %u%%, low water %u%%)  |  peak committed %s (%.0f%% of the "
                 "limit)  |  IHostMalloc peak %s", limit, c->high_percent, c->low_percent, peak,
                 100.0 * (double)c->peak_committed / (double)c->limit, peak_malloc);
    } else {
        snprintf(memory, size, "no commit limit  |  peak committed %s  |  IHostMalloc peak %s", peak, peak_malloc);
    }
    snprintf(events, size,
             "%s calls on %u%s threads in %s  |  notifications: %" PRIu64 " Low, %" PRIu64 " Neutral, %" PRIu64
             " High  |  %" PRIu64 " refusal%s  |  %" PRIu64 " escalation%s",
             calls, c->threads, c->more_threads ? "+" : "", when, c->total[EV_LOW], c->total[EV_NEUTRAL],
             c->total[EV_HIGH], refusals, refusals == 1 ? "" : "s", c->total[EV_ESCALATION],
             c->total[EV_ESCALATION] == 1 ? "" : "s");
}

static void write_svg(struct svg *s, const char *title)
{
    const struct chart *c = s->c;
    FILE *out = s->out;
    char memory[256], events[256];
    uint64_t max_bytes = c->peak_committed;
    double lanes_bottom, height;
    int k;

    if (c->limit > max_bytes) max_bytes = c->limit;
    if (c->peak_malloc > max_bytes) max_bytes = c->peak_malloc;
    if (!max_bytes) max_bytes = 64 * 1024;
    bytes_axis(&s->y, max_bytes);
    time_axis(&s->x, c->t_end);
    for (k = 0; k < EV_KINDS; k++)
        s->lane_y[k] = -1.0;
    /* The lanes' height decides the picture's; count them before the first byte. */
    s->lanes = c->total[EV_REFUSED_NO_LEVEL] ? 6 : 5;
    lanes_bottom = LANE_Y0 + s->lanes * LANE_H;
    height = lanes_bottom + 50;
    write_summary(s, memory, events, sizeof(memory));

    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                 "font-family=\"DejaVu Sans, Verdana, Arial, sans-serif\">\n",
            W, height, W, height);
    fputs("<title>", out);
    put_text(out, title);
    fputs("</title>\n<desc>", out);
    put_text(out, memory);
    fputs(". ", out);
    put_text(out, events);
    fputs("</desc>\n", out);
    fprintf(out, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n", W, height);
    fprintf(out, "<text class=\"title\" x=\"%.1f\" y=\"30\" font-size=\"18\" font-weight=\"bold\" fill=\"#111\">", PLOT_X0);
    put_text(out, title);
    fputs("</text>\n", out);
    fprintf(out, "<text class=\"summary\" x=\"%.1f\" y=\"52\" font-size=\"12\" fill=\"#444\">", PLOT_X0);
    put_text(out, memory);
    fprintf(out, "</text>\n<text class=\"summary\" x=\"%.1f\" y=\"70\" font-size=\"12\" fill=\"#444\">", PLOT_X0);
    put_text(out, events);
    fputs("</text>\n", out);

    draw_legend(s);
    draw_axes(s, lanes_bottom);
    draw_marks(s);
    draw_series(s);
    draw_escalation_lines(s);
    draw_lanes(s);
    fputs("</svg>\n", out);
}

int hm_write_chart_svg(FILE *trace, FILE *svg, const char *title, char *error, size_t error_size)
{
    struct parser p;
    struct chart *c;
    struct svg s;
    int rc;

    if (error && error_size)
        error[0] = '\0';
    if (!trace || !svg) {
        if (error && error_size)
            snprintf(error, error_size, "no trace or no SVG stream");
        return HM_CHART_IO_ERROR;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        if (error && error_size)
            snprintf(error, error_size, "out of memory");
        return HM_CHART_NO_MEMORY;
    }
    memset(&p, 0, sizeof(p));
    p.error = error;
    p.error_size = error_size;
    rc = parse_trace(trace, c, &p);
    if (rc == HM_CHART_NO_MEMORY && error && error_size)
        snprintf(error, error_size, "out of memory");
    if (!rc) {
        memset(&s, 0, sizeof(s));
        s.out = svg;
        s.c = c;
        write_svg(&s, title ? title : "hostmem trace");
        if (fflush(svg) || ferror(svg)) {
            if (error && error_size)
                snprintf(error, error_size, "writing the SVG failed");
            rc = HM_CHART_IO_ERROR;
        }
    }
    free(c);
    return rc;
}
