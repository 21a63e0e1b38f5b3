/*
 * The CLR's side of HostMemConfigureRuntime, played by the tools and the tests: an
 * ICLRRuntimeHost whose GetCLRControl hands out an ICLRControl, which hands out
 * ICLRPolicyManager, ICLRGCManager and ICLROnEventManager (docs
 * iclrcontrol-getclrmanager-method). Every call is recorded with its arguments, the
 * policy, GC limits and event registrations that result are kept, and a test can make
 * the CLR offer no manager or fail any one call.
 *
 * Two modes: a stand-in (inner NULL: the CLR here answers S_OK itself, for
 * hostmem-replay and the tests) and a recorder in front of a real CLR (inner set:
 * hostmem-host passes every call on and records what the CLR answered).
 */
#ifndef HOSTMEM_CLR_CONTROL_H
#define HOSTMEM_CLR_CONTROL_H

#include <stdio.h>

#include "hostmem.h"

#define CLR_MAX_CALLS 32

/* Which managers the stand-in offers (a real CLR offers what it offers). */
enum { CLR_OFFERS_POLICY = 0x1, CLR_OFFERS_GC = 0x2, CLR_OFFERS_EVENTS = 0x4, CLR_OFFERS_ALL = 0x7 };

typedef struct clr_call {
    const char *method;   /* "GetCLRControl", "GetCLRManager", "SetActionOnFailure", ... */
    const char *manager;  /* GetCLRManager: "ICLRPolicyManager", ...; NULL otherwise */
    DWORD       arg[3];   /* the DWORD arguments, in order */
    HRESULT     hr;       /* what the CLR answered */
} clr_call;

typedef struct clr_runtime {
    ICLRRuntimeHost    ICLRRuntimeHost_iface;
    ICLRControl        ICLRControl_iface;
    ICLRPolicyManager  ICLRPolicyManager_iface;
    ICLRGCManager      ICLRGCManager_iface;
    ICLROnEventManager ICLROnEventManager_iface;

    /* The set-up (clr_runtime_init, then as a test wants). */
    ICLRRuntimeHost    *inner;        /* a real CLR, or NULL */
    unsigned            offers;       /* CLR_OFFERS_*, stand-in only */
    const char         *fail_method;  /* this method answers fail_hr (stand-in only) */
    HRESULT             fail_hr;
    HRESULT             control_hr;   /* GetCLRControl's answer (stand-in only) */
    BOOL                null_control;  /* GetCLRControl: S_OK with NULL (stand-in only) */
    BOOL                null_managers; /* GetCLRManager: S_OK with NULL (stand-in only) */

    /* What happened. */
    clr_call            calls[CLR_MAX_CALLS];
    unsigned            call_count;
    LONG                outstanding;  /* references handed out and not released */
    BOOL                failure_set[MaxClrFailure];
    EPolicyAction       failure_action[MaxClrFailure];
    BOOL                timeout_set[MaxClrOperation];
    DWORD               timeout_ms[MaxClrOperation];
    EPolicyAction       timeout_action[MaxClrOperation];
    BOOL                gc_set;
    DWORD               gc_segment, gc_gen0;
    IActionOnCLREvent  *action[MaxClrEvent]; /* registered, one reference held each */

    /* The real CLR's objects behind ours (recorder only). */
    ICLRControl        *inner_control;
    ICLRPolicyManager  *inner_policy;
    ICLRGCManager      *inner_gc;
    ICLROnEventManager *inner_events;
} clr_runtime;

void clr_runtime_init(clr_runtime *clr, ICLRRuntimeHost *inner);
ICLRRuntimeHost *clr_runtime_host(clr_runtime *clr);
/* Drops the registered actions and the real CLR's objects (the CLR itself never does). */
void clr_runtime_clear(clr_runtime *clr);

/* What the CLR does on this failure now: the action set, or its own default
   (eThrowException for the resource failures, docs iclrpolicymanager-setactiononfailure-method). */
EPolicyAction clr_runtime_failure_action(const clr_runtime *clr, EClrFailure failure);
/* Raises an event to the action registered for it; FALSE when none is. */
BOOL clr_runtime_raise(clr_runtime *clr, EClrEvent event, void *data);

const char *clr_action_name(DWORD action);
const char *clr_failure_name(DWORD failure);
const char *clr_operation_name(DWORD operation);
const char *clr_event_name(DWORD event);

/* "SetActionOnFailure(FAIL_CriticalResource, eUnloadAppDomain)": the call as a line */
void clr_call_describe(const clr_call *call, char *text, size_t size);

/* The summary lines hostmem-replay and hostmem-host print: the policy in force, the GC
   limits, the events registered. */
void clr_runtime_print(const clr_runtime *clr, FILE *out);

#endif /* HOSTMEM_CLR_CONTROL_H */
