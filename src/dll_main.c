/*
 * The DLL's entry point, for one thing only: a process that ends without releasing
 * its controls (hostmem-host never does; a host that exits from its escalation
 * callback cannot) still gets every buffered trace row into its file.
 *
 * DllMain runs under the loader lock, at process exit after every other thread was
 * killed wherever it stood: it only writes out what the traces buffered
 * (hm_trace_detach: WriteFile, no allocation, no join, no lock waited for). When the
 * DLL is unloaded (FreeLibrary), it also frees the fiber-local slot whose callback
 * hands an exiting thread's heap arenas on (hm_thread_watch_end).
 */
#include <windows.h>

#include "core/thread.h"
#include "trace.h"

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, void *reserved)
{
    (void)instance;
    if (reason == DLL_PROCESS_DETACH) {
        hm_trace_detach(reserved != NULL);
        /* FreeLibrary: the heap's thread-exit callback (core/spin.c) must not outlive
           the code it points to. At process exit nothing runs after this. */
        if (!reserved)
            hm_thread_watch_end();
    }
    return TRUE;
}
