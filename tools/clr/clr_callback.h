/*
 * The CLR's memory notification callback is a static object whose AddRef and Release
 * return 1 (docs/clr-contract.md, "Sequence of SetHostControl"). The tools and tests
 * that play the CLR build theirs from these pieces and supply only
 * OnMemoryNotification.
 */
#ifndef HOSTMEM_CLR_CALLBACK_H
#define HOSTMEM_CLR_CALLBACK_H

#include "hostmem.h"

static inline HRESULT WINAPI clr_callback_QueryInterface(ICLRMemoryNotificationCallback *iface, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ICLRMemoryNotificationCallback)) {
        *ppv = iface;
        return S_OK;
    }
    return E_NOINTERFACE;
}

static inline ULONG WINAPI clr_callback_AddRef(ICLRMemoryNotificationCallback *iface)
{
    (void)iface;
    return 1;
}

static inline ULONG WINAPI clr_callback_Release(ICLRMemoryNotificationCallback *iface)
{
    (void)iface;
    return 1;
}

/* The vtable of a static callback whose OnMemoryNotification is `on_notification`. */
#define CLR_CALLBACK_VTBL(on_notification) \
    { clr_callback_QueryInterface, clr_callback_AddRef, clr_callback_Release, (on_notification) }

#endif /* HOSTMEM_CLR_CALLBACK_H */
