/*
 * Every call hostmem makes to the operating system goes through this table, so that a
 * test can make any one of them fail (ld --wrap cannot reach DLL imports). The DLL
 * never calls these functions by name anywhere else.
 */
#ifndef HOSTMEM_OS_H
#define HOSTMEM_OS_H

#include <windows.h>

typedef struct hm_os_table {
    LPVOID (WINAPI *VirtualAlloc)(LPVOID address, SIZE_T size, DWORD type, DWORD protect);
    BOOL   (WINAPI *VirtualFree)(LPVOID address, SIZE_T size, DWORD type);
    SIZE_T (WINAPI *VirtualQuery)(LPCVOID address, PMEMORY_BASIC_INFORMATION buffer, SIZE_T length);
    BOOL   (WINAPI *VirtualProtect)(LPVOID address, SIZE_T size, DWORD protect, PDWORD old_protect);
    BOOL   (WINAPI *GlobalMemoryStatusEx)(LPMEMORYSTATUSEX status);
    VOID   (WINAPI *GetSystemInfo)(LPSYSTEM_INFO info);
    HANDLE (WINAPI *HeapCreate)(DWORD options, SIZE_T initial, SIZE_T maximum);
    BOOL   (WINAPI *HeapDestroy)(HANDLE heap);
    LPVOID (WINAPI *HeapAlloc)(HANDLE heap, DWORD flags, SIZE_T bytes);
    BOOL   (WINAPI *HeapFree)(HANDLE heap, DWORD flags, LPVOID block);
} hm_os_table;

/* The table in use. Tests may replace entries while no hostmem call is running. */
extern hm_os_table hm_os;

/* Puts kernel32's own functions back into every entry. */
void hm_os_restore(void);

#endif /* HOSTMEM_OS_H */
