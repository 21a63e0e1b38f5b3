/*
 * hostmem-replay: plays the CLR's side of ICLRRuntimeHost::SetHostControl against
 * hostmem.dll exactly as CONTRACT.md §1 describes, then a little of what the CLR does
 * next (start-up allocations at eProcessCritical, an out-of-memory at each critical
 * level, a foreign free, queries of its own image), and prints each call with its
 * HRESULT. Exits 0 when every call answered what the CLR needs, 1 otherwise.
 */
#define COBJMACROS
#include <stdio.h>
#include <string.h>

#include <initguid.h>
#include "hostmem.h"

#include "clr_managers.h"

static int mismatches;
static int step_number;

static const char *hresult_name(HRESULT hr)
{
    switch (hr) {
    case S_OK:                    return "S_OK";
    case S_FALSE:                 return "S_FALSE";
    case E_FAIL:                  return "E_FAIL";
    case E_OUTOFMEMORY:           return "E_OUTOFMEMORY";
    case E_INVALIDARG:            return "E_INVALIDARG";
    case E_POINTER:               return "E_POINTER";
    case E_NOINTERFACE:           return "E_NOINTERFACE";
    case E_UNEXPECTED:            return "E_UNEXPECTED";
    case HOST_E_INVALIDOPERATION: return "HOST_E_INVALIDOPERATION";
    default:                      return NULL;
    }
}

/* One line per call: number, call, HRESULT, and what the CLR makes of it. */
static void step(const char *call, HRESULT hr, HRESULT expected, const char *meaning)
{
    const char *name = hresult_name(hr);
    char code[32];

    if (!name) {
        snprintf(code, sizeof(code), "0x%08lX", (unsigned long)hr);
        name = code;
    }
    printf("%3d  %-72s %-24s %s%s\n", ++step_number, call, name, meaning,
           hr == expected ? "" : "   <-- NOT WHAT THE CLR NEEDS");
    if (hr != expected)
        mismatches++;
}

static void section(const char *title)
{
    printf("\n%s\n", title);
}

/* The CLR's static notification callback: AddRef/Release return 1 (CONTRACT.md §1). */
static HRESULT WINAPI callback_QueryInterface(ICLRMemoryNotificationCallback *iface, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ICLRMemoryNotificationCallback)) {
        *ppv = iface;
        return S_OK;
    }
    return E_NOINTERFACE;
}
static ULONG WINAPI callback_AddRef(ICLRMemoryNotificationCallback *iface) { (void)iface; return 1; }
static ULONG WINAPI callback_Release(ICLRMemoryNotificationCallback *iface) { (void)iface; return 1; }
static HRESULT WINAPI callback_OnMemoryNotification(ICLRMemoryNotificationCallback *iface, EMemoryAvailable level)
{
    (void)iface;
    printf("       OnMemoryNotification(%d)\n", (int)level);
    return S_OK;
}
static ICLRMemoryNotificationCallbackVtbl callback_vtbl = {
    callback_QueryInterface, callback_AddRef, callback_Release, callback_OnMemoryNotification,
};
static ICLRMemoryNotificationCallback clr_callback = { &callback_vtbl };

static void WINAPI on_escalation(void *context, const HOSTMEM_ESCALATION *info)
{
    (void)context;
    printf("       escalation callback: %s of %llu bytes at level %d failed (Win32 error %lu); "
           "the CLR is finished in this process\n",
           info->method, (unsigned long long)info->bytes, (int)info->level, (unsigned long)info->osError);
}

static BOOL WINAPI print_block(void *context, const HOSTMEM_BLOCK_INFO *block)
{
    (*(int *)context)++;
    printf("       outstanding: %llu bytes at %p from %s:%d\n", (unsigned long long)block->size, block->address,
           block->file ? block->file : "(Alloc)", block->line);
    return TRUE;
}

int main(void)
{
    HOSTMEM_CONFIG config;
    IHostControl *control = NULL;
    IHostMemoryManager *manager = NULL;
    IHostMalloc *malloc = NULL;
    void *reservation = NULL, *page = NULL, *block = NULL, *debug_block = NULL, *huge = NULL, *raw;
    MEMORY_BASIC_INFORMATION info;
    SIZE_T written = 0;
    HRESULT hr;
    size_t i;
    int leaks = 0;
    static const char *const level_names[] = { "eTaskCritical", "eAppDomainCritical", "eProcessCritical" };
    static const char *const level_meanings[] = {
        "the CLR aborts the task (ThreadAbortException)",
        "the CLR may unload the domain",
        "escalated: the CLR is finished",
    };

    setvbuf(stdout, NULL, _IONBF, 0);
    printf("hostmem-replay %s: the CLR's side of SetHostControl, played against hostmem.dll\n",
           HOSTMEM_VERSION_STRING);

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.escalationCallback = on_escalation;

    section("The host");
    hr = HostMemCreateHostControl(&config, &control);
    step("HostMemCreateHostControl(&config, &control)", hr, S_OK, "handed to SetHostControl");
    if (FAILED(hr))
        return 1;

    section("ICLRRuntimeHost::SetHostControl (the CLR, on the host's thread)");
    hr = IHostControl_GetHostManager(control, &IID_IHostMemoryManager, (void **)&manager);
    step("IHostControl::GetHostManager(IID_IHostMemoryManager)", hr, S_OK,
         manager ? "accepted: S_OK and a manager" : "refused");
    if (hr != S_OK || !manager)
        return 1;
    hr = IHostMemoryManager_CreateMalloc(manager, MALLOC_THREADSAFE, &malloc);
    step("IHostMemoryManager::CreateMalloc(MALLOC_THREADSAFE)", hr, S_OK, "else SetHostControl fails");
    if (hr != S_OK)
        return 1;
    hr = IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &clr_callback);
    step("IHostMemoryManager::RegisterMemoryNotificationCallback(&cb)", hr, S_OK, "result ignored");
    for (i = 0; i < CLR_OTHER_MANAGER_COUNT; i++) {
        char call[96];
        void *other = (void *)1;

        snprintf(call, sizeof(call), "IHostControl::GetHostManager(IID_%s)", clr_other_managers[i].name);
        hr = IHostControl_GetHostManager(control, &clr_other_managers[i].iid, &other);
        step(call, hr, E_NOINTERFACE, other ? "out pointer NOT cleared" : "the CLR keeps its own");
        if (other)
            mismatches++;
    }

    section("Start-up: the runtime has not started, so every request is eProcessCritical");
    hr = IHostMemoryManager_VirtualAlloc(manager, NULL, 1 << 20, MEM_RESERVE, PAGE_NOACCESS, eProcessCritical,
                                         &reservation);
    step("VirtualAlloc(NULL, 1 MiB, MEM_RESERVE, PAGE_NOACCESS)", hr, S_OK, "a loader heap reserved");
    hr = IHostMemoryManager_VirtualAlloc(manager, reservation, 4096, MEM_COMMIT, PAGE_READWRITE, eProcessCritical,
                                         &page);
    step("VirtualAlloc(base, 4 KiB, MEM_COMMIT, PAGE_READWRITE)", hr, S_OK, "its first page committed");
    if (page)
        memset(page, 0xA5, 4096);
    hr = IHostMalloc_Alloc(malloc, 256, eProcessCritical, &block);
    step("IHostMalloc::Alloc(256)", hr, S_OK, "EEHeapAlloc");
    hr = IHostMalloc_DebugAlloc(malloc, 64, eProcessCritical, (char *)__FILE__, __LINE__, &debug_block);
    step("IHostMalloc::DebugAlloc(64, __FILE__, __LINE__)", hr, S_OK, "remembered for the leak report");
    hr = IHostMemoryManager_VirtualQuery(manager, (void *)main, &info, sizeof(info), &written);
    step("VirtualQuery(a page of the CLR's own image)", hr, S_OK, "passed through to the OS");

    section("Running: the CLR asks for 64 GiB at each critical level (the OS has not got it)");
    for (i = 0; i < 3; i++) {
        char call[96];

        snprintf(call, sizeof(call), "VirtualAlloc(NULL, 64 GiB, MEM_RESERVE|MEM_COMMIT, %s)", level_names[i]);
        hr = IHostMemoryManager_VirtualAlloc(manager, NULL, (SIZE_T)64 << 30, MEM_RESERVE | MEM_COMMIT,
                                             PAGE_READWRITE, (EMemoryCriticalLevel)i, &huge);
        step(call, hr, i == eProcessCritical ? E_FAIL : E_OUTOFMEMORY, level_meanings[i]);
    }

    section("Mistakes hostmem refuses without harm");
    raw = VirtualAlloc(NULL, 65536, MEM_RESERVE, PAGE_NOACCESS);
    hr = IHostMemoryManager_VirtualFree(manager, raw, 0, MEM_RELEASE);
    step("VirtualFree(memory from kernel32, not from hostmem)", hr, HOST_E_INVALIDOPERATION, "nothing freed");
    VirtualFree(raw, 0, MEM_RELEASE);
    hr = IHostMalloc_Free(malloc, &written);
    step("IHostMalloc::Free(a stack address)", hr, HOST_E_INVALIDOPERATION, "nothing freed, no crash");
    hr = IHostMalloc_Free(malloc, NULL);
    step("IHostMalloc::Free(NULL)", hr, S_OK, "EEHeapFree(NULL) is routine");

    section("Shutting down");
    hr = IHostMalloc_Free(malloc, block);
    step("IHostMalloc::Free(the 256-byte block)", hr, S_OK, "");
    hr = IHostMemoryManager_VirtualFree(manager, page, 4096, MEM_DECOMMIT);
    step("VirtualFree(page, 4 KiB, MEM_DECOMMIT)", hr, S_OK, "");
    hr = IHostMemoryManager_VirtualFree(manager, reservation, 0, MEM_RELEASE);
    step("VirtualFree(base, 0, MEM_RELEASE)", hr, S_OK, "");
    hr = HostMemEnumMallocBlocks((IUnknown *)control, print_block, &leaks);
    step("HostMemEnumMallocBlocks(control): the leak report", hr, S_OK, "the DebugAlloc block is still out");
    if (leaks != 1)
        mismatches++;
    hr = IHostMalloc_Free(malloc, debug_block);
    step("IHostMalloc::Free(the DebugAlloc block)", hr, S_OK, "");

    IHostMalloc_Release(malloc);
    IHostMemoryManager_Release(manager);
    IHostControl_Release(control);

    printf("\n%s: %d call%s, %d not as the CLR needs\n", mismatches ? "FAILED" : "OK", step_number,
           step_number == 1 ? "" : "s", mismatches);
    return mismatches ? 1 : 0;
}
