/*
 * Timing one pair: rounds of hostmem and raw (A B, B A, A B, ...), each a batch
 * of operations timed with QueryPerformanceCounter, until the 95% confidence interval
 * of the median per-round ratio is within SPREAD_GOAL or the pair's time is up. The
 * ratio is the median of the per-round ratios: a round and its neighbour share the
 * machine's mood, so the pairing cancels most of the noise of a busy machine.
 */
#include "bench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double ns_per_tick;

/* Operations a round starts calibrating from: rows whose threads must each get a few
   time slices per round (8 threads on 2 cores) set it, so that a round is not
   dominated by the scheduler's quantum. */
unsigned min_ops = 1;

LONGLONG ticks(void)
{
    LARGE_INTEGER t;
    QueryPerformanceCounter(&t);
    return t.QuadPart;
}

/* --- statistics ---------------------------------------------------------------------- */

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_of(const double *values, unsigned n, double *sorted)
{
    memcpy(sorted, values, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), compare_doubles);
    return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/* Half-width of the distribution-free 95% confidence interval of the median (order
   statistics n/2 -+ 0.98 sqrt(n)), relative to the median. */
static double median_spread(const double *values, unsigned n, double *sorted)
{
    double median = median_of(values, n, sorted);
    double k = floor((n - 1.96 * sqrt((double)n)) / 2);
    unsigned lo = k < 0 ? 0 : (unsigned)k, hi = n - 1 - lo;

    return (sorted[hi] - sorted[lo]) / 2 / median;
}

/* --- one pair ------------------------------------------------------------------------- */

static double time_ns(run_fn fn, void *context, unsigned ops)
{
    LONGLONG start = ticks();
    fn(context, ops);
    return (double)(ticks() - start) * ns_per_tick;
}

result measure(run_fn hostmem, run_fn raw, void *context)
{
    double *h, *r, *q, *sorted, spent = 0, budget = run->pair_seconds * 1e9;
    unsigned ops = min_ops, n;
    result res;

    if (!(h = calloc(run->max_rounds * 4, sizeof(double))))
        fatal("out of memory");
    r = h + run->max_rounds;
    q = r + run->max_rounds;
    sorted = q + run->max_rounds;

    /* Calibrate on hostmem (the warm-up of both sides, too): enough operations that a
       round lasts round_ns, so the timer's resolution and cost do not matter. */
    time_ns(raw, context, 1);
    for (;;) {
        double t = time_ns(hostmem, context, ops);
        if (t >= run->round_ns || ops >= (1u << 24))
            break;
        ops = t < run->round_ns / 64 ? ops * 8 : (unsigned)(ops * run->round_ns / t) + 1;
    }

    for (n = 0; n < run->max_rounds;) {
        double a, b;

        /* A B, then B A: each side goes first in half the rounds, so whatever the second
           batch of a round gains or loses from the first (the caches, the timer, the
           scheduler's slice) counts for neither side. */
        if (n % 2) {
            b = time_ns(raw, context, ops);
            a = time_ns(hostmem, context, ops);
        } else {
            a = time_ns(hostmem, context, ops);
            b = time_ns(raw, context, ops);
        }

        h[n] = a / ops;
        r[n] = b / ops;
        q[n] = a / b;
        spent += a + b;
        n++;
        if (n >= run->min_rounds && (spent >= budget || (n % 4 == 0 && median_spread(q, n, sorted) <= SPREAD_GOAL)))
            break;
    }
    res.hostmem_ns = median_of(h, n, sorted);
    res.raw_ns = median_of(r, n, sorted);
    res.ratio = median_of(q, n, sorted);
    res.spread = median_spread(q, n, sorted);
    res.hostmem_spread = median_spread(h, n, sorted);
    res.raw_spread = median_spread(r, n, sorted);
    res.rounds = n;
    res.ops = ops;
    free(h);
    return res;
}
