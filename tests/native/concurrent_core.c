/*
 * The portable core's concurrent paths, for ThreadSanitizer (preset native-tsan): the
 * lock-free commit charge, the region table's publish, lookup and retire racing on the
 * same regions, and the pressure decisions made from many threads at once. At
 * quiescence the books must be exact and the last decision must fit the last books.
 * Any data race TSan sees fails the run (halt_on_error).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ledger.h"
#include "pressure.h"

#define THREADS 4
#define ROUNDS  20000
#define SLOTS   16
#define PAGE    4096u
#define PAGES   16

static hm_ledger *ledger;
static hm_pressure pressure;
static _Atomic(uintptr_t) slots[SLOTS];
static _Atomic(uintptr_t) next_base = 0x10000000;
static const uint64_t limit = (uint64_t)SLOTS * PAGES * PAGE;

static void *alloc_fn(void *context, size_t bytes) { (void)context; return malloc(bytes); }
static void free_fn(void *context, void *block) { (void)context; free(block); }
static const hm_allocator allocator = { alloc_fn, free_fn, NULL };

static int failures;
#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); failures++; } } while (0)

static void books_changed(void)
{
    while (hm_pressure_update(&pressure, hm_ledger_committed_bytes(ledger)) != HM_AVAILABLE_NONE)
        ;
}

static void *worker(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u, i;

    for (i = 0; i < ROUNDS; i++) {
        unsigned slot, op, first, count;
        uintptr_t base;
        hm_region *region;

        seed = seed * 1103515245u + 12345u;
        slot = (seed >> 8) % SLOTS;
        op = (seed >> 16) % 100;
        first = (seed >> 4) % PAGES;
        count = 1 + (seed >> 20) % (PAGES - first);
        base = atomic_load(&slots[slot]);
        if (op < 10) {
            hm_region *fresh;
            uintptr_t at;

            if (base || !(fresh = hm_ledger_prepare_region(ledger, PAGES * PAGE)))
                continue;
            at = atomic_fetch_add(&next_base, PAGES * PAGE);
            if (!hm_ledger_publish_region(ledger, fresh, at, false)) {
                hm_ledger_discard_region(ledger, fresh);
                continue;
            }
            if (!atomic_compare_exchange_strong(&slots[slot], &base, at) && (region = hm_ledger_lock_region(ledger, at)))
                hm_ledger_retire_region(ledger, region); /* another thread filled the slot */
        } else if (op < 55) {
            uint64_t charge;

            if (!base || !(region = hm_ledger_lock_region(ledger, base)))
                continue;
            charge = (uint64_t)hm_region_count_uncommitted(region, base + first * PAGE, base + (first + count) * PAGE) *
                     PAGE;
            if (charge && !hm_ledger_charge(ledger, charge, limit * 2)) {
                hm_ledger_unlock_region(region);
                hm_pressure_force_low(&pressure, hm_ledger_committed_bytes(ledger));
                continue;
            }
            hm_region_mark_committed(region, base + first * PAGE, base + (first + count) * PAGE);
            hm_ledger_unlock_region(region);
            books_changed();
        } else if (op < 92) {
            size_t pages;

            if (!base || !(region = hm_ledger_lock_region(ledger, base)))
                continue;
            pages = hm_region_mark_decommitted(region, base + first * PAGE, base + (first + count) * PAGE);
            hm_ledger_unlock_region(region);
            hm_ledger_uncharge(ledger, (uint64_t)pages * PAGE);
            books_changed();
        } else if ((base = atomic_exchange(&slots[slot], 0)) && (region = hm_ledger_lock_region(ledger, base))) {
            hm_ledger_retire_region(ledger, region);
            books_changed();
        }
    }
    return NULL;
}

static void count_left(void *context, uintptr_t base)
{
    (void)base;
    (*(unsigned *)context)++;
}

int main(void)
{
    pthread_t threads[THREADS];
    uint64_t committed = 0;
    unsigned i, live = 0, released = 0;
    int state;

    ledger = hm_ledger_create(&allocator, PAGE);
    CHECK(ledger != NULL);
    hm_pressure_init(&pressure, limit, 90, 60);
    for (i = 0; i < THREADS; i++)
        pthread_create(&threads[i], NULL, worker, (void *)(uintptr_t)(i + 1));
    for (i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);

    /* Quiescence: the charge is the pages the live regions have committed. */
    for (i = 0; i < SLOTS; i++) {
        uintptr_t base = atomic_load(&slots[i]);
        hm_region *region;

        if (!base || !(region = hm_ledger_lock_region(ledger, base)))
            continue;
        committed += (uint64_t)hm_region_committed_pages(region) * PAGE;
        hm_ledger_unlock_region(region);
        live++;
    }
    CHECK(hm_ledger_committed_bytes(ledger) == committed);
    CHECK(hm_ledger_region_count(ledger) == live);
    books_changed();
    state = hm_pressure_state(&pressure);
    if (state == HM_AVAILABLE_LOW)
        CHECK(committed >= pressure.high_mark - pressure.band);
    if (state == HM_AVAILABLE_HIGH)
        CHECK(committed < pressure.low_mark + pressure.band);
    if (state == HM_AVAILABLE_NEUTRAL)
        CHECK(committed >= pressure.low_mark && committed < pressure.high_mark);
    hm_ledger_destroy(ledger, count_left, &released);
    CHECK(released == live);
    hm_pressure_destroy(&pressure);
    printf("concurrent core: %u regions left, %llu bytes committed, state %d, %d failure(s)\n", live,
           (unsigned long long)committed, state, failures);
    return failures ? 1 : 0;
}
