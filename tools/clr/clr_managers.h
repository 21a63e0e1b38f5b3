/*
 * The host managers the CLR asks IHostControl::GetHostManager for inside
 * SetHostControl, in the CLR's order (docs/clr-contract.md, "Sequence of
 * SetHostControl"). MinGW-w64's mscoree.h declares none of their IIDs; the values are
 * those of Microsoft's mscoree.h (.NET 2.0/4.0 SDK).
 */
#ifndef HOSTMEM_CLR_MANAGERS_H
#define HOSTMEM_CLR_MANAGERS_H

#include <windows.h>

typedef struct clr_manager {
    const char *name;
    GUID        iid;
} clr_manager;

/* After IHostMemoryManager, which the CLR asks for first. hostmem answers S_OK for
   IHostPolicyManager (it hears of the CLR's escalations) and E_NOINTERFACE for the rest. */
static const clr_manager clr_other_managers[] = {
    { "IHostTaskManager",         { 0x997FF24C, 0x43B7, 0x4352, { 0x86, 0x67, 0x0D, 0xC0, 0x4F, 0xAF, 0xD3, 0x54 } } },
    { "IHostThreadpoolManager",   { 0x983D50E2, 0xCB15, 0x466B, { 0x80, 0xFC, 0x84, 0x5D, 0xC6, 0xE8, 0xC5, 0xFD } } },
    { "IHostIoCompletionManager", { 0x8BDE9D80, 0xEC06, 0x41D6, { 0x83, 0xE6, 0x22, 0x58, 0x0E, 0xFF, 0xCC, 0x20 } } },
    { "IHostSyncManager",         { 0x234330C7, 0x5F10, 0x4F20, { 0x96, 0x15, 0x51, 0x22, 0xDA, 0xB7, 0xA0, 0xAC } } },
    { "IHostAssemblyManager",     { 0x613DABD7, 0x62B2, 0x493E, { 0x9E, 0x65, 0xC1, 0xE3, 0x2A, 0x1E, 0x0C, 0x5E } } },
    { "IHostGCManager",           { 0x5D4EC34E, 0xF248, 0x457B, { 0xB6, 0x03, 0x25, 0x5F, 0xAA, 0xBA, 0x0D, 0x21 } } },
    { "IHostSecurityManager",     { 0x75AD2468, 0xA349, 0x4D02, { 0xA7, 0x64, 0x76, 0xA6, 0x8A, 0xEE, 0x0C, 0x4F } } },
    { "IHostPolicyManager",       { 0x7AE49844, 0xB1E3, 0x4683, { 0xBA, 0x7C, 0x1E, 0x82, 0x12, 0xEA, 0x3B, 0x79 } } },
};

#define CLR_OTHER_MANAGER_COUNT (sizeof(clr_other_managers) / sizeof(clr_other_managers[0]))

#endif /* HOSTMEM_CLR_MANAGERS_H */
