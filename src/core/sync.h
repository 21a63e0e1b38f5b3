/*
 * hm_lock: the lock of the manager's lists (mallocs, views, heap mappings), the
 * notifier's state and the trace's buffer. Natively a pthread mutex, so the core
 * also builds on Linux for sanitizers and fuzzers; on Windows a
 * CRITICAL_SECTION without debug info, which neither allocates nor fails (Vista on),
 * as a lock inside a memory manager must not. Under Wine 8 an uncontended enter and
 * leave cost about a third of an SRW lock's acquire and release (BENCHMARKS.md,
 * `--costs`: 11.8 against 36.7 ns).
 *
 * The hot paths take none: the heap's size classes and the ledger and its records
 * use spin.h's locks of one exchange, which never sleep and so cannot convoy.
 *
 * Locks are not routed through the OS table: they cannot fail, so there is nothing
 * for a fault-injection test to make go wrong.
 */
#ifndef HOSTMEM_SYNC_H
#define HOSTMEM_SYNC_H

#ifdef _WIN32
#include <windows.h>
typedef CRITICAL_SECTION hm_lock;

static inline void hm_lock_init(hm_lock *lock)        { InitializeCriticalSectionEx(lock, 0, CRITICAL_SECTION_NO_DEBUG_INFO); }
static inline void hm_lock_destroy(hm_lock *lock)     { DeleteCriticalSection(lock); }
static inline void hm_lock_acquire(hm_lock *lock)     { EnterCriticalSection(lock); }
static inline void hm_lock_release(hm_lock *lock)     { LeaveCriticalSection(lock); }
/* Nonzero when the lock was free and is now held. */
static inline int  hm_lock_try_acquire(hm_lock *lock) { return TryEnterCriticalSection(lock) != 0; }
#else
#include <pthread.h>
typedef pthread_mutex_t hm_lock;
static inline void hm_lock_init(hm_lock *lock)    { pthread_mutex_init(lock, NULL); }
static inline void hm_lock_destroy(hm_lock *lock) { pthread_mutex_destroy(lock); }
static inline void hm_lock_acquire(hm_lock *lock) { pthread_mutex_lock(lock); }
static inline void hm_lock_release(hm_lock *lock) { pthread_mutex_unlock(lock); }
static inline int  hm_lock_try_acquire(hm_lock *lock) { return pthread_mutex_trylock(lock) == 0; }
#endif

#endif /* HOSTMEM_SYNC_H */
