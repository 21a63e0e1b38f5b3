/*
 * GetMemoryLoad under a commit limit: the load is the share of the limit committed,
 * exact; available is the smaller of the limit's room and the OS's available physical
 * memory (docs/behaviour.md, "Memory load"). The calls without a limit and their bad
 * input are test_memory_manager's.
 */
#include "manager_calls.h"

#include <string.h>

#define PAGE 4096u
#define MiB  ((SIZE_T)1 << 20)

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

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fault_setup, fault_teardown)
        T(memory_load_under_a_limit_is_the_share_of_the_limit_committed),
        T(memory_load_is_exact_at_every_page),
        T(memory_load_is_exact_past_four_gibibytes),
        T(memory_load_available_never_exceeds_what_the_os_has),
#undef T
    };
    return cmocka_run_group_tests_name("memory_load", tests, NULL, NULL);
}
