/*
 * GetMemoryLoad under a commit limit: the load is the share of the limit committed,
 * exact and read from the books on every call; available is the smaller of the
 * limit's room and the OS's available physical memory, which hostmem asks the OS for
 * at most once every 100 ms (docs/behaviour.md, "Memory load"). Without a limit every
 * call is the OS's answer. The calls without a limit and their bad input are
 * test_memory_manager's too.
 */
#include "fake_clock.h"
#include "manager_calls.h"

#include <string.h>

#define PAGE 4096u
#define MiB  ((SIZE_T)1 << 20)
#define GiB  ((ULONGLONG)1 << 30)
#define REFRESH_MS 100 /* the documented period */

/* An OS whose memory is what the test says, counting how often it is asked. */
static ULONGLONG os_available;
static DWORD os_load;
static unsigned os_asked;

static BOOL WINAPI fake_memory_status(LPMEMORYSTATUSEX status)
{
    os_asked++;
    if (status->dwLength != sizeof(*status)) {
        SetLastError(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    memset(status, 0, sizeof(*status));
    status->dwLength = sizeof(*status);
    status->dwMemoryLoad = os_load;
    status->ullTotalPhys = 64 * GiB;
    status->ullAvailPhys = os_available;
    status->ullTotalPageFile = 128 * GiB;
    status->ullAvailPageFile = 64 * GiB;
    status->ullTotalVirtual = status->ullAvailVirtual = 2 * GiB;
    return TRUE;
}

static void fake_os_memory(DWORD load, ULONGLONG available)
{
    os_load = load;
    os_available = available;
    os_asked = 0;
    hm_os.GlobalMemoryStatusEx = fake_memory_status;
}

static void expect_load(IHostMemoryManager *manager, DWORD load, SIZE_T available)
{
    DWORD got_load = 1000;
    SIZE_T got_available = 7;

    assert_int_equal(IHostMemoryManager_GetMemoryLoad(manager, &got_load, &got_available), S_OK);
    assert_int_equal(got_load, load);
    assert_int_equal(got_available, available);
}

/* --- the load: the books, exact --- */

static void memory_load_under_a_limit_is_the_share_of_the_limit_committed(void **state)
{
    HOSTMEM_CONFIG config = limit_config(100 * PAGE);
    IHostMemoryManager *manager = new_manager(&config);
    char *base = vm_reserve(manager, 128 * PAGE);
    DWORD load = 7;
    SIZE_T available = 7;
    (void)state;

    assert_int_equal(IHostMemoryManager_GetMemoryLoad(manager, &load, &available), S_OK);
    assert_int_equal(load, 0);
    assert_int_equal(available, 100 * PAGE);
    assert_int_equal(vm_commit(manager, base, 25 * PAGE, eTaskCritical), S_OK);
    assert_int_equal(IHostMemoryManager_GetMemoryLoad(manager, &load, &available), S_OK);
    assert_int_equal(load, 25);
    assert_int_equal(available, 75 * PAGE);
    assert_int_equal(vm_commit(manager, base + 25 * PAGE, 80 * PAGE, eProcessCritical), S_OK); /* headroom */
    assert_int_equal(IHostMemoryManager_GetMemoryLoad(manager, &load, &available), S_OK);
    assert_int_equal(load, 100);
    assert_int_equal(available, 0);
    vm_release(manager, base);
    release_last((IUnknown *)manager);
}

/* GetMemoryLoad divides by a hundredth of the limit without a division instruction:
   every page committed, the load is still exactly committed / (limit / 100), whether
   the hundredth is a whole number of pages, a fraction of one, or under 100 bytes. */
static void memory_load_is_exact_at_every_page(void **state)
{
    static const ULONGLONG limits[] = { 300 * PAGE, 250 * PAGE, 100 * PAGE + 12345, 2 * PAGE + 808 };
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        HOSTMEM_CONFIG config = limit_config(limits[i]);
        IHostMemoryManager *manager = new_manager(&config);
        ULONGLONG unit = limits[i] / 100 ? limits[i] / 100 : 1;
        char *base = vm_reserve(manager, 320 * PAGE);
        ULONGLONG committed;

        for (committed = 0; committed + PAGE <= limits[i]; committed += PAGE) {
            DWORD load = 1000;
            SIZE_T available;
            ULONGLONG expected = committed / unit > 100 ? 100 : committed / unit;

            assert_int_equal(IHostMemoryManager_GetMemoryLoad(manager, &load, &available), S_OK);
            assert_int_equal(load, expected);
            assert_int_equal(vm_commit(manager, base + committed, PAGE, eTaskCritical), S_OK);
        }
        vm_release(manager, base);
        release_last((IUnknown *)manager);
    }
}

/* Past 4 GiB the load is computed from shifted operands: still exact on each side of
   the first few whole percents. */
static void memory_load_is_exact_past_four_gibibytes(void **state)
{
    const ULONGLONG limit = ((ULONGLONG)1 << 32) + 7 * 100 * PAGE + 3;
    const ULONGLONG unit = limit / 100;
    HOSTMEM_CONFIG config = limit_config(limit);
    IHostMemoryManager *manager = new_manager(&config);
    char *base = vm_reserve(manager, (SIZE_T)(4 * unit));
    ULONGLONG committed = 0, k;
    (void)state;

    for (k = 1; k <= 3; k++) {
        ULONGLONG below = k * unit / PAGE * PAGE; /* the last page boundary at or under k units */
        int step;

        assert_int_equal(vm_commit(manager, base + committed, (SIZE_T)(below - committed), eTaskCritical), S_OK);
        committed = below;
        for (step = 0; step < 2; step++) {
            DWORD load = 1000;
            SIZE_T available;

            assert_int_equal(IHostMemoryManager_GetMemoryLoad(manager, &load, &available), S_OK);
            assert_int_equal(load, committed / unit);
            assert_int_equal(vm_commit(manager, base + committed, PAGE, eTaskCritical), S_OK);
            committed += PAGE;
        }
    }
    vm_release(manager, base);
    release_last((IUnknown *)manager);
}

static void memory_load_available_never_exceeds_what_the_os_has(void **state)
{
    HOSTMEM_CONFIG config = limit_config((ULONGLONG)1 << 50); /* a petabyte */
    IHostMemoryManager *manager = new_manager(&config);
    MEMORYSTATUSEX os;
    DWORD load;
    SIZE_T available;
    (void)state;

    os.dwLength = sizeof(os);
    assert_true(GlobalMemoryStatusEx(&os));
    assert_int_equal(IHostMemoryManager_GetMemoryLoad(manager, &load, &available), S_OK);
    assert_int_equal(load, 0);
    assert_true(available <= os.ullAvailPhys + 64 * MiB);
    assert_true(available > 0);
    release_last((IUnknown *)manager);
}

/* --- available: the OS's figure, asked at most once a period --- */

static void memory_load_under_a_limit_asks_the_os_at_most_once_every_100_ms(void **state)
{
    HOSTMEM_CONFIG config = limit_config(100 * PAGE);
    IHostMemoryManager *manager = new_manager(&config);
    (void)state;

    fake_clock_start(0);
    fake_os_memory(50, GiB);
    expect_load(manager, 0, 100 * PAGE); /* the first call asks, even at time 0 */
    assert_int_equal(os_asked, 1);
    fake_clock_set(REFRESH_MS / 2);
    expect_load(manager, 0, 100 * PAGE);
    fake_clock_set(REFRESH_MS - 1);
    expect_load(manager, 0, 100 * PAGE);
    assert_int_equal(os_asked, 1);
    fake_clock_set(REFRESH_MS);
    expect_load(manager, 0, 100 * PAGE);
    assert_int_equal(os_asked, 2);
    fake_clock_set(2 * REFRESH_MS - 1);
    expect_load(manager, 0, 100 * PAGE);
    assert_int_equal(os_asked, 2);
    fake_clock_set(10 * REFRESH_MS); /* a long quiet spell: one ask, not one per period */
    expect_load(manager, 0, 100 * PAGE);
    expect_load(manager, 0, 100 * PAGE);
    assert_int_equal(os_asked, 3);
    release_last((IUnknown *)manager);
}

static void memory_load_between_os_reads_follows_the_books_at_once(void **state)
{
    HOSTMEM_CONFIG config = limit_config(100 * PAGE);
    IHostMemoryManager *manager = new_manager(&config);
    char *base = vm_reserve(manager, 128 * PAGE);
    (void)state;

    fake_clock_start(5000);
    fake_os_memory(50, GiB);
    expect_load(manager, 0, 100 * PAGE);
    assert_int_equal(vm_commit(manager, base, 25 * PAGE, eTaskCritical), S_OK);
    expect_load(manager, 25, 75 * PAGE);
    assert_int_equal(vm_commit(manager, base + 25 * PAGE, 50 * PAGE, eTaskCritical), S_OK);
    expect_load(manager, 75, 25 * PAGE);
    vm_decommit(manager, base, 75 * PAGE);
    expect_load(manager, 0, 100 * PAGE);
    assert_int_equal(os_asked, 1); /* the clock never moved */
    vm_release(manager, base);
    release_last((IUnknown *)manager);
}

static void memory_load_available_is_the_room_or_the_os_figure_last_read_whichever_is_smaller(void **state)
{
    HOSTMEM_CONFIG config = limit_config(100 * PAGE);
    IHostMemoryManager *manager = new_manager(&config);
    char *base = vm_reserve(manager, 128 * PAGE);
    (void)state;

    fake_clock_start(0);
    fake_os_memory(99, 10 * PAGE);
    expect_load(manager, 0, 10 * PAGE); /* the machine is shorter than the limit */
    os_available = 3 * PAGE;
    fake_clock_set(REFRESH_MS / 2);
    expect_load(manager, 0, 10 * PAGE); /* within the period: the figure last read */
    fake_clock_set(REFRESH_MS);
    expect_load(manager, 0, 3 * PAGE);
    os_available = 64 * GiB;
    fake_clock_set(2 * REFRESH_MS);
    expect_load(manager, 0, 100 * PAGE); /* the limit is shorter than the machine */
    assert_int_equal(vm_commit(manager, base, 40 * PAGE, eTaskCritical), S_OK);
    expect_load(manager, 40, 60 * PAGE);
    /* The load is the limit's, never the OS's (99 and 50 here). */
    os_load = 50;
    fake_clock_set(3 * REFRESH_MS);
    expect_load(manager, 40, 60 * PAGE);
    assert_int_equal(os_asked, 4);
    vm_release(manager, base);
    release_last((IUnknown *)manager);
}

static void memory_load_os_failure_under_a_limit_is_answered_and_the_next_call_asks_again(void **state)
{
    HOSTMEM_CONFIG config = limit_config(100 * PAGE);
    IHostMemoryManager *manager = new_manager(&config);
    DWORD load = 77;
    SIZE_T available = 77;
    unsigned asked = os_call_count(OS_GLOBAL_MEMORY_STATUS_EX);
    (void)state;

    fake_clock_start(0);
    fault_once(OS_GLOBAL_MEMORY_STATUS_EX, 0, ERROR_ACCESS_DENIED);
    assert_int_equal(IHostMemoryManager_GetMemoryLoad(manager, &load, &available), E_ACCESSDENIED);
    assert_int_equal(load, 0);
    assert_int_equal(available, 0);
    expect_load(manager, 0, 100 * PAGE); /* same instant: a failed ask is not remembered */
    assert_int_equal(os_call_count(OS_GLOBAL_MEMORY_STATUS_EX), asked + 2);
    /* A refresh that fails is answered as a failure, not hidden behind the old figure. */
    fake_clock_set(REFRESH_MS);
    fault_once(OS_GLOBAL_MEMORY_STATUS_EX, 0, ERROR_ACCESS_DENIED);
    assert_int_equal(IHostMemoryManager_GetMemoryLoad(manager, &load, &available), E_ACCESSDENIED);
    expect_load(manager, 0, 100 * PAGE);
    assert_int_equal(os_call_count(OS_GLOBAL_MEMORY_STATUS_EX), asked + 4);
    release_last((IUnknown *)manager);
}

static void memory_load_null_pointers_under_a_limit_ask_nothing_and_remember_nothing(void **state)
{
    HOSTMEM_CONFIG config = limit_config(100 * PAGE);
    IHostMemoryManager *manager = new_manager(&config);
    DWORD load = 77;
    SIZE_T available = 77;
    (void)state;

    fake_clock_start(0);
    fake_os_memory(50, 10 * PAGE);
    assert_int_equal(IHostMemoryManager_GetMemoryLoad(manager, NULL, &available), E_POINTER);
    assert_int_equal(IHostMemoryManager_GetMemoryLoad(manager, &load, NULL), E_POINTER);
    assert_int_equal(IHostMemoryManager_GetMemoryLoad(manager, NULL, NULL), E_POINTER);
    assert_int_equal(load, 77);
    assert_int_equal(available, 77);
    assert_int_equal(os_asked, 0);
    expect_load(manager, 0, 10 * PAGE);
    assert_int_equal(os_asked, 1);
    release_last((IUnknown *)manager);
}

/* --- without a limit: the OS's answer, every call --- */

static void memory_load_without_a_limit_asks_the_os_on_every_call(void **state)
{
    IHostMemoryManager *manager = new_manager(NULL);
    (void)state;

    fake_clock_start(0);
    fake_os_memory(42, 10 * PAGE);
    expect_load(manager, 42, 10 * PAGE);
    os_load = 43;
    os_available = 9 * PAGE;
    expect_load(manager, 43, 9 * PAGE); /* the clock never moved */
    expect_load(manager, 43, 9 * PAGE);
    assert_int_equal(os_asked, 3);
    release_last((IUnknown *)manager);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fault_setup, fault_teardown)
        T(memory_load_under_a_limit_is_the_share_of_the_limit_committed),
        T(memory_load_is_exact_at_every_page),
        T(memory_load_is_exact_past_four_gibibytes),
        T(memory_load_available_never_exceeds_what_the_os_has),
        T(memory_load_under_a_limit_asks_the_os_at_most_once_every_100_ms),
        T(memory_load_between_os_reads_follows_the_books_at_once),
        T(memory_load_available_is_the_room_or_the_os_figure_last_read_whichever_is_smaller),
        T(memory_load_os_failure_under_a_limit_is_answered_and_the_next_call_asks_again),
        T(memory_load_null_pointers_under_a_limit_ask_nothing_and_remember_nothing),
        T(memory_load_without_a_limit_asks_the_os_on_every_call),
#undef T
    };
    return cmocka_run_group_tests_name("memory_load", tests, NULL, NULL);
}
