/*
 * hostmem: a memory manager for custom .NET Framework CLR hosts.
 *
 * A host creates an IHostControl with HostMemCreateHostControl() and hands it to the
 * CLR with ICLRRuntimeHost::SetHostControl() before Start(). From then on the CLR asks
 * hostmem for its virtual memory (IHostMemoryManager) and its internal heaps
 * (IHostMalloc). The one public header; C and C++.
 *
 * Copyright (c) 2026 the hostmem developers. MIT licence, see LICENSE.
 */
#ifndef HOSTMEM_H
#define HOSTMEM_H

#include <stddef.h>
#include <windows.h>
#include <unknwn.h>
/* mscoree.h first, whichever the include path finds (the .NET Framework SDK's or
   MinGW-w64's): hostmem_clr.h then adds only what it lacks (none of it for the SDK's),
   and a host's own #include <mscoree.h> or <corerror.h>, before or after this header,
   changes nothing. docs/windows-sdk.md. */
#include <mscoree.h>      /* IHostControl, ICLRRuntimeHost */
#include "hostmem_clr.h"  /* IHostMemoryManager, IHostMalloc, ..., HOST_E_* (from idl/) */
#include "hostmem_clr_policy.h" /* ICLRPolicyManager, IHostPolicyManager, ICLRGCManager, ... (idl/) */
#include "hostmem_version.h" /* HOSTMEM_VERSION_MAJOR ... (generated from CMakeLists.txt) */

#ifdef __cplusplus
extern "C" {
#endif

/* HOSTMEM_STATIC: linking hostmem's objects directly (its own tests do). */
#if defined(HOSTMEM_BUILDING_DLL) || defined(HOSTMEM_STATIC)
#define HOSTMEM_API
#else
#define HOSTMEM_API DECLSPEC_IMPORT
#endif


/* What a failed allocation returns, chosen per EMemoryCriticalLevel. */
typedef enum HOSTMEM_FAILURE_ACTION {
    HOSTMEM_ACTION_DEFAULT     = 0, /* task, domain: E_OUTOFMEMORY; process: E_FAIL */
    HOSTMEM_ACTION_OUTOFMEMORY = 1, /* E_OUTOFMEMORY: the CLR aborts the task or unloads the domain */
    HOSTMEM_ACTION_ESCALATE    = 2  /* E_FAIL: the CLR is no longer usable in this process */
} HOSTMEM_FAILURE_ACTION;

/* What HOSTMEM_ESCALATION reports. */
typedef enum HOSTMEM_ESCALATION_KIND {
    HOSTMEM_ESCALATION_FAILED_REQUEST = 0, /* hostmem returned E_FAIL to an allocation */
    HOSTMEM_ESCALATION_CLR_DISABLED   = 1  /* the CLR raised Event_ClrDisabled (HostMemConfigureRuntime) */
} HOSTMEM_ESCALATION_KIND;

/* Passed to the escalation callback each time a failure returns E_FAIL, and once when
   the CLR disables itself. Read kind only when cbSize covers it. */
typedef struct HOSTMEM_ESCALATION {
    DWORD                cbSize;    /* sizeof(HOSTMEM_ESCALATION) */
    EMemoryCriticalLevel level;     /* the level the CLR passed (eProcessCritical for CLR_DISABLED) */
    SIZE_T               bytes;     /* the size the CLR asked for (0 for CLR_DISABLED) */
    DWORD                osError;   /* the Win32 error behind the failure (0 for CLR_DISABLED) */
    const char          *method;    /* "VirtualAlloc", "Alloc", "DebugAlloc" or "Event_ClrDisabled" */
    /* --- since HostMemConfigureRuntime --- */
    DWORD                kind;      /* HOSTMEM_ESCALATION_KIND */
} HOSTMEM_ESCALATION;

/* Called on the failing thread, outside every hostmem lock, before E_FAIL is returned.
   It may call into hostmem (for example HostMemEnumMallocBlocks). */
typedef void (WINAPI *HOSTMEM_ESCALATION_CALLBACK)(void *context, const HOSTMEM_ESCALATION *info);

typedef struct HOSTMEM_CONFIG {
    DWORD     cbSize;        /* sizeof(HOSTMEM_CONFIG); lets the struct grow */
    ULONGLONG commitLimit;   /* bytes the CLR may commit; 0 = no limit; HOSTMEM_COMMIT_LIMIT_FROM_JOB =
                                the Windows job's limit. HOSTMEM_COMMIT_LIMIT (SIZE or "job") overrides. */
    /* further fields: a zero field means its default */
    DWORD     failureAction[3];                  /* HOSTMEM_FAILURE_ACTION, indexed by EMemoryCriticalLevel */
    HOSTMEM_ESCALATION_CALLBACK escalationCallback; /* NULL: none */
    void     *escalationContext;                 /* passed back to escalationCallback */
    /* How far past commitLimit eAppDomainCritical and eProcessCritical requests may go,
       so start-up and finalizers finish while task-level work is refused. Bytes;
       0 = the default (5% and 10% of the limit); HOSTMEM_HEADROOM_NONE = no headroom. */
    ULONGLONG appDomainHeadroom;
    ULONGLONG processHeadroom;
    /* Before failing an eAppDomainCritical or eProcessCritical request hostmem raises
       low memory and waits up to this long for memory to come back, then tries once
       more. 0 = 100 ms; HOSTMEM_RETRY_NONE = fail at once. At most 60000. */
    DWORD     retryTimeoutMs;
    /* Notifications under a limit: Low when commit rises to highWaterPercent of the
       limit, High when it falls below lowWaterPercent, Neutral between (with
       hysteresis). 0 = 90 and 60; otherwise 1..100 with low < high. */
    DWORD     highWaterPercent;
    DWORD     lowWaterPercent;
    /* Reserved plus mapped bytes the CLR may hold; 0 = no limit. */
    ULONGLONG addressSpaceLimit;
    /* A file to write the call trace to (created anew; CSV, see README); NULL = none.
       HOSTMEM_TRACE in the environment overrides it. */
    const WCHAR *traceFile;
    /* --- governance: HostMemConfigureRuntime and the job limit (docs/governance.md) --- */
    /* The CLR's escalation policy: an EPolicyAction for each, 0 = hostmem's default
       (SQL Server's), HOSTMEM_POLICY_UNCHANGED = make no call, the CLR keeps its own.
       eNoAction cannot be asked for. */
    DWORD     criticalResourceAction;    /* FAIL_CriticalResource; default eUnloadAppDomain */
    DWORD     orphanedLockAction;        /* FAIL_OrphanedLock; default eUnloadAppDomain */
    DWORD     nonCriticalResourceAction; /* FAIL_NonCriticalResource; default eThrowException */
    DWORD     unloadTimeoutAction;       /* OPR_AppDomainUnload on timeout; default eRudeUnloadAppDomain */
    DWORD     unloadTimeoutMs;           /* 0 = 10000; HOSTMEM_POLICY_UNCHANGED = no SetTimeoutAndAction */
    /* ICLRGCManager::SetGCStartupLimits. 0 = derived from the commit limit (no call
       without one); a value: segment at least 4 MB and a multiple of 1 MB, gen0 at
       least 64 KB. HOSTMEM_GC_LIMITS_OFF in gcSegmentSize: no call. */
    DWORD     gcSegmentSize;
    DWORD     gcMaxGen0Size;
    /* With commitLimit HOSTMEM_COMMIT_LIMIT_FROM_JOB (or HOSTMEM_COMMIT_LIMIT=job): this
       share of the job's memory limit; 0 = 75, otherwise 1..100. */
    DWORD     jobLimitPercent;
    /* While the state is Low, every registered callback is told Low again this often
       (level-triggered: a runtime that ignored or missed it learns it; see
       docs/notifications.md). 0 = 1000 ms; HOSTMEM_NOTIFICATION_REPEAT_NONE = never. */
    DWORD     notificationRepeatMs;
    /* --- observing (docs/observing.md) --- */
    DWORD     flags;         /* HOSTMEM_FLAG_*; 0 = none; an unknown bit is E_INVALIDARG */
} HOSTMEM_CONFIG;

#define HOSTMEM_HEADROOM_NONE (~(ULONGLONG)0)
#define HOSTMEM_RETRY_NONE    (~(DWORD)0)
/* commitLimit: take the limit from the Windows job the process runs in (the smaller of
   its per-process and its job memory limit, times jobLimitPercent); no limit outside a
   job or when the job sets no memory limit. */
#define HOSTMEM_COMMIT_LIMIT_FROM_JOB (~(ULONGLONG)0)
#define HOSTMEM_POLICY_UNCHANGED      (~(DWORD)0)
#define HOSTMEM_GC_LIMITS_OFF         (~(DWORD)0)
#define HOSTMEM_NOTIFICATION_REPEAT_NONE (~(DWORD)0)

/* The smallest cbSize accepted: a config that has only cbSize and commitLimit. */
#define HOSTMEM_CONFIG_MIN_SIZE (offsetof(HOSTMEM_CONFIG, commitLimit) + sizeof(ULONGLONG))

/* config may be NULL (all defaults). Both return S_OK and an object with one reference,
   E_POINTER for a NULL out pointer, E_INVALIDARG for a bad cbSize or a failureAction
   outside HOSTMEM_FAILURE_ACTION, E_OUTOFMEMORY. */
HOSTMEM_API HRESULT WINAPI HostMemCreateHostControl(const HOSTMEM_CONFIG *config, IHostControl **ppHostControl);
HOSTMEM_API HRESULT WINAPI HostMemCreateMemoryManager(const HOSTMEM_CONFIG *config, IHostMemoryManager **ppManager);

typedef struct HOSTMEM_STATS {
    DWORD     cbSize;              /* sizeof(HOSTMEM_STATS) */
    ULONGLONG committedBytes;      /* now, through VirtualAlloc */
    ULONGLONG peakCommittedBytes;
    ULONGLONG reservedBytes;       /* now, address space reserved through VirtualAlloc */
    ULONGLONG mallocBytes;         /* now, held by live IHostMalloc blocks (bytes requested) */
    ULONGLONG mappedBytes;         /* now, reported by Acquired/ReleasedVirtualAddressSpace */
    ULONGLONG failures[3];         /* failed requests, by EMemoryCriticalLevel */
    ULONGLONG escalations;         /* failures that returned E_FAIL */
    ULONGLONG notifications[3];    /* delivered Low, Neutral, High (each call to a callback) */
    /* --- governance: HostMemConfigureRuntime and the job limit --- */
    ULONGLONG domainUnloads;       /* Event_DomainUnload seen */
    ULONGLONG policyFailures;      /* IHostPolicyManager::OnFailure calls */
    ULONGLONG policyTimeouts;      /* IHostPolicyManager::OnTimeout calls */
    ULONGLONG policyDefaultActions; /* IHostPolicyManager::OnDefaultAction calls */
    ULONGLONG commitLimit;         /* the limit in force, bytes; 0 = none */
    DWORD     clrDisabled;         /* 1 once Event_ClrDisabled was seen */
    DWORD     limitSource;         /* HOSTMEM_LIMIT_SOURCE: where commitLimit came from */
    /* --- notifications and the trace (docs/notifications.md, docs/trace-delivery.md) --- */
    ULONGLONG traceRowsDropped;    /* trace rows dropped rather than wait for the trace's lock */
    /* --- the IHostMalloc heaps (docs/heap.md) --- */
    ULONGLONG mallocCommittedBytes; /* now, committed by the IHostMalloc heaps (slabs and large
                                       blocks); inside commitLimit with committedBytes */
} HOSTMEM_STATS;

typedef enum HOSTMEM_LIMIT_SOURCE {
    HOSTMEM_LIMIT_NONE        = 0, /* no limit */
    HOSTMEM_LIMIT_CONFIG      = 1, /* HOSTMEM_CONFIG.commitLimit */
    HOSTMEM_LIMIT_ENVIRONMENT = 2, /* HOSTMEM_COMMIT_LIMIT=SIZE */
    HOSTMEM_LIMIT_JOB         = 3  /* the Windows job's memory limit */
} HOSTMEM_LIMIT_SOURCE;

/* The size of the first HOSTMEM_STATS (up to notifications): the smallest cbSize
   HostMemGetStats accepts. */
#define HOSTMEM_STATS_V1_SIZE (offsetof(HOSTMEM_STATS, notifications) + 3 * sizeof(ULONGLONG))

/* manager: the IHostMemoryManager or the IHostControl that owns it. Lock-free.
   committedBytes + mallocCommittedBytes is what counts against commitLimit;
   peakCommittedBytes is the peak of that sum.
   cbSize: any size from HOSTMEM_STATS_V1_SIZE to sizeof(HOSTMEM_STATS); only the
   fields that fit whole are written, so a caller built against an older header keeps
   working. S_OK; E_POINTER for NULL arguments; E_INVALIDARG for a cbSize outside that
   range or a manager that is not hostmem's. */
HOSTMEM_API HRESULT WINAPI HostMemGetStats(IUnknown *manager, HOSTMEM_STATS *stats);

/* After ICLRRuntimeHost::SetHostControl, before Start. object: hostmem's IHostControl or
   IHostMemoryManager. Through runtimeHost->GetCLRControl it sets the CLR's escalation
   policy (ICLRPolicyManager), the GC's start-up limits sized to the commit limit
   (ICLRGCManager::SetGCStartupLimits, only when a limit is set or sizes are
   configured), and registers for the CLR's Event_DomainUnload and Event_ClrDisabled
   (ICLROnEventManager) with an IActionOnCLREvent of hostmem's.
   S_OK; E_POINTER for NULL; E_INVALIDARG for an object that is not hostmem's; the
   HRESULT of a CLR call that failed (what was already configured stays configured; a
   manager the CLR does not offer is skipped, see docs/governance.md). */
HOSTMEM_API HRESULT WINAPI HostMemConfigureRuntime(IUnknown *object, ICLRRuntimeHost *runtimeHost);

/* One outstanding IHostMalloc block, as HostMemEnumMallocBlocks reports it. */
typedef struct HOSTMEM_BLOCK_INFO {
    DWORD       cbSize;   /* sizeof(HOSTMEM_BLOCK_INFO) */
    const void *address;
    SIZE_T      size;     /* bytes requested */
    const char *file;     /* DebugAlloc's pszFileName, NULL for Alloc */
    int         line;     /* DebugAlloc's iLineNo, 0 for Alloc */
} HOSTMEM_BLOCK_INFO;

/* Return TRUE to go on, FALSE to stop. */
typedef BOOL (WINAPI *HOSTMEM_BLOCK_CALLBACK)(void *context, const HOSTMEM_BLOCK_INFO *block);

/* The leak report: calls callback once for each block still allocated. object is an
   IHostMalloc (its blocks), or an IHostMemoryManager or IHostControl from this DLL
   (the blocks of every IHostMalloc the manager created that is still alive). The
   blocks are taken as a snapshot and the callback runs outside every lock.
   S_OK; E_POINTER for a NULL object or callback; E_INVALIDARG for an object that is
   not hostmem's; E_OUTOFMEMORY when the snapshot cannot be taken. */
HOSTMEM_API HRESULT WINAPI HostMemEnumMallocBlocks(IUnknown *object, HOSTMEM_BLOCK_CALLBACK callback, void *context);

/* --- Region enumeration: every region the manager holds (docs/observing.md) --- */

typedef enum HOSTMEM_REGION_KIND {
    HOSTMEM_REGION_VIRTUAL = 1,  /* reserved through IHostMemoryManager::VirtualAlloc */
    HOSTMEM_REGION_HEAP    = 2,  /* hostmem's own IHostMalloc memory */
    HOSTMEM_REGION_VIEW    = 3   /* a mapped view the CLR reported (AcquiredVirtualAddressSpace) */
} HOSTMEM_REGION_KIND;

typedef struct HOSTMEM_REGION_INFO {
    DWORD                cbSize;          /* sizeof(HOSTMEM_REGION_INFO) */
    const void          *base;
    SIZE_T               reservedBytes;
    SIZE_T               committedBytes;  /* exact, from hostmem's books */
    DWORD                protect;         /* the protection the region was reserved with */
    EMemoryCriticalLevel level;           /* the level of the call that reserved it */
    HOSTMEM_REGION_KIND  kind;
} HOSTMEM_REGION_INFO;

/* Return TRUE to go on, FALSE to stop. */
typedef BOOL (WINAPI *HOSTMEM_REGION_CALLBACK)(void *context, const HOSTMEM_REGION_INFO *region);

/* Every region the manager holds, as a consistent snapshot, the callback outside every
   lock. object: the IHostControl or IHostMemoryManager. S_OK; E_POINTER;
   E_INVALIDARG for an object that is not hostmem's; E_OUTOFMEMORY. The committed bytes
   of the VIRTUAL regions add up to HOSTMEM_STATS.committedBytes taken at the same
   quiet moment. A VIEW region has reservedBytes = the view's size, committedBytes 0
   (hostmem does not book a view's pages), protect 0 and level eTaskCritical. */
HOSTMEM_API HRESULT WINAPI HostMemEnumRegions(IUnknown *object, HOSTMEM_REGION_CALLBACK callback, void *context);

/* HOSTMEM_CONFIG.flags: each manager keeps a read-only copy of its HOSTMEM_STATS in a
   named section Local\hostmem-<pid>-<n> that hostmem-stat reads from another process
   (also HOSTMEM_PUBLISH=1 in the environment). */
#define HOSTMEM_FLAG_PUBLISH_STATS 0x00000001
/* HOSTMEM_CONFIG.flags: the environment overrides nothing: HOSTMEM_COMMIT_LIMIT,
   HOSTMEM_TRACE and HOSTMEM_PUBLISH are not read, so the host's config alone decides
   (docs/api.md, "The environment"). */
#define HOSTMEM_FLAG_IGNORE_ENVIRONMENT 0x00000002

#ifdef __cplusplus
}
#endif

#endif /* HOSTMEM_H */
