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
    atomic_init(&pressure->low_exit, sub_floor(pressure->high_mark, band));
    atomic_init(&pressure->decision, HM_DECISION(0, HM_AVAILABLE_HIGH));
}

void hm_pressure_destroy(hm_pressure *pressure)
{
    (void)pressure;
}

uint64_t hm_pressure_decision(const hm_pressure *pressure)
{
    return atomic_load_explicit(&((hm_pressure *)pressure)->decision, memory_order_seq_cst);
}

int hm_pressure_state(const hm_pressure *pressure)
{
    return HM_DECISION_STATE(hm_pressure_decision(pressure));
}

/* Moves the decision to the state the books (or a forced Low) call for, with the next
   sequence number; returns the new state or NONE. */
int hm_pressure_decide(hm_pressure *pressure, uint64_t committed, int forced)
{
    uint64_t decision, next;
    int state, target;

    /* Sequentially consistent, as every change of the books is (budget.h): a caller
       that changed the books before this load either sees a state decided after its
       change, or the decider of that state, whose compare-and-swap comes first in the
       one order of such operations, reads the books again afterwards and sees the
       change. On x86 the load is a plain read and the changes' locked instructions are
       the fences: nothing extra on the path every commit takes. */
    decision = atomic_load_explicit(&pressure->decision, memory_order_seq_cst);
    for (;;) {
        state = HM_DECISION_STATE(decision);
        target = forced ? HM_AVAILABLE_LOW : hm_pressure_target(pressure, state, committed);
        if (target == state)
            return HM_AVAILABLE_NONE;
        next = HM_DECISION(HM_DECISION_SEQUENCE(decision) + 1, target);
        if (atomic_compare_exchange_weak_explicit(&pressure->decision, &decision, next, memory_order_seq_cst,
                                                  memory_order_seq_cst))
            break;
    }
    return target;
}

int hm_pressure_force_low(hm_pressure *pressure, uint64_t committed)
{
    return hm_pressure_decide(pressure, committed, 1);
}
