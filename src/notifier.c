/*
 * The notifier thread; see notifier.h.
 */
#include "notifier.h"

#include "os.h"
#include "pressure.h"

void hm_notifier_init(hm_notifier *notifier, hm_notify_fn notify, void *context, BOOL forward_os, DWORD poll_ms)
{
    ZeroMemory(notifier, sizeof(*notifier));
    hm_lock_init(&notifier->lock);
    notifier->notify = notify;
    notifier->context = context;
    notifier->forward_os = forward_os;
    notifier->poll_ms = poll_ms;
    /* The CLR starts out assuming no pressure. */
    notifier->delivered = HM_AVAILABLE_HIGH;
    notifier->os_state = HM_AVAILABLE_HIGH;
}

/* The OS's view: Low while its low-memory signal is set, High while its high one is. */
static int os_memory_state(hm_notifier *notifier)
{
    BOOL set = FALSE;

    if (notifier->os_low && hm_os.QueryMemoryResourceNotification(notifier->os_low, &set) && set)
        return HM_AVAILABLE_LOW;
    set = FALSE;
    if (notifier->os_high && hm_os.QueryMemoryResourceNotification(notifier->os_high, &set) && set)
        return HM_AVAILABLE_HIGH;
    return HM_AVAILABLE_NEUTRAL;
}

/* Under the lock. A full queue keeps the newest state in its last slot. */
static void enqueue(hm_notifier *notifier, int state)
{
    if (notifier->count == HM_NOTIFIER_QUEUE) {
        notifier->queue[(notifier->head + notifier->count - 1) % HM_NOTIFIER_QUEUE] = state;
        return;
    }
    notifier->queue[(notifier->head + notifier->count) % HM_NOTIFIER_QUEUE] = state;
    notifier->count++;
}

static DWORD WINAPI notifier_thread(void *parameter)
{
    hm_notifier *notifier = parameter;

    for (;;) {
        int batch[HM_NOTIFIER_QUEUE];
        unsigned n = 0, i;

        hm_os.WaitForSingleObject(notifier->wake, notifier->forward_os ? notifier->poll_ms : INFINITE);
        hm_lock_acquire(&notifier->lock);
        if (notifier->stop) {
            hm_lock_release(&notifier->lock);
            return 0;
        }
        if (notifier->forward_os) {
            int state = os_memory_state(notifier);
            if (state != notifier->os_state) {
                notifier->os_state = state;
                enqueue(notifier, state);
            }
        }
        while (notifier->count) {
            batch[n++] = notifier->queue[notifier->head];
            notifier->head = (notifier->head + 1) % HM_NOTIFIER_QUEUE;
            notifier->count--;
        }
        hm_lock_release(&notifier->lock);

        for (i = 0; i < n; i++) {
            BOOL alive = TRUE;

            if (batch[i] == notifier->delivered)
                continue;
            notifier->delivered = batch[i];
            notifier->alive = &alive;
            notifier->notify(notifier->context, batch[i]);
            if (!alive)
                return 0; /* the owner, and this notifier with it, is gone */
            notifier->alive = NULL;
        }
    }
}

BOOL hm_notifier_start(hm_notifier *notifier)
{
    BOOL started;

    hm_lock_acquire(&notifier->lock);
    started = notifier->started;
    hm_lock_release(&notifier->lock);
    if (started)
        return TRUE;

    if (notifier->forward_os && !notifier->os_low) {
        notifier->os_low = hm_os.CreateMemoryResourceNotification(LowMemoryResourceNotification);
        notifier->os_high = hm_os.CreateMemoryResourceNotification(HighMemoryResourceNotification);
    }
    if (!notifier->wake && !(notifier->wake = hm_os.CreateEventW(NULL, FALSE, FALSE, NULL)))
        return FALSE;
    notifier->thread = hm_os.CreateThread(NULL, (SIZE_T)64 * 1024, notifier_thread, notifier,
                                          STACK_SIZE_PARAM_IS_A_RESERVATION, &notifier->thread_id);
    if (!notifier->thread)
        return FALSE;
    hm_lock_acquire(&notifier->lock);
    notifier->started = TRUE;
    hm_lock_release(&notifier->lock);
    return TRUE;
}

void hm_notifier_post(hm_notifier *notifier, int state)
{
    BOOL started, deliver_here = FALSE;

    if (state == HM_AVAILABLE_NONE)
        return;
    hm_lock_acquire(&notifier->lock);
    started = notifier->started;
    if (started) {
        enqueue(notifier, state);
    } else if (state != notifier->delivered) {
        /* No thread (none was needed yet, or the OS refused one): deliver here, where
           the caller holds no lock. */
        notifier->delivered = state;
        deliver_here = TRUE;
    }
    hm_lock_release(&notifier->lock);
    if (started)
        hm_os.SetEvent(notifier->wake);
    else if (deliver_here)
        notifier->notify(notifier->context, state);
}

void hm_notifier_force_low(hm_notifier *notifier)
{
    hm_lock_acquire(&notifier->lock);
    if (notifier->forward_os)
        notifier->os_state = HM_AVAILABLE_LOW;
    hm_lock_release(&notifier->lock);
    hm_notifier_post(notifier, HM_AVAILABLE_LOW);
}

void hm_notifier_destroy(hm_notifier *notifier)
{
    if (notifier->thread) {
        if (GetCurrentThreadId() == notifier->thread_id) {
            /* We are inside one of the thread's deliveries; it ends on return. */
            if (notifier->alive)
                *notifier->alive = FALSE;
            hm_os.CloseHandle(notifier->thread);
        } else {
            hm_lock_acquire(&notifier->lock);
            notifier->stop = TRUE;
            hm_lock_release(&notifier->lock);
            /* The owner's memory goes once this returns, so the thread must have ended:
               a wake-up or a wait the OS refuses is made again, not trusted. */
            while (!hm_os.SetEvent(notifier->wake) ||
                   hm_os.WaitForSingleObject(notifier->thread, INFINITE) != WAIT_OBJECT_0)
                hm_os.Sleep(1);
            hm_os.CloseHandle(notifier->thread);
        }
    }
    if (notifier->wake)
        hm_os.CloseHandle(notifier->wake);
    if (notifier->os_low)
        hm_os.CloseHandle(notifier->os_low);
    if (notifier->os_high)
        hm_os.CloseHandle(notifier->os_high);
    hm_lock_destroy(&notifier->lock);
}
