/*
 * The IHostMemoryManager calls the limit's tests make over and over, each with its
 * answer checked, so that a test reads as the sequence it is about. See manager_calls.h.
 */
#include "manager_calls.h"

#include <string.h>

#define PAGE 4096u

void *vm_reserve(IHostMemoryManager *manager, SIZE_T bytes)
{
    void *p = NULL;

    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, bytes, MEM_RESERVE, PAGE_NOACCESS,
                                                     eTaskCritical, &p), S_OK);
    return p;
}

HRESULT vm_commit(IHostMemoryManager *manager, void *address, SIZE_T bytes, EMemoryCriticalLevel level)
{
    void *p = NULL;
    HRESULT hr = IHostMemoryManager_VirtualAlloc(manager, address, bytes, MEM_COMMIT, PAGE_READWRITE, level, &p);

    if (hr == S_OK)
        assert_ptr_equal(p, (void *)((uintptr_t)address & ~(uintptr_t)(PAGE - 1)));
    else
        assert_null(p);
    return hr;
}

void vm_decommit(IHostMemoryManager *manager, void *address, SIZE_T bytes)
{
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, address, bytes, MEM_DECOMMIT), S_OK);
}

void vm_release(IHostMemoryManager *manager, void *base)
{
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, base, 0, MEM_RELEASE), S_OK);
}

HOSTMEM_CONFIG limit_config(ULONGLONG limit)
{
    HOSTMEM_CONFIG config;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.commitLimit = limit;
    /* The states as they change; the repeats of Low are test_notifications'. */
    config.notificationRepeatMs = HOSTMEM_NOTIFICATION_REPEAT_NONE;
    return config;
}
