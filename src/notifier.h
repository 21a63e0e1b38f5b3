/*
 * Delivers memory notifications to the CLR on a thread of their own, in order, one per
 * change of state, outside every hostmem lock: an allocating thread only queues the new
 * state and wakes the notifier, so the CLR's callback (which may call back into
 * hostmem) never runs on, or blocks, a thread that is allocating.
 *
 * Without a commit limit the notifier instead polls the OS's own low/high memory
 * resource notifications and forwards their changes.
 */
#ifndef HOSTMEM_NOTIFIER_H
#define HOSTMEM_NOTIFIER_H

#include <windows.h>

#include "sync.h"

/* Called on the notifier thread (or inline, see hm_notifier_post) with a state to
   deliver. It may release the last reference to the notifier's owner, which then
   destroys the notifier from inside this call; the thread notices and ends. */
typedef void (*hm_notify_fn)(void *context, int state);

#define HM_NOTIFIER_QUEUE 16

typedef struct hm_notifier {
    hm_lock      lock;       /* queue, stop */
    int          queue[HM_NOTIFIER_QUEUE];
    unsigned     head, count;
    BOOL         stop;
    BOOL         started;    /* a thread runs; without one, posts are delivered inline */
    HANDLE       thread;
    DWORD        thread_id;
    HANDLE       wake;       /* auto-reset */
    BOOL         forward_os;
    DWORD        poll_ms;
    HANDLE       os_low, os_high;
    int          os_state;   /* notifier thread only */
    int          delivered;  /* notifier thread only */
    BOOL        *alive;      /* the thread's flag, cleared by a destroy from inside a delivery */
    hm_notify_fn notify;
    void        *context;
} hm_notifier;

void hm_notifier_init(hm_notifier *notifier, hm_notify_fn notify, void *context, BOOL forward_os, DWORD poll_ms);
/* Starts the thread once; FALSE if the OS would not (posts are then delivered inline). */
BOOL hm_notifier_start(hm_notifier *notifier);
/* Queues a state (EMemoryAvailable) for delivery. */
void hm_notifier_post(hm_notifier *notifier, int state);
/* Queues Low now (a request found no memory); when forwarding the OS's signals, the
   next poll that finds memory no longer low tells the CLR so. */
void hm_notifier_force_low(hm_notifier *notifier);
/* Stops and joins the thread; from the thread itself (its delivery released the
   owner) it only lets go of the thread. */
void hm_notifier_destroy(hm_notifier *notifier);

#endif /* HOSTMEM_NOTIFIER_H */
