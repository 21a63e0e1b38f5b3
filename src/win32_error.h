/*
 * Win32 errors (GetLastError) as the HRESULTs the CLR reads (win32_error.c).
 */
#ifndef HOSTMEM_WIN32_ERROR_H
#define HOSTMEM_WIN32_ERROR_H

#include <windows.h>

/* HRESULT_FROM_WIN32, except that error 0 (a failure that set no error) is
   E_UNEXPECTED: never S_OK, and never E_FAIL, which would tell the CLR it is finished. */
HRESULT hm_win32_error_to_hresult(DWORD os_error);
/* The errors by which VirtualAlloc and HeapAlloc say "no memory". */
BOOL hm_win32_error_is_out_of_memory(DWORD os_error);

#endif /* HOSTMEM_WIN32_ERROR_H */
