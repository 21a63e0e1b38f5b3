/*
 * The few HRESULTs the portable core returns, without windows.h. The values are
 * Windows' own (winerror.h), so the DLL passes them through unchanged.
 */
#ifndef HOSTMEM_CORE_STATUS_H
#define HOSTMEM_CORE_STATUS_H

#include <stdint.h>

typedef int32_t hm_hresult;

#define HM_S_OK          ((hm_hresult)0)
#define HM_E_FAIL        ((hm_hresult)0x80004005u)
#define HM_E_OUTOFMEMORY ((hm_hresult)0x8007000Eu)
#define HM_E_INVALIDARG  ((hm_hresult)0x80070057u)

#endif /* HOSTMEM_CORE_STATUS_H */
