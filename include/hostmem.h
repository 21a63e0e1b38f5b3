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
    ULONGLONG commitLimit;   /* bytes the CLR may commit; 0 = no limit */
    /* further fields: a zero field means its default */
    DWORD     failureAction[3];                  /* HOSTMEM_FAILURE_ACTION, indexed by EMemoryCriticalLevel */
    HOSTMEM_ESCALATION_CALLBACK escalationCallback; /* NULL: none */
    void     *escalationContext;                 /* passed back to escalationCallback */
} HOSTMEM_CONFIG;

/* The smallest cbSize accepted: a config that has only cbSize and commitLimit. */
#define HOSTMEM_CONFIG_MIN_SIZE (offsetof(HOSTMEM_CONFIG, commitLimit) + sizeof(ULONGLONG))

/* config may be NULL (all defaults). Both return S_OK and an object with one reference,
   E_POINTER for a NULL out pointer, E_INVALIDARG for a bad cbSize or a failureAction
   outside HOSTMEM_FAILURE_ACTION, E_OUTOFMEMORY. */
HOSTMEM_API HRESULT WINAPI HostMemCreateHostControl(const HOSTMEM_CONFIG *config, IHostControl **ppHostControl);
HOSTMEM_API HRESULT WINAPI HostMemCreateMemoryManager(const HOSTMEM_CONFIG *config, IHostMemoryManager **ppManager);

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
