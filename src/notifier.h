/*
 * Tells the CLR's memory notification callbacks the memory state, level-triggered: what
 * counts is the state, not its changes (docs/notifications.md has the rules).
 *
 * - Every callback registered stays registered and is told; one registered twice is
 *   kept once. A newly registered callback is told the current state at once unless
 *   it is High, which is what a runtime assumes when it starts.
 * - The states to tell come as decisions (pressure.h: sequence number and state); the
 *   notifier keeps only the latest, so a decision that arrives late never overtakes a
 *   newer one, and each callback is told the latest state whenever it differs from
 *   what that callback was last told.
 * - While the state is Low, each callback is told Low again every repeat_ms (0: never),
 *   for a runtime that ignored it (the CLR drops notifications until it has started).
 * - Callbacks are called outside every lock, one call at a time per notifier (so never
 *   two at once for one callback), on the notifier's thread; without one (the OS
 *   refused it) on the thread that posted, after it let go of its locks.
 * - A post takes no lock: the CLR may commit and decommit with other threads suspended.
 *
 * Without a commit limit the thread instead polls the OS's own low/high memory
 * resource notifications and makes decisions of its own from them.
 */
#ifndef HOSTMEM_NOTIFIER_H
#define HOSTMEM_NOTIFIER_H

#include "hostmem_private.h"

#include <stdatomic.h>
#include <stdint.h>

#include "sync.h"

/* Tells one callback one state. on_thread: called on the notifier's thread (else on
   a thread of the CLR's). It may release the last reference to the notifier's owner,
   which then destroys the notifier from inside this call; the notifier notices. */
typedef void (*hm_notify_fn)(void *context, ICLRMemoryNotificationCallback *callback, int state, BOOL on_thread);
/* Called on the notifier's thread at least every HM_NOTIFIER_TICK_MS (the trace's flush). */
typedef void (*hm_tick_fn)(void *context);

#define HM_NOTIFIER_CALLBACKS 16
#define HM_NOTIFIER_TICK_MS   1000

typedef struct hm_notifier_entry {
    ICLRMemoryNotificationCallback *callback;
    int       told;     /* the state it was last told (High before anything) */
    ULONGLONG told_at;  /* when, for the repeats of Low */
} hm_notifier_entry;

typedef struct hm_notifier {
    hm_lock           lock;     /* entries, count, the thread's start; never held across a call out */
    hm_notifier_entry entries[HM_NOTIFIER_CALLBACKS];
    unsigned          count;
    _Atomic(uint64_t) latest;   /* the latest decision: HM_DECISION(sequence, state) */
    _Atomic(int)      delivering, again; /* one deliverer at a time; "look again" */
    _Atomic(int)      started;  /* a thread runs; without one, deliveries run inline */
    _Atomic(int)      stop;
    HANDLE            thread;
    DWORD             thread_id;
    HANDLE            wake;     /* auto-reset */
    BOOL              forward_os;
    DWORD             poll_ms;
    DWORD             repeat_ms;
    HANDLE            os_low, os_high;
    BOOL             *alive;    /* the deliverer's flag, cleared by a destroy from inside a delivery */
    DWORD             deliverer; /* the thread that set `alive` */
    hm_notify_fn      notify;
    hm_tick_fn        tick;
    void             *context;
} hm_notifier;

void hm_notifier_init(hm_notifier *notifier, hm_notify_fn notify, hm_tick_fn tick, void *context, BOOL forward_os,
                      DWORD poll_ms, DWORD repeat_ms);
/* Registers a callback (AddRef), or with NULL lets go of every registered callback.
   Starts the thread on the first registration (under the lock, so once). S_OK;
   E_OUTOFMEMORY when HM_NOTIFIER_CALLBACKS are registered already. */
HRESULT hm_notifier_register(hm_notifier *notifier, ICLRMemoryNotificationCallback *callback);
/* A decision (HM_DECISION) to deliver; an older one than the latest is ignored. */
void hm_notifier_post(hm_notifier *notifier, uint64_t decision);
/* Without a limit: Low now (a request found no memory), until the next poll of the
   OS's signals says otherwise. */
void hm_notifier_force_low(hm_notifier *notifier);
/* The latest decision's state. */
int hm_notifier_state(const hm_notifier *notifier);
/* Stops and joins the thread (from the thread itself, from inside a delivery, only
   lets go of it), then releases every callback. */
void hm_notifier_destroy(hm_notifier *notifier);

#endif /* HOSTMEM_NOTIFIER_H */
