/*
 * thread.h's exit watch on Windows: a fiber-local slot whose callback runs when a
 * thread that used a heap exits (FLS callbacks run at thread exit, also in a program
 * that links hostmem statically), so that the arenas it owns are handed on
 * (hm_heap_thread_exit). In the DLL rather than the portable core because its calls
 * go through the OS table: a test can make FlsAlloc fail, and then threads simply own
 * no arena.
 */
#include "os.h"

#include "core/heap.h"
#include "core/thread.h"

static LONG watch_slot; /* FlsAlloc's index + 1; 0: none yet */

/* The callback's type is the OS's: value cannot be const. */
static void WINAPI thread_exiting(void *value) /* cppcheck-suppress constParameter */
{
    if (value)
        hm_heap_thread_exit();
}

bool hm_thread_watch(void)
{
    LONG slot = InterlockedCompareExchange(&watch_slot, 0, 0);

    if (!slot) {
        DWORD index = hm_os.FlsAlloc(thread_exiting);

        if (index == FLS_OUT_OF_INDEXES)
            return false;
        if (InterlockedCompareExchange(&watch_slot, (LONG)index + 1, 0) != 0)
            hm_os.FlsFree(index); /* another thread was first */
        slot = InterlockedCompareExchange(&watch_slot, 0, 0);
    }
    return hm_os.FlsSetValue((DWORD)slot - 1, (void *)1) != FALSE;
}

void hm_thread_watch_end(void)
{
    LONG slot = InterlockedExchange(&watch_slot, 0);

    if (slot)
        hm_os.FlsFree((DWORD)slot - 1);
}

#if !((defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__))
unsigned hm_thread_number(void)
{
    return (unsigned)(hm_os.GetCurrentThreadId() >> 2);
}
#endif
