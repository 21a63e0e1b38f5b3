/*
 * hostmem.h beside mscoree.h and corerror.h in every include order a host may use,
 * compiled (never run) in C and, with -x c++, in C++ under -Wall -Wextra -Werror by
 * tests/sdk_headers.cmake. The compile line chooses:
 *   HM_SDK_FIRST  1: <mscoree.h> before hostmem.h; 0: after it
 *   HM_CORERROR   0: no <corerror.h>; 1: before hostmem.h; 2: after it
 *   HM_STANDIN    0: MinGW-w64's own headers; 1: the SDK-shaped mscoree.h and
 *                 corerror.h of tests/sdk_standin first on the include path; 2: only
 *                 the SDK-shaped corerror.h (GCC hides warnings inside MinGW-w64's
 *                 system headers, so this is what shows a HOST_E_* redefinition)
 * A redefinition, a second declaration of an enum or an interface, or a missing name
 * fails the compile.
 */
#define COBJMACROS
#include <windows.h>

#if HM_CORERROR == 1
#include <corerror.h>
#endif
#if HM_SDK_FIRST
#include <mscoree.h>
#endif

#include "hostmem.h"

#if !HM_SDK_FIRST
#include <mscoree.h>
#endif
#if HM_CORERROR == 2
#include <corerror.h>
#endif

/* Whose declarations were used: the SDK-shaped mscoree.h declares the memory
   interfaces itself, so hostmem_clr.h must have left all of them out (its
   IID_IHostMemoryNeededCallback alias is the visible sign); MinGW-w64's lacks them. */
#if HM_STANDIN >= 1 && HM_CORERROR && !defined(__COMMON_LANGUAGE_RUNTIME_HRESULTS__)
#error "the SDK-shaped corerror.h was not the one included"
#endif
#if HM_STANDIN == 1
#ifdef IID_IHostMemoryNeededCallback
#error "hostmem_clr.h declared the memory interfaces although mscoree.h had them"
#endif
#else
#ifndef IID_IHostMemoryNeededCallback
#error "hostmem_clr.h did not declare the memory interfaces MinGW-w64 lacks"
#endif
#endif

#ifdef __cplusplus
#define HM_STATIC_ASSERT(e) static_assert(e, #e)
#else
#define HM_STATIC_ASSERT(e) _Static_assert(e, #e)
#endif

/* The values, whoever defined them. */
HM_STATIC_ASSERT(HOST_E_DEADLOCK == (HRESULT)0x80131020L);
HM_STATIC_ASSERT(HOST_E_INVALIDOPERATION == (HRESULT)0x80131022L);
HM_STATIC_ASSERT(HOST_E_ABANDONED == (HRESULT)0x80131026L);
HM_STATIC_ASSERT(eTaskCritical == 0 && eAppDomainCritical == 1 && eProcessCritical == 2);
HM_STATIC_ASSERT(eMemoryAvailableLow == 1 && eMemoryAvailableHigh == 3);
HM_STATIC_ASSERT(MALLOC_THREADSAFE == 1 && MALLOC_EXECUTABLE == 2);
#if HM_CORERROR
/* corerror.h's own codes still work when hostmem_clr.h defined EMAKEHR first. */
HM_STATIC_ASSERT(CLDB_S_NULL == (HRESULT)0x00131109L);
HM_STATIC_ASSERT(CLR_E_SHIM_RUNTIMELOAD == (HRESULT)0x80131700L);
#endif

#ifdef __cplusplus
extern "C" {
#endif
HRESULT hm_include_order_check(IHostControl *control);
#ifdef __cplusplus
}
#endif

/* Every interface hostmem.h hands out, used through whichever declarations won. */
HRESULT hm_include_order_check(IHostControl *control)
{
    IHostMemoryManager *manager = NULL;
    IHostMalloc *heap = NULL;
    void *block = NULL;
    EMemoryCriticalLevel level = eAppDomainCritical;
    HOSTMEM_STATS stats;
    HRESULT hr;

    stats.cbSize = sizeof(stats);
#ifdef __cplusplus
    hr = control->GetHostManager(IID_IHostMemoryManager, reinterpret_cast<void **>(&manager));
    if (FAILED(hr))
        return hr;
    hr = manager->CreateMalloc(MALLOC_THREADSAFE, &heap);
    if (SUCCEEDED(hr)) {
        hr = heap->Alloc(64, level, &block);
        if (SUCCEEDED(hr))
            heap->Free(block);
        heap->Release();
    }
    manager->RegisterMemoryNotificationCallback(static_cast<ICLRMemoryNotificationCallback *>(NULL));
    manager->Release();
#else
    hr = IHostControl_GetHostManager(control, &IID_IHostMemoryManager, (void **)&manager);
    if (FAILED(hr))
        return hr;
    hr = IHostMemoryManager_CreateMalloc(manager, MALLOC_THREADSAFE, &heap);
    if (SUCCEEDED(hr)) {
        hr = IHostMalloc_Alloc(heap, 64, level, &block);
        if (SUCCEEDED(hr))
            IHostMalloc_Free(heap, block);
        IHostMalloc_Release(heap);
    }
    IHostMemoryManager_RegisterMemoryNotificationCallback(manager, (ICLRMemoryNotificationCallback *)NULL);
    IHostMemoryManager_Release(manager);
#endif
    if (SUCCEEDED(hr))
        hr = HostMemGetStats((IUnknown *)control, &stats);
    return hr == HOST_E_TIMEOUT ? E_FAIL : hr;
}
