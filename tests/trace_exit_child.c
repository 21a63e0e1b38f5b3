/*
 * A host that ends its process without releasing its control, for test_trace_delivery:
 * run with MODE and TRACE.csv. Linked against hostmem.dll itself, so that the DLL's
 * DLL_PROCESS_DETACH is what gets the buffered rows into the file.
 *
 *   exit       a few calls, then ExitProcess (hostmem-host never releases either)
 *   escalate   a request the policy answers with E_FAIL, and ExitProcess from inside
 *              the escalation callback (a common reaction of a host)
 */
#define COBJMACROS
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include <initguid.h>
#include "hostmem.h"

static void WINAPI exit_now(void *context, const HOSTMEM_ESCALATION *info)
{
    (void)context;
    (void)info;
    ExitProcess(3);
}

int wmain(int argc, WCHAR **argv);
int wmain(int argc, WCHAR **argv)
{
    HOSTMEM_CONFIG config;
    IHostControl *control = NULL;
    IHostMemoryManager *manager = NULL;
    void *p = NULL;
    BOOL escalate;

    if (argc != 3)
        return 64;
    escalate = !wcscmp(argv[1], L"escalate");
    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.commitLimit = 1024 * 1024;
    config.traceFile = argv[2];
    config.retryTimeoutMs = HOSTMEM_RETRY_NONE;
    config.failureAction[eTaskCritical] = HOSTMEM_ACTION_ESCALATE;
    config.escalationCallback = exit_now;
    if (HostMemCreateHostControl(&config, &control) != S_OK ||
        IHostControl_GetHostManager(control, &IID_IHostMemoryManager, (void **)&manager) != S_OK)
        return 1;
    if (IHostMemoryManager_VirtualAlloc(manager, NULL, 64 * 1024, MEM_RESERVE, PAGE_NOACCESS, eTaskCritical, &p) != S_OK ||
        IHostMemoryManager_VirtualAlloc(manager, p, 4096, MEM_COMMIT, PAGE_READWRITE, eTaskCritical, &p) != S_OK)
        return 2;
    if (escalate)
        IHostMemoryManager_VirtualAlloc(manager, NULL, 64 * 1024 * 1024, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
                                        eTaskCritical, &p);
    ExitProcess(0);
}
