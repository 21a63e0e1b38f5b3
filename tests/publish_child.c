/*
 * test_publish's child process: a host whose two managers publish known statistics,
 * for a parent to read from outside. Prints "ready" once the work is done, then
 * waits until its standard input reaches its end (the parent closes the pipe).
 */
#define COBJMACROS
#include <stdio.h>
#include <string.h>

#include "hostmem.h"

int main(void)
{
    HOSTMEM_CONFIG config;
    IHostMemoryManager *first = NULL, *second = NULL;
    IHostMalloc *heap = NULL;
    void *reserved = NULL, *p = NULL, *block = NULL;
    char byte;
    DWORD got;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.commitLimit = 8 << 20;
    config.flags = HOSTMEM_FLAG_PUBLISH_STATS;
    if (HostMemCreateMemoryManager(&config, &first) != S_OK)
        return 1;
    config.commitLimit = 0;
    if (HostMemCreateMemoryManager(&config, &second) != S_OK)
        return 1;
    /* 16 MiB reserved, 1 MiB committed (4 MiB at the peak), 1000 bytes of malloc, 64 KiB "mapped", one
       refusal at task level. */
    if (IHostMemoryManager_VirtualAlloc(first, NULL, 16 << 20, MEM_RESERVE, PAGE_READWRITE, eTaskCritical, &reserved) != S_OK ||
        IHostMemoryManager_VirtualAlloc(first, reserved, 1 << 20, MEM_COMMIT, PAGE_READWRITE, eTaskCritical, &p) != S_OK ||
        IHostMemoryManager_VirtualAlloc(first, (char *)reserved + (1 << 20), 3 << 20, MEM_COMMIT, PAGE_READWRITE,
                                        eTaskCritical, &p) != S_OK ||
        IHostMemoryManager_VirtualFree(first, (char *)reserved + (1 << 20), 3 << 20, MEM_DECOMMIT) != S_OK ||
        IHostMemoryManager_VirtualAlloc(first, (char *)reserved + (1 << 20), 12 << 20, MEM_COMMIT, PAGE_READWRITE,
                                        eTaskCritical, &p) != E_OUTOFMEMORY ||
        IHostMemoryManager_CreateMalloc(first, MALLOC_THREADSAFE, &heap) != S_OK ||
        IHostMalloc_Alloc(heap, 1000, eTaskCritical, &block) != S_OK ||
        IHostMemoryManager_AcquiredVirtualAddressSpace(first, (char *)reserved + (2 << 20), 64 << 10) != S_OK)
        return 1;
    printf("ready\n");
    fflush(stdout);
    while (ReadFile(GetStdHandle(STD_INPUT_HANDLE), &byte, 1, &got, NULL) && got)
        ;
    IHostMalloc_Free(heap, block);
    IHostMalloc_Release(heap);
    IHostMemoryManager_Release(second);
    IHostMemoryManager_Release(first);
    return 0;
}
