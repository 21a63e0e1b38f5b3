/*
 * A byte count that may be charged only up to a ceiling, with its peak: commit charge,
 * address space. Charging before the OS call and uncharging when the OS says no keeps
 * a refused request from touching anything. Lock-free; free of windows.h.
 */
#ifndef HOSTMEM_BUDGET_H
#define HOSTMEM_BUDGET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct hm_budget {
    _Atomic(uint64_t) used;
    _Atomic(uint64_t) peak;
} hm_budget;

/* Adds bytes unless used would pass ceiling; false (nothing added) if it would. */
static inline bool hm_budget_charge(hm_budget *budget, uint64_t bytes, uint64_t ceiling)
{
    uint64_t now = atomic_load_explicit(&budget->used, memory_order_relaxed);
    uint64_t peak;

    do {
        if (bytes > ceiling || now > ceiling - bytes)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(&budget->used, &now, now + bytes, memory_order_seq_cst,
                                                    memory_order_relaxed));
    now += bytes;
    peak = atomic_load_explicit(&budget->peak, memory_order_relaxed);
    while (peak < now && !atomic_compare_exchange_weak_explicit(&budget->peak, &peak, now, memory_order_relaxed,
                                                                 memory_order_relaxed))
        ;
    return true;
}

static inline void hm_budget_uncharge(hm_budget *budget, uint64_t bytes)
{
    atomic_fetch_sub_explicit(&budget->used, bytes, memory_order_seq_cst);
}

static inline uint64_t hm_budget_used(const hm_budget *budget)
{
    return atomic_load_explicit(&((hm_budget *)budget)->used, memory_order_seq_cst);
}

/* Never below used, even while a charge is between its two steps. */
static inline uint64_t hm_budget_peak(const hm_budget *budget)
{
    uint64_t used = hm_budget_used(budget);
    uint64_t peak = atomic_load_explicit(&((hm_budget *)budget)->peak, memory_order_relaxed);
    return peak > used ? peak : used;
}

#endif /* HOSTMEM_BUDGET_H */
