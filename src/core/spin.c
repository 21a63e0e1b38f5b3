/*
 * The slow path of hm_spin (spin.h) and the one platform call it needs. The yield is
 * declared here rather than through windows.h so that the core stays portable: on
 * Windows SwitchToThread (Wine: sched_yield, no wineserver round trip), elsewhere
 * sched_yield.
 */
#include "spin.h"

#ifdef _WIN32
__declspec(dllimport) int __stdcall SwitchToThread(void);
#else
#include <sched.h>
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

/* Both locks wait the same way: bounded reads of the held flag, then a yield. */
#define SPIN_UNTIL_TAKEN(held)                                                                  \
    for (;;) {                                                                                  \
        int i;                                                                                  \
                                                                                                \
        for (i = 0; i < HM_SPIN_READS; i++) {                                                   \
            if (!atomic_load_explicit(&(held), memory_order_relaxed) &&                         \
                !atomic_exchange_explicit(&(held), 1, memory_order_acquire))                    \
                return;                                                                         \
            cpu_relax();                                                                        \
        }                                                                                       \
        hm_spin_yield();                                                                        \
    }

void hm_spin_acquire_contended(hm_spin *lock)
{
    SPIN_UNTIL_TAKEN(lock->held)
}

void hm_spin_byte_acquire_contended(hm_spin_byte *lock)
{
    SPIN_UNTIL_TAKEN(lock->held)
}
