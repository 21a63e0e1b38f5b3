/*
 * A stand-in for the .NET Framework SDK's mscoree.h, used only by the header tests
 * (tests/sdk_headers.cmake): hostmem.h must compile beside the real one in either
 * include order. Written for hostmem from the documented declarations (the CLR
 * hosting reference gives each interface's IID and methods and names MSCorEE.h as
 * their header); nothing here is copied from any vendor's header.
 *
 * What matters is the shape MIDL gives its output, because that is what hostmem.h
 * has to coexist with:
 *   - #pragma once (for MSVC) and the __mscoree_h__ include guard;
 *   - per interface, __<name>_FWD_DEFINED__ around the forward typedef and
 *     __<name>_INTERFACE_DEFINED__ around the declaration (C++ class, C vtable,
 *     COBJMACROS);
 *   - the enums as plain typedefs with MIDL's generated tags and no guard at all;
 *   - the IIDs declared with EXTERN_GUID, IID_IHostMemoryNeededCallback among them.
 * Only the part that hostmem.h and the tests use: IHostControl and the memory
 * interfaces, and none of the runtime-host interfaces.
 */

#ifndef __REQUIRED_RPCNDR_H_VERSION__
#define __REQUIRED_RPCNDR_H_VERSION__ 475
#endif
#include "rpc.h"
#include "rpcndr.h"

#ifndef COM_NO_WINDOWS_H
#include "windows.h"
#include "ole2.h"
#endif

#ifndef __mscoree_h__
#define __mscoree_h__

#if defined(_MSC_VER) && (_MSC_VER >= 1020)
#pragma once
#endif

/* Forward declarations */

#ifndef __IHostControl_FWD_DEFINED__
#define __IHostControl_FWD_DEFINED__
typedef interface IHostControl IHostControl;
#endif

/* The runtime host and its control: the SDK declares them in full; hostmem.h only
   passes pointers to them (HostMemConfigureRuntime), so their forward declarations
   are all this stand-in needs. */
#ifndef __ICLRRuntimeHost_FWD_DEFINED__
#define __ICLRRuntimeHost_FWD_DEFINED__
typedef interface ICLRRuntimeHost ICLRRuntimeHost;
#endif

#ifndef __ICLRControl_FWD_DEFINED__
#define __ICLRControl_FWD_DEFINED__
typedef interface ICLRControl ICLRControl;
#endif

#ifndef __IHostMalloc_FWD_DEFINED__
#define __IHostMalloc_FWD_DEFINED__
typedef interface IHostMalloc IHostMalloc;
#endif

#ifndef __ICLRMemoryNotificationCallback_FWD_DEFINED__
#define __ICLRMemoryNotificationCallback_FWD_DEFINED__
typedef interface ICLRMemoryNotificationCallback ICLRMemoryNotificationCallback;
#endif

#ifndef __IHostMemoryManager_FWD_DEFINED__
#define __IHostMemoryManager_FWD_DEFINED__
typedef interface IHostMemoryManager IHostMemoryManager;
#endif

/* header files for imported files */
#include "unknwn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The module's cpp_quote section: GUIDs by name, then the enums, unguarded. */
EXTERN_GUID(IID_IHostControl, 0x02CA073C, 0x7079, 0x4860, 0x88, 0x0A, 0xC2, 0xF7, 0xA4, 0x49, 0xC9, 0x91);
EXTERN_GUID(IID_IHostMalloc, 0x1831991C, 0xCC53, 0x4A31, 0xB2, 0x18, 0x04, 0xE9, 0x10, 0x44, 0x64, 0x79);
EXTERN_GUID(IID_IHostMemoryManager, 0x7BC698D1, 0xF9E3, 0x4460, 0x9C, 0xDE, 0xD0, 0x42, 0x48, 0xE9, 0xFA, 0x25);
EXTERN_GUID(IID_ICLRMemoryNotificationCallback, 0x47EB8E57, 0x0846, 0x4546, 0xAF, 0x76, 0x6F, 0x42, 0xFC, 0xFC, 0x26, 0x49);
EXTERN_GUID(IID_IHostMemoryNeededCallback, 0x47EB8E57, 0x0846, 0x4546, 0xAF, 0x76, 0x6F, 0x42, 0xFC, 0xFC, 0x26, 0x49);

typedef /* [public] */ enum __MIDL___MIDL_itf_mscoree_0000_0000_0011
    {
        eTaskCritical = 0,
        eAppDomainCritical = 1,
        eProcessCritical = 2
    } EMemoryCriticalLevel;

typedef /* [public] */ enum __MIDL___MIDL_itf_mscoree_0000_0000_0012
    {
        MALLOC_THREADSAFE = 0x1,
        MALLOC_EXECUTABLE = 0x2
    } MALLOC_TYPE;

typedef /* [public] */ enum __MIDL___MIDL_itf_mscoree_0000_0000_0013
    {
        eMemoryAvailableLow = 1,
        eMemoryAvailableNeutral = 2,
        eMemoryAvailableHigh = 3
    } EMemoryAvailable;


#ifndef __IHostMalloc_INTERFACE_DEFINED__
#define __IHostMalloc_INTERFACE_DEFINED__

/* interface IHostMalloc */
/* [unique][helpstring][uuid][local][object] */

EXTERN_C const IID IID_IHostMalloc;

#if defined(__cplusplus) && !defined(CINTERFACE)

    MIDL_INTERFACE("1831991C-CC53-4A31-B218-04E910446479")
    IHostMalloc : public IUnknown
    {
    public:
        virtual HRESULT STDMETHODCALLTYPE Alloc(
            /* [in] */ SIZE_T cbSize,
            /* [in] */ EMemoryCriticalLevel eCriticalLevel,
            /* [out] */ void **ppMem) = 0;

        virtual HRESULT STDMETHODCALLTYPE DebugAlloc(
            /* [in] */ SIZE_T cbSize,
            /* [in] */ EMemoryCriticalLevel eCriticalLevel,
            /* [in] */ char *pszFileName,
            /* [in] */ int iLineNo,
            /* [out] */ void **ppMem) = 0;

        virtual HRESULT STDMETHODCALLTYPE Free(
            /* [in] */ void *pMem) = 0;
    };

#else /* C style interface */

    typedef struct IHostMallocVtbl
    {
        BEGIN_INTERFACE

        HRESULT ( STDMETHODCALLTYPE *QueryInterface )(
            IHostMalloc * This,
            /* [in] */ REFIID riid,
            /* [iid_is][out] */ void **ppvObject);

        ULONG ( STDMETHODCALLTYPE *AddRef )(
            IHostMalloc * This);

        ULONG ( STDMETHODCALLTYPE *Release )(
            IHostMalloc * This);

        HRESULT ( STDMETHODCALLTYPE *Alloc )(
            IHostMalloc * This,
            /* [in] */ SIZE_T cbSize,
            /* [in] */ EMemoryCriticalLevel eCriticalLevel,
            /* [out] */ void **ppMem);

        HRESULT ( STDMETHODCALLTYPE *DebugAlloc )(
            IHostMalloc * This,
            /* [in] */ SIZE_T cbSize,
            /* [in] */ EMemoryCriticalLevel eCriticalLevel,
            /* [in] */ char *pszFileName,
            /* [in] */ int iLineNo,
            /* [out] */ void **ppMem);

        HRESULT ( STDMETHODCALLTYPE *Free )(
            IHostMalloc * This,
            /* [in] */ void *pMem);

        END_INTERFACE
    } IHostMallocVtbl;

    interface IHostMalloc
    {
        CONST_VTBL struct IHostMallocVtbl *lpVtbl;
    };

#ifdef COBJMACROS

#define IHostMalloc_QueryInterface(This,riid,ppvObject)	\
    ( (This)->lpVtbl -> QueryInterface(This,riid,ppvObject) )

#define IHostMalloc_AddRef(This)	\
    ( (This)->lpVtbl -> AddRef(This) )

#define IHostMalloc_Release(This)	\
    ( (This)->lpVtbl -> Release(This) )

#define IHostMalloc_Alloc(This,cbSize,eCriticalLevel,ppMem)	\
    ( (This)->lpVtbl -> Alloc(This,cbSize,eCriticalLevel,ppMem) )

#define IHostMalloc_DebugAlloc(This,cbSize,eCriticalLevel,pszFileName,iLineNo,ppMem)	\
    ( (This)->lpVtbl -> DebugAlloc(This,cbSize,eCriticalLevel,pszFileName,iLineNo,ppMem) )

#define IHostMalloc_Free(This,pMem)	\
    ( (This)->lpVtbl -> Free(This,pMem) )

#endif /* COBJMACROS */

#endif /* C style interface */

#endif /* __IHostMalloc_INTERFACE_DEFINED__ */


#ifndef __ICLRMemoryNotificationCallback_INTERFACE_DEFINED__
#define __ICLRMemoryNotificationCallback_INTERFACE_DEFINED__

/* interface ICLRMemoryNotificationCallback */
/* [unique][helpstring][version][uuid][local][object] */

EXTERN_C const IID IID_ICLRMemoryNotificationCallback;

#if defined(__cplusplus) && !defined(CINTERFACE)

    MIDL_INTERFACE("47EB8E57-0846-4546-AF76-6F42FCFC2649")
    ICLRMemoryNotificationCallback : public IUnknown
    {
    public:
        virtual HRESULT STDMETHODCALLTYPE OnMemoryNotification(
            /* [in] */ EMemoryAvailable eMemoryAvailable) = 0;
    };

#else /* C style interface */

    typedef struct ICLRMemoryNotificationCallbackVtbl
    {
        BEGIN_INTERFACE

        HRESULT ( STDMETHODCALLTYPE *QueryInterface )(
            ICLRMemoryNotificationCallback * This,
            /* [in] */ REFIID riid,
            /* [iid_is][out] */ void **ppvObject);

        ULONG ( STDMETHODCALLTYPE *AddRef )(
            ICLRMemoryNotificationCallback * This);

        ULONG ( STDMETHODCALLTYPE *Release )(
            ICLRMemoryNotificationCallback * This);

        HRESULT ( STDMETHODCALLTYPE *OnMemoryNotification )(
            ICLRMemoryNotificationCallback * This,
            /* [in] */ EMemoryAvailable eMemoryAvailable);

        END_INTERFACE
    } ICLRMemoryNotificationCallbackVtbl;

    interface ICLRMemoryNotificationCallback
    {
        CONST_VTBL struct ICLRMemoryNotificationCallbackVtbl *lpVtbl;
    };

#ifdef COBJMACROS

#define ICLRMemoryNotificationCallback_QueryInterface(This,riid,ppvObject)	\
    ( (This)->lpVtbl -> QueryInterface(This,riid,ppvObject) )

#define ICLRMemoryNotificationCallback_AddRef(This)	\
    ( (This)->lpVtbl -> AddRef(This) )

#define ICLRMemoryNotificationCallback_Release(This)	\
    ( (This)->lpVtbl -> Release(This) )

#define ICLRMemoryNotificationCallback_OnMemoryNotification(This,eMemoryAvailable)	\
    ( (This)->lpVtbl -> OnMemoryNotification(This,eMemoryAvailable) )

#endif /* COBJMACROS */

#endif /* C style interface */

#endif /* __ICLRMemoryNotificationCallback_INTERFACE_DEFINED__ */


#ifndef __IHostMemoryManager_INTERFACE_DEFINED__
#define __IHostMemoryManager_INTERFACE_DEFINED__

/* interface IHostMemoryManager */
/* [unique][helpstring][uuid][local][object] */

EXTERN_C const IID IID_IHostMemoryManager;

#if defined(__cplusplus) && !defined(CINTERFACE)

    MIDL_INTERFACE("7BC698D1-F9E3-4460-9CDE-D04248E9FA25")
    IHostMemoryManager : public IUnknown
    {
    public:
        virtual HRESULT STDMETHODCALLTYPE CreateMalloc(
            /* [in] */ DWORD dwMallocType,
            /* [out] */ IHostMalloc **ppMalloc) = 0;

        virtual HRESULT STDMETHODCALLTYPE VirtualAlloc(
            /* [in] */ void *pAddress,
            /* [in] */ SIZE_T dwSize,
            /* [in] */ DWORD flAllocationType,
            /* [in] */ DWORD flProtect,
            /* [in] */ EMemoryCriticalLevel eCriticalLevel,
            /* [out] */ void **ppMem) = 0;

        virtual HRESULT STDMETHODCALLTYPE VirtualFree(
            /* [in] */ LPVOID lpAddress,
            /* [in] */ SIZE_T dwSize,
            /* [in] */ DWORD dwFreeType) = 0;

        virtual HRESULT STDMETHODCALLTYPE VirtualQuery(
            /* [in] */ void *lpAddress,
            /* [out] */ void *lpBuffer,
            /* [in] */ SIZE_T dwLength,
            /* [out] */ SIZE_T *pResult) = 0;

        virtual HRESULT STDMETHODCALLTYPE VirtualProtect(
            /* [in] */ void *lpAddress,
            /* [in] */ SIZE_T dwSize,
            /* [in] */ DWORD flNewProtect,
            /* [out] */ DWORD *pflOldProtect) = 0;

        virtual HRESULT STDMETHODCALLTYPE GetMemoryLoad(
            /* [out] */ DWORD *pMemoryLoad,
            /* [out] */ SIZE_T *pAvailableBytes) = 0;

        virtual HRESULT STDMETHODCALLTYPE RegisterMemoryNotificationCallback(
            /* [in] */ ICLRMemoryNotificationCallback *pCallback) = 0;

        virtual HRESULT STDMETHODCALLTYPE NeedsVirtualAddressSpace(
            /* [in] */ LPVOID startAddress,
            /* [in] */ SIZE_T size) = 0;

        virtual HRESULT STDMETHODCALLTYPE AcquiredVirtualAddressSpace(
            /* [in] */ LPVOID startAddress,
            /* [in] */ SIZE_T size) = 0;

        virtual HRESULT STDMETHODCALLTYPE ReleasedVirtualAddressSpace(
            /* [in] */ LPVOID startAddress) = 0;
    };

#else /* C style interface */

    typedef struct IHostMemoryManagerVtbl
    {
        BEGIN_INTERFACE

        HRESULT ( STDMETHODCALLTYPE *QueryInterface )(
            IHostMemoryManager * This,
            /* [in] */ REFIID riid,
            /* [iid_is][out] */ void **ppvObject);

        ULONG ( STDMETHODCALLTYPE *AddRef )(
            IHostMemoryManager * This);

        ULONG ( STDMETHODCALLTYPE *Release )(
            IHostMemoryManager * This);

        HRESULT ( STDMETHODCALLTYPE *CreateMalloc )(
            IHostMemoryManager * This,
            /* [in] */ DWORD dwMallocType,
            /* [out] */ IHostMalloc **ppMalloc);

        HRESULT ( STDMETHODCALLTYPE *VirtualAlloc )(
            IHostMemoryManager * This,
            /* [in] */ void *pAddress,
            /* [in] */ SIZE_T dwSize,
            /* [in] */ DWORD flAllocationType,
            /* [in] */ DWORD flProtect,
            /* [in] */ EMemoryCriticalLevel eCriticalLevel,
            /* [out] */ void **ppMem);

        HRESULT ( STDMETHODCALLTYPE *VirtualFree )(
            IHostMemoryManager * This,
            /* [in] */ LPVOID lpAddress,
            /* [in] */ SIZE_T dwSize,
            /* [in] */ DWORD dwFreeType);

        HRESULT ( STDMETHODCALLTYPE *VirtualQuery )(
            IHostMemoryManager * This,
            /* [in] */ void *lpAddress,
            /* [out] */ void *lpBuffer,
            /* [in] */ SIZE_T dwLength,
            /* [out] */ SIZE_T *pResult);

        HRESULT ( STDMETHODCALLTYPE *VirtualProtect )(
            IHostMemoryManager * This,
            /* [in] */ void *lpAddress,
            /* [in] */ SIZE_T dwSize,
            /* [in] */ DWORD flNewProtect,
            /* [out] */ DWORD *pflOldProtect);

        HRESULT ( STDMETHODCALLTYPE *GetMemoryLoad )(
            IHostMemoryManager * This,
            /* [out] */ DWORD *pMemoryLoad,
            /* [out] */ SIZE_T *pAvailableBytes);

        HRESULT ( STDMETHODCALLTYPE *RegisterMemoryNotificationCallback )(
            IHostMemoryManager * This,
            /* [in] */ ICLRMemoryNotificationCallback *pCallback);

        HRESULT ( STDMETHODCALLTYPE *NeedsVirtualAddressSpace )(
            IHostMemoryManager * This,
            /* [in] */ LPVOID startAddress,
            /* [in] */ SIZE_T size);

        HRESULT ( STDMETHODCALLTYPE *AcquiredVirtualAddressSpace )(
            IHostMemoryManager * This,
            /* [in] */ LPVOID startAddress,
            /* [in] */ SIZE_T size);

        HRESULT ( STDMETHODCALLTYPE *ReleasedVirtualAddressSpace )(
            IHostMemoryManager * This,
            /* [in] */ LPVOID startAddress);

        END_INTERFACE
    } IHostMemoryManagerVtbl;

    interface IHostMemoryManager
    {
        CONST_VTBL struct IHostMemoryManagerVtbl *lpVtbl;
    };

#ifdef COBJMACROS

#define IHostMemoryManager_QueryInterface(This,riid,ppvObject)	\
    ( (This)->lpVtbl -> QueryInterface(This,riid,ppvObject) )

#define IHostMemoryManager_AddRef(This)	\
    ( (This)->lpVtbl -> AddRef(This) )

#define IHostMemoryManager_Release(This)	\
    ( (This)->lpVtbl -> Release(This) )

#define IHostMemoryManager_CreateMalloc(This,dwMallocType,ppMalloc)	\
    ( (This)->lpVtbl -> CreateMalloc(This,dwMallocType,ppMalloc) )

#define IHostMemoryManager_VirtualAlloc(This,pAddress,dwSize,flAllocationType,flProtect,eCriticalLevel,ppMem)	\
    ( (This)->lpVtbl -> VirtualAlloc(This,pAddress,dwSize,flAllocationType,flProtect,eCriticalLevel,ppMem) )

#define IHostMemoryManager_VirtualFree(This,lpAddress,dwSize,dwFreeType)	\
    ( (This)->lpVtbl -> VirtualFree(This,lpAddress,dwSize,dwFreeType) )

#define IHostMemoryManager_VirtualQuery(This,lpAddress,lpBuffer,dwLength,pResult)	\
    ( (This)->lpVtbl -> VirtualQuery(This,lpAddress,lpBuffer,dwLength,pResult) )

#define IHostMemoryManager_VirtualProtect(This,lpAddress,dwSize,flNewProtect,pflOldProtect)	\
    ( (This)->lpVtbl -> VirtualProtect(This,lpAddress,dwSize,flNewProtect,pflOldProtect) )

#define IHostMemoryManager_GetMemoryLoad(This,pMemoryLoad,pAvailableBytes)	\
    ( (This)->lpVtbl -> GetMemoryLoad(This,pMemoryLoad,pAvailableBytes) )

#define IHostMemoryManager_RegisterMemoryNotificationCallback(This,pCallback)	\
    ( (This)->lpVtbl -> RegisterMemoryNotificationCallback(This,pCallback) )

#define IHostMemoryManager_NeedsVirtualAddressSpace(This,startAddress,size)	\
    ( (This)->lpVtbl -> NeedsVirtualAddressSpace(This,startAddress,size) )

#define IHostMemoryManager_AcquiredVirtualAddressSpace(This,startAddress,size)	\
    ( (This)->lpVtbl -> AcquiredVirtualAddressSpace(This,startAddress,size) )

#define IHostMemoryManager_ReleasedVirtualAddressSpace(This,startAddress)	\
    ( (This)->lpVtbl -> ReleasedVirtualAddressSpace(This,startAddress) )

#endif /* COBJMACROS */

#endif /* C style interface */

#endif /* __IHostMemoryManager_INTERFACE_DEFINED__ */


#ifndef __IHostControl_INTERFACE_DEFINED__
#define __IHostControl_INTERFACE_DEFINED__

/* interface IHostControl */
/* [unique][helpstring][uuid][local][object] */

EXTERN_C const IID IID_IHostControl;

#if defined(__cplusplus) && !defined(CINTERFACE)

    MIDL_INTERFACE("02CA073C-7079-4860-880A-C2F7A449C991")
    IHostControl : public IUnknown
    {
    public:
        virtual HRESULT STDMETHODCALLTYPE GetHostManager(
            /* [in] */ REFIID riid,
            /* [out] */ void **ppObject) = 0;

        virtual HRESULT STDMETHODCALLTYPE SetAppDomainManager(
            /* [in] */ DWORD dwAppDomainID,
            /* [in] */ IUnknown *pUnkAppDomainManager) = 0;
    };

#else /* C style interface */

    typedef struct IHostControlVtbl
    {
        BEGIN_INTERFACE

        HRESULT ( STDMETHODCALLTYPE *QueryInterface )(
            IHostControl * This,
            /* [in] */ REFIID riid,
            /* [iid_is][out] */ void **ppvObject);

        ULONG ( STDMETHODCALLTYPE *AddRef )(
            IHostControl * This);

        ULONG ( STDMETHODCALLTYPE *Release )(
            IHostControl * This);

        HRESULT ( STDMETHODCALLTYPE *GetHostManager )(
            IHostControl * This,
            /* [in] */ REFIID riid,
            /* [out] */ void **ppObject);

        HRESULT ( STDMETHODCALLTYPE *SetAppDomainManager )(
            IHostControl * This,
            /* [in] */ DWORD dwAppDomainID,
            /* [in] */ IUnknown *pUnkAppDomainManager);

        END_INTERFACE
    } IHostControlVtbl;

    interface IHostControl
    {
        CONST_VTBL struct IHostControlVtbl *lpVtbl;
    };

#ifdef COBJMACROS

#define IHostControl_QueryInterface(This,riid,ppvObject)	\
    ( (This)->lpVtbl -> QueryInterface(This,riid,ppvObject) )

#define IHostControl_AddRef(This)	\
    ( (This)->lpVtbl -> AddRef(This) )

#define IHostControl_Release(This)	\
    ( (This)->lpVtbl -> Release(This) )

#define IHostControl_GetHostManager(This,riid,ppObject)	\
    ( (This)->lpVtbl -> GetHostManager(This,riid,ppObject) )

#define IHostControl_SetAppDomainManager(This,dwAppDomainID,pUnkAppDomainManager)	\
    ( (This)->lpVtbl -> SetAppDomainManager(This,dwAppDomainID,pUnkAppDomainManager) )

#endif /* COBJMACROS */

#endif /* C style interface */

#endif /* __IHostControl_INTERFACE_DEFINED__ */

#ifdef __cplusplus
}
#endif

#endif /* __mscoree_h__ */
