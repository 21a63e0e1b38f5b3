/*
 * HostMemConfigureRuntime and what comes with it (docs/governance.md): the calls it
 * makes to the CLR, in order and with their arguments, against the recording stand-in
 * of tools/clr/clr_control.c (every default and every override, a CLR that offers no
 * manager, a call that fails); the events and policy callbacks the CLR makes, counted
 * and traced; HOSTMEM_STATS and HOSTMEM_CONFIG of every size; the limit from a Windows
 * job, through the OS table (process limit, job limit, no job, bad percentage) and in a
 * real job as far as Wine implements one.
 */
#include "test_support.h"

#include <stdio.h>
#include <string.h>

#include "clr/clr_control.h"
#include "governance.h"

#define KiB ((DWORD)1 << 10)
#define MiB ((DWORD)1 << 20)

/* --- helpers --------------------------------------------------------------------- */

static HOSTMEM_CONFIG config_with_limit(ULONGLONG limit)
{
    HOSTMEM_CONFIG config;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.commitLimit = limit;
    return config;
}


/* The calls recorded, one "Method(a,b,c)=hr" per line, for exact comparison. */
static const char *calls_of(const clr_runtime *clr)
{
    static char text[2048];
    size_t n = 0;
    unsigned i;

    text[0] = 0;
    for (i = 0; i < clr->call_count; i++) {
        const clr_call *c = &clr->calls[i];
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%s%s(%lu,%lu,%lu)=0x%08lX\n", c->method,
                              c->manager ? ":" : "", c->manager ? c->manager : "", (unsigned long)c->arg[0],
                              (unsigned long)c->arg[1], (unsigned long)c->arg[2], (unsigned long)c->hr);
    }
    return text;
}

static ULONG ref_count(IUnknown *object)
{
    IUnknown_AddRef(object);
    return IUnknown_Release(object);
}

/* Configures a new control made from config against clr; returns the HRESULT. The
   control is released (after the CLR's registrations are dropped). */
static HRESULT configure_with(const HOSTMEM_CONFIG *config, clr_runtime *clr)
{
    IHostControl *control = new_control(config);
    HRESULT hr = HostMemConfigureRuntime((IUnknown *)control, clr_runtime_host(clr));

    /* hostmem gave back every reference it took on the CLR's objects. */
    assert_int_equal(clr->outstanding, 0);
    clr_runtime_clear(clr);
    release_last((IUnknown *)control);
    return hr;
}

#define GET(manager)  "GetCLRManager:" manager "(0,0,0)=0x00000000\n"
#define CONTROL       "GetCLRControl(0,0,0)=0x00000000\n"
#define SAOF(f, a)    "SetActionOnFailure(" #f "," #a ",0)=0x00000000\n"
#define EVENTS        GET("ICLROnEventManager") "RegisterActionOnEvent(0,0,0)=0x00000000\n" \
                      "RegisterActionOnEvent(1,0,0)=0x00000000\n"

/* --- the calls, their order and arguments ------------------------------------------ */

static void configure_with_defaults_sets_sql_server_s_policy_gc_limits_and_events(void **state)
{
    HOSTMEM_CONFIG config = config_with_limit(64 * (ULONGLONG)MiB);
    clr_runtime clr;
    (void)state;

    clr_runtime_init(&clr, NULL);
    assert_int_equal(configure_with(&config, &clr), S_OK);
    /* FAIL_CriticalResource = 1, FAIL_OrphanedLock = 3, FAIL_NonCriticalResource = 0;
       eThrowException = 1, eUnloadAppDomain = 4, eRudeUnloadAppDomain = 5;
       OPR_AppDomainUnload = 3. 64 MiB: segment 8 MiB, gen0 2 MiB. */
    assert_string_equal(calls_of(&clr),
                        CONTROL GET("ICLRPolicyManager") SAOF(1, 4) SAOF(3, 4) SAOF(0, 1)
                        "SetTimeoutAndAction(3,10000,5)=0x00000000\n"
                        GET("ICLRGCManager") "SetGCStartupLimits(8388608,2097152,0)=0x00000000\n" EVENTS);
}

static void configure_without_a_limit_makes_no_gc_call(void **state)
{
    clr_runtime clr;
    (void)state;

    clr_runtime_init(&clr, NULL);
    assert_int_equal(configure_with(NULL, &clr), S_OK);
    assert_string_equal(calls_of(&clr), CONTROL GET("ICLRPolicyManager") SAOF(1, 4) SAOF(3, 4) SAOF(0, 1)
                                        "SetTimeoutAndAction(3,10000,5)=0x00000000\n" EVENTS);
    assert_false(clr.gc_set);
}

static void configure_with_every_override_passes_each_one_on(void **state)
{
    HOSTMEM_CONFIG config = config_with_limit(64 * (ULONGLONG)MiB);
    clr_runtime clr;
    (void)state;

    config.criticalResourceAction = eRudeUnloadAppDomain;
    config.orphanedLockAction = eExitProcess;
    config.nonCriticalResourceAction = eAbortThread;
    config.unloadTimeoutAction = eDisableRuntime;
    config.unloadTimeoutMs = 2500;
    config.gcSegmentSize = 16 * MiB;
    config.gcMaxGen0Size = 256 * KiB;
    clr_runtime_init(&clr, NULL);
    assert_int_equal(configure_with(&config, &clr), S_OK);
    assert_string_equal(calls_of(&clr),
                        CONTROL GET("ICLRPolicyManager") SAOF(1, 5) SAOF(3, 6) SAOF(0, 2)
                        "SetTimeoutAndAction(3,2500,9)=0x00000000\n"
                        GET("ICLRGCManager") "SetGCStartupLimits(16777216,262144,0)=0x00000000\n" EVENTS);
    assert_int_equal(clr_runtime_failure_action(&clr, FAIL_CriticalResource), eRudeUnloadAppDomain);
}

static void configure_with_unchanged_fields_leaves_the_clr_s_own_policy(void **state)
{
    HOSTMEM_CONFIG config = config_with_limit(64 * (ULONGLONG)MiB);
    clr_runtime clr;
    (void)state;

    config.criticalResourceAction = HOSTMEM_POLICY_UNCHANGED;
    config.nonCriticalResourceAction = HOSTMEM_POLICY_UNCHANGED;
    config.unloadTimeoutMs = HOSTMEM_POLICY_UNCHANGED;
    config.gcSegmentSize = HOSTMEM_GC_LIMITS_OFF;
    clr_runtime_init(&clr, NULL);
    assert_int_equal(configure_with(&config, &clr), S_OK);
    assert_string_equal(calls_of(&clr), CONTROL GET("ICLRPolicyManager") SAOF(3, 4) EVENTS);
    /* The timeout's action alone UNCHANGED also leaves the timeout alone (one call). */
    config = config_with_limit(0);
    config.unloadTimeoutAction = HOSTMEM_POLICY_UNCHANGED;
    clr_runtime_init(&clr, NULL);
    assert_int_equal(configure_with(&config, &clr), S_OK);
    assert_string_equal(calls_of(&clr), CONTROL GET("ICLRPolicyManager") SAOF(1, 4) SAOF(3, 4) SAOF(0, 1) EVENTS);
}

static void configure_without_a_limit_derives_the_missing_gc_size(void **state)
{
    HOSTMEM_CONFIG config = config_with_limit(0);
    clr_runtime clr;
    (void)state;

    config.gcSegmentSize = 32 * MiB; /* gen0: a quarter */
    clr_runtime_init(&clr, NULL);
    assert_int_equal(configure_with(&config, &clr), S_OK);
    assert_true(clr.gc_set);
    assert_int_equal(clr.gc_segment, 32 * MiB);
    assert_int_equal(clr.gc_gen0, 8 * MiB);

    config.gcSegmentSize = 0;
    config.gcMaxGen0Size = 3 * MiB; /* the segment: the smallest power of two holding four */
    clr_runtime_init(&clr, NULL);
    assert_int_equal(configure_with(&config, &clr), S_OK);
    assert_int_equal(clr.gc_segment, 16 * MiB);
    assert_int_equal(clr.gc_gen0, 3 * MiB);

    config.gcMaxGen0Size = 64 * KiB; /* the smallest segment the CLR takes */
    clr_runtime_init(&clr, NULL);
    assert_int_equal(configure_with(&config, &clr), S_OK);
    assert_int_equal(clr.gc_segment, 4 * MiB);
    assert_int_equal(clr.gc_gen0, 64 * KiB);

    /* With a limit, a size given replaces only its half of the rule. */
    config = config_with_limit(64 * (ULONGLONG)MiB);
    config.gcMaxGen0Size = 512 * KiB;
    clr_runtime_init(&clr, NULL);
    assert_int_equal(configure_with(&config, &clr), S_OK);
    assert_int_equal(clr.gc_segment, 8 * MiB);
    assert_int_equal(clr.gc_gen0, 512 * KiB);
}

static void gc_limits_follow_the_documented_rule(void **state)
{
    static const struct { ULONGLONG limit; DWORD segment, gen0; } cases[] = {
        { 1 * (ULONGLONG)MiB, 4 * MiB, 64 * KiB },     /* both at their minimum */
        { 6 * (ULONGLONG)MiB, 4 * MiB, 192 * KiB },    /* gen0 1/32 of the limit */
        { 64 * (ULONGLONG)MiB, 8 * MiB, 2 * MiB },
        { 100 * (ULONGLONG)MiB, 8 * MiB, 2 * MiB },    /* segment a power of two; gen0 <= segment/4 */
        { 1024 * (ULONGLONG)MiB, 128 * MiB, 32 * MiB },
        { 8192 * (ULONGLONG)MiB, 256 * MiB, 64 * MiB }, /* segment at its maximum */
        { 1ULL << 40, 256 * MiB, 64 * MiB },
    };
    unsigned i;
    (void)state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        DWORD segment = 0, gen0 = 0;

        hm_runtime_gc_limits(cases[i].limit, &segment, &gen0);
        if (segment != cases[i].segment || gen0 != cases[i].gen0)
            fail_msg("limit %llu: segment %lu gen0 %lu, expected %lu and %lu", cases[i].limit,
                     (unsigned long)segment, (unsigned long)gen0, (unsigned long)cases[i].segment,
                     (unsigned long)cases[i].gen0);
        /* Within what the CLR accepts; one gen0 budget a small share of the limit. */
        assert_true(segment >= 4 * MiB && segment % MiB == 0 && gen0 >= 64 * KiB);
        assert_true(gen0 <= 64 * KiB || gen0 <= cases[i].limit / 32);
    }
}

static void bad_governance_fields_are_refused_at_creation(void **state)
{
    static const struct { size_t offset; DWORD value; } bad[] = {
        { offsetof(HOSTMEM_CONFIG, criticalResourceAction), MaxPolicyAction },
        { offsetof(HOSTMEM_CONFIG, orphanedLockAction), 0x7FFFFFFF },
        { offsetof(HOSTMEM_CONFIG, nonCriticalResourceAction), 10 },
        { offsetof(HOSTMEM_CONFIG, unloadTimeoutAction), 11 },
        { offsetof(HOSTMEM_CONFIG, gcSegmentSize), 3 * MiB },     /* under 4 MB */
        { offsetof(HOSTMEM_CONFIG, gcSegmentSize), 5 * MiB + 1 }, /* not a multiple of 1 MB */
        { offsetof(HOSTMEM_CONFIG, gcMaxGen0Size), 64 * KiB - 1 },
        { offsetof(HOSTMEM_CONFIG, jobLimitPercent), 101 },
    };
    unsigned i;
    (void)state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        HOSTMEM_CONFIG config = config_with_limit(64 * (ULONGLONG)MiB);
        IHostControl *control = (IHostControl *)(ULONG_PTR)1;

        memcpy((char *)&config + bad[i].offset, &bad[i].value, sizeof(DWORD));
        if (HostMemCreateHostControl(&config, &control) != E_INVALIDARG || control)
            fail_msg("case %u: not E_INVALIDARG", i);
    }
}

/* --- the CLR that does not cooperate ------------------------------------------------ */

static void configure_against_a_clr_offering_no_manager_skips_each_one(void **state)
{
    HOSTMEM_CONFIG config = config_with_limit(64 * (ULONGLONG)MiB);
    clr_runtime clr;
    (void)state;

    clr_runtime_init(&clr, NULL);
    clr.offers = 0;
    assert_int_equal(configure_with(&config, &clr), S_OK);
    assert_string_equal(calls_of(&clr), CONTROL "GetCLRManager:ICLRPolicyManager(0,0,0)=0x80004002\n"
                                        "GetCLRManager:ICLRGCManager(0,0,0)=0x80004002\n"
                                        "GetCLRManager:ICLROnEventManager(0,0,0)=0x80004002\n");
    /* Only the GC manager on offer. */
    clr_runtime_init(&clr, NULL);
    clr.offers = CLR_OFFERS_GC;
    assert_int_equal(configure_with(&config, &clr), S_OK);
    assert_string_equal(calls_of(&clr), CONTROL "GetCLRManager:ICLRPolicyManager(0,0,0)=0x80004002\n"
                                        GET("ICLRGCManager") "SetGCStartupLimits(8388608,2097152,0)=0x00000000\n"
                                        "GetCLRManager:ICLROnEventManager(0,0,0)=0x80004002\n");
}

static void a_failing_clr_call_stops_the_sequence_and_is_returned(void **state)
{
    static const struct { const char *method; HRESULT hr; unsigned calls; } cases[] = {
        { "SetActionOnFailure", HOST_E_INVALIDOPERATION, 3 },
        { "SetTimeoutAndAction", E_INVALIDARG, 6 },
        { "GetCLRManager:ICLRGCManager", E_FAIL, 7 },
        { "SetGCStartupLimits", E_INVALIDARG, 8 },
        { "GetCLRManager:ICLROnEventManager", HOST_E_CLRNOTAVAILABLE, 9 },
        { "RegisterActionOnEvent", E_OUTOFMEMORY, 10 },
        { "GetCLRManager", E_ACCESSDENIED, 2 },
    };
    HOSTMEM_CONFIG config = config_with_limit(64 * (ULONGLONG)MiB);
    unsigned i;
    (void)state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        clr_runtime clr;

        clr_runtime_init(&clr, NULL);
        clr.fail_method = cases[i].method;
        clr.fail_hr = cases[i].hr;
        if (configure_with(&config, &clr) != cases[i].hr || clr.call_count != cases[i].calls)
            fail_msg("%s: not its HRESULT after %u calls (%u)", cases[i].method, cases[i].calls, clr.call_count);
        assert_int_equal(clr.calls[clr.call_count - 1].hr, cases[i].hr);
    }
    /* What was set before the failure stays set. */
    {
        clr_runtime clr;
        IHostControl *control = new_control(&config);

        clr_runtime_init(&clr, NULL);
        clr.fail_method = "SetGCStartupLimits";
        clr.fail_hr = E_INVALIDARG;
        assert_int_equal(HostMemConfigureRuntime((IUnknown *)control, clr_runtime_host(&clr)), E_INVALIDARG);
        assert_int_equal(clr_runtime_failure_action(&clr, FAIL_CriticalResource), eUnloadAppDomain);
        assert_true(clr.timeout_set[OPR_AppDomainUnload]);
        assert_false(clr.gc_set);
        assert_null(clr.action[Event_DomainUnload]);
        release_last((IUnknown *)control);
    }
    /* S_OK with nothing: a control that is not there cannot be configured; a manager
       that is not there is one not offered. */
    {
        clr_runtime clr;

        clr_runtime_init(&clr, NULL);
        clr.null_control = TRUE;
        assert_int_equal(configure_with(&config, &clr), E_NOINTERFACE);
        assert_int_equal(clr.call_count, 1);
        clr_runtime_init(&clr, NULL);
        clr.null_managers = TRUE;
        assert_int_equal(configure_with(&config, &clr), S_OK);
        assert_string_equal(calls_of(&clr), CONTROL GET("ICLRPolicyManager") GET("ICLRGCManager")
                                            GET("ICLROnEventManager"));
    }
    /* GetCLRControl itself failing. */
    {
        clr_runtime clr;

        clr_runtime_init(&clr, NULL);
        clr.control_hr = HOST_E_CLRNOTAVAILABLE;
        assert_int_equal(configure_with(&config, &clr), HOST_E_CLRNOTAVAILABLE);
        assert_int_equal(clr.call_count, 1);
    }
}

static void configure_checks_its_arguments(void **state)
{
    IHostControl *control = new_control(NULL);
    IHostMemoryManager *manager = manager_of(control);
    clr_runtime clr;
    (void)state;

    clr_runtime_init(&clr, NULL);
    assert_int_equal(HostMemConfigureRuntime(NULL, clr_runtime_host(&clr)), E_POINTER);
    assert_int_equal(HostMemConfigureRuntime((IUnknown *)control, NULL), E_POINTER);
    /* Not hostmem's: the CLR's own object. */
    assert_int_equal(HostMemConfigureRuntime((IUnknown *)clr_runtime_host(&clr), clr_runtime_host(&clr)),
                     E_INVALIDARG);
    assert_int_equal(clr.call_count, 0);
    /* The memory manager does as well as the control. */
    assert_int_equal(HostMemConfigureRuntime((IUnknown *)manager, clr_runtime_host(&clr)), S_OK);
    assert_int_equal(clr.call_count, 9); /* no limit: no GC call */
    /* The CLR holds the action for both events: two references on the manager. */
    assert_int_equal(ref_count((IUnknown *)manager), 4);
    clr_runtime_clear(&clr);
    assert_int_equal(ref_count((IUnknown *)manager), 2);
    IHostMemoryManager_Release(manager);
    release_last((IUnknown *)control);
}

/* --- events and policy callbacks ------------------------------------------------------ */

static unsigned escalation_calls;
static HOSTMEM_ESCALATION last_escalation;

static void WINAPI record_escalation(void *context, const HOSTMEM_ESCALATION *info)
{
    assert_ptr_equal(context, &escalation_calls);
    escalation_calls++;
    assert_int_equal(info->cbSize, sizeof(HOSTMEM_ESCALATION));
    last_escalation = *info;
}

static void events_are_counted_and_clr_disabled_reaches_the_escalation_callback(void **state)
{
    HOSTMEM_CONFIG config = config_with_limit(0);
    IHostControl *control;
    IActionOnCLREvent *action;
    HOSTMEM_STATS stats;
    clr_runtime clr;
    (void)state;

    config.escalationCallback = record_escalation;
    config.escalationContext = &escalation_calls;
    escalation_calls = 0;
    control = new_control(&config);
    clr_runtime_init(&clr, NULL);
    assert_int_equal(HostMemConfigureRuntime((IUnknown *)control, clr_runtime_host(&clr)), S_OK);
    action = clr.action[Event_DomainUnload];
    assert_non_null(action);
    assert_ptr_equal(clr.action[Event_ClrDisabled], action);

    assert_true(clr_runtime_raise(&clr, Event_DomainUnload, (void *)(ULONG_PTR)2));
    assert_true(clr_runtime_raise(&clr, Event_DomainUnload, (void *)(ULONG_PTR)3));
    assert_true(clr_runtime_raise(&clr, Event_DomainUnload, (void *)(ULONG_PTR)4));
    /* Events hostmem did not register for change nothing. */
    assert_int_equal(IActionOnCLREvent_OnEvent(action, Event_MDAFired, NULL), S_OK);
    assert_int_equal(IActionOnCLREvent_OnEvent(action, Event_StackOverflow, NULL), S_OK);
    stats = stats_of((IUnknown *)control);
    assert_int_equal(stats.domainUnloads, 3);
    assert_int_equal(stats.clrDisabled, 0);
    assert_int_equal(escalation_calls, 0);

    /* The CLR disables itself: once in the books and once to the host. */
    assert_true(clr_runtime_raise(&clr, Event_ClrDisabled, NULL));
    assert_true(clr_runtime_raise(&clr, Event_ClrDisabled, NULL));
    stats = stats_of((IUnknown *)control);
    assert_int_equal(stats.clrDisabled, 1);
    assert_int_equal(stats.escalations, 0); /* no request was refused */
    assert_int_equal(escalation_calls, 1);
    assert_int_equal(last_escalation.kind, HOSTMEM_ESCALATION_CLR_DISABLED);
    assert_int_equal(last_escalation.level, eProcessCritical);
    assert_int_equal(last_escalation.bytes, 0);
    assert_int_equal(last_escalation.osError, 0);
    assert_string_equal(last_escalation.method, "Event_ClrDisabled");

    /* COM rules of the action object. */
    {
        IUnknown *unknown = NULL;
        void *other = (void *)(ULONG_PTR)1;
        assert_int_equal(IActionOnCLREvent_QueryInterface(action, &IID_IUnknown, (void **)&unknown), S_OK);
        assert_ptr_equal(unknown, action);
        IUnknown_Release(unknown);
        assert_int_equal(IActionOnCLREvent_QueryInterface(action, &IID_IHostControl, &other), E_NOINTERFACE);
        assert_null(other);
        assert_int_equal(IActionOnCLREvent_QueryInterface(action, &IID_IUnknown, NULL), E_POINTER);
        assert_int_equal(IActionOnCLREvent_QueryInterface(action, NULL, &other), E_INVALIDARG);
    }
    clr_runtime_clear(&clr);
    release_last((IUnknown *)control);
}

static void a_refused_request_s_escalation_has_the_failed_request_kind(void **state)
{
    HOSTMEM_CONFIG config = config_with_limit(64 * KiB);
    IHostMemoryManager *manager;
    void *p = NULL;
    (void)state;

    config.failureAction[eTaskCritical] = HOSTMEM_ACTION_ESCALATE;
    config.escalationCallback = record_escalation;
    config.escalationContext = &escalation_calls;
    escalation_calls = 0;
    manager = new_manager(&config);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 1 * MiB, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE,
                                                     eTaskCritical, &p), E_FAIL);
    assert_int_equal(escalation_calls, 1);
    assert_int_equal(last_escalation.kind, HOSTMEM_ESCALATION_FAILED_REQUEST);
    assert_string_equal(last_escalation.method, "VirtualAlloc");
    assert_int_equal(stats_of((IUnknown *)manager).clrDisabled, 0);
    release_last((IUnknown *)manager);
}

static void policy_callbacks_are_counted_and_traced(void **state)
{
    static const WCHAR trace_path[] = L"test_governance_trace.csv";
    HOSTMEM_CONFIG config = config_with_limit(64 * (ULONGLONG)MiB);
    IHostControl *control;
    IHostPolicyManager *policy = NULL;
    HOSTMEM_STATS stats;
    clr_runtime clr;
    char line[512], all[8192];
    size_t used = 0;
    FILE *file;
    (void)state;

    config.traceFile = trace_path;
    control = new_control(&config);
    clr_runtime_init(&clr, NULL);
    assert_int_equal(HostMemConfigureRuntime((IUnknown *)control, clr_runtime_host(&clr)), S_OK);
    assert_int_equal(IHostControl_GetHostManager(control, &IID_IHostPolicyManager, (void **)&policy), S_OK);
    assert_int_equal(IHostPolicyManager_OnFailure(policy, FAIL_CriticalResource, eUnloadAppDomain), S_OK);
    assert_int_equal(IHostPolicyManager_OnFailure(policy, FAIL_NonCriticalResource, eThrowException), S_OK);
    assert_int_equal(IHostPolicyManager_OnTimeout(policy, OPR_AppDomainUnload, eRudeUnloadAppDomain), S_OK);
    assert_int_equal(IHostPolicyManager_OnDefaultAction(policy, OPR_ThreadAbort, eAbortThread), S_OK);
    assert_int_equal(IHostPolicyManager_OnDefaultAction(policy, OPR_ProcessExit, eExitProcess), S_OK);
    assert_true(clr_runtime_raise(&clr, Event_DomainUnload, (void *)(ULONG_PTR)7));
    /* Without an escalation callback the CLR disabling itself is in the books and the
       trace only. */
    assert_true(clr_runtime_raise(&clr, Event_ClrDisabled, NULL));
    stats = stats_of((IUnknown *)control);
    assert_int_equal(stats.clrDisabled, 1);
    assert_int_equal(stats.policyFailures, 2);
    assert_int_equal(stats.policyTimeouts, 1);
    assert_int_equal(stats.policyDefaultActions, 2);
    assert_int_equal(stats.domainUnloads, 1);
    IHostPolicyManager_Release(policy);
    clr_runtime_clear(&clr);
    release_last((IUnknown *)control); /* the trace is complete */

    file = _wfopen(trace_path, L"r");
    assert_non_null(file);
    all[0] = 0;
    while (fgets(line, sizeof(line), file)) {
        const char *method = strchr(strchr(line, ',') + 1, ',') + 1; /* past time and thread */
        if (used + strlen(method) < sizeof(all)) {
            strcpy(all + used, method);
            used += strlen(method);
        }
    }
    fclose(file);
    _wremove(trace_path);
    /* method,level,address,size,flags,protect,hresult,result,committed,malloc */
    assert_non_null(strstr(all, "ConfigureRuntime,,,8388608,0x7,0x200000,,0x0,0,0\n"));
    assert_non_null(strstr(all, "OnFailure,,,,0x1,0x4,,,0,0\n"));
    assert_non_null(strstr(all, "OnFailure,,,,0x0,0x1,,,0,0\n"));
    assert_non_null(strstr(all, "OnTimeout,,,,0x3,0x5,,,0,0\n"));
    assert_non_null(strstr(all, "OnDefaultAction,,,,0x0,0x2,,,0,0\n"));
    assert_non_null(strstr(all, "OnDefaultAction,,,,0x5,0x6,,,0,0\n"));
    assert_non_null(strstr(all, "OnEvent,,,7,0x0,,,,0,0\n"));
    assert_non_null(strstr(all, "OnEvent,,,0,0x1,,,,0,0\n"));
}

/* --- HOSTMEM_STATS and HOSTMEM_CONFIG of every version --------------------------------- */

static void stats_of_every_size_get_the_fields_that_fit(void **state)
{
#define FIELD(name) { offsetof(HOSTMEM_STATS, name), sizeof(((HOSTMEM_STATS *)0)->name) }
    static const struct { size_t offset, size; } governance_fields[] = {
        FIELD(domainUnloads), FIELD(policyFailures), FIELD(policyTimeouts), FIELD(policyDefaultActions),
        FIELD(commitLimit), FIELD(clrDisabled), FIELD(limitSource),
    };
#undef FIELD
    IHostControl *control = new_control(NULL);
    IHostPolicyManager *policy = NULL;
    union { HOSTMEM_STATS stats; unsigned char bytes[sizeof(HOSTMEM_STATS) + 16]; } buffer;
    DWORD size;
    (void)state;

    assert_int_equal(IHostControl_GetHostManager(control, &IID_IHostPolicyManager, (void **)&policy), S_OK);
    assert_int_equal(IHostPolicyManager_OnFailure(policy, FAIL_CriticalResource, eUnloadAppDomain), S_OK);
    IHostPolicyManager_Release(policy);

    for (size = (DWORD)HOSTMEM_STATS_V1_SIZE; size <= sizeof(HOSTMEM_STATS); size++) {
        DWORD i, written_to;

        memset(&buffer, 0xAB, sizeof(buffer));
        buffer.stats.cbSize = size;
        assert_int_equal(HostMemGetStats((IUnknown *)control, &buffer.stats), S_OK);
        assert_int_equal(buffer.stats.cbSize, size);
        assert_int_equal(buffer.stats.escalations, 0); /* a first-version field, written */
        /* Only whole fields: policyFailures once it fits, never a byte past cbSize. */
        if (size >= offsetof(HOSTMEM_STATS, policyFailures) + sizeof(ULONGLONG))
            assert_int_equal(buffer.stats.policyFailures, 1);
        /* A field cut by cbSize is not written at all. */
        written_to = size;
        for (i = 0; i < sizeof(governance_fields) / sizeof(governance_fields[0]); i++)
            if (governance_fields[i].offset < size && governance_fields[i].offset + governance_fields[i].size > size)
                written_to = (DWORD)governance_fields[i].offset;
        for (i = written_to; i < sizeof(buffer.bytes); i++)
            if (buffer.bytes[i] != 0xAB)
                fail_msg("cbSize %lu: byte %lu was written", (unsigned long)size, (unsigned long)i);
    }
    /* The first version's size exactly: nothing of the governance fields. */
    memset(&buffer, 0xAB, sizeof(buffer));
    buffer.stats.cbSize = (DWORD)HOSTMEM_STATS_V1_SIZE;
    assert_int_equal(HostMemGetStats((IUnknown *)control, &buffer.stats), S_OK);
    assert_int_equal(buffer.bytes[HOSTMEM_STATS_V1_SIZE], 0xAB);
    assert_int_equal(HOSTMEM_STATS_V1_SIZE, offsetof(HOSTMEM_STATS, domainUnloads));
    release_last((IUnknown *)control);
}

static void a_config_of_the_first_version_gets_every_governance_default(void **state)
{
    /* An older host's config: its fields, then garbage where the new ones would be. */
    union { HOSTMEM_CONFIG config; unsigned char bytes[sizeof(HOSTMEM_CONFIG)]; } old;
    clr_runtime clr;
    (void)state;

    memset(&old, 0xFF, sizeof(old));
    memset(&old.config, 0, offsetof(HOSTMEM_CONFIG, criticalResourceAction));
    old.config.cbSize = (DWORD)offsetof(HOSTMEM_CONFIG, criticalResourceAction);
    old.config.commitLimit = 64 * (ULONGLONG)MiB;
    clr_runtime_init(&clr, NULL);
    assert_int_equal(configure_with(&old.config, &clr), S_OK);
    assert_string_equal(calls_of(&clr),
                        CONTROL GET("ICLRPolicyManager") SAOF(1, 4) SAOF(3, 4) SAOF(0, 1)
                        "SetTimeoutAndAction(3,10000,5)=0x00000000\n"
                        GET("ICLRGCManager") "SetGCStartupLimits(8388608,2097152,0)=0x00000000\n" EVENTS);
    /* A cbSize cutting gcMaxGen0Size: that field counts as zero. */
    memset(&old, 0, sizeof(old));
    old.config.cbSize = (DWORD)(offsetof(HOSTMEM_CONFIG, gcMaxGen0Size) + 2);
    old.config.commitLimit = 64 * (ULONGLONG)MiB;
    old.config.gcSegmentSize = 32 * MiB;
    old.config.gcMaxGen0Size = 1; /* partly beyond cbSize: ignored */
    clr_runtime_init(&clr, NULL);
    assert_int_equal(configure_with(&old.config, &clr), S_OK);
    assert_int_equal(clr.gc_segment, 32 * MiB);
    assert_int_equal(clr.gc_gen0, 2 * MiB);
}

/* --- the limit from the Windows job, through the OS table ------------------------------ */

static BOOL fake_in_job, fake_query_fails, fake_in_job_fails;
static DWORD fake_flags;
static SIZE_T fake_process_limit, fake_job_limit;

static BOOL WINAPI fake_IsProcessInJob(HANDLE process, HANDLE job, PBOOL result)
{
    assert_ptr_equal(process, GetCurrentProcess());
    assert_null(job);
    if (fake_in_job_fails) {
        SetLastError(ERROR_ACCESS_DENIED);
        return FALSE;
    }
    *result = fake_in_job;
    return TRUE;
}

static BOOL WINAPI fake_QueryInformationJobObject(HANDLE job, JOBOBJECTINFOCLASS info_class, LPVOID info, DWORD length,
                                                  LPDWORD returned)
{
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION *limits = info;

    assert_null(job); /* the caller's own job */
    assert_int_equal(info_class, JobObjectExtendedLimitInformation);
    assert_int_equal(length, sizeof(*limits));
    (void)returned;
    if (fake_query_fails) {
        SetLastError(ERROR_ACCESS_DENIED);
        return FALSE;
    }
    memset(limits, 0, sizeof(*limits));
    limits->BasicLimitInformation.LimitFlags = fake_flags | JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    limits->ProcessMemoryLimit = fake_process_limit;
    limits->JobMemoryLimit = fake_job_limit;
    return TRUE;
}

static int job_setup(void **state)
{
    fault_setup(state);
    hm_os.IsProcessInJob = fake_IsProcessInJob;
    hm_os.QueryInformationJobObject = fake_QueryInformationJobObject;
    fake_in_job = TRUE;
    fake_query_fails = fake_in_job_fails = FALSE;
    fake_flags = 0;
    fake_process_limit = fake_job_limit = 0;
    SetEnvironmentVariableW(L"HOSTMEM_COMMIT_LIMIT", NULL);
    return 0;
}

static int job_teardown(void **state)
{
    SetEnvironmentVariableW(L"HOSTMEM_COMMIT_LIMIT", NULL);
    return fault_teardown(state);
}

/* The limit and its source a control made with this config gets. */
static void assert_limit(ULONGLONG commit_limit, DWORD percent, ULONGLONG expected, DWORD source)
{
    HOSTMEM_CONFIG config = config_with_limit(commit_limit);
    IHostControl *control;
    HOSTMEM_STATS stats;

    config.jobLimitPercent = percent;
    control = new_control(&config);
    stats = stats_of((IUnknown *)control);
    if (stats.commitLimit != expected || stats.limitSource != source)
        fail_msg("limit %llu from source %lu, expected %llu from %lu", stats.commitLimit,
                 (unsigned long)stats.limitSource, expected, (unsigned long)source);
    release_last((IUnknown *)control);
}

static void job_with_a_process_limit_gives_75_percent_of_it(void **state)
{
    (void)state;
    fake_flags = JOB_OBJECT_LIMIT_PROCESS_MEMORY;
    fake_process_limit = 400 * (SIZE_T)MiB;
    fake_job_limit = 100 * (SIZE_T)MiB; /* not in force: its flag is off */
    assert_limit(HOSTMEM_COMMIT_LIMIT_FROM_JOB, 0, 300 * (ULONGLONG)MiB, HOSTMEM_LIMIT_JOB);
    assert_limit(HOSTMEM_COMMIT_LIMIT_FROM_JOB, 50, 200 * (ULONGLONG)MiB, HOSTMEM_LIMIT_JOB);
    assert_limit(HOSTMEM_COMMIT_LIMIT_FROM_JOB, 100, 400 * (ULONGLONG)MiB, HOSTMEM_LIMIT_JOB);
    /* The GC limits follow the job's limit: 300 MiB gives a 32 MiB segment, gen0 a
       quarter of it (1/32 of the limit would be more). */
    {
        HOSTMEM_CONFIG config = config_with_limit(HOSTMEM_COMMIT_LIMIT_FROM_JOB);
        clr_runtime clr;
        clr_runtime_init(&clr, NULL);
        assert_int_equal(configure_with(&config, &clr), S_OK);
        assert_int_equal(clr.gc_segment, 32 * MiB);
        assert_int_equal(clr.gc_gen0, 8 * MiB);
    }
}

static void job_with_a_job_limit_takes_the_smaller_one(void **state)
{
    (void)state;
    fake_flags = JOB_OBJECT_LIMIT_JOB_MEMORY;
    fake_job_limit = 1024 * (SIZE_T)MiB;
    assert_limit(HOSTMEM_COMMIT_LIMIT_FROM_JOB, 0, 768 * (ULONGLONG)MiB, HOSTMEM_LIMIT_JOB);
    fake_flags = JOB_OBJECT_LIMIT_JOB_MEMORY | JOB_OBJECT_LIMIT_PROCESS_MEMORY;
    fake_process_limit = 2048 * (SIZE_T)MiB;
    assert_limit(HOSTMEM_COMMIT_LIMIT_FROM_JOB, 0, 768 * (ULONGLONG)MiB, HOSTMEM_LIMIT_JOB);
    fake_process_limit = 512 * (SIZE_T)MiB;
    assert_limit(HOSTMEM_COMMIT_LIMIT_FROM_JOB, 0, 384 * (ULONGLONG)MiB, HOSTMEM_LIMIT_JOB);
}

static void no_job_or_no_memory_limit_means_no_limit(void **state)
{
    (void)state;
    fake_in_job = FALSE;
    fake_flags = JOB_OBJECT_LIMIT_PROCESS_MEMORY; /* never read outside a job */
    fake_process_limit = 400 * (SIZE_T)MiB;
    assert_limit(HOSTMEM_COMMIT_LIMIT_FROM_JOB, 0, 0, HOSTMEM_LIMIT_NONE);
    assert_int_equal(os_call_count(OS_GET_ENVIRONMENT_VARIABLE) > 0, 1);
    /* In a job without a memory limit. */
    fake_in_job = TRUE;
    fake_flags = 0;
    assert_limit(HOSTMEM_COMMIT_LIMIT_FROM_JOB, 0, 0, HOSTMEM_LIMIT_NONE);
    /* The OS cannot tell: no limit either. */
    fake_in_job_fails = TRUE;
    assert_limit(HOSTMEM_COMMIT_LIMIT_FROM_JOB, 0, 0, HOSTMEM_LIMIT_NONE);
    fake_in_job_fails = FALSE;
    fake_query_fails = TRUE;
    assert_limit(HOSTMEM_COMMIT_LIMIT_FROM_JOB, 0, 0, HOSTMEM_LIMIT_NONE);
}

static void a_bad_job_percentage_is_refused(void **state)
{
    HOSTMEM_CONFIG config = config_with_limit(HOSTMEM_COMMIT_LIMIT_FROM_JOB);
    IHostMemoryManager *manager = (IHostMemoryManager *)(ULONG_PTR)1;
    (void)state;

    fake_flags = JOB_OBJECT_LIMIT_PROCESS_MEMORY;
    fake_process_limit = 400 * (SIZE_T)MiB;
    config.jobLimitPercent = 101;
    assert_int_equal(HostMemCreateMemoryManager(&config, &manager), E_INVALIDARG);
    assert_null(manager);
    config.jobLimitPercent = 0xFFFFFFFF;
    assert_int_equal(HostMemCreateMemoryManager(&config, &manager), E_INVALIDARG);
    /* Refused whether or not the job is used: a config error is one. */
    config.commitLimit = 0;
    assert_int_equal(HostMemCreateMemoryManager(&config, &manager), E_INVALIDARG);
}

static void the_limit_source_says_where_the_limit_came_from(void **state)
{
    (void)state;
    fake_flags = JOB_OBJECT_LIMIT_PROCESS_MEMORY;
    fake_process_limit = 400 * (SIZE_T)MiB;
    assert_limit(0, 0, 0, HOSTMEM_LIMIT_NONE);
    assert_limit(64 * (ULONGLONG)MiB, 0, 64 * (ULONGLONG)MiB, HOSTMEM_LIMIT_CONFIG);
    SetEnvironmentVariableW(L"HOSTMEM_COMMIT_LIMIT", L"128M");
    assert_limit(64 * (ULONGLONG)MiB, 0, 128 * (ULONGLONG)MiB, HOSTMEM_LIMIT_ENVIRONMENT);
    assert_limit(HOSTMEM_COMMIT_LIMIT_FROM_JOB, 0, 128 * (ULONGLONG)MiB, HOSTMEM_LIMIT_ENVIRONMENT);
    SetEnvironmentVariableW(L"HOSTMEM_COMMIT_LIMIT", L"0");
    assert_limit(64 * (ULONGLONG)MiB, 0, 0, HOSTMEM_LIMIT_NONE);
    SetEnvironmentVariableW(L"HOSTMEM_COMMIT_LIMIT", L"job");
    assert_limit(0, 0, 300 * (ULONGLONG)MiB, HOSTMEM_LIMIT_JOB);
    assert_limit(64 * (ULONGLONG)MiB, 25, 100 * (ULONGLONG)MiB, HOSTMEM_LIMIT_JOB);
    SetEnvironmentVariableW(L"HOSTMEM_COMMIT_LIMIT", L"JOB");
    assert_limit(0, 0, 300 * (ULONGLONG)MiB, HOSTMEM_LIMIT_JOB);
    fake_in_job = FALSE;
    assert_limit(64 * (ULONGLONG)MiB, 0, 0, HOSTMEM_LIMIT_NONE);
    /* Not a size nor "job": reported and ignored, the config's limit stays. */
    SetEnvironmentVariableW(L"HOSTMEM_COMMIT_LIMIT", L"jobs");
    assert_limit(64 * (ULONGLONG)MiB, 0, 64 * (ULONGLONG)MiB, HOSTMEM_LIMIT_CONFIG);
}

/* --- a real job (as far as the OS implements it) --------------------------------------- */

/* Runs tests/job_child.exe (beside this test) in a new job with these memory limits and
   returns what it printed. */
static void run_child_in_job(DWORD flags, SIZE_T process_limit, SIZE_T job_limit, const WCHAR *environment_limit,
                             char *output, DWORD size)
{
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits;
    SECURITY_ATTRIBUTES inherit = { sizeof(inherit), NULL, TRUE };
    STARTUPINFOW startup;
    PROCESS_INFORMATION process;
    WCHAR command[MAX_PATH + 32], *slash;
    HANDLE job, read_end, write_end;
    DWORD got = 0, n;

    job = CreateJobObjectW(NULL, NULL);
    assert_non_null(job);
    memset(&limits, 0, sizeof(limits));
    limits.BasicLimitInformation.LimitFlags = flags | JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    limits.ProcessMemoryLimit = process_limit;
    limits.JobMemoryLimit = job_limit;
    assert_true(SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof(limits)));

    assert_true(CreatePipe(&read_end, &write_end, &inherit, 0));
    SetHandleInformation(read_end, HANDLE_FLAG_INHERIT, 0);
    command[0] = L'"';
    assert_true(GetModuleFileNameW(NULL, command + 1, MAX_PATH) > 0);
    slash = wcsrchr(command, L'\\');
    assert_non_null(slash);
    wcscpy(slash + 1, L"job_child.exe\"");
    memset(&startup, 0, sizeof(startup));
    startup.cb = sizeof(startup);
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdOutput = write_end;
    startup.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    startup.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    SetEnvironmentVariableW(L"HOSTMEM_COMMIT_LIMIT", environment_limit);
    assert_true(CreateProcessW(NULL, command, NULL, NULL, TRUE, CREATE_SUSPENDED, NULL, NULL, &startup, &process));
    SetEnvironmentVariableW(L"HOSTMEM_COMMIT_LIMIT", NULL);
    assert_true(AssignProcessToJobObject(job, process.hProcess));
    ResumeThread(process.hThread);
    CloseHandle(write_end);
    while (got + 1 < size && ReadFile(read_end, output + got, size - 1 - got, &n, NULL) && n)
        got += n;
    output[got] = 0;
    assert_int_equal(WaitForSingleObject(process.hProcess, 30000), WAIT_OBJECT_0);
    CloseHandle(read_end);
    CloseHandle(process.hThread);
    CloseHandle(process.hProcess);
    CloseHandle(job);
}

/* What the child saw of its job, and what hostmem made of it. */
struct child_report {
    unsigned long in_job, flags, source;
    unsigned long long process_limit, job_limit, commit_limit;
};

static struct child_report parse_child(const char *output)
{
    struct child_report r;

    memset(&r, 0, sizeof(r));
    if (sscanf(output, "in_job %lu flags 0x%lx process %llu job %llu limitSource %lu commitLimit %llu", &r.in_job,
               &r.flags, &r.process_limit, &r.job_limit, &r.source, &r.commit_limit) != 6)
        fail_msg("the child printed \"%s\"", output);
    return r;
}

/* hostmem's answer, computed from what the OS told the child. */
static void assert_child_consistent(const struct child_report *r)
{
    unsigned long long limit = 0;

    assert_int_equal(r->in_job, 1);
    if (r->flags & JOB_OBJECT_LIMIT_PROCESS_MEMORY)
        limit = r->process_limit;
    if ((r->flags & JOB_OBJECT_LIMIT_JOB_MEMORY) && (!limit || r->job_limit < limit))
        limit = r->job_limit;
    limit = limit / 100 * 75 + limit % 100 * 75 / 100;
    assert_int_equal(r->commit_limit, limit);
    assert_int_equal(r->source, limit ? HOSTMEM_LIMIT_JOB : HOSTMEM_LIMIT_NONE);
}

static void a_real_job_s_limits_as_the_os_reports_them(void **state)
{
    char output[512];
    struct child_report r;
    (void)state;

    hm_os_restore();
    /* A per-process limit. Wine 8 keeps a job's memory limits to itself (its query
       reports no limit flags), so there hostmem rightly finds no limit; on Windows the
       child finds 75% of 256 MiB. */
    run_child_in_job(JOB_OBJECT_LIMIT_PROCESS_MEMORY, 256 * (SIZE_T)MiB, 0, NULL, output, sizeof(output));
    r = parse_child(output);
    assert_child_consistent(&r);
    if (r.flags & JOB_OBJECT_LIMIT_PROCESS_MEMORY)
        assert_int_equal(r.commit_limit, 192 * (ULONGLONG)MiB);
    /* A job-wide limit, through HOSTMEM_COMMIT_LIMIT=job this time. */
    run_child_in_job(JOB_OBJECT_LIMIT_JOB_MEMORY, 0, 128 * (SIZE_T)MiB, L"job", output, sizeof(output));
    r = parse_child(output);
    assert_child_consistent(&r);
    if (r.flags & JOB_OBJECT_LIMIT_JOB_MEMORY)
        assert_int_equal(r.commit_limit, 96 * (ULONGLONG)MiB);
}

#define T(name)   cmocka_unit_test_setup_teardown(name, fault_setup, fault_teardown)
#define JOB(name) cmocka_unit_test_setup_teardown(name, job_setup, job_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(configure_with_defaults_sets_sql_server_s_policy_gc_limits_and_events),
        T(configure_without_a_limit_makes_no_gc_call),
        T(configure_with_every_override_passes_each_one_on),
        T(configure_with_unchanged_fields_leaves_the_clr_s_own_policy),
        T(configure_without_a_limit_derives_the_missing_gc_size),
        T(gc_limits_follow_the_documented_rule),
        T(bad_governance_fields_are_refused_at_creation),
        T(configure_against_a_clr_offering_no_manager_skips_each_one),
        T(a_failing_clr_call_stops_the_sequence_and_is_returned),
        T(configure_checks_its_arguments),
        T(events_are_counted_and_clr_disabled_reaches_the_escalation_callback),
        T(a_refused_request_s_escalation_has_the_failed_request_kind),
        T(policy_callbacks_are_counted_and_traced),
        T(stats_of_every_size_get_the_fields_that_fit),
        T(a_config_of_the_first_version_gets_every_governance_default),
        JOB(job_with_a_process_limit_gives_75_percent_of_it),
        JOB(job_with_a_job_limit_takes_the_smaller_one),
        JOB(no_job_or_no_memory_limit_means_no_limit),
        JOB(a_bad_job_percentage_is_refused),
        JOB(the_limit_source_says_where_the_limit_came_from),
        JOB(a_real_job_s_limits_as_the_os_reports_them),
    };

    SetEnvironmentVariableW(L"HOSTMEM_COMMIT_LIMIT", NULL);
    SetEnvironmentVariableW(L"HOSTMEM_TRACE", NULL);
    return cmocka_run_group_tests_name("governance", tests, NULL, NULL);
}
