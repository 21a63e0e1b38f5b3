/*
 * Memory pressure under a commit limit: the state the CLR is told through
 * ICLRMemoryNotificationCallback (Low, Neutral, High available memory), moved by the
 * committed bytes with high- and low-water marks and hysteresis, so a workload that
 * hovers at a mark does not make a storm of notifications. Free of windows.h.
 *
 * The state and a sequence number live in one atomic word (the "decision"): every
 * change of state takes the next number in the same compare-and-swap that makes it, so
 * the order of the numbers is the order in which the states were decided, and whoever
 * delivers the states can keep only the one with the highest number. No lock: the CLR
 * may commit and decommit while other threads are suspended (docs/notifications.md).
 *
 * hm_pressure_update runs on every commit and decommit: when no mark is crossed it
 * costs a load and a few compares, inline in the caller (an out-of-line call right
 * after an OS call costs its cold line of code: ledger_inline.h says why). Its caller
 * reads the books again after a change and calls it again until it answers NONE
 * (hm_limit_commit_changed does). The books must change and be read with sequentially
 * consistent operations (budget.h's are), as the decision is: the last state decided
 * then matches the last books.
 */
#ifndef HOSTMEM_PRESSURE_H
#define HOSTMEM_PRESSURE_H

#include <stdatomic.h>
#include <stdint.h>

/* EMemoryAvailable's values; 0 means "no change". */
enum { HM_AVAILABLE_NONE = 0, HM_AVAILABLE_LOW = 1, HM_AVAILABLE_NEUTRAL = 2, HM_AVAILABLE_HIGH = 3 };

/* A decision word: sequence number << 2 | state. */
#define HM_DECISION_STATE(decision)       ((int)((decision) & 3))
#define HM_DECISION_SEQUENCE(decision)    ((decision) >> 2)
#define HM_DECISION(sequence, state)      (((uint64_t)(sequence) << 2) | (uint64_t)(state))

typedef struct hm_pressure {
    uint64_t          high_mark;  /* committed at or above: Low */
    uint64_t          low_mark;   /* committed below: High */
    uint64_t          band;       /* how far past a mark the books must move back */
    /* Low is left when committed falls below this: a band below the high mark, for a
       Low the marks made and a Low a refused request forced alike. Set once. */
    _Atomic(uint64_t) low_exit;
    _Atomic(uint64_t) decision;   /* HM_DECISION(sequence, state) */
} hm_pressure;

/* limit > 0; 0 < low_percent < high_percent <= 100. Starts in High (no pressure),
   sequence 0, without a notification. */
void hm_pressure_init(hm_pressure *pressure, uint64_t limit, unsigned high_percent, unsigned low_percent);
void hm_pressure_destroy(hm_pressure *pressure);

/* The state for `committed` bytes; returns the new state if it changed, else NONE. */
static inline int hm_pressure_update(hm_pressure *pressure, uint64_t committed);
/* A request found no room at `committed`: Low now (returns LOW if it changed). It ends
   as every Low does, when an update finds the books below the low exit; `committed`
   does not move that exit. */
int hm_pressure_force_low(hm_pressure *pressure, uint64_t committed);
int hm_pressure_state(const hm_pressure *pressure);
/* The latest decision (HM_DECISION_STATE, HM_DECISION_SEQUENCE). */
uint64_t hm_pressure_decision(const hm_pressure *pressure);

/* --- inline: the check every commit and decommit makes --- */

/* The state `committed` calls for, from `state`. */
static inline int hm_pressure_target(const hm_pressure *pressure, int state, uint64_t committed)
{
    if (committed >= pressure->high_mark)
        return HM_AVAILABLE_LOW;
    switch (state) {
    case HM_AVAILABLE_LOW:
        if (committed >= atomic_load_explicit(&((hm_pressure *)pressure)->low_exit, memory_order_relaxed))
            return HM_AVAILABLE_LOW;
        return committed < pressure->low_mark ? HM_AVAILABLE_HIGH : HM_AVAILABLE_NEUTRAL;
    case HM_AVAILABLE_HIGH:
        return committed >= pressure->low_mark + pressure->band ? HM_AVAILABLE_NEUTRAL : HM_AVAILABLE_HIGH;
    default:
        return committed < pressure->low_mark ? HM_AVAILABLE_HIGH : HM_AVAILABLE_NEUTRAL;
    }
}

/* Out of line (pressure.c): the compare-and-swap that moves the decision. */
int hm_pressure_decide(hm_pressure *pressure, uint64_t committed, int forced);

static inline int hm_pressure_update(hm_pressure *pressure, uint64_t committed)
{
    /* The first step of hm_pressure_decide's loop, which is all of it when no mark is
       crossed: the same sequentially consistent load. */
    uint64_t decision = atomic_load_explicit(&pressure->decision, memory_order_seq_cst);

    if (hm_pressure_target(pressure, HM_DECISION_STATE(decision), committed) == HM_DECISION_STATE(decision))
        return HM_AVAILABLE_NONE;
    return hm_pressure_decide(pressure, committed, 0);
}

#endif /* HOSTMEM_PRESSURE_H */
