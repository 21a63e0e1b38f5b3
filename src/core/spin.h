/*
 * A lock of one atomic instruction for the heap's size classes (heap.c).
 *
 * Why not a CRITICAL_SECTION or an SRW lock: a lock that puts its waiters to sleep and
 * hands itself on in order collapses under Wine's scheduler when eight threads share
 * two cores (measured: 0.04 million Alloc+Free pairs per second on a spin-0 critical
 * section, a convoy). This lock is taken with one exchange; a waiter spins a bounded
 * number of times on a plain read (so the line stays shared while it waits), then
 * yields its time slice and tries again. It never sleeps in the kernel and never
 * queues, so a preempted holder only costs the waiters a yield, and the next thread to
 * run takes the lock: no convoy can form. Critical sections under it are a few dozen
 * instructions and never call out (no OS call, no allocation, no callback).
 *
 * Portable C11 (no windows.h): the yield is hm_spin_yield() in spin.c.
 */
#ifndef HOSTMEM_SPIN_H
#define HOSTMEM_SPIN_H

#include <stdatomic.h>
#include <stdbool.h>

typedef struct hm_spin {
    atomic_int held;
} hm_spin;

/* Spins this many reads before each yield: long enough to outlast a holder that is
   running (its section is well under 100 ns), short enough to give a preempted one
   its core back quickly. */
#define HM_SPIN_READS 128

void hm_spin_yield(void);
void hm_spin_acquire_contended(hm_spin *lock);

/* A small number for the calling thread, for picking its arena (heap_internal.h):
   threads created one after another get consecutive numbers, so up to
   HM_HEAP_ARENAS of them never share one. On Windows the thread id, read straight
   from the TEB (Windows and Wine hand out ids in steps of 4, mostly consecutive);
   elsewhere a number each thread draws once from a counter (spin.c). Unique among the
   threads alive at once: a heap's arena is owned by a number (heap.c claims it,
   heap_arena.c hands it on). */
#if defined(_WIN32) && (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
static inline unsigned hm_thread_number(void)
{
    unsigned long id;
#if defined(__x86_64__)
    __asm__("movl %%gs:0x48, %k0" : "=r"(id)); /* TEB.ClientId.UniqueThread */
#else
    __asm__("movl %%fs:0x24, %0" : "=r"(id));
#endif
    return (unsigned)(id >> 2);
}
#elif defined(_WIN32)
unsigned hm_thread_number(void); /* spin.c: GetCurrentThreadId() >> 2 */
#else
extern _Thread_local unsigned hm_thread_slot; /* spin.c; 0 until drawn */
unsigned hm_thread_number_draw(void);
static inline unsigned hm_thread_number(void)
{
    unsigned n = hm_thread_slot;
    return n ? n : hm_thread_number_draw();
}
#endif

/* Makes sure the calling thread calls hm_heap_thread_exit() (heap.h) when it exits:
   on Windows a fiber-local slot's callback (FlsAlloc; FLS callbacks run at thread
   exit, also in a program that links the core statically), elsewhere a pthread key's
   destructor. False when that could not be set up. hm_thread_watch_end frees the slot
   (when the DLL is unloaded). */
bool hm_thread_watch(void);
void hm_thread_watch_end(void);

static inline void hm_spin_init(hm_spin *lock)
{
    atomic_init(&lock->held, 0);
}

static inline void hm_spin_acquire(hm_spin *lock)
{
    if (!atomic_exchange_explicit(&lock->held, 1, memory_order_acquire))
        return;
    hm_spin_acquire_contended(lock);
}

static inline void hm_spin_release(hm_spin *lock)
{
    atomic_store_explicit(&lock->held, 0, memory_order_release);
}

/* The same lock in one byte, for records that exist by the thousand (the ledger's one
   per reservation), where it may also be held across an OS call: a waiter then spins
   its bounded reads and yields until the holder is back. */
typedef struct hm_spin_byte {
    _Atomic(unsigned char) held;
} hm_spin_byte;

void hm_spin_byte_acquire_contended(hm_spin_byte *lock);

static inline void hm_spin_byte_init(hm_spin_byte *lock)
{
    atomic_init(&lock->held, 0);
}

static inline void hm_spin_byte_acquire(hm_spin_byte *lock)
{
    if (!atomic_exchange_explicit(&lock->held, 1, memory_order_acquire))
        return;
    hm_spin_byte_acquire_contended(lock);
}

/* Takes the lock only if it is free now; never waits. */
static inline bool hm_spin_byte_try_acquire(hm_spin_byte *lock)
{
    return !atomic_load_explicit(&lock->held, memory_order_relaxed) &&
           !atomic_exchange_explicit(&lock->held, 1, memory_order_acquire);
}

static inline void hm_spin_byte_release(hm_spin_byte *lock)
{
    atomic_store_explicit(&lock->held, 0, memory_order_release);
}

#endif /* HOSTMEM_SPIN_H */
