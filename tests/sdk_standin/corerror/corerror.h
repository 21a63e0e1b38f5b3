/*
 * A stand-in for the .NET Framework SDK's corerror.h, used only by the header tests
 * (tests/sdk_headers.cmake). Written for hostmem from the documented CLR HRESULTs
 * (FACILITY_URT 0x13; the hosting codes 0x8013102x); nothing is copied from any
 * vendor's header.
 *
 * The shape that matters: the SDK's include guard (not MinGW-w64's), FACILITY_URT and
 * the EMAKEHR/SMAKEHR pair each under #ifndef, and every code spelled as
 * EMAKEHR(0x....) - so a header that defines HOST_E_* before this one must spell them
 * the same way or this file's #define is a redefinition warning. The column layout
 * differs from hostmem_clr.h on purpose: only the tokens must match.
 */

#ifndef __COMMON_LANGUAGE_RUNTIME_HRESULTS__
#define __COMMON_LANGUAGE_RUNTIME_HRESULTS__

#include <winerror.h>

#ifndef FACILITY_URT
#define FACILITY_URT            0x13
#endif

#ifndef EMAKEHR
#define SMAKEHR(val)            MAKE_HRESULT(SEVERITY_SUCCESS, FACILITY_URT, val)
#define EMAKEHR(val)            MAKE_HRESULT(SEVERITY_ERROR, FACILITY_URT, val)
#endif

/* CLR hosting: 0x1020 - 0x102F */
#define HOST_E_DEADLOCK                     EMAKEHR(0x1020)
#define HOST_E_INTERRUPTED                  EMAKEHR(0x1021)
#define HOST_E_INVALIDOPERATION             EMAKEHR(0x1022)
#define HOST_E_CLRNOTAVAILABLE              EMAKEHR(0x1023)
#define HOST_E_TIMEOUT                      EMAKEHR(0x1024)
#define HOST_E_NOT_OWNER                    EMAKEHR(0x1025)
#define HOST_E_ABANDONED                    EMAKEHR(0x1026)
#define HOST_E_EXITPROCESS_THREADABORT      EMAKEHR(0x1027)
#define HOST_E_EXITPROCESS_ADUNLOAD         EMAKEHR(0x1028)
#define HOST_E_EXITPROCESS_TIMEOUT          EMAKEHR(0x1029)
#define HOST_E_EXITPROCESS_OUTOFMEMORY      EMAKEHR(0x102A)
#define HOST_E_EXITPROCESS_STACKOVERFLOW    EMAKEHR(0x102B)

/* A success code (SMAKEHR must exist whoever defined EMAKEHR) and a shim error. */
#define CLDB_S_NULL                         SMAKEHR(0x1109)
#define CLR_E_SHIM_RUNTIMELOAD              EMAKEHR(0x1700)

#endif /* __COMMON_LANGUAGE_RUNTIME_HRESULTS__ */
