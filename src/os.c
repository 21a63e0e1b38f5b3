/*
 * The OS table: kernel32 by default; see os.h.
 */
#include "os.h"

static const hm_os_table kernel32_table = {
    VirtualAlloc,
    VirtualFree,
    VirtualQuery,
    VirtualProtect,
    GlobalMemoryStatusEx,
    GetSystemInfo,
    HeapCreate,
    HeapDestroy,
    HeapAlloc,
    HeapFree,
};

hm_os_table hm_os = {
    VirtualAlloc,
    VirtualFree,
    VirtualQuery,
    VirtualProtect,
    GlobalMemoryStatusEx,
    GetSystemInfo,
    HeapCreate,
    HeapDestroy,
    HeapAlloc,
    HeapFree,
};

void hm_os_restore(void)
{
    hm_os = kernel32_table;
}
