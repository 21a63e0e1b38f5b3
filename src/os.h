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
    /* The notifier thread and the bounded wait before a retry. */
    HANDLE (WINAPI *CreateThread)(LPSECURITY_ATTRIBUTES security, SIZE_T stack, LPTHREAD_START_ROUTINE start,
                                  LPVOID parameter, DWORD flags, LPDWORD thread_id);
    HANDLE (WINAPI *CreateEventW)(LPSECURITY_ATTRIBUTES security, BOOL manual_reset, BOOL initial, LPCWSTR name);
    BOOL   (WINAPI *SetEvent)(HANDLE event);
    DWORD  (WINAPI *WaitForSingleObject)(HANDLE handle, DWORD milliseconds);
    BOOL   (WINAPI *CloseHandle)(HANDLE handle);
    ULONGLONG (WINAPI *GetTickCount64)(void);
    VOID   (WINAPI *Sleep)(DWORD milliseconds);
    /* The OS's own low/high memory signals, forwarded when there is no limit. */
    HANDLE (WINAPI *CreateMemoryResourceNotification)(MEMORY_RESOURCE_NOTIFICATION_TYPE type);
    BOOL   (WINAPI *QueryMemoryResourceNotification)(HANDLE notification, PBOOL state);
    /* HOSTMEM_COMMIT_LIMIT and friends. */
    DWORD  (WINAPI *GetEnvironmentVariableW)(LPCWSTR name, LPWSTR buffer, DWORD size);
    /* The limit of the Windows job (HOSTMEM_COMMIT_LIMIT_FROM_JOB). */
    BOOL   (WINAPI *IsProcessInJob)(HANDLE process, HANDLE job, PBOOL result);
    BOOL   (WINAPI *QueryInformationJobObject)(HANDLE job, JOBOBJECTINFOCLASS info_class, LPVOID info, DWORD length,
                                              LPDWORD returned);
    /* The trace. */
    HANDLE (WINAPI *CreateFileW)(LPCWSTR name, DWORD access, DWORD share, LPSECURITY_ATTRIBUTES security,
                                 DWORD disposition, DWORD flags, HANDLE template_file);
    BOOL   (WINAPI *WriteFile)(HANDLE file, LPCVOID data, DWORD size, LPDWORD written, LPOVERLAPPED overlapped);
    BOOL   (WINAPI *QueryPerformanceCounter)(LARGE_INTEGER *count);
    BOOL   (WINAPI *QueryPerformanceFrequency)(LARGE_INTEGER *frequency);
    /* The published statistics (publish.c): a named section and its security
       descriptor (the process's user and administrators may read, nobody may write
       through the name). */
    HANDLE (WINAPI *CreateFileMappingW)(HANDLE file, LPSECURITY_ATTRIBUTES security, DWORD protect, DWORD size_high,
                                        DWORD size_low, LPCWSTR name);
    LPVOID (WINAPI *MapViewOfFile)(HANDLE mapping, DWORD access, DWORD offset_high, DWORD offset_low, SIZE_T bytes);
    BOOL   (WINAPI *UnmapViewOfFile)(LPCVOID base);
    BOOL   (WINAPI *OpenProcessToken)(HANDLE process, DWORD access, PHANDLE token);
    BOOL   (WINAPI *GetTokenInformation)(HANDLE token, TOKEN_INFORMATION_CLASS kind, LPVOID buffer, DWORD size,
                                         PDWORD needed);
    BOOL   (WINAPI *CreateWellKnownSid)(WELL_KNOWN_SID_TYPE kind, PSID domain, PSID sid, DWORD *size);
    BOOL   (WINAPI *InitializeAcl)(PACL acl, DWORD size, DWORD revision);
    BOOL   (WINAPI *AddAccessAllowedAce)(PACL acl, DWORD revision, DWORD access, PSID sid);
    BOOL   (WINAPI *InitializeSecurityDescriptor)(PSECURITY_DESCRIPTOR descriptor, DWORD revision);
    BOOL   (WINAPI *SetSecurityDescriptorDacl)(PSECURITY_DESCRIPTOR descriptor, BOOL present, PACL acl, BOOL defaulted);
    /* A thread's exit, for the heap's arenas (thread_win32.c), and its id where the
       TEB cannot be read inline. */
    DWORD  (WINAPI *FlsAlloc)(PFLS_CALLBACK_FUNCTION callback);
    BOOL   (WINAPI *FlsSetValue)(DWORD index, PVOID value);
    BOOL   (WINAPI *FlsFree)(DWORD index);
    DWORD  (WINAPI *GetCurrentThreadId)(void);
} hm_os_table;

/* The table in use. Tests may replace entries while no hostmem call is running. */
extern hm_os_table hm_os;

/* Puts kernel32's (and advapi32's) own functions back into every entry. */
void hm_os_restore(void);

#endif /* HOSTMEM_OS_H */
