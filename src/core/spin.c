/*
 * The slow path of hm_spin (spin.h) and the one platform call it needs. The yield is
 * declared here rather than through windows.h so that the core stays portable: on
 * Windows SwitchToThread (Wine: sched_yield, no wineserver round trip), elsewhere
 * sched_yield.
 */
#include "spin.h"

#ifdef _WIN32
__declspec(dllimport) int __stdcall SwitchToThread(void);
#if !((defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__))
__declspec(dllimport) unsigned long __stdcall GetCurrentThreadId(void);

unsigned hm_thread_number(void)
{
    return (unsigned)(GetCurrentThreadId() >> 2);
}
#endif
#else
#include <sched.h>

_Thread_local unsigned hm_thread_slot;

/* Numbers from 1, in the order threads first ask. */
unsigned hm_thread_number_draw(void)
{
    static atomic_uint next;
    unsigned n = atomic_fetch_add_explicit(&next, 1, memory_order_relaxed) + 1;

    if (!n)
        n = atomic_fetch_add_explicit(&next, 1, memory_order_relaxed) + 1;
    hm_thread_slot = n;
    return n;
}
#endif

void hm_spin_yield(void)
{
#ifdef _WIN32
    SwitchToThread();
#else
    sched_yield();
#endif
}

static inline void cpu_relax(void)
{
#if defined(__i386__) || defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

void hm_spin_acquire_contended(hm_spin *lock)
{
    for (;;) {
        int i;

        for (i = 0; i < HM_SPIN_READS; i++) {
            if (!atomic_load_explicit(&lock->held, memory_order_relaxed) &&
                !atomic_exchange_explicit(&lock->held, 1, memory_order_acquire))
                return;
            cpu_relax();
        }
        hm_spin_yield();
    }
}
