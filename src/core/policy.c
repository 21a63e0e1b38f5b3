/*
 * The critical-level policy; see policy.h.
 */
#include "policy.h"

/* Failing a process-critical request leaves the CLR unusable anyway (docs:
   EMemoryCriticalLevel), so by default it escalates; the lower levels have a
   recovery the CLR knows (abort the task, unload the domain). */
static const uint8_t default_action[HM_LEVEL_COUNT] = {
    HM_ACTION_OUTOFMEMORY, /* eTaskCritical */
    HM_ACTION_OUTOFMEMORY, /* eAppDomainCritical */
    HM_ACTION_ESCALATE,    /* eProcessCritical */
};

bool hm_action_is_valid(uint32_t action)
{
    return action <= HM_ACTION_ESCALATE;
}

void hm_policy_init(hm_policy *policy)
{
    uint32_t level;

    for (level = 0; level < HM_LEVEL_COUNT; level++)
        policy->action[level] = default_action[level];
}

bool hm_policy_set(hm_policy *policy, uint32_t level, uint32_t action)
{
    if (!hm_level_is_valid(level) || !hm_action_is_valid(action))
        return false;
    policy->action[level] = (uint8_t)(action == HM_ACTION_DEFAULT ? default_action[level] : action);
    return true;
}

bool hm_policy_escalates(const hm_policy *policy, uint32_t level)
{
    return hm_level_is_valid(level) && policy->action[level] == HM_ACTION_ESCALATE;
}

hm_hresult hm_policy_failure(const hm_policy *policy, uint32_t level)
{
    return hm_policy_escalates(policy, level) ? HM_E_FAIL : HM_E_OUTOFMEMORY;
}
