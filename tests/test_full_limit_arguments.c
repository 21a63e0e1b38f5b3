/*
 * A bad argument is never an out-of-memory: under a full limit, with every level set
 * to escalate, a VirtualAlloc that kernel32 would refuse for its arguments gets
 * kernel32's own answer (its last error, as an HRESULT), and neither the policy, the
 * failure counts nor the escalation callback hear of it.
 */
#include "test_support.h"

#include <string.h>

#define PAGE  4096u
#define LIMIT (64 * PAGE)

static volatile LONG escalations;

static void WINAPI count_escalation(void *context, const HOSTMEM_ESCALATION *info)
{
    (void)context;
    (void)info;
    InterlockedIncrement(&escalations);
}

typedef struct bad_call {
    const char *name;
    BOOL        in_region;  /* at the base of a region of the manager's (else `address`) */
    void       *address;
    SIZE_T      size;
    DWORD       type;
    DWORD       protect;
} bad_call;

#define BEYOND_USER_SPACE ((void *)(~(uintptr_t)0 - 0xFFFF))

static const bad_call calls[] = {
    { "reserve and commit, protection 0", FALSE, NULL, 16 * PAGE, MEM_RESERVE | MEM_COMMIT, 0 },
    { "reserve and commit, two base protections", FALSE, NULL, 16 * PAGE, MEM_RESERVE | MEM_COMMIT,
      PAGE_READWRITE | PAGE_READONLY },
    { "commit at NULL, protection 0", FALSE, NULL, 16 * PAGE, MEM_COMMIT, 0 },
    { "reserve, protection 0", FALSE, NULL, 16 * PAGE, MEM_RESERVE, 0 },
    { "reserve, execute and read-write", FALSE, NULL, 16 * PAGE, MEM_RESERVE, PAGE_EXECUTE | PAGE_READWRITE },
    { "commit in a region, protection 0", TRUE, NULL, 4 * PAGE, MEM_COMMIT, 0 },
    { "commit in a region, two base protections", TRUE, NULL, 4 * PAGE, MEM_COMMIT,
      PAGE_NOACCESS | PAGE_READWRITE },
    { "reserve and commit beyond user space", FALSE, BEYOND_USER_SPACE, 16 * PAGE, MEM_RESERVE | MEM_COMMIT,
      PAGE_READWRITE },
    { "commit beyond user space", FALSE, BEYOND_USER_SPACE, 4 * PAGE, MEM_COMMIT, PAGE_READWRITE },
};

static void bad_arguments_under_a_full_limit_get_kernel32s_answer(void **state)
{
    HOSTMEM_CONFIG config;
    IHostMemoryManager *manager;
    HOSTMEM_STATS before, after;
    char *region, *full;
    void *p = NULL;
    unsigned i, level;
    (void)state;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.commitLimit = LIMIT;
    config.appDomainHeadroom = HOSTMEM_HEADROOM_NONE;
    config.processHeadroom = HOSTMEM_HEADROOM_NONE;
    config.retryTimeoutMs = HOSTMEM_RETRY_NONE;
    for (level = 0; level < 3; level++)
        config.failureAction[level] = HOSTMEM_ACTION_ESCALATE;
    config.escalationCallback = count_escalation;
    manager = new_manager(&config);

    /* A region with nothing committed, and the limit full. */
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 16 * PAGE, MEM_RESERVE, PAGE_NOACCESS,
                                                     eTaskCritical, &p), S_OK);
    region = p;
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, LIMIT, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
                                                     eProcessCritical, &p), S_OK);
    full = p;
    /* The policy is armed: a good request past the limit escalates. */
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, region, PAGE, MEM_COMMIT, PAGE_READWRITE,
                                                     eTaskCritical, &p), E_FAIL);
    assert_int_equal(escalations, 1);

    before.cbSize = sizeof(before);
    assert_int_equal(HostMemGetStats((IUnknown *)manager, &before), S_OK);
    for (i = 0; i < ARRAYSIZE(calls); i++) {
        const bad_call *c = &calls[i];
        void *address = c->in_region ? region : c->address;
        DWORD kernel_error;
        void *direct;

        /* What kernel32 says. */
        SetLastError(0xDEAD);
        direct = VirtualAlloc(address, c->size, c->type, c->protect);
        kernel_error = GetLastError();
        if (direct)
            VirtualFree(direct, 0, MEM_RELEASE);
        if (direct || kernel_error != ERROR_INVALID_PARAMETER)
            fail_msg("%s: kernel32 answered %p, error %lu: not a bad argument here", c->name, direct,
                     (unsigned long)kernel_error);
        for (level = 0; level < 3; level++) {
            HRESULT hr;

            p = (void *)1;
            SetLastError(0);
            hr = IHostMemoryManager_VirtualAlloc(manager, address, c->size, c->type, c->protect,
                                                 (EMemoryCriticalLevel)level, &p);
            if (hr != HRESULT_FROM_WIN32(kernel_error) || GetLastError() != kernel_error || p)
                fail_msg("%s at level %u: 0x%08lX, error %lu, %p; kernel32: error %lu", c->name, level,
                         (unsigned long)hr, (unsigned long)GetLastError(), p, (unsigned long)kernel_error);
        }
    }
    after.cbSize = sizeof(after);
    assert_int_equal(HostMemGetStats((IUnknown *)manager, &after), S_OK);
    assert_int_equal(escalations, 1);
    for (level = 0; level < 3; level++)
        assert_int_equal(after.failures[level], before.failures[level]);
    assert_int_equal(after.escalations, before.escalations);
    assert_int_equal(after.committedBytes, before.committedBytes);
    assert_int_equal(after.reservedBytes, before.reservedBytes);

    assert_int_equal(IHostMemoryManager_VirtualFree(manager, full, 0, MEM_RELEASE), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, region, 0, MEM_RELEASE), S_OK);
    release_last((IUnknown *)manager);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(bad_arguments_under_a_full_limit_get_kernel32s_answer, fault_setup,
                                        fault_teardown),
    };

    return cmocka_run_group_tests_name("bad arguments under a full limit", tests, NULL, NULL);
}
