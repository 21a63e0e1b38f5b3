/*
 * The host, as the CLR sees it: a host control with a commit limit, the manager from
 * GetHostManager, a notification callback; its books, read and checked after every
 * pair. Row 6 needs the private bookkeeping heaps, which the DLL rightly does not
 * export: they are caught through the OS table as the manager (or a malloc) creates
 * them.
 */
#include "bench.h"

#include "os.h"

#include "clr/clr_callback.h"

#include <string.h>

static HRESULT WINAPI callback_OnMemoryNotification(ICLRMemoryNotificationCallback *iface, EMemoryAvailable level)
{
    (void)iface;
    (void)level;
    return S_OK;
}
static const ICLRMemoryNotificationCallbackVtbl callback_vtbl = CLR_CALLBACK_VTBL(callback_OnMemoryNotification);
static ICLRMemoryNotificationCallback clr_callback = { &callback_vtbl };

static HANDLE created_heap;
static HANDLE WINAPI catch_heap_create(DWORD options, SIZE_T initial, SIZE_T maximum)
{
    HANDLE heap = HeapCreate(options, initial, maximum);

    if (!created_heap)
        created_heap = heap;
    return heap;
}

void heap_catch_start(void)
{
    created_heap = NULL;
    hm_os.HeapCreate = catch_heap_create;
}

HANDLE heap_catch_stop(void)
{
    hm_os_restore();
    return created_heap;
}

void host_start(host *h)
{
    HOSTMEM_CONFIG config;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.commitLimit = COMMIT_LIMIT;
    heap_catch_start();
    check(HostMemCreateHostControl(&config, &h->control), "HostMemCreateHostControl");
    h->bookkeeping = heap_catch_stop();
    check(IHostControl_GetHostManager(h->control, &IID_IHostMemoryManager, (void **)&h->manager),
          "GetHostManager");
    check(IHostMemoryManager_RegisterMemoryNotificationCallback(h->manager, &clr_callback),
          "RegisterMemoryNotificationCallback");
}

void host_stop(host *h)
{
    IHostMemoryManager_RegisterMemoryNotificationCallback(h->manager, NULL);
    IHostMemoryManager_Release(h->manager);
    IHostControl_Release(h->control);
}

HOSTMEM_STATS host_stats(const host *h)
{
    HOSTMEM_STATS stats;

    memset(&stats, 0, sizeof(stats));
    stats.cbSize = sizeof(stats);
    check(HostMemGetStats((IUnknown *)h->manager, &stats), "HostMemGetStats");
    return stats;
}

/* The books after a pair must read what they read before it, to the byte. */
void check_books(const host *h, const HOSTMEM_STATS *before, const char *pair)
{
    HOSTMEM_STATS now = host_stats(h);

    if (now.committedBytes != before->committedBytes || now.reservedBytes != before->reservedBytes ||
        now.mallocBytes != before->mallocBytes)
        fatal("books drifted over %s: committed %llu -> %llu, reserved %llu -> %llu, malloc %llu -> %llu", pair,
              before->committedBytes, now.committedBytes, before->reservedBytes, now.reservedBytes,
              before->mallocBytes, now.mallocBytes);
}
