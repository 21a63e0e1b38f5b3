/*
 * The critical-level policy: what a failed allocation returns at each
 * EMemoryCriticalLevel. E_OUTOFMEMORY lets the CLR abort the task or unload the
 * domain; E_FAIL tells it that it is finished in this process (escalation).
 * Free of windows.h.
 */
#ifndef HOSTMEM_POLICY_H
#define HOSTMEM_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "status.h"

/* EMemoryCriticalLevel's values. */
enum { HM_LEVEL_TASK = 0, HM_LEVEL_APPDOMAIN = 1, HM_LEVEL_PROCESS = 2, HM_LEVEL_COUNT = 3 };

/* HOSTMEM_FAILURE_ACTION's values. */
enum { HM_ACTION_DEFAULT = 0, HM_ACTION_OUTOFMEMORY = 1, HM_ACTION_ESCALATE = 2 };

typedef struct hm_policy {
    uint8_t action[HM_LEVEL_COUNT]; /* HM_ACTION_OUTOFMEMORY or HM_ACTION_ESCALATE */
} hm_policy;

static inline bool hm_level_is_valid(uint32_t level) { return level < HM_LEVEL_COUNT; }
bool hm_action_is_valid(uint32_t action);

/* Task and domain: E_OUTOFMEMORY; process: E_FAIL. */
void hm_policy_init(hm_policy *policy);
/* False (policy unchanged) for a level or action out of range; HM_ACTION_DEFAULT
   puts the level's default back. */
bool hm_policy_set(hm_policy *policy, uint32_t level, uint32_t action);
/* What an out-of-memory failure at this (valid) level returns. */
hm_hresult hm_policy_failure(const hm_policy *policy, uint32_t level);
bool hm_policy_escalates(const hm_policy *policy, uint32_t level);

#endif /* HOSTMEM_POLICY_H */
