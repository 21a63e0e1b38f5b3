/*
 * The notifier; see notifier.h.
 *
 * One deliverer at a time: whoever wants a delivery round first raises `again`, then
 * tries to become the deliverer; the deliverer runs rounds until nobody raised `again`
 * during its last one. A round reads the latest decision, picks (under the lock) the
 * callbacks that must be told it and marks them told, and calls them after letting
 * go of the lock. Every atomic here is sequentially consistent: a request raised just
 * as the deliverer stops is seen by it or makes its poster the next deliverer.
 */
#include "notifier.h"

#include "os.h"
#include "pressure.h"

void hm_notifier_init(hm_notifier *notifier, hm_notify_fn notify, hm_tick_fn tick, void *context, BOOL forward_os,
                      DWORD poll_ms, DWORD repeat_ms)
{
    ZeroMemory(notifier, sizeof(*notifier));
    hm_lock_init(&notifier->lock);
    notifier->notify = notify;
    notifier->tick = tick;
    notifier->context = context;
    notifier->forward_os = forward_os;
    notifier->poll_ms = poll_ms;
    notifier->repeat_ms = repeat_ms;
    /* The CLR starts out assuming no pressure. */
    atomic_init(&notifier->latest, HM_DECISION(0, HM_AVAILABLE_HIGH));
}

int hm_notifier_state(const hm_notifier *notifier)
{
    return HM_DECISION_STATE(atomic_load(&((hm_notifier *)notifier)->latest));
}

/* Keeps the decision with the highest sequence number. */
static void publish(hm_notifier *notifier, uint64_t decision)
{
    uint64_t latest = atomic_load(&notifier->latest);

    while (HM_DECISION_SEQUENCE(decision) > HM_DECISION_SEQUENCE(latest) &&
           !atomic_compare_exchange_weak(&notifier->latest, &latest, decision))
        ;
}

/* A new state decided by the notifier itself (no limit): the next sequence number. */
static void publish_state(hm_notifier *notifier, int state)
{
    uint64_t latest = atomic_load(&notifier->latest);

    while (HM_DECISION_STATE(latest) != state &&
           !atomic_compare_exchange_weak(&notifier->latest, &latest,
                                         HM_DECISION(HM_DECISION_SEQUENCE(latest) + 1, state)))
        ;
}

/* One round. FALSE when the notifier was destroyed from inside a delivery. *due_ms:
   how soon a repeat of Low falls due (INFINITE: none). */
static BOOL deliver_round(hm_notifier *notifier, BOOL on_thread, DWORD *due_ms)
{
    ICLRMemoryNotificationCallback *batch[HM_NOTIFIER_CALLBACKS];
    int state = HM_DECISION_STATE(atomic_load(&notifier->latest));
    BOOL repeats = state == HM_AVAILABLE_LOW && notifier->repeat_ms;
    ULONGLONG now = repeats ? hm_os.GetTickCount64() : 0;
    unsigned i, n = 0;

    /* Inline, on a thread of the CLR's, the lock is not waited for: its holder is a
       registration, which runs a round itself once it let go. */
    if (on_thread)
        hm_lock_acquire(&notifier->lock);
    else if (!hm_lock_try_acquire(&notifier->lock))
        return TRUE;
    for (i = 0; i < notifier->count; i++) {
        hm_notifier_entry *entry = &notifier->entries[i];
        BOOL tell = entry->told != state;

        if (!tell && repeats) {
            ULONGLONG since = now - entry->told_at;
            if (since >= notifier->repeat_ms)
                tell = TRUE;
            else if (notifier->repeat_ms - since < *due_ms)
                *due_ms = (DWORD)(notifier->repeat_ms - since);
        }
        if (!tell)
            continue;
        entry->told = state;
        entry->told_at = now;
        if (repeats && notifier->repeat_ms < *due_ms)
            *due_ms = notifier->repeat_ms;
        ICLRMemoryNotificationCallback_AddRef(entry->callback);
        batch[n++] = entry->callback;
    }
    hm_lock_release(&notifier->lock);

    for (i = 0; i < n; i++) {
        BOOL alive = TRUE;

        /* Cleared before this returns (or the notifier is gone): never left dangling. */
        notifier->deliverer = GetCurrentThreadId();
        notifier->alive = &alive; /* cppcheck-suppress autoVariables */
        notifier->notify(notifier->context, batch[i], state, on_thread);
        if (!alive) {
            /* The owner is gone; what is left of the batch is released, not told. */
            for (; i < n; i++)
                ICLRMemoryNotificationCallback_Release(batch[i]);
            return FALSE;
        }
        notifier->alive = NULL;
        ICLRMemoryNotificationCallback_Release(batch[i]);
    }
    return TRUE;
}

/* Rounds until nobody asks for one; FALSE when the notifier is gone. */
static BOOL run_deliveries(hm_notifier *notifier, BOOL on_thread, DWORD *due_ms)
{
    atomic_store(&notifier->again, 1);
    while (!atomic_exchange(&notifier->delivering, 1)) {
        while (atomic_exchange(&notifier->again, 0))
            if (!deliver_round(notifier, on_thread, due_ms))
                return FALSE;
        atomic_store(&notifier->delivering, 0);
        if (!atomic_load(&notifier->again))
            break;
    }
    return TRUE;
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

static DWORD WINAPI notifier_thread(void *parameter)
{
    hm_notifier *notifier = parameter;
    DWORD due_ms = INFINITE;

    for (;;) {
        DWORD timeout = due_ms;

        if (notifier->forward_os && notifier->poll_ms < timeout)
            timeout = notifier->poll_ms;
        if (notifier->tick && HM_NOTIFIER_TICK_MS < timeout)
            timeout = HM_NOTIFIER_TICK_MS;
        hm_os.WaitForSingleObject(notifier->wake, timeout);
        if (atomic_load(&notifier->stop))
            return 0;
        if (notifier->forward_os)
            publish_state(notifier, os_memory_state(notifier));
        if (notifier->tick)
            notifier->tick(notifier->context);
        due_ms = INFINITE;
        if (!run_deliveries(notifier, TRUE, &due_ms))
            return 0; /* the owner, and this notifier with it, is gone */
        /* Another thread may have run the round (inline, just as this thread started):
           while Low, look again within a repeat interval all the same. */
        if (due_ms == INFINITE && notifier->repeat_ms && hm_notifier_state(notifier) == HM_AVAILABLE_LOW)
            due_ms = notifier->repeat_ms;
    }
}

/* Wakes the thread, or without one delivers here. */
static void kick(hm_notifier *notifier)
{
    DWORD due_ms = INFINITE;

    if (atomic_load(&notifier->started))
        hm_os.SetEvent(notifier->wake);
    else
        run_deliveries(notifier, FALSE, &due_ms);
}

/* Under the lock. Without a thread the notifications are delivered on the posting
   threads; they still arrive (the repeats of Low come with the next post), so a
   refusal changes nothing the CLR could see. */
static void start_thread(hm_notifier *notifier)
{
    if (atomic_load(&notifier->started))
        return;
    if (notifier->forward_os && !notifier->os_low) {
        notifier->os_low = hm_os.CreateMemoryResourceNotification(LowMemoryResourceNotification);
        notifier->os_high = hm_os.CreateMemoryResourceNotification(HighMemoryResourceNotification);
    }
    if (!notifier->wake && !(notifier->wake = hm_os.CreateEventW(NULL, FALSE, FALSE, NULL)))
        return;
    notifier->thread = hm_os.CreateThread(NULL, (SIZE_T)64 * 1024, notifier_thread, notifier,
                                          STACK_SIZE_PARAM_IS_A_RESERVATION, &notifier->thread_id);
    if (notifier->thread)
        atomic_store(&notifier->started, 1);
}

HRESULT hm_notifier_register(hm_notifier *notifier, ICLRMemoryNotificationCallback *callback)
{
    ICLRMemoryNotificationCallback *dropped[HM_NOTIFIER_CALLBACKS];
    unsigned i, n = 0;
    HRESULT hr = S_OK;

    hm_lock_acquire(&notifier->lock);
    if (!callback) {
        for (i = 0; i < notifier->count; i++)
            dropped[n++] = notifier->entries[i].callback;
        notifier->count = 0;
    } else {
        for (i = 0; i < notifier->count && notifier->entries[i].callback != callback; i++)
            ;
        if (i == notifier->count) {
            if (notifier->count == HM_NOTIFIER_CALLBACKS) {
                hr = E_OUTOFMEMORY;
            } else {
                hm_notifier_entry *entry = &notifier->entries[notifier->count++];
                ICLRMemoryNotificationCallback_AddRef(callback);
                entry->callback = callback;
                entry->told = HM_AVAILABLE_HIGH;
                entry->told_at = 0;
            }
        }
        start_thread(notifier);
    }
    hm_lock_release(&notifier->lock);
    /* Outside the lock: a callback's Release may call back into hostmem. */
    for (i = 0; i < n; i++)
        ICLRMemoryNotificationCallback_Release(dropped[i]);
    if (callback && hr == S_OK)
        kick(notifier); /* the current state, at once */
    return hr;
}

void hm_notifier_post(hm_notifier *notifier, uint64_t decision)
{
    publish(notifier, decision);
    kick(notifier);
}

void hm_notifier_force_low(hm_notifier *notifier)
{
    publish_state(notifier, HM_AVAILABLE_LOW);
    kick(notifier);
}

void hm_notifier_destroy(hm_notifier *notifier)
{
    unsigned i;

    hm_lock_acquire(&notifier->lock);
    atomic_store(&notifier->stop, 1);
    hm_lock_release(&notifier->lock);
    /* Destroyed from inside a delivery (a callback released the last reference): the
       deliverer, this thread, stops on return. A delivery on another thread is
       waited for instead (the join below). */
    if (notifier->alive && notifier->deliverer == GetCurrentThreadId())
        *notifier->alive = FALSE;
    if (notifier->thread) {
        if (GetCurrentThreadId() == notifier->thread_id) {
            /* We are inside one of the thread's deliveries; it ends on return. */
            hm_os.CloseHandle(notifier->thread);
        } else {
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
    for (i = 0; i < notifier->count; i++)
        ICLRMemoryNotificationCallback_Release(notifier->entries[i].callback);
    notifier->count = 0;
    hm_lock_destroy(&notifier->lock);
}
