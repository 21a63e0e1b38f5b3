/*
 * The environment's overrides and the host's power to forbid them: HOSTMEM_COMMIT_LIMIT,
 * HOSTMEM_TRACE and HOSTMEM_PUBLISH change what a manager does unless its config has
 * HOSTMEM_FLAG_IGNORE_ENVIRONMENT (docs/api.md, "The environment"). Each test sets the
 * variable, shows its effect without the flag, then its absence with it.
 */
#include "test_support.h"

#include <stdio.h>
#include <wchar.h>

#include "publish_layout.h"

#define KIB ((ULONGLONG)1024)
#define MIB (KIB * 1024)

static HOSTMEM_CONFIG config_with(ULONGLONG limit, DWORD flags)
{
    HOSTMEM_CONFIG config;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.commitLimit = limit;
    config.flags = flags;
    return config;
}


/* Whether a commit of `bytes` fits the manager's limit (it is given back at once). */
static BOOL commit_fits(IHostMemoryManager *manager, SIZE_T bytes)
{
    void *p = NULL;
    HRESULT hr = IHostMemoryManager_VirtualAlloc(manager, NULL, bytes, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
                                                 eTaskCritical, &p);

    if (hr == S_OK)
        assert_int_equal(IHostMemoryManager_VirtualFree(manager, p, 0, MEM_RELEASE), S_OK);
    else
        assert_int_equal(hr, E_OUTOFMEMORY);
    return hr == S_OK;
}

static void ignore_environment_keeps_the_configured_commit_limit(void **state)
{
    HOSTMEM_CONFIG with_env = config_with(1 * MIB, 0), without_env = config_with(1 * MIB, HOSTMEM_FLAG_IGNORE_ENVIRONMENT);
    IHostMemoryManager *overridden, *kept;
    (void)state;

    assert_true(SetEnvironmentVariableW(L"HOSTMEM_COMMIT_LIMIT", L"64K"));
    overridden = new_manager(&with_env);
    kept = new_manager(&without_env);
    assert_true(SetEnvironmentVariableW(L"HOSTMEM_COMMIT_LIMIT", NULL));

    assert_false(commit_fits(overridden, 512 * KIB));
    assert_int_equal(stats_of(overridden).limitSource, HOSTMEM_LIMIT_ENVIRONMENT);
    assert_int_equal(stats_of(overridden).commitLimit, 64 * KIB);
    assert_true(commit_fits(kept, 512 * KIB));
    assert_int_equal(stats_of(kept).limitSource, HOSTMEM_LIMIT_CONFIG);
    assert_int_equal(stats_of(kept).commitLimit, 1 * MIB);
    release_last((IUnknown *)overridden);
    release_last((IUnknown *)kept);
}

static void ignore_environment_takes_no_limit_from_the_environment_where_none_is_configured(void **state)
{
    HOSTMEM_CONFIG config = config_with(0, HOSTMEM_FLAG_IGNORE_ENVIRONMENT);
    IHostMemoryManager *manager;
    (void)state;

    assert_true(SetEnvironmentVariableW(L"HOSTMEM_COMMIT_LIMIT", L"job"));
    manager = new_manager(&config);
    assert_true(SetEnvironmentVariableW(L"HOSTMEM_COMMIT_LIMIT", NULL));
    assert_int_equal(stats_of(manager).limitSource, HOSTMEM_LIMIT_NONE);
    assert_int_equal(stats_of(manager).commitLimit, 0);
    release_last((IUnknown *)manager);
}

static BOOL file_exists(const WCHAR *path)
{
    return GetFileAttributesW(path) != INVALID_FILE_ATTRIBUTES;
}

static void ignore_environment_writes_no_trace_from_hostmem_trace(void **state)
{
    static const WCHAR path[] = L"environment_trace.csv";
    HOSTMEM_CONFIG with_env = config_with(0, 0), without_env = config_with(0, HOSTMEM_FLAG_IGNORE_ENVIRONMENT);
    IHostMemoryManager *manager;
    (void)state;

    DeleteFileW(path);
    assert_true(SetEnvironmentVariableW(L"HOSTMEM_TRACE", path));
    manager = new_manager(&without_env);
    commit_fits(manager, 64 * KIB);
    release_last((IUnknown *)manager);
    assert_false(file_exists(path));

    manager = new_manager(&with_env);
    assert_true(SetEnvironmentVariableW(L"HOSTMEM_TRACE", NULL));
    release_last((IUnknown *)manager);
    assert_true(file_exists(path));
    assert_true(DeleteFileW(path));
}

/* Whether any manager of this process publishes its statistics. */
static BOOL any_section_published(void)
{
    WCHAR name[HM_PUBLISH_NAME_CHARS];
    unsigned n;

    for (n = 1; n <= 16; n++) {
        HANDLE mapping;

        swprintf(name, HM_PUBLISH_NAME_CHARS, HM_PUBLISH_NAME, (unsigned long)GetCurrentProcessId(), n);
        if ((mapping = OpenFileMappingW(FILE_MAP_READ, FALSE, name))) {
            CloseHandle(mapping);
            return TRUE;
        }
    }
    return FALSE;
}

static void ignore_environment_publishes_nothing_for_hostmem_publish(void **state)
{
    HOSTMEM_CONFIG with_env = config_with(0, 0), without_env = config_with(0, HOSTMEM_FLAG_IGNORE_ENVIRONMENT);
    IHostMemoryManager *manager;
    (void)state;

    assert_true(SetEnvironmentVariableW(L"HOSTMEM_PUBLISH", L"1"));
    manager = new_manager(&without_env);
    assert_false(any_section_published());
    release_last((IUnknown *)manager);

    manager = new_manager(&with_env);
    assert_true(SetEnvironmentVariableW(L"HOSTMEM_PUBLISH", NULL));
    assert_true(any_section_published());
    release_last((IUnknown *)manager);
    assert_false(any_section_published());
}

static void ignore_environment_with_publish_stats_still_publishes(void **state)
{
    HOSTMEM_CONFIG config = config_with(0, HOSTMEM_FLAG_IGNORE_ENVIRONMENT | HOSTMEM_FLAG_PUBLISH_STATS);
    IHostMemoryManager *manager;
    (void)state;

    manager = new_manager(&config);
    assert_true(any_section_published());
    release_last((IUnknown *)manager);
}

static void an_unknown_flag_bit_is_refused(void **state)
{
    HOSTMEM_CONFIG config = config_with(0, 0x80000000u);
    IHostMemoryManager *manager = (IHostMemoryManager *)(ULONG_PTR)1;
    (void)state;

    assert_int_equal(HostMemCreateMemoryManager(&config, &manager), E_INVALIDARG);
    assert_null(manager);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ignore_environment_keeps_the_configured_commit_limit),
        cmocka_unit_test(ignore_environment_takes_no_limit_from_the_environment_where_none_is_configured),
        cmocka_unit_test(ignore_environment_writes_no_trace_from_hostmem_trace),
        cmocka_unit_test(ignore_environment_publishes_nothing_for_hostmem_publish),
        cmocka_unit_test(ignore_environment_with_publish_stats_still_publishes),
        cmocka_unit_test(an_unknown_flag_bit_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
