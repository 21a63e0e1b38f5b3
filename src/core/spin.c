/*
 * The slow path of hm_spin (spin.h) and the one platform call it needs. The yield is
 * declared here rather than through windows.h so that the core stays portable: on
 * Windows SwitchToThread (Wine: sched_yield, no wineserver round trip), elsewhere
 * sched_yield.
 */
#include "spin.h"

#include "heap.h"

#ifdef _WIN32
__declspec(dllimport) int __stdcall SwitchToThread(void);
__declspec(dllimport) unsigned long __stdcall FlsAlloc(void(__stdcall *callback)(void *));
__declspec(dllimport) int __stdcall FlsSetValue(unsigned long index, void *value);
__declspec(dllimport) int __stdcall FlsFree(unsigned long index);

#define FLS_OUT_OF_INDEXES_ 0xFFFFFFFFul

static atomic_ulong watch_slot; /* FlsAlloc's index + 1; 0: none yet */

/* The callback's type is the OS's: value cannot be const. */
static void __stdcall thread_exiting(void *value) /* cppcheck-suppress constParameter */
{
    if (value)
        hm_heap_thread_exit();
}

bool hm_thread_watch(void)
{
    unsigned long slot = atomic_load_explicit(&watch_slot, memory_order_acquire);

    if (!slot) {
        unsigned long index = FlsAlloc(thread_exiting), none = 0;

        if (index == FLS_OUT_OF_INDEXES_)
            return false;
        if (!atomic_compare_exchange_strong(&watch_slot, &none, index + 1))
            FlsFree(index);
        slot = atomic_load_explicit(&watch_slot, memory_order_acquire);
    }
    return FlsSetValue(slot - 1, (void *)1) != 0;
}

void hm_thread_watch_end(void)
{
    unsigned long slot = atomic_exchange(&watch_slot, 0);

    if (slot)
        FlsFree(slot - 1);
}
#if !((defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__))
__declspec(dllimport) unsigned long __stdcall GetCurrentThreadId(void);

unsigned hm_thread_number(void)
{
    return (unsigned)(GetCurrentThreadId() >> 2);
}
#endif
#else
#include <pthread.h>
#include <sched.h>

static pthread_once_t watch_once = PTHREAD_ONCE_INIT;
static pthread_key_t  watch_key;
static bool           watch_ok;

/* The destructor's type is pthread's: value cannot be const. */
static void thread_exiting(void *value) /* cppcheck-suppress constParameter */
{
    if (value)
        hm_heap_thread_exit();
}

static void watch_init(void)
{
    watch_ok = pthread_key_create(&watch_key, thread_exiting) == 0;
}

bool hm_thread_watch(void)
{
    pthread_once(&watch_once, watch_init);
    return watch_ok && pthread_setspecific(watch_key, (void *)1) == 0;
}

void hm_thread_watch_end(void)
{
}

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
