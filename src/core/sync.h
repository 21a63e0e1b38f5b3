/*
 * The locks the portable core uses; hm_lock_init/acquire/release/destroy take either.
 * Natively both are pthread mutexes, so the core also builds on Linux for sanitizers
 * and fuzzers. On Windows neither allocates nor fails (Vista on), which matters inside
 * a memory manager:
 *
 * hm_lock, a CRITICAL_SECTION without debug info: the default, cheapest to take
 *   (every IHostMalloc Alloc and Free takes one). Uncontended it costs what an SRW
 *   lock costs on Windows, two interlocked instructions; under Wine 8 an acquire and
 *   release cost 4 ns against 23 ns for an SRW lock (BENCHMARKS.md).
 * hm_small_lock, an SRWLOCK, for the locks that exist by the thousand (one per
 *   reservation): 8 bytes instead of 40, nothing to destroy (Wine 8's
 *   DeleteCriticalSection asks the wineserver and takes 30 us), and each is taken
 *   around an OS call that costs microseconds anyway.
 *
 * Locks are not routed through the OS table: they cannot fail, so there is nothing
 * for a fault-injection test to make go wrong.
 */
#ifndef HOSTMEM_SYNC_H
#define HOSTMEM_SYNC_H

#ifdef _WIN32
#include <windows.h>
typedef CRITICAL_SECTION hm_lock;
typedef SRWLOCK hm_small_lock;

static inline void hm_cs_init(hm_lock *lock)            { InitializeCriticalSectionEx(lock, 0, CRITICAL_SECTION_NO_DEBUG_INFO); }
static inline void hm_cs_destroy(hm_lock *lock)         { DeleteCriticalSection(lock); }
static inline void hm_cs_acquire(hm_lock *lock)         { EnterCriticalSection(lock); }
static inline void hm_cs_release(hm_lock *lock)         { LeaveCriticalSection(lock); }
static inline int  hm_cs_try_acquire(hm_lock *lock)     { return TryEnterCriticalSection(lock) != 0; }
static inline void hm_srw_init(hm_small_lock *lock)     { InitializeSRWLock(lock); }
static inline void hm_srw_destroy(hm_small_lock *lock)  { (void)lock; }
static inline void hm_srw_acquire(hm_small_lock *lock)  { AcquireSRWLockExclusive(lock); }
static inline void hm_srw_release(hm_small_lock *lock)  { ReleaseSRWLockExclusive(lock); }
static inline int  hm_srw_try_acquire(hm_small_lock *lock) { return TryAcquireSRWLockExclusive(lock) != 0; }

#define HM_LOCK_CALL(lock, cs, srw) _Generic((lock), hm_small_lock *: (srw), default: (cs))(lock)
#define hm_lock_init(lock)    HM_LOCK_CALL(lock, hm_cs_init, hm_srw_init)
#define hm_lock_destroy(lock) HM_LOCK_CALL(lock, hm_cs_destroy, hm_srw_destroy)
#define hm_lock_acquire(lock) HM_LOCK_CALL(lock, hm_cs_acquire, hm_srw_acquire)
#define hm_lock_release(lock) HM_LOCK_CALL(lock, hm_cs_release, hm_srw_release)
/* Nonzero when the lock was free and is now held. */
#define hm_lock_try_acquire(lock) HM_LOCK_CALL(lock, hm_cs_try_acquire, hm_srw_try_acquire)
#else
#include <pthread.h>
typedef pthread_mutex_t hm_lock;
typedef pthread_mutex_t hm_small_lock;
static inline void hm_lock_init(hm_lock *lock)    { pthread_mutex_init(lock, NULL); }
static inline void hm_lock_destroy(hm_lock *lock) { pthread_mutex_destroy(lock); }
static inline void hm_lock_acquire(hm_lock *lock) { pthread_mutex_lock(lock); }
static inline void hm_lock_release(hm_lock *lock) { pthread_mutex_unlock(lock); }
static inline int  hm_lock_try_acquire(hm_lock *lock) { return pthread_mutex_trylock(lock) == 0; }
#endif

#endif /* HOSTMEM_SYNC_H */
