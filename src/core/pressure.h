/*
 * Memory pressure under a commit limit: the state the CLR is told through
 * ICLRMemoryNotificationCallback (Low, Neutral, High available memory), moved by the
 * committed bytes with high- and low-water marks and hysteresis, so a workload that
 * hovers at a mark does not make a storm of notifications. Free of windows.h.
 *
 * hm_pressure_update runs on every commit and decommit: when no mark is crossed it
 * costs two relaxed loads and a few compares; only a change of state takes the lock,
 * and exactly one caller is told of each change.
 */
#ifndef HOSTMEM_PRESSURE_H
#define HOSTMEM_PRESSURE_H

#include <stdatomic.h>
#include <stdint.h>

#include "sync.h"

/* EMemoryAvailable's values; 0 means "no change". */
enum { HM_AVAILABLE_NONE = 0, HM_AVAILABLE_LOW = 1, HM_AVAILABLE_NEUTRAL = 2, HM_AVAILABLE_HIGH = 3 };

typedef struct hm_pressure {
    uint64_t          high_mark;  /* committed at or above: Low */
    uint64_t          low_mark;   /* committed below: High */
    uint64_t          band;       /* how far past a mark the books must move back */
    _Atomic(int)      state;
    _Atomic(uint64_t) low_exit;   /* in Low: committed must fall below this to leave */
    hm_lock           lock;       /* changes of state */
} hm_pressure;

/* limit > 0; 0 < low_percent < high_percent <= 100. Starts in High (no pressure)
   without a notification. */
void hm_pressure_init(hm_pressure *pressure, uint64_t limit, unsigned high_percent, unsigned low_percent);
void hm_pressure_destroy(hm_pressure *pressure);

/* The state for `committed` bytes; returns the new state if it changed, else NONE. */
int hm_pressure_update(hm_pressure *pressure, uint64_t committed);
/* A request found no room at `committed`: Low now, until the books fall a band below
   `committed` (or below the high mark's exit, if lower; within a band of zero, below
   half of `committed`, or to 0). Returns LOW if it changed. */
int hm_pressure_force_low(hm_pressure *pressure, uint64_t committed);
int hm_pressure_state(const hm_pressure *pressure);

#endif /* HOSTMEM_PRESSURE_H */
