/*
 * hostmem-bench's shared declarations: what more than one of its files needs (the run
 * mode, timing and measuring a pair, the host as the CLR sees it, the rows table, the
 * size and slot sequence pair 3 replays). Everything else in a file is static to it.
 *
 * The files, one concern each: main.c (options, run modes, the order of the rows),
 * measure.c (timing and the statistics), host.c (the host), pairs_virtual.c (rows 0, 1,
 * 2, 4, 5), pairs_malloc.c (rows 3), weights.c (row 6), report.c (the table and the
 * JSON), costs.c (--costs).
 */
#ifndef HOSTMEM_BENCH_H
#define HOSTMEM_BENCH_H

#include "hostmem_private.h"

#define KIB ((SIZE_T)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

#define COMMIT_LIMIT   (4 * (ULONGLONG)GIB)
#define SPREAD_GOAL    0.005  /* +-0.5% on the ratio */
#define MALLOC_LIVE    256    /* blocks each malloc side keeps alive */
#define SEQUENCE       4096   /* sizes and slots, precomputed: both sides see the same */

/* --- run settings (main.c) ------------------------------------------------------------ */

typedef struct mode {
    const char *name;
    double      round_ns;     /* a round's target length */
    unsigned    min_rounds;
    unsigned    max_rounds;
    double      pair_seconds; /* a pair's budget, calibration aside */
    unsigned    scale[3];     /* live reservations for row 4 */
    unsigned    weigh_small;  /* 64 KiB reservations weighed for row 6 */
    unsigned    weigh_large;  /* 256 MiB reservations */
    unsigned    weigh_blocks; /* malloc blocks */
} mode;

extern const mode full_mode, quick_mode;
extern const mode *run;
extern SIZE_T page_size;

BOOL wanted(const char *id);
_Noreturn void fatal(const char *format, ...);
_Noreturn void check_failed(HRESULT hr, const char *what);
/* Inline, as the raw loops' own checks are: an out-of-line call per operation on one
   side only would be counted as hostmem's (a nanosecond of row 5b's few). */
static inline void check(HRESULT hr, const char *what)
{
    if (hr != S_OK)
        check_failed(hr, what);
}

/* --- timing and one pair (measure.c) -------------------------------------------------- */

typedef void (*run_fn)(void *context, unsigned ops);

typedef struct result {
    double   hostmem_ns, raw_ns, ratio, spread;
    double   hostmem_spread, raw_spread; /* of the medians, for row 4's growths and 5b */
    unsigned rounds, ops;
} result;

extern double ns_per_tick;
extern unsigned min_ops; /* operations a round starts calibrating from */

LONGLONG ticks(void);
result measure(run_fn hostmem, run_fn raw, void *context);

/* --- the host, as the CLR sees it (host.c) -------------------------------------------- */

typedef struct host {
    IHostControl       *control;
    IHostMemoryManager *manager;
    HANDLE              bookkeeping; /* the manager's private heap, for row 6 */
} host;

void host_start(host *h);
void host_stop(host *h);
HOSTMEM_STATS host_stats(const host *h);
void check_books(const host *h, const HOSTMEM_STATS *before, const char *pair);
/* Between these two, the first heap created through hm_os is caught: the first heap a
   new manager or IHostMalloc creates is its bookkeeping heap. */
void heap_catch_start(void);
HANDLE heap_catch_stop(void);

/* --- the rows (pairs_virtual.c, pairs_malloc.c, weights.c) ---------------------------- */

typedef struct vm_context {
    IHostMemoryManager *manager;
    char               *hostmem_region, *raw_region; /* pair 2: 256 MiB each */
    unsigned            hostmem_page, raw_page;      /* pair 2: the next page */
    unsigned            pages;
    void               *query_address;               /* pair 5 */
} vm_context;

void vm_start(const host *h, vm_context *vm);
void vm_stop(const host *h, vm_context *vm);
void control_pairs(const vm_context *vm);
void forward_pairs(const vm_context *vm);   /* --control: 0c, 0d */
void vm_pairs(const host *h, const HOSTMEM_STATS *books, vm_context *vm);
void scaling_pairs(const host *h, vm_context *vm);
void query_pairs(const host *h, const HOSTMEM_STATS *books, vm_context *vm);

extern unsigned short sizes[SEQUENCE]; /* 16..1024 */
extern unsigned char slots[SEQUENCE];  /* which live block each step replaces */

void make_sequence(void);
void malloc_pairs(const host *h, const HOSTMEM_STATS *books);
void weight_rows(void);
void print_costs(void);

/* --- the report (report.c) ------------------------------------------------------------ */

typedef struct scaling {
    const char *id, *name;
    result      at[3];
} scaling;

typedef struct weight {
    double per_small, per_large, per_block;
} weight;

/* What count live blocks of the bench's sizes (16..1024 B) cost beyond their bytes. */
typedef struct block_weight {
    unsigned count;
    double   books;     /* bookkeeping bytes per block: the manager's and the malloc's heaps */
    double   rounding;  /* size-class rounding, bytes per block */
    double   rounding_share; /* of the bytes requested */
    double   committed_share; /* mallocCommittedBytes / mallocBytes - 1: rounding, slab tails, free blocks */
} block_weight;

#define TARGET_SCALING      1.20 /* row 4: growth of hostmem's time */
#define TARGET_BOOKKEEPING  48   /* row 6a: bytes per live 64 KiB reservation */

void print_table_header(void);
/* A pair (when wanted): measured, printed and kept for the JSON. Target: the ratio
   hostmem / raw at most target. */
void add_pair(const char *id, const char *name, double target, run_fn hostmem, run_fn raw, void *context);
/* The same, with the target hostmem_ns - raw_ns at most max_added_ns. */
void add_pair_within_ns(const char *id, const char *name, double max_added_ns, run_fn hostmem, run_fn raw,
                        void *context);
void report_scaling(const scaling s[2], const unsigned live[3]);
void print_weight(const char *id, const char *name, double bytes, double target);
void print_block_weight(const char *id, const block_weight *w);
void report_weights(const weight *w);
void write_json(const char *path, const char *machine);

#endif /* HOSTMEM_BENCH_H */
