/*
 * The OS table: kernel32 by default; see os.h.
 */
#include "os.h"

#define KERNEL32_ENTRIES                                                                          \
    VirtualAlloc, VirtualFree, VirtualQuery, VirtualProtect, GlobalMemoryStatusEx, GetSystemInfo, \
    HeapCreate, HeapDestroy, HeapAlloc, HeapFree, CreateThread, CreateEventW, SetEvent,           \
    WaitForSingleObject, CloseHandle, GetTickCount64, Sleep, CreateMemoryResourceNotification,    \
    QueryMemoryResourceNotification, GetEnvironmentVariableW, IsProcessInJob,                     \
    QueryInformationJobObject, CreateFileW, WriteFile,                                            \
    QueryPerformanceCounter, QueryPerformanceFrequency, CreateFileMappingW, MapViewOfFile,       \
    UnmapViewOfFile, OpenProcessToken, GetTokenInformation, CreateWellKnownSid, InitializeAcl,    \
    AddAccessAllowedAce, InitializeSecurityDescriptor, SetSecurityDescriptorDacl, FlsAlloc, FlsSetValue,   \
    FlsFree, GetCurrentThreadId

static const hm_os_table kernel32_table = { KERNEL32_ENTRIES };

hm_os_table hm_os = { KERNEL32_ENTRIES };

void hm_os_restore(void)
{
    hm_os = kernel32_table;
}
