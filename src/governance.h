/*
 * Governing the whole runtime beside its memory (docs/governance.md): what
 * HostMemConfigureRuntime sets in the CLR (the escalation policy, the GC's start-up
 * limits, the events it registers for), and the two objects the CLR calls back:
 * IHostPolicyManager (host_policy_manager.c), which the IHostControl hands out, and the
 * IActionOnCLREvent registered for Event_DomainUnload and Event_ClrDisabled
 * (clr_events.c). Both live inside the memory manager and share its reference count,
 * as the CLR never releases the managers a host gives it.
 */
#ifndef HOSTMEM_GOVERNANCE_H
#define HOSTMEM_GOVERNANCE_H

#include "hostmem_private.h"

#include <stdatomic.h>
#include <stdint.h>

/* The configuration's governance fields, checked and with the defaults filled in. */
typedef struct hm_runtime_settings {
    /* EPolicyAction, or HOSTMEM_POLICY_UNCHANGED for no SetActionOnFailure call;
       indexed by HM_RUNTIME_FAILURE_* in the order of the calls. */
    DWORD failure_action[3];
    DWORD unload_timeout_ms;     /* HOSTMEM_POLICY_UNCHANGED: no SetTimeoutAndAction */
    DWORD unload_timeout_action;
    DWORD gc_segment_size;       /* both 0: no SetGCStartupLimits */
    DWORD gc_max_gen0_size;
} hm_runtime_settings;

/* failure_action's order, the order HostMemConfigureRuntime makes the calls in. */
enum { HM_RUNTIME_FAILURE_CRITICAL, HM_RUNTIME_FAILURE_ORPHANED_LOCK, HM_RUNTIME_FAILURE_NONCRITICAL };

#define HM_DEFAULT_UNLOAD_TIMEOUT_MS 10000
#define HM_DEFAULT_JOB_LIMIT_PERCENT 75
#define HM_GC_MIN_SEGMENT            (4u << 20)
#define HM_GC_MAX_SEGMENT            (256u << 20)
#define HM_GC_MIN_GEN0               (64u << 10)

/* runtime_settings.c: from a config already cut to its cbSize (config.c) and the
   commit limit in force. E_INVALIDARG for an action outside EPolicyAction (or
   eNoAction), a GC size outside the documented bounds. */
HRESULT hm_runtime_settings_from_config(const HOSTMEM_CONFIG *config, ULONGLONG commit_limit,
                                        hm_runtime_settings *settings);
/* The rule from a commit limit to the GC's start-up limits (docs/governance.md):
   segment = the power of two at or below limit/8, within 4 MB..256 MB;
   gen0 = limit/32 rounded down to 64 KB, within 64 KB..segment/4. */
void hm_runtime_gc_limits(ULONGLONG commit_limit, DWORD *segment, DWORD *gen0);

/* job_limit.c: the memory limit of the job this process runs in (the smaller of the
   per-process and the job-wide one), 0 outside a job or without one. */
ULONGLONG hm_job_memory_limit(void);

/* The part of the memory manager this concern owns. */
struct hm_governance {
    IHostPolicyManager IHostPolicyManager_iface;
    IActionOnCLREvent  IActionOnCLREvent_iface;
    _Atomic(uint64_t)  domain_unloads;
    _Atomic(uint64_t)  policy_failures;
    _Atomic(uint64_t)  policy_timeouts;
    _Atomic(uint64_t)  policy_default_actions;
    _Atomic(uint32_t)  clr_disabled;
};

/* host_policy_manager.c and clr_events.c: set up the two objects of a new manager. */
void hm_host_policy_manager_init(struct hm_governance *governance);
void hm_clr_events_init(struct hm_governance *governance);
/* The manager's IHostPolicyManager / IActionOnCLREvent, without a new reference. */
IHostPolicyManager *hm_host_policy_manager_iface(struct memory_manager *manager);
IActionOnCLREvent *hm_clr_events_iface(struct memory_manager *manager);

#endif /* HOSTMEM_GOVERNANCE_H */
