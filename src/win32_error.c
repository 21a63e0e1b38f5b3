/*
 * Turning Win32 errors into the HRESULTs the CLR reads. Which errors mean "no memory"
 * and how the CLR reads the answers: docs/clr-contract.md, "Return codes".
 */
#include "win32_error.h"

BOOL hm_win32_error_is_out_of_memory(DWORD os_error)
{
    return os_error == ERROR_NOT_ENOUGH_MEMORY || os_error == ERROR_COMMITMENT_LIMIT ||
           os_error == ERROR_OUTOFMEMORY;
}

HRESULT hm_win32_error_to_hresult(DWORD os_error)
{
    /* HRESULT_FROM_WIN32(0) is S_OK, and the CLR must never read a failure as success.
       E_FAIL would tell the CLR it is finished, so a silent failure gets E_UNEXPECTED. */
    return os_error ? HRESULT_FROM_WIN32(os_error) : E_UNEXPECTED;
}
