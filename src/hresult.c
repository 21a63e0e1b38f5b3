/*
 * Turning Win32 errors into the HRESULTs the CLR reads.
 */
#include "hostmem_private.h"

/* The errors by which VirtualAlloc and HeapAlloc say "no memory" (CONTRACT.md §3). */
BOOL hm_is_out_of_memory_error(DWORD os_error)
{
    return os_error == ERROR_NOT_ENOUGH_MEMORY || os_error == ERROR_COMMITMENT_LIMIT ||
           os_error == ERROR_OUTOFMEMORY;
}

HRESULT hm_hresult_from_os_error(DWORD os_error)
{
    /* HRESULT_FROM_WIN32(0) is S_OK, and the CLR must never read a failure as success.
       E_FAIL would tell the CLR it is finished, so a silent failure gets E_UNEXPECTED. */
    return os_error ? HRESULT_FROM_WIN32(os_error) : E_UNEXPECTED;
}
