/*
 * Memory pressure; see pressure.h.
 */
#include "pressure.h"

static uint64_t sub_floor(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

void hm_pressure_init(hm_pressure *pressure, uint64_t limit, unsigned high_percent, unsigned low_percent)
{
    uint64_t band;

    pressure->high_mark = limit / 100 * high_percent + limit % 100 * high_percent / 100;
    pressure->low_mark = limit / 100 * low_percent + limit % 100 * low_percent / 100;
    /* A twentieth of the limit, but never so wide that it reaches the other mark. */
    band = limit / 20;
    if (band > (pressure->high_mark - pressure->low_mark) / 2)
        band = (pressure->high_mark - pressure->low_mark) / 2;
    pressure->band = band;
    atomic_init(&pressure->state, HM_AVAILABLE_HIGH);
    atomic_init(&pressure->low_exit, sub_floor(pressure->high_mark, band));
    hm_lock_init(&pressure->lock);
}

void hm_pressure_destroy(hm_pressure *pressure)
{
    hm_lock_destroy(&pressure->lock);
}

int hm_pressure_state(const hm_pressure *pressure)
{
    return atomic_load_explicit(&((hm_pressure *)pressure)->state, memory_order_relaxed);
}

static int target_state(const hm_pressure *pressure, int state, uint64_t low_exit, uint64_t committed)
{
    if (committed >= pressure->high_mark)
        return HM_AVAILABLE_LOW;
    switch (state) {
    case HM_AVAILABLE_LOW:
        if (committed >= low_exit)
            return HM_AVAILABLE_LOW;
        return committed < pressure->low_mark ? HM_AVAILABLE_HIGH : HM_AVAILABLE_NEUTRAL;
    case HM_AVAILABLE_HIGH:
        return committed >= pressure->low_mark + pressure->band ? HM_AVAILABLE_NEUTRAL : HM_AVAILABLE_HIGH;
    default:
        return committed < pressure->low_mark ? HM_AVAILABLE_HIGH : HM_AVAILABLE_NEUTRAL;
    }
}

int hm_pressure_update(hm_pressure *pressure, uint64_t committed)
{
    int state = atomic_load_explicit(&pressure->state, memory_order_relaxed);
    uint64_t low_exit = atomic_load_explicit(&pressure->low_exit, memory_order_relaxed);
    int target;

    if (target_state(pressure, state, low_exit, committed) == state)
        return HM_AVAILABLE_NONE;

    hm_lock_acquire(&pressure->lock);
    state = atomic_load_explicit(&pressure->state, memory_order_relaxed);
    low_exit = atomic_load_explicit(&pressure->low_exit, memory_order_relaxed);
    target = target_state(pressure, state, low_exit, committed);
    if (target == state) {
        target = HM_AVAILABLE_NONE;
    } else {
        if (target == HM_AVAILABLE_LOW)
            atomic_store_explicit(&pressure->low_exit, sub_floor(pressure->high_mark, pressure->band),
                                  memory_order_relaxed);
        atomic_store_explicit(&pressure->state, target, memory_order_relaxed);
    }
    hm_lock_release(&pressure->lock);
    return target;
}

int hm_pressure_force_low(hm_pressure *pressure, uint64_t committed)
{
    /* A band below committed; within a band of zero, half of committed, and never 0:
       the books can never fall below 0, and Low would stay for ever. */
    uint64_t exit_at = committed > pressure->band ? committed - pressure->band : committed / 2;
    int changed = HM_AVAILABLE_NONE;

    if (exit_at > sub_floor(pressure->high_mark, pressure->band))
        exit_at = sub_floor(pressure->high_mark, pressure->band);
    if (!exit_at)
        exit_at = 1;
    hm_lock_acquire(&pressure->lock);
    if (atomic_load_explicit(&pressure->state, memory_order_relaxed) != HM_AVAILABLE_LOW) {
        atomic_store_explicit(&pressure->low_exit, exit_at, memory_order_relaxed);
        atomic_store_explicit(&pressure->state, HM_AVAILABLE_LOW, memory_order_relaxed);
        changed = HM_AVAILABLE_LOW;
    }
    hm_lock_release(&pressure->lock);
    return changed;
}
