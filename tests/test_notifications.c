/*
 * Notifications, level-triggered (docs/notifications.md): a runtime that dropped or
 * missed a Low learns it, every registered runtime is told, in the order the states
 * were decided, one call at a time, and once the calls stop the last state each
 * runtime received is the one the books call for. The CLR's side is
 * tests/support/clr_model.h, which drops notifications until its runtime started.
 */
#include "test_support.h"

#include <string.h>

#include "clr_model.h"
#include "exports.h"
#include "memory_manager.h"

#define PAGE     4096
#define WAIT_MS  10000 /* what "eventually" means here: far past any repeat interval */

static HOSTMEM_CONFIG config_of(ULONGLONG limit, DWORD repeat_ms)
{
    HOSTMEM_CONFIG config;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.commitLimit = limit;
    config.notificationRepeatMs = repeat_ms;
    config.retryTimeoutMs = 1;
    return config;
}

static char *reserve(IHostMemoryManager *manager, SIZE_T bytes)
{
    void *p = NULL;

    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, bytes, MEM_RESERVE, PAGE_NOACCESS, eTaskCritical, &p),
                     S_OK);
    return p;
}

static HRESULT commit(IHostMemoryManager *manager, void *at, SIZE_T bytes)
{
    void *p = NULL;
    return IHostMemoryManager_VirtualAlloc(manager, at, bytes, MEM_COMMIT, PAGE_READWRITE, eTaskCritical, &p);
}

static void decommit(IHostMemoryManager *manager, void *at, SIZE_T bytes)
{
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, at, bytes, MEM_DECOMMIT), S_OK);
}


/* The state the documented marks allow for `committed` bytes under `pressure`'s
   limit: Low only at or above the low exit, High only under a band above the low
   mark, Neutral only between the marks. */
static BOOL state_fits_books(const hm_pressure *pressure, int state, uint64_t committed)
{
    switch (state) {
    case eMemoryAvailableLow:     return committed >= pressure->high_mark - pressure->band;
    case eMemoryAvailableHigh:    return committed < pressure->low_mark + pressure->band;
    case eMemoryAvailableNeutral: return committed >= pressure->low_mark && committed < pressure->high_mark;
    default:                      return FALSE;
    }
}

/* --- the CLR drops what comes before its start ------------------------------------ */

static void a_low_during_start_up_is_told_again_once_the_runtime_listens(void **state)
{
    HOSTMEM_CONFIG config = config_of(100 * PAGE, 50);
    IHostControl *control = new_control(&config);
    IHostMemoryManager *manager = manager_of(control);
    char *base = reserve(manager, 128 * PAGE);
    clr_model clr;
    (void)state;

    clr_model_init(&clr, FALSE);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &clr.iface), S_OK);
    /* Start-up crosses the high-water mark: the CLR drops the Low. */
    assert_int_equal(commit(manager, base, 93 * PAGE), S_OK);
    assert_true(clr_model_wait_calls(&clr, 1, WAIT_MS));
    assert_true(clr.dropped >= 1);
    assert_false(clr.low_flag);
    /* Started: the repeat reaches it. */
    clr_model_start(&clr);
    assert_true(clr_model_wait_low_flag(&clr, TRUE, WAIT_MS));
    assert_true(stats_of((IUnknown *)control).notifications[0] >= 2);
    /* High is told once, and ends the repeats. */
    decommit(manager, base, 93 * PAGE);
    assert_true(clr_model_wait_low_flag(&clr, FALSE, WAIT_MS));
    assert_int_equal(clr.last_state, eMemoryAvailableHigh);
    assert_int_equal(clr.overlaps, 0);
    IHostMemoryManager_Release(manager);
    release_last((IUnknown *)control);
}

static void low_is_told_once_when_repeats_are_off(void **state)
{
    HOSTMEM_CONFIG config = config_of(100 * PAGE, HOSTMEM_NOTIFICATION_REPEAT_NONE);
    IHostMemoryManager *manager = new_manager(&config);
    char *base = reserve(manager, 128 * PAGE);
    clr_model clr;
    (void)state;

    clr_model_init(&clr, TRUE);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &clr.iface), S_OK);
    assert_int_equal(commit(manager, base, 95 * PAGE), S_OK);
    assert_true(clr_model_wait_calls(&clr, 1, WAIT_MS));
    Sleep(300);
    assert_int_equal(clr.calls, 1);
    assert_int_equal(clr.states[0], eMemoryAvailableLow);
    decommit(manager, base, 95 * PAGE);
    release_last((IUnknown *)manager);
}

static void the_config_cut_before_the_repeat_field_gets_the_default(void **state)
{
    HOSTMEM_CONFIG config = config_of(100 * PAGE, 0);
    IHostMemoryManager *manager;
    hm_settings settings;
    (void)state;

    config.notificationRepeatMs = 5;
    config.cbSize = (DWORD)offsetof(HOSTMEM_CONFIG, notificationRepeatMs);
    assert_int_equal(hm_settings_from_config(&config, &settings), S_OK);
    assert_int_equal(settings.notification_repeat_ms, 1000);
    config.cbSize = sizeof(config);
    assert_int_equal(hm_settings_from_config(&config, &settings), S_OK);
    assert_int_equal(settings.notification_repeat_ms, 5);
    config.notificationRepeatMs = HOSTMEM_NOTIFICATION_REPEAT_NONE;
    assert_int_equal(hm_settings_from_config(&config, &settings), S_OK);
    assert_int_equal(settings.notification_repeat_ms, 0);
    manager = new_manager(&config);
    release_last((IUnknown *)manager);
}

/* --- who is told ------------------------------------------------------------------- */

static void a_callback_registered_late_is_told_the_current_state(void **state)
{
    HOSTMEM_CONFIG config = config_of(100 * PAGE, HOSTMEM_NOTIFICATION_REPEAT_NONE);
    IHostMemoryManager *manager = new_manager(&config);
    char *base = reserve(manager, 128 * PAGE);
    clr_model clr, neutral;
    (void)state;

    /* Low with nobody registered. */
    assert_int_equal(commit(manager, base, 95 * PAGE), S_OK);
    clr_model_init(&clr, TRUE);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &clr.iface), S_OK);
    assert_true(clr_model_wait_low_flag(&clr, TRUE, WAIT_MS));
    /* Unregistered and registered again: told again. */
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, NULL), S_OK);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &clr.iface), S_OK);
    assert_true(clr_model_wait_calls(&clr, 2, WAIT_MS));
    assert_int_equal(clr.states[1], eMemoryAvailableLow);
    /* Registered once more while registered: nothing changes, nothing is told. */
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &clr.iface), S_OK);
    /* Neutral is told too; High (what a runtime assumes) is not. */
    decommit(manager, base + 70 * PAGE, 25 * PAGE);
    assert_true(clr_model_wait_state(&clr, eMemoryAvailableNeutral, WAIT_MS));
    clr_model_init(&neutral, TRUE);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &neutral.iface), S_OK);
    assert_true(clr_model_wait_state(&neutral, eMemoryAvailableNeutral, WAIT_MS));
    decommit(manager, base, 70 * PAGE);
    assert_true(clr_model_wait_state(&clr, eMemoryAvailableHigh, WAIT_MS));
    assert_true(clr_model_wait_state(&neutral, eMemoryAvailableHigh, WAIT_MS));
    assert_int_equal(clr.calls, 4); /* Low, Low again after re-registering, Neutral, High */
    release_last((IUnknown *)manager);
}

static void two_runtimes_on_one_control_are_both_told(void **state)
{
    HOSTMEM_CONFIG config = config_of(100 * PAGE, HOSTMEM_NOTIFICATION_REPEAT_NONE);
    IHostControl *control = new_control(&config);
    IHostMemoryManager *first = manager_of(control), *second = manager_of(control);
    char *base = reserve(first, 128 * PAGE);
    clr_model clr2, clr4;
    (void)state;

    /* CLR 2.0 and CLR 4.0 side by side: each SetHostControl registers its callback. */
    clr_model_init(&clr2, TRUE);
    clr_model_init(&clr4, TRUE);
    assert_ptr_equal(first, second);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(first, &clr2.iface), S_OK);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(second, &clr4.iface), S_OK);
    assert_int_equal(commit(first, base, 95 * PAGE), S_OK);
    assert_true(clr_model_wait_low_flag(&clr2, TRUE, WAIT_MS));
    assert_true(clr_model_wait_low_flag(&clr4, TRUE, WAIT_MS));
    decommit(first, base, 95 * PAGE);
    assert_true(clr_model_wait_state(&clr2, eMemoryAvailableHigh, WAIT_MS));
    assert_true(clr_model_wait_state(&clr4, eMemoryAvailableHigh, WAIT_MS));
    assert_true(stats_of((IUnknown *)control).notifications[0] >= 2); /* one Low to each */
    IHostMemoryManager_Release(first);
    IHostMemoryManager_Release(second);
    release_last((IUnknown *)control);
}

/* --- the forced Low ------------------------------------------------------------------ */

static void a_forced_low_ends_when_the_books_fall_below_the_low_water_mark(void **state)
{
    HOSTMEM_CONFIG config = config_of(100 * PAGE, HOSTMEM_NOTIFICATION_REPEAT_NONE);
    IHostMemoryManager *manager;
    char *base;
    void *p = NULL;
    clr_model clr;
    (void)state;

    config.appDomainHeadroom = HOSTMEM_HEADROOM_NONE;
    manager = new_manager(&config);
    base = reserve(manager, 128 * PAGE);
    clr_model_init(&clr, TRUE);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &clr.iface), S_OK);
    /* 27% of the limit, then one domain-level request that cannot fit: Low. */
    assert_int_equal(commit(manager, base, 27 * PAGE), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 80 * PAGE, MEM_RESERVE | MEM_COMMIT,
                                                     PAGE_READWRITE, eAppDomainCritical, &p),
                     E_OUTOFMEMORY);
    assert_true(clr_model_wait_low_flag(&clr, TRUE, WAIT_MS));
    /* The next look at the books (26%, below the low-water mark) ends it: High. */
    decommit(manager, base, PAGE);
    assert_true(clr_model_wait_state(&clr, eMemoryAvailableHigh, WAIT_MS));
    assert_false(clr.low_flag);
    decommit(manager, base, 27 * PAGE);
    release_last((IUnknown *)manager);
}

/* --- order --------------------------------------------------------------------------- */

static void a_late_decision_never_overtakes_a_newer_one(void **state)
{
    HOSTMEM_CONFIG config = config_of(100 * PAGE, HOSTMEM_NOTIFICATION_REPEAT_NONE);
    IHostMemoryManager *manager = new_manager(&config);
    struct memory_manager *impl = hm_exports_manager_of((IUnknown *)manager);
    uint64_t now = hm_pressure_decision(&impl->pressure);
    clr_model clr;
    int i;
    (void)state;

    clr_model_init(&clr, TRUE);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &clr.iface), S_OK);
    /* A thread decided Low, was preempted before it posted, and another decided
       Neutral after it and posted first. */
    hm_notifier_post(&impl->notifier, HM_DECISION(HM_DECISION_SEQUENCE(now) + 2, HM_AVAILABLE_NEUTRAL));
    hm_notifier_post(&impl->notifier, HM_DECISION(HM_DECISION_SEQUENCE(now) + 1, HM_AVAILABLE_LOW));
    assert_true(clr_model_wait_state(&clr, eMemoryAvailableNeutral, WAIT_MS));
    for (i = 0; i < 100; i++)
        Sleep(1);
    assert_int_equal(clr.calls, 1);
    assert_int_equal(clr.last_state, eMemoryAvailableNeutral);
    assert_int_equal(hm_notifier_state(&impl->notifier), HM_AVAILABLE_NEUTRAL);
    release_last((IUnknown *)manager);
}

/* --- concurrency --------------------------------------------------------------------- */

#define CROSSERS       4
#define CROSSER_PAGES  40 /* each thread's region; four of them reach 160% of the limit */

typedef struct crosser {
    IHostMemoryManager *manager;
    char *base;
    unsigned seed;
    unsigned rounds;
    HANDLE go;
} crosser;

static unsigned next_random(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 16;
}

static DWORD WINAPI crosser_main(void *arg)
{
    crosser *c = arg;
    unsigned i;

    WaitForSingleObject(c->go, INFINITE);
    for (i = 0; i < c->rounds; i++) {
        unsigned first = next_random(&c->seed) % CROSSER_PAGES;
        unsigned count = 1 + next_random(&c->seed) % (CROSSER_PAGES - first);
        void *p = NULL;

        if (next_random(&c->seed) & 1)
            IHostMemoryManager_VirtualAlloc(c->manager, c->base + first * PAGE, count * PAGE, MEM_COMMIT,
                                            PAGE_READWRITE, eTaskCritical, &p);
        else
            IHostMemoryManager_VirtualFree(c->manager, c->base + first * PAGE, count * PAGE, MEM_DECOMMIT);
        if (!(i % 64))
            Sleep(0);
    }
    return 0;
}

static void random_crossings_end_with_every_runtime_told_the_state_of_the_books(BOOL with_thread)
{
    HOSTMEM_CONFIG config = config_of(100 * PAGE, HOSTMEM_NOTIFICATION_REPEAT_NONE);
    IHostMemoryManager *manager;
    struct memory_manager *impl;
    HANDLE threads[CROSSERS], go = CreateEventW(NULL, TRUE, FALSE, NULL);
    crosser crossers[CROSSERS];
    clr_model a, b;
    unsigned i;
    int final;

    if (!with_thread)
        fault_always(OS_CREATE_THREAD, ERROR_NOT_ENOUGH_MEMORY); /* deliveries inline, on the crossers */
    manager = new_manager(&config);
    impl = hm_exports_manager_of((IUnknown *)manager);
    clr_model_init(&a, TRUE);
    clr_model_init(&b, TRUE);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &a.iface), S_OK);
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &b.iface), S_OK);
    for (i = 0; i < CROSSERS; i++) {
        crossers[i].manager = manager;
        crossers[i].base = reserve(manager, CROSSER_PAGES * PAGE);
        crossers[i].seed = 7919u * (i + 1);
        crossers[i].rounds = 3000;
        crossers[i].go = go;
        threads[i] = CreateThread(NULL, 0, crosser_main, &crossers[i], 0, NULL);
        assert_non_null(threads[i]);
    }
    SetEvent(go);
    for (i = 0; i < CROSSERS; i++) {
        assert_int_equal(WaitForSingleObject(threads[i], 60000), WAIT_OBJECT_0);
        CloseHandle(threads[i]);
    }
    CloseHandle(go);

    /* Quiescence: the state decided last fits the books, and both runtimes end up told
       exactly it, never by two calls at once. */
    final = hm_pressure_state(&impl->pressure);
    assert_true(state_fits_books(&impl->pressure, final, stats_of((IUnknown *)manager).committedBytes));
    assert_int_equal(hm_notifier_state(&impl->notifier), final);
    if (final == eMemoryAvailableHigh && !a.calls) {
        /* Never told anything: High, as it assumed. */
    } else {
        assert_true(clr_model_wait_state(&a, final, WAIT_MS));
    }
    if (final != eMemoryAvailableHigh || b.calls)
        assert_true(clr_model_wait_state(&b, final, WAIT_MS));
    assert_int_equal(a.overlaps, 0);
    assert_int_equal(b.overlaps, 0);
    for (i = 0; i < CROSSERS; i++)
        assert_int_equal(IHostMemoryManager_VirtualFree(manager, crossers[i].base, 0, MEM_RELEASE), S_OK);
    release_last((IUnknown *)manager);
}

static void random_concurrent_crossings_end_told_right(void **state)
{
    (void)state;
    random_crossings_end_with_every_runtime_told_the_state_of_the_books(TRUE);
}

static void random_concurrent_crossings_end_told_right_without_a_notifier_thread(void **state)
{
    (void)state;
    random_crossings_end_with_every_runtime_told_the_state_of_the_books(FALSE);
}

#define REGISTRARS 8

typedef struct registrar {
    IHostMemoryManager *manager;
    clr_model clr;
    HANDLE go;
    HRESULT hr;
} registrar;

static DWORD WINAPI registrar_main(void *arg)
{
    registrar *r = arg;

    WaitForSingleObject(r->go, INFINITE);
    r->hr = IHostMemoryManager_RegisterMemoryNotificationCallback(r->manager, &r->clr.iface);
    return 0;
}

static void concurrent_registrations_start_one_notifier_thread(ULONGLONG limit)
{
    HOSTMEM_CONFIG config = config_of(limit, HOSTMEM_NOTIFICATION_REPEAT_NONE);
    IHostMemoryManager *manager;
    HANDLE threads[REGISTRARS], go = CreateEventW(NULL, TRUE, FALSE, NULL);
    static registrar registrars[REGISTRARS];
    unsigned round, i;

    for (round = 0; round < 20; round++) {
        fault_setup(NULL);
        manager = new_manager(&config);
        for (i = 0; i < REGISTRARS; i++) {
            registrars[i].manager = manager;
            registrars[i].go = go;
            clr_model_init(&registrars[i].clr, TRUE);
            threads[i] = CreateThread(NULL, 0, registrar_main, &registrars[i], 0, NULL);
            assert_non_null(threads[i]);
        }
        SetEvent(go);
        for (i = 0; i < REGISTRARS; i++) {
            assert_int_equal(WaitForSingleObject(threads[i], 30000), WAIT_OBJECT_0);
            CloseHandle(threads[i]);
            assert_int_equal(registrars[i].hr, S_OK);
        }
        ResetEvent(go);
        assert_int_equal(os_thread_count(), 1);
        /* The last Release joins it and returns. */
        release_last((IUnknown *)manager);
        assert_true(os_threads_ended(5000));
        assert_int_equal(os_live_objects(OS_OBJECT_THREAD), 0);
        fault_teardown(NULL);
    }
    CloseHandle(go);
}

static void concurrent_registrations_with_a_limit(void **state)
{
    (void)state;
    concurrent_registrations_start_one_notifier_thread(100 * PAGE);
}

static void concurrent_registrations_without_a_limit(void **state)
{
    (void)state;
    concurrent_registrations_start_one_notifier_thread(0);
}

int main(void)
{
#define T(test) cmocka_unit_test_setup_teardown(test, fault_setup, fault_teardown)
    const struct CMUnitTest tests[] = {
        T(a_low_during_start_up_is_told_again_once_the_runtime_listens),
        T(low_is_told_once_when_repeats_are_off),
        T(the_config_cut_before_the_repeat_field_gets_the_default),
        T(a_callback_registered_late_is_told_the_current_state),
        T(two_runtimes_on_one_control_are_both_told),
        T(a_forced_low_ends_when_the_books_fall_below_the_low_water_mark),
        T(a_late_decision_never_overtakes_a_newer_one),
        T(random_concurrent_crossings_end_told_right),
        T(random_concurrent_crossings_end_told_right_without_a_notifier_thread),
        cmocka_unit_test(concurrent_registrations_with_a_limit),
        cmocka_unit_test(concurrent_registrations_without_a_limit),
    };
#undef T

    return cmocka_run_group_tests_name("notifications", tests, NULL, NULL);
}
