/*
 * The one lock the portable core uses. On Windows it is a CRITICAL_SECTION without
 * debug info: no allocation and no failure (Vista on), which matters inside a memory
 * manager. Not an SRWLOCK: uncontended, both cost two interlocked instructions on
 * Windows, but Wine's SRW release also checks for waiters to wake the slow way, and
 * an acquire/release pair costs 23 ns there against 4 ns for a critical section
 * (BENCHMARKS.md); every Alloc/Free and commit takes one or two. Natively a pthread
 * mutex, so the core also builds on Linux for sanitizers and fuzzers.
 * Locks are not routed through the OS table: they cannot fail, so there is nothing
 * for a fault-injection test to make go wrong.
 */
#ifndef HOSTMEM_SYNC_H
#define HOSTMEM_SYNC_H

#ifdef _WIN32
#include <windows.h>
typedef CRITICAL_SECTION hm_lock;
static inline void hm_lock_init(hm_lock *lock)    { InitializeCriticalSectionEx(lock, 0, CRITICAL_SECTION_NO_DEBUG_INFO); }
static inline void hm_lock_destroy(hm_lock *lock) { DeleteCriticalSection(lock); }
static inline void hm_lock_acquire(hm_lock *lock) { EnterCriticalSection(lock); }
static inline void hm_lock_release(hm_lock *lock) { LeaveCriticalSection(lock); }
#else
#include <pthread.h>
typedef pthread_mutex_t hm_lock;
static inline void hm_lock_init(hm_lock *lock)    { pthread_mutex_init(lock, NULL); }
static inline void hm_lock_destroy(hm_lock *lock) { pthread_mutex_destroy(lock); }
static inline void hm_lock_acquire(hm_lock *lock) { pthread_mutex_lock(lock); }
static inline void hm_lock_release(hm_lock *lock) { pthread_mutex_unlock(lock); }
#endif

#endif /* HOSTMEM_SYNC_H */
