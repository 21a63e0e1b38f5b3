/*
 * HOSTMEM_CONFIG's governance fields checked and completed: the escalation policy
 * HostMemConfigureRuntime sets (SQL Server's by default) and the GC start-up limits,
 * derived from the commit limit by a fixed rule unless configured.
 *
 * Why the rule (docs/governance.md): the CLR's GC sizes gen0 from the machine's cache
 * and memory, not from a host's limit, so under a small limit one gen0 budget could take
 * most of it before the first collection. With gen0 at most 1/32 of the limit the GC
 * collects long before the limit is near; the segment (a reservation per GC heap, which
 * the GC commits as it grows) is the power of two at or below 1/8 of the limit, so the
 * ephemeral generations fit in it with room, and it stays within what the CLR accepts
 * (at least 4 MB, a multiple of 1 MB; docs iclrgcmanager-setgcstartuplimits-method).
 */
#include "governance.h"

/* 0 (the default), HOSTMEM_POLICY_UNCHANGED or an EPolicyAction other than eNoAction. */
static BOOL valid_action(DWORD action)
{
    return action == HOSTMEM_POLICY_UNCHANGED || action < MaxPolicyAction;
}

static DWORD action_or(DWORD configured, DWORD fallback)
{
    return configured ? configured : fallback;
}

static DWORD power_of_two_at_or_below(ULONGLONG value)
{
    DWORD p = 1;

    while ((ULONGLONG)p * 2 <= value && p < 0x80000000u)
        p *= 2;
    return p;
}

void hm_runtime_gc_limits(ULONGLONG commit_limit, DWORD *segment, DWORD *gen0)
{
    ULONGLONG s = commit_limit / 8, g = commit_limit / 32;

    s = s < HM_GC_MIN_SEGMENT ? HM_GC_MIN_SEGMENT : s > HM_GC_MAX_SEGMENT ? HM_GC_MAX_SEGMENT : s;
    *segment = power_of_two_at_or_below(s);
    g &= ~(ULONGLONG)(HM_GC_MIN_GEN0 - 1);
    if (g > *segment / 4)
        g = *segment / 4;
    *gen0 = g < HM_GC_MIN_GEN0 ? HM_GC_MIN_GEN0 : (DWORD)g;
}

static BOOL valid_segment(DWORD bytes)
{
    return bytes >= HM_GC_MIN_SEGMENT && !(bytes & ((1u << 20) - 1));
}

HRESULT hm_runtime_settings_from_config(const HOSTMEM_CONFIG *config, ULONGLONG commit_limit,
                                        hm_runtime_settings *settings)
{
    DWORD segment = config->gcSegmentSize, gen0 = config->gcMaxGen0Size, rule_segment, rule_gen0;

    if (!valid_action(config->criticalResourceAction) || !valid_action(config->orphanedLockAction) ||
        !valid_action(config->nonCriticalResourceAction) || !valid_action(config->unloadTimeoutAction))
        return E_INVALIDARG;
    settings->failure_action[HM_RUNTIME_FAILURE_CRITICAL] = action_or(config->criticalResourceAction, eUnloadAppDomain);
    settings->failure_action[HM_RUNTIME_FAILURE_ORPHANED_LOCK] = action_or(config->orphanedLockAction, eUnloadAppDomain);
    settings->failure_action[HM_RUNTIME_FAILURE_NONCRITICAL] = action_or(config->nonCriticalResourceAction,
                                                                         eThrowException);
    /* The timeout and its action are one call: either one UNCHANGED leaves both alone. */
    settings->unload_timeout_ms = config->unloadTimeoutMs ? config->unloadTimeoutMs : HM_DEFAULT_UNLOAD_TIMEOUT_MS;
    settings->unload_timeout_action = action_or(config->unloadTimeoutAction, eRudeUnloadAppDomain);
    if (settings->unload_timeout_action == HOSTMEM_POLICY_UNCHANGED)
        settings->unload_timeout_ms = HOSTMEM_POLICY_UNCHANGED;

    settings->gc_segment_size = settings->gc_max_gen0_size = 0;
    if (segment == HOSTMEM_GC_LIMITS_OFF)
        return S_OK;
    if ((segment && !valid_segment(segment)) || (gen0 && gen0 < HM_GC_MIN_GEN0))
        return E_INVALIDARG;
    if (commit_limit) {
        hm_runtime_gc_limits(commit_limit, &rule_segment, &rule_gen0);
    } else {
        /* No limit to derive from: a size given alone brings a matching other one
           (gen0 a quarter of the segment; the segment the smallest power of two that
           holds four gen0s), and nothing given means no call. */
        if (!segment && !gen0)
            return S_OK;
        rule_gen0 = segment / 4 < HM_GC_MIN_GEN0 ? HM_GC_MIN_GEN0 : segment / 4;
        rule_segment = HM_GC_MIN_SEGMENT;
        while (gen0 && rule_segment / 4 < gen0 && rule_segment < 0x80000000u)
            rule_segment *= 2;
    }
    settings->gc_segment_size = segment ? segment : rule_segment;
    settings->gc_max_gen0_size = gen0 ? gen0 : rule_gen0;
    return S_OK;
}
