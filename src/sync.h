/*
 * The one lock the portable core uses. On Windows it is an SRWLOCK (no allocation, can
 * neither fail nor need destroying, which matters inside a memory manager); natively a
 * pthread mutex, so the core also builds on Linux for sanitizers and fuzzers.
 * Locks are not routed through the OS table: they cannot fail, so there is nothing
 * for a fault-injection test to make go wrong.
 */
#ifndef HOSTMEM_SYNC_H
#define HOSTMEM_SYNC_H

#ifdef _WIN32
#include <windows.h>
typedef SRWLOCK hm_lock;
static inline void hm_lock_init(hm_lock *lock)    { InitializeSRWLock(lock); }
static inline void hm_lock_destroy(hm_lock *lock) { (void)lock; }
static inline void hm_lock_acquire(hm_lock *lock) { AcquireSRWLockExclusive(lock); }
static inline void hm_lock_release(hm_lock *lock) { ReleaseSRWLockExclusive(lock); }
static inline int  hm_lock_try_acquire(hm_lock *lock) { return TryAcquireSRWLockExclusive(lock) != 0; }
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
