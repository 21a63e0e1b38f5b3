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
#include <mscoree.h>      /* IHostControl, ICLRRuntimeHost (MinGW-w64) */
#include "hostmem_clr.h"  /* IHostMemoryManager, IHostMalloc, ... (generated from idl/) */
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

/* Passed to the escalation callback each time a failure returns E_FAIL. */
typedef struct HOSTMEM_ESCALATION {
    DWORD                cbSize;    /* sizeof(HOSTMEM_ESCALATION) */
    EMemoryCriticalLevel level;     /* the level the CLR passed */
    SIZE_T               bytes;     /* the size the CLR asked for */
    DWORD                osError;   /* the Win32 error behind the failure */
    const char          *method;    /* "VirtualAlloc", "Alloc" or "DebugAlloc" */
} HOSTMEM_ESCALATION;

/* Called on the failing thread, outside every hostmem lock, before E_FAIL is returned.
   It may call into hostmem (for example HostMemEnumMallocBlocks). */
typedef void (WINAPI *HOSTMEM_ESCALATION_CALLBACK)(void *context, const HOSTMEM_ESCALATION *info);

typedef struct HOSTMEM_CONFIG {
    DWORD     cbSize;        /* sizeof(HOSTMEM_CONFIG); lets the struct grow */
    ULONGLONG commitLimit;   /* bytes the CLR may commit; 0 = no limit. HOSTMEM_COMMIT_LIMIT overrides. */
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
} HOSTMEM_CONFIG;

#define HOSTMEM_HEADROOM_NONE (~(ULONGLONG)0)
#define HOSTMEM_RETRY_NONE    (~(DWORD)0)

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
    ULONGLONG notifications[3];    /* delivered Low, Neutral, High */
    /* Fields added later: a caller whose cbSize ends before one does not get it. */
    ULONGLONG mallocCommittedBytes; /* now, committed by the IHostMalloc heaps (slabs and
                                       large blocks); inside commitLimit with committedBytes */
} HOSTMEM_STATS;

/* cbSize of the first HOSTMEM_STATS, up to notifications. */
#define HOSTMEM_STATS_V1_SIZE (offsetof(HOSTMEM_STATS, notifications) + 3 * sizeof(ULONGLONG))

/* manager: the IHostMemoryManager or the IHostControl that owns it. Lock-free.
   committedBytes + mallocCommittedBytes is what counts against commitLimit;
   peakCommittedBytes is the peak of that sum.
   S_OK, filling the fields that cbSize covers; E_POINTER for NULL arguments;
   E_INVALIDARG for a cbSize that is neither sizeof(HOSTMEM_STATS) nor the size of an
   earlier version (HOSTMEM_STATS_V1_SIZE), or a manager that is not hostmem's. */
HOSTMEM_API HRESULT WINAPI HostMemGetStats(IUnknown *manager, HOSTMEM_STATS *stats);

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

#ifdef __cplusplus
}
#endif

#endif /* HOSTMEM_H */
