/*
 * The report: the table as the rows are measured (one line per row, columns aligned
 * under print_table_header's), each row's verdict against its target (full runs only:
 * a quick run's figures mean little), and the same figures as JSON at the end.
 */
#include "bench.h"

#include <math.h>
#include <stdio.h>

typedef enum target_kind {
    TARGET_RATIO,    /* hostmem_ns / raw_ns, the median per-round ratio, at most target */
    TARGET_ADDED_NS, /* hostmem_ns - raw_ns, the medians' difference, at most target ns */
} target_kind;

typedef struct row {
    const char *id, *name;
    result      r;
    double      target;   /* 0: none */
    target_kind kind;
} row;

#define MAX_ROWS 24
static row rows[MAX_ROWS];
static unsigned row_count;

static scaling scales[2];
static unsigned scale_live[3]; /* the levels reached */
static weight weights;

static const char *verdict(double value, double target)
{
    if (!target || run != &full_mode)
        return "";
    return value <= target ? "ok" : "MISSED";
}

/* One line of the table; without a target (NULL) it ends after the raw column. */
static void print_cells(const char *id, const char *name, const char *hostmem, const char *raw, const char *ratio,
                        const char *spread, const char *target, const char *outcome)
{
    printf("%-3s %-46s %10s %10s", id, name, hostmem, raw);
    if (target)
        printf(" %7s %7s  %-6s  %s", ratio, spread, target, outcome);
    printf("\n");
    fflush(stdout);
}

void print_table_header(void)
{
    printf("%-3s %-46s %10s %10s %7s %7s  %-6s\n", "", "pair", "hostmem ns", "raw ns", "ratio", "spread",
           "target");
}

/* What hostmem adds to the raw call, ns, and that difference's spread (absolute: the
   medians' spreads combined). */
static double added_ns(const result *r, double *spread)
{
    double h = r->hostmem_ns * r->hostmem_spread, k = r->raw_ns * r->raw_spread;

    *spread = sqrt(h * h + k * k);
    return r->hostmem_ns - r->raw_ns;
}

/* A ratio row prints the ratio and its spread; an added-ns row prints the ns added and
   their spread in the same columns, with units so they are not read as a ratio. */
static void print_pair(const row *w)
{
    char hostmem[32], raw[32], ratio[32], spread[32], target[32];
    double value = w->r.ratio;

    snprintf(hostmem, sizeof(hostmem), "%.1f", w->r.hostmem_ns);
    snprintf(raw, sizeof(raw), "%.1f", w->r.raw_ns);
    if (w->kind == TARGET_ADDED_NS) {
        double added_spread;

        value = added_ns(&w->r, &added_spread);
        snprintf(ratio, sizeof(ratio), "%+.1fns", value);
        snprintf(spread, sizeof(spread), "%.1fns", added_spread);
        snprintf(target, sizeof(target), "<=%+.0fns", w->target);
    } else {
        snprintf(ratio, sizeof(ratio), "%.3f", w->r.ratio);
        snprintf(spread, sizeof(spread), "%.2f%%", w->r.spread * 100);
        if (w->target)
            snprintf(target, sizeof(target), "<=%.2f", w->target);
        else
            snprintf(target, sizeof(target), "-");
    }
    print_cells(w->id, w->name, hostmem, raw, ratio, spread, target, verdict(value, w->target));
}

static void add_row(const char *id, const char *name, double target, target_kind kind, run_fn hostmem, run_fn raw,
                    void *context)
{
    row *w;

    if (!wanted(id))
        return;
    w = &rows[row_count++];
    w->id = id;
    w->name = name;
    w->target = target;
    w->kind = kind;
    w->r = measure(hostmem, raw, context);
    print_pair(w);
}

void add_pair(const char *id, const char *name, double target, run_fn hostmem, run_fn raw, void *context)
{
    add_row(id, name, target, TARGET_RATIO, hostmem, raw, context);
}

void add_pair_within_ns(const char *id, const char *name, double max_added_ns, run_fn hostmem, run_fn raw,
                        void *context)
{
    add_row(id, name, max_added_ns, TARGET_ADDED_NS, hostmem, raw, context);
}

/* The growth of a median from the first level to the last, and its spread. */
static double growth(const result *at, BOOL hostmem, double *spread)
{
    double s0 = hostmem ? at[0].hostmem_spread : at[0].raw_spread;
    double s2 = hostmem ? at[2].hostmem_spread : at[2].raw_spread;

    *spread = sqrt(s0 * s0 + s2 * s2);
    return hostmem ? at[2].hostmem_ns / at[0].hostmem_ns : at[2].raw_ns / at[0].raw_ns;
}

static void print_scaling(const scaling *s)
{
    char hostmem[32], raw[32], ratio[32], spread[32], target[32];
    double hostmem_spread, raw_spread;
    double hostmem_growth = growth(s->at, TRUE, &hostmem_spread);
    double raw_growth = growth(s->at, FALSE, &raw_spread);

    snprintf(hostmem, sizeof(hostmem), "%.1f", s->at[2].hostmem_ns);
    snprintf(raw, sizeof(raw), "%.1f", s->at[2].raw_ns);
    snprintf(ratio, sizeof(ratio), "%.3f", hostmem_growth);
    snprintf(spread, sizeof(spread), "%.2f%%", hostmem_spread * 100);
    snprintf(target, sizeof(target), "<=%.2f", TARGET_SCALING);
    print_cells(s->id, s->name, hostmem, raw, ratio, spread, target, verdict(hostmem_growth, TARGET_SCALING));
    printf("      live %u / %u / %u: hostmem %.0f / %.0f / %.0f ns (x%.3f), kernel32 %.0f / %.0f / %.0f ns (x%.3f)\n",
           scale_live[0], scale_live[1], scale_live[2], s->at[0].hostmem_ns, s->at[1].hostmem_ns,
           s->at[2].hostmem_ns, hostmem_growth, s->at[0].raw_ns, s->at[1].raw_ns, s->at[2].raw_ns, raw_growth);
    printf("      hostmem / kernel32 at each level: %.3f / %.3f / %.3f\n", s->at[0].ratio, s->at[1].ratio,
           s->at[2].ratio);
    fflush(stdout);
}

/* Row 4: both scalings, printed and kept for the JSON. */
void report_scaling(const scaling s[2], const unsigned live[3])
{
    unsigned i;

    for (i = 0; i < 3; i++)
        scale_live[i] = live[i];
    for (i = 0; i < 2; i++)
        scales[i] = s[i];
    print_scaling(&scales[0]);
    print_scaling(&scales[1]);
}

/* Rows 6a, 6b: bytes in the hostmem column; target: at most that many bytes (0: none). */
void print_weight(const char *id, const char *name, double bytes, double target)
{
    char value[32], limit[32];

    snprintf(value, sizeof(value), "%.0f", bytes);
    snprintf(limit, sizeof(limit), "<=%.0fB", target);
    print_cells(id, name, value, "-", "", "", target ? limit : NULL, verdict(bytes, target));
}

/* Rows 6c, 6d, 6e. */
void print_block_weight(const char *id, const block_weight *w)
{
    printf("%-3s IHostMalloc, %6u live blocks of 16..1024 B: bookkeeping %5.1f B/block, class rounding "
           "%5.1f B/block (%4.1f%%), committed beyond requested %5.1f%%\n",
           id, w->count, w->books, w->rounding, w->rounding_share * 100, w->committed_share * 100);
}

void report_weights(const weight *w)
{
    weights = *w;
}

/* Names and machine descriptions hold no quotes or backslashes. */
void write_json(const char *path, const char *machine)
{
    FILE *f = fopen(path, "w");
    unsigned i, j;

    if (!f)
        fatal("cannot write %s", path);
    fprintf(f, "{\n  \"mode\": \"%s\",\n  \"machine\": \"%s\",\n  \"commit_limit\": %llu,\n  \"pairs\": [",
            run->name, machine, (unsigned long long)COMMIT_LIMIT);
    for (i = 0; i < row_count; i++) {
        fprintf(f,
                "%s\n    {\"id\": \"%s\", \"name\": \"%s\", \"hostmem_ns\": %.2f, \"raw_ns\": %.2f, \"ratio\": %.4f, "
                "\"spread\": %.4f, \"target\": %.2f, \"target_kind\": \"%s\"",
                i ? "," : "", rows[i].id, rows[i].name, rows[i].r.hostmem_ns, rows[i].r.raw_ns, rows[i].r.ratio,
                rows[i].r.spread, rows[i].target, rows[i].kind == TARGET_ADDED_NS ? "added_ns" : "ratio");
        if (rows[i].kind == TARGET_ADDED_NS) {
            double added_spread, added = added_ns(&rows[i].r, &added_spread);
            fprintf(f, ", \"added_ns\": %.2f, \"added_ns_spread\": %.2f", added, added_spread);
        }
        fprintf(f, ", \"rounds\": %u, \"ops_per_round\": %u}", rows[i].r.rounds, rows[i].r.ops);
    }
    fprintf(f, "\n  ],\n  \"scaling\": [");
    for (i = 0; i < 2 && scales[i].id; i++) {
        double hostmem_spread, raw_spread;
        double hostmem_growth = growth(scales[i].at, TRUE, &hostmem_spread);
        double raw_growth = growth(scales[i].at, FALSE, &raw_spread);

        fprintf(f, "%s\n    {\"id\": \"%s\", \"name\": \"%s\", \"target\": %.2f, \"hostmem_growth\": %.4f, "
                   "\"hostmem_growth_spread\": %.4f, \"kernel32_growth\": %.4f, \"kernel32_growth_spread\": %.4f, "
                   "\"levels\": [",
                i ? "," : "", scales[i].id, scales[i].name, TARGET_SCALING, hostmem_growth, hostmem_spread, raw_growth,
                raw_spread);
        for (j = 0; j < 3; j++)
            fprintf(f, "%s{\"live\": %u, \"hostmem_ns\": %.2f, \"raw_ns\": %.2f, \"ratio\": %.4f, \"spread\": %.4f}",
                    j ? ", " : "", scale_live[j], scales[i].at[j].hostmem_ns, scales[i].at[j].raw_ns,
                    scales[i].at[j].ratio, scales[i].at[j].spread);
        fprintf(f, "]}");
    }
    fprintf(f, "\n  ]");
    if (weights.per_block)
        fprintf(f, ",\n  \"bookkeeping_bytes\": {\"per_64k_reservation\": %.1f, \"per_64k_reservation_target\": %d, "
                   "\"per_256m_reservation\": %.1f, \"per_malloc_block\": %.1f}",
                weights.per_small, TARGET_BOOKKEEPING, weights.per_large, weights.per_block);
    fprintf(f, "\n}\n");
    if (fclose(f))
        fatal("cannot write %s", path);
}
