/*
 * A fault at every OS call. A fixed workload -- the CLR's SetHostControl
 * sequence (docs/clr-contract.md) through HostMemCreateHostControl, allocations at every
 * level (reserve, commit, decommit, release), IHostMalloc Alloc/DebugAlloc/Free, a
 * notification callback under a commit limit so that notifications fire, the mapped-view
 * calls, a leak report, then the release of everything -- runs once to count the OS
 * calls it makes, then once per call with that call failing (with an error the call
 * really fails with). Every run:
 *   - each step answers what it answered without the fault, except the step that made
 *     the failing call, which answers S_OK (hostmem recovered: a critical level tries
 *     once more) or that step's documented failure;
 *   - after every step the books are the OS's truth: committedBytes is what VirtualQuery
 *     finds committed in the live reservations, reservedBytes their size, mallocBytes
 *     and mappedBytes what the workload holds;
 *   - nothing crashes, and once everything is released nothing is left: every
 *     reservation MEM_FREE, every heap destroyed, every thread ended and its handle
 *     closed, every event closed, every callback reference given back. The one object
 *     the OS was made to refuse to free (a failed VirtualFree, HeapDestroy or
 *     CloseHandle at the end) is the OS's refusal, not a leak: the test frees it.
 * The calls of hostmem's notifier thread are counted apart (fault_watch_thread), so the
 * main thread's sequence is the same in every run; a second sweep fails each of them.
 */
#include "test_support.h"

#include <stdio.h>
#include <string.h>

#include "clr/clr_managers.h"

#define KIB ((SIZE_T)1024)
#define MIB (KIB * 1024)
#define LIMIT (4 * MIB)
#define END_OF_LIST ((HRESULT)0x7FFFFFFF)

/* --- the CLR's notification callback, and the escalation callback --------------------- */

typedef struct recorder {
    ICLRMemoryNotificationCallback iface;
    LONG refs;        /* held by hostmem */
    LONG count;
    LONG states[32];
} recorder;

static ULONG WINAPI recorder_AddRef(ICLRMemoryNotificationCallback *iface)
{
    return (ULONG)InterlockedIncrement(&CONTAINING_RECORD(iface, recorder, iface)->refs);
}
static ULONG WINAPI recorder_Release(ICLRMemoryNotificationCallback *iface)
{
    return (ULONG)InterlockedDecrement(&CONTAINING_RECORD(iface, recorder, iface)->refs);
}
static HRESULT WINAPI recorder_QueryInterface(ICLRMemoryNotificationCallback *iface, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ICLRMemoryNotificationCallback)) {
        *ppv = iface;
        recorder_AddRef(iface);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}
/* Passive, as the CLR's is: it calls no OS function, so a delivery on the allocating
   thread (when the OS refused the notifier thread) leaves the counted sequence alone. */
static HRESULT WINAPI recorder_OnMemoryNotification(ICLRMemoryNotificationCallback *iface, EMemoryAvailable state)
{
    recorder *r = CONTAINING_RECORD(iface, recorder, iface);
    LONG i = InterlockedIncrement(&r->count) - 1;

    if (i < 32)
        r->states[i] = (LONG)state;
    return S_OK;
}
static ICLRMemoryNotificationCallbackVtbl recorder_vtbl = {
    recorder_QueryInterface, recorder_AddRef, recorder_Release, recorder_OnMemoryNotification,
};

static LONG escalations;

static void WINAPI on_escalation(void *context, const HOSTMEM_ESCALATION *info)
{
    (void)context;
    (void)info;
    InterlockedIncrement(&escalations);
}

/* --- the workload ------------------------------------------------------------------- */

#define MAX_STEPS 64

typedef struct step {
    const char *name;
    HRESULT     hr;
    unsigned    first_call, last_call; /* counted OS calls (first_call, last_call] */
} step;

typedef struct region {
    void  *base;
    SIZE_T size;
    BOOL   live;
} region;

typedef struct block {
    void  *p;
    SIZE_T size;
    BOOL   live;
} block;

typedef struct workload {
    unsigned            fault;       /* the counted call that fails, 0 for none */
    const struct workload *baseline; /* the run without a fault, to compare with */
    step                steps[MAX_STEPS];
    unsigned            nsteps;
    char                problems[2048];
    IHostControl       *control;
    IHostMemoryManager *manager;
    IHostMalloc        *malloc;
    recorder            callback;
    region              regions[4];
    block               blocks[4];
    void               *view;
    SIZE_T              view_size;
    BOOL                view_live;
    HOSTMEM_STATS       final_books; /* before the release */
    unsigned            step_start;  /* os_total_calls() when the current step began */
    BOOL                notified;    /* Low and High must arrive (no fault on the allocating thread) */
} workload;

static void problem(workload *w, const char *format, ...)
{
    size_t used = strlen(w->problems);
    va_list args;

    if (used + 2 >= sizeof(w->problems))
        return;
    va_start(args, format);
    vsnprintf(w->problems + used, sizeof(w->problems) - used, format, args);
    va_end(args);
    used = strlen(w->problems);
    if (used + 1 < sizeof(w->problems))
        strcat(w->problems, "\n");
}

static const step *baseline_step(const workload *w, const char *name)
{
    unsigned i;

    if (!w->baseline)
        return NULL;
    for (i = 0; i < w->baseline->nsteps; i++)
        if (!strcmp(w->baseline->steps[i].name, name))
            return &w->baseline->steps[i];
    return NULL;
}

/* The books against the OS's truth and the workload's own records. */
static void check_books(workload *w, const char *after)
{
    HOSTMEM_STATS stats;
    ULONGLONG committed = 0, reserved = 0, malloc_bytes = 0;
    unsigned i;

    memset(&stats, 0, sizeof(stats));
    stats.cbSize = sizeof(stats);
    if (HostMemGetStats((IUnknown *)w->manager, &stats) != S_OK) {
        problem(w, "after %s: HostMemGetStats failed", after);
        return;
    }
    for (i = 0; i < 4; i++) {
        if (w->regions[i].live) {
            committed += os_committed_in_reservation(w->regions[i].base);
            reserved += w->regions[i].size;
        }
        if (w->blocks[i].live)
            malloc_bytes += w->blocks[i].size;
    }
    if (stats.committedBytes != committed || stats.reservedBytes != reserved || stats.mallocBytes != malloc_bytes ||
        stats.mappedBytes != (w->view_live ? w->view_size : 0))
        problem(w, "after %s: books committed %llu reserved %llu malloc %llu mapped %llu; the OS and the workload "
                   "say %llu %llu %llu %llu", after, stats.committedBytes, stats.reservedBytes, stats.mallocBytes,
                stats.mappedBytes, committed, reserved, malloc_bytes,
                (ULONGLONG)(w->view_live ? w->view_size : 0));
    w->final_books = stats;
}

/* Records a step's answer and checks it: exactly the baseline's answer unless the step
   made the failing call, then one of `allowed` (S_OK among them when hostmem may
   recover). Returns hr == S_OK. */
/* Before each step, once the workload has recorded what the last one did. */
static void step_begin(workload *w)
{
    if (w->manager && w->nsteps)
        check_books(w, w->steps[w->nsteps - 1].name);
    w->step_start = os_total_calls();
}

static BOOL step_done(workload *w, const char *name, HRESULT hr, const HRESULT *allowed)
{
    unsigned first_call = w->step_start;
    step *s = &w->steps[w->nsteps < MAX_STEPS ? w->nsteps++ : MAX_STEPS - 1];
    const step *before = baseline_step(w, name);
    unsigned i;

    s->name = name;
    s->hr = hr;
    s->first_call = first_call;
    s->last_call = os_total_calls();
    for (i = 0; allowed[i] != END_OF_LIST && allowed[i] != hr; i++)
        ;
    if (allowed[i] == END_OF_LIST)
        problem(w, "%s: 0x%08lx is not one of its documented answers", name, (unsigned long)hr);
    else if (before && before->hr != hr && !(w->fault > first_call && w->fault <= s->last_call))
        problem(w, "%s: 0x%08lx, 0x%08lx without the fault, and the failing call (%u) was not its (%u..%u]", name,
                (unsigned long)hr, (unsigned long)before->hr, w->fault, first_call, s->last_call);
    return hr == S_OK;
}

/* The comma sequences step_begin before the call. */
#define STEP(w, name, call, ...) \
    (step_begin(w), step_done(w, name, (call), (const HRESULT[]){ __VA_ARGS__, END_OF_LIST }))

static HOSTMEM_CONFIG workload_config(void)
{
    HOSTMEM_CONFIG config;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.commitLimit = LIMIT;
    config.retryTimeoutMs = 1;    /* a critical request that finds no memory retries at once */
    /* Low once: the repeats are checked in test_notifications. */
    config.notificationRepeatMs = HOSTMEM_NOTIFICATION_REPEAT_NONE;
    config.escalationCallback = on_escalation;
    return config;
}

static void alloc_region(workload *w, const char *name, unsigned slot, SIZE_T size, DWORD type,
                         EMemoryCriticalLevel level, const HRESULT *allowed)
{
    void *p = (void *)1;
    HRESULT hr;

    step_begin(w);
    hr = IHostMemoryManager_VirtualAlloc(w->manager, NULL, size, type, PAGE_READWRITE, level, &p);

    if (hr == S_OK) {
        w->regions[slot].base = p;
        w->regions[slot].size = size;
        w->regions[slot].live = TRUE;
    } else if (p) {
        problem(w, "%s: failed with a pointer", name);
    }
    step_done(w, name, hr, allowed);
}

static void alloc_block(workload *w, const char *name, unsigned slot, SIZE_T size, EMemoryCriticalLevel level,
                        BOOL debug, const HRESULT *allowed)
{
    static char file[] = __FILE__;
    void *p = (void *)1;
    HRESULT hr;

    step_begin(w);
    hr = debug ? IHostMalloc_DebugAlloc(w->malloc, size, level, file, __LINE__, &p)
               : IHostMalloc_Alloc(w->malloc, size, level, &p);

    if (hr == S_OK) {
        w->blocks[slot].p = p;
        w->blocks[slot].size = size;
        w->blocks[slot].live = TRUE;
    } else if (p) {
        problem(w, "%s: failed with a pointer", name);
    }
    step_done(w, name, hr, allowed);
}

static BOOL WINAPI count_block(void *context, const HOSTMEM_BLOCK_INFO *info)
{
    (void)info;
    ++*(unsigned *)context;
    return TRUE;
}

static BOOL wait_for_notifications(recorder *r, LONG count)
{
    unsigned i;

    for (i = 0; i < 5000 && InterlockedCompareExchange(&r->count, 0, 0) < count; i++)
        Sleep(1);
    return r->count >= count;
}

/* The workload, up to (not including) the release of everything. */
static void run_workload(workload *w)
{
    HOSTMEM_CONFIG config = workload_config();
    const HRESULT e_invalidarg = HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    MEMORY_BASIC_INFORMATION info;
    unsigned i, listed = 0, live_blocks = 0;
    DWORD load = 0, old = 0;
    SIZE_T available = 0, written = 0;

    w->callback.iface.lpVtbl = &recorder_vtbl;

    /* SetHostControl (docs/clr-contract.md, "Sequence of SetHostControl"), with the host creating the control first. */
    if (!STEP(w, "HostMemCreateHostControl", HostMemCreateHostControl(&config, &w->control), S_OK, E_OUTOFMEMORY)) {
        if (w->control)
            problem(w, "HostMemCreateHostControl failed with a control");
        return;
    }
    STEP(w, "GetHostManager(IID_IHostMemoryManager)",
         IHostControl_GetHostManager(w->control, &IID_IHostMemoryManager, (void **)&w->manager), S_OK);
    if (!w->manager)
        return;
    if (!STEP(w, "CreateMalloc(MALLOC_THREADSAFE)", IHostMemoryManager_CreateMalloc(w->manager, MALLOC_THREADSAFE,
                                                                                    &w->malloc),
              S_OK, E_OUTOFMEMORY)) {
        /* SetHostControl fails: the CLR releases the manager (the host keeps its control). */
        if (w->malloc)
            problem(w, "CreateMalloc failed with a malloc");
        return;
    }
    STEP(w, "RegisterMemoryNotificationCallback",
         IHostMemoryManager_RegisterMemoryNotificationCallback(w->manager, &w->callback.iface), S_OK);
    for (i = 0; i < CLR_OTHER_MANAGER_COUNT; i++) {
        void *object = (void *)1;

        if (IsEqualIID(&clr_other_managers[i].iid, &IID_IHostPolicyManager)) {
            /* hostmem's own; no OS call behind it. Given back at once: the books at the
               end count the manager's references. */
            STEP(w, clr_other_managers[i].name,
                 IHostControl_GetHostManager(w->control, &clr_other_managers[i].iid, &object), S_OK);
            if (!object)
                problem(w, "GetHostManager(%s) gave no manager", clr_other_managers[i].name);
            else
                IHostPolicyManager_Release((IHostPolicyManager *)object);
            continue;
        }
        STEP(w, clr_other_managers[i].name,
             IHostControl_GetHostManager(w->control, &clr_other_managers[i].iid, &object), E_NOINTERFACE);
        if (object)
            problem(w, "GetHostManager(%s) left a pointer", clr_other_managers[i].name);
    }

    /* Virtual memory at every level; the critical levels retry once, so one failing call
       costs them nothing. The third region takes the commit past the high-water mark. */
    alloc_region(w, "VirtualAlloc(MEM_RESERVE 1 MiB, eProcessCritical)", 0, MIB, MEM_RESERVE, eProcessCritical,
                 (const HRESULT[]){ S_OK, END_OF_LIST });
    if (w->regions[0].live) {
        void *p = NULL;

        STEP(w, "VirtualAlloc(MEM_COMMIT 256 KiB, eTaskCritical)",
             IHostMemoryManager_VirtualAlloc(w->manager, w->regions[0].base, 256 * KIB, MEM_COMMIT, PAGE_READWRITE,
                                             eTaskCritical, &p),
             S_OK, E_OUTOFMEMORY);
        STEP(w, "VirtualFree(MEM_DECOMMIT 64 KiB of them)",
             IHostMemoryManager_VirtualFree(w->manager, (char *)w->regions[0].base + 64 * KIB, 64 * KIB, MEM_DECOMMIT),
             S_OK, HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER));
    }
    alloc_region(w, "VirtualAlloc(MEM_RESERVE|MEM_COMMIT 512 KiB, eAppDomainCritical)", 1, 512 * KIB,
                 MEM_RESERVE | MEM_COMMIT, eAppDomainCritical, (const HRESULT[]){ S_OK, END_OF_LIST });
    alloc_region(w, "VirtualAlloc(MEM_COMMIT 3 MiB at NULL, eProcessCritical)", 2, 3 * MIB, MEM_COMMIT,
                 eProcessCritical, (const HRESULT[]){ S_OK, END_OF_LIST });
    alloc_region(w, "VirtualAlloc(MEM_RESERVE|MEM_COMMIT 8 MiB past the limit, eTaskCritical)", 3, 8 * MIB,
                 MEM_RESERVE | MEM_COMMIT, eTaskCritical, (const HRESULT[]){ E_OUTOFMEMORY, END_OF_LIST });

    if (w->regions[1].live) {
        STEP(w, "VirtualQuery", IHostMemoryManager_VirtualQuery(w->manager, w->regions[1].base, &info, sizeof(info),
                                                                &written),
             S_OK, e_invalidarg);
        if (STEP(w, "VirtualProtect(PAGE_READONLY)",
                 IHostMemoryManager_VirtualProtect(w->manager, w->regions[1].base, 4096, PAGE_READONLY, &old),
                 S_OK, HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS)))
            STEP(w, "VirtualProtect(back)",
                 IHostMemoryManager_VirtualProtect(w->manager, w->regions[1].base, 4096, old, &old),
                 S_OK, HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS));
    }
    if (STEP(w, "GetMemoryLoad", IHostMemoryManager_GetMemoryLoad(w->manager, &load, &available), S_OK,
             e_invalidarg) && load > 100)
        problem(w, "GetMemoryLoad: load %lu", load);

    /* Notifications are level-triggered: a Low left before it was delivered is never
       told. The CLR takes its time to react; so does this one. */
    if (w->notified && !wait_for_notifications(&w->callback, 1))
        problem(w, "the Low did not come");
    /* Back under the low-water mark: High. */
    if (w->regions[2].live)
        STEP(w, "VirtualFree(MEM_DECOMMIT 3 MiB)",
             IHostMemoryManager_VirtualFree(w->manager, w->regions[2].base, 0, MEM_DECOMMIT), S_OK, e_invalidarg);
    if (w->notified && !wait_for_notifications(&w->callback, 2))
        problem(w, "the notifications did not come");

    /* The CLR's heap. A failing HeapAlloc is retried at the critical levels; the
       block table's growth is not. */
    alloc_block(w, "Alloc(100, eTaskCritical)", 0, 100, eTaskCritical, FALSE,
                (const HRESULT[]){ S_OK, E_OUTOFMEMORY, END_OF_LIST });
    alloc_block(w, "Alloc(5000, eAppDomainCritical)", 1, 5000, eAppDomainCritical, FALSE,
                (const HRESULT[]){ S_OK, E_OUTOFMEMORY, END_OF_LIST });
    alloc_block(w, "DebugAlloc(64, eProcessCritical)", 2, 64, eProcessCritical, TRUE,
                (const HRESULT[]){ S_OK, E_FAIL, END_OF_LIST });
    alloc_block(w, "Alloc(0, eTaskCritical)", 3, 0, eTaskCritical, FALSE,
                (const HRESULT[]){ S_OK, E_OUTOFMEMORY, END_OF_LIST });
    if (w->blocks[0].live && STEP(w, "Free(block)", IHostMalloc_Free(w->malloc, w->blocks[0].p), S_OK, e_invalidarg))
        w->blocks[0].live = FALSE;
    STEP(w, "Free(NULL)", IHostMalloc_Free(w->malloc, NULL), S_OK);

    /* A mapped view, as the CLR reports one. */
    w->view_size = 64 * KIB;
    if (STEP(w, "AcquiredVirtualAddressSpace", IHostMemoryManager_AcquiredVirtualAddressSpace(w->manager, w->view,
                                                                                             w->view_size),
             S_OK, E_OUTOFMEMORY)) {
        w->view_live = TRUE;
        if (STEP(w, "ReleasedVirtualAddressSpace", IHostMemoryManager_ReleasedVirtualAddressSpace(w->manager, w->view),
                 S_OK))
            w->view_live = FALSE;
    }

    /* The leak report lists exactly the live blocks. */
    for (i = 0; i < 4; i++)
        live_blocks += w->blocks[i].live;
    if (STEP(w, "HostMemEnumMallocBlocks", HostMemEnumMallocBlocks((IUnknown *)w->control, count_block, &listed), S_OK,
             E_OUTOFMEMORY) && listed != live_blocks)
        problem(w, "the leak report listed %u blocks of %u", listed, live_blocks);

    /* Give back the regions; a release the OS refuses leaves the region to the manager's end. */
    for (i = 0; i < 4; i++) {
        static const char *const names[4] = { "VirtualFree(MEM_RELEASE 1 MiB)", "VirtualFree(MEM_RELEASE 512 KiB)",
                                               "VirtualFree(MEM_RELEASE 3 MiB)", "VirtualFree(MEM_RELEASE 8 MiB)" };

        if (w->regions[i].live &&
            STEP(w, names[i], IHostMemoryManager_VirtualFree(w->manager, w->regions[i].base, 0, MEM_RELEASE), S_OK,
                 e_invalidarg))
            w->regions[i].live = FALSE;
    }
}

/* The release of everything; afterwards nothing of hostmem's may be left. */
static void release_workload(workload *w)
{
    os_call refused;
    void *refused_object = NULL;
    void *live_regions[4];
    unsigned i, n = 0;

    if (w->manager)
        check_books(w, w->steps[w->nsteps - 1].name);
    for (i = 0; i < 4; i++)
        if (w->regions[i].live)
            live_regions[n++] = w->regions[i].base;
    if (w->malloc && IHostMalloc_Release(w->malloc) != 0)
        problem(w, "the malloc kept a reference");
    if (w->manager && IHostMemoryManager_Release(w->manager) != 1)
        problem(w, "the manager lost the control's reference");
    if (w->control && IHostControl_Release(w->control) != 0)
        problem(w, "the control kept a reference");

    /* What the OS was made to refuse to free at the very end stays: it is the OS's
       refusal. The test frees it, then nothing else may be left. */
    refused = fault_last_failed(&refused_object);
    if (refused == OS_HEAP_DESTROY && os_live_objects(OS_OBJECT_HEAP) == 1 &&
        os_live_object_at(OS_OBJECT_HEAP, 0) == refused_object) {
        HeapDestroy(refused_object);
        os_forget_object(OS_OBJECT_HEAP, refused_object);
    }
    if (refused == OS_CLOSE_HANDLE) {
        os_object kind;

        for (kind = OS_OBJECT_THREAD; kind <= OS_OBJECT_RESOURCE_NOTIFICATION; kind++) {
            if (os_live_objects(kind) == 1 && os_live_object_at(kind, 0) == refused_object) {
                CloseHandle(refused_object);
                os_forget_object(kind, refused_object);
            }
        }
    }
    if (refused == OS_VIRTUAL_FREE && os_live_objects(OS_OBJECT_RESERVATION) == 1 &&
        os_live_object_at(OS_OBJECT_RESERVATION, 0) == refused_object) {
        VirtualFree(refused_object, 0, MEM_RELEASE);
        os_forget_object(OS_OBJECT_RESERVATION, refused_object);
    }

    if (!os_threads_ended(5000))
        problem(w, "the notifier thread did not end");
    if (os_live_objects(OS_OBJECT_HEAP) || os_live_objects(OS_OBJECT_THREAD) || os_live_objects(OS_OBJECT_EVENT) ||
        os_live_objects(OS_OBJECT_RESOURCE_NOTIFICATION) || os_live_objects(OS_OBJECT_RESERVATION))
        problem(w, "left behind: %u heaps, %u thread handles, %u events, %u resource notifications, %u reservations",
                os_live_objects(OS_OBJECT_HEAP), os_live_objects(OS_OBJECT_THREAD), os_live_objects(OS_OBJECT_EVENT),
                os_live_objects(OS_OBJECT_RESOURCE_NOTIFICATION), os_live_objects(OS_OBJECT_RESERVATION));
    for (i = 0; i < n; i++)
        if (os_page_state(live_regions[i]) != MEM_FREE)
            problem(w, "the region at %p outlived its manager", live_regions[i]);
    if (w->callback.refs)
        problem(w, "%ld callback references left", w->callback.refs);
}

/* The address the workload reports as a mapped view: somewhere in user space. */
static void *view_address(void)
{
    static char view[64 * 1024];
    return view;
}

/* One run, counting the calls of this thread (notifier_calls: of every other thread,
   that is hostmem's notifier), the n-th of them failing with `error` (n 0: none). The
   counts and the log of calls stay readable after it. */
static void run(workload *w, const workload *baseline, unsigned n, DWORD error, BOOL notifier_calls)
{
    memset(w, 0, sizeof(*w));
    w->baseline = baseline;
    w->view = view_address();
    fault_setup(NULL);
    fault_watch_thread(GetCurrentThreadId(), notifier_calls);
    if (n)
        fault_nth_call(n, error);
    w->fault = notifier_calls ? 0 : n;
    /* A wake-up the OS refused delays a notification until the next one. */
    w->notified = !n || notifier_calls;
    run_workload(w);
    release_workload(w);
    fault_teardown(NULL);
}

static const char *const call_names[OS_CALL_COUNT + 1] = {
    "VirtualAlloc", "VirtualFree", "VirtualQuery", "VirtualProtect", "GlobalMemoryStatusEx", "HeapCreate",
    "HeapDestroy", "HeapAlloc", "HeapFree", "CreateThread", "CreateEventW", "SetEvent", "WaitForSingleObject",
    "CloseHandle", "GetTickCount64", "Sleep", "CreateMemoryResourceNotification", "QueryMemoryResourceNotification",
    "GetEnvironmentVariableW", "(none)",
};

static workload baseline, faulted;
static os_call kinds[4096];

static void without_a_fault_the_workload_succeeds_and_notifies(void **state)
{
    unsigned i, total;
    (void)state;

    run(&baseline, NULL, 0, 0, FALSE);
    if (baseline.problems[0])
        fail_msg("%s", baseline.problems);
    for (i = 0; i < baseline.nsteps; i++)
        if (baseline.steps[i].hr != S_OK && baseline.steps[i].hr != E_NOINTERFACE &&
            strcmp(baseline.steps[i].name, "VirtualAlloc(MEM_RESERVE|MEM_COMMIT 8 MiB past the limit, eTaskCritical)"))
            fail_msg("%s: 0x%08lx", baseline.steps[i].name, (unsigned long)baseline.steps[i].hr);
    /* Low on the way up, High on the way down, on hostmem's own thread. */
    assert_true(baseline.callback.count >= 2);
    assert_int_equal(baseline.callback.states[0], eMemoryAvailableLow);
    assert_int_equal(baseline.callback.states[baseline.callback.count - 1], eMemoryAvailableHigh);
    assert_int_equal(escalations, 0);
    total = os_total_calls();
    assert_true(total > 50);
    assert_true(total < sizeof(kinds) / sizeof(kinds[0]));
}

static void a_fault_at_any_os_call_is_answered_right_and_leaks_nothing(void **state)
{
    unsigned n, total, failed_steps = 0, recovered = 0, wrong = 0;
    unsigned per_kind[OS_CALL_COUNT] = { 0 };
    (void)state;

    /* Everything the workload asks of the OS on its thread, the release included. */
    run(&baseline, NULL, 0, 0, FALSE);
    assert_string_equal(baseline.problems, "");
    total = os_total_calls();
    assert_true(total <= sizeof(kinds) / sizeof(kinds[0]));
    for (n = 1; n <= total; n++)
        kinds[n - 1] = os_call_kind_at(n);
    print_message("the workload makes %u OS calls on its thread\n", total);

    for (n = 1; n <= total; n++) {
        os_call kind = kinds[n - 1];
        unsigned i;

        run(&faulted, &baseline, n, os_realistic_error(kind), FALSE);
        if (os_call_kind_at(n) != kind)
            problem(&faulted, "call %u was %s, %s without the fault", n, call_names[os_call_kind_at(n)],
                    call_names[kind]);
        per_kind[kind]++;
        for (i = 0; i < faulted.nsteps; i++) {
            const step *s = &faulted.steps[i];

            if (n > s->first_call && n <= s->last_call) {
                if (s->hr == S_OK)
                    recovered++;
                else
                    failed_steps++;
            }
        }
        if (faulted.problems[0]) {
            print_error("call %u (%s) failing:\n%s", n, call_names[kind], faulted.problems);
            wrong++;
        }
    }
    for (n = 0; n < OS_CALL_COUNT; n++)
        if (per_kind[n])
            print_message("  %-34s failed %u times\n", call_names[n], per_kind[n]);
    print_message("%u runs: the failing step answered S_OK %u times, its documented failure %u times\n", total,
                  recovered, failed_steps);
    if (wrong)
        fail_msg("%u of %u runs went wrong (listed above)", wrong, total);
}

/* The notifier thread's own calls (its waits), each made to fail in turn. */
static void a_fault_in_the_notifier_thread_leaks_nothing(void **state)
{
    unsigned n, wrong = 0, fired = 0;
    (void)state;

    run(&baseline, NULL, 0, 0, FALSE);
    assert_string_equal(baseline.problems, "");
    for (n = 1; n <= 8; n++) {
        run(&faulted, &baseline, n, ERROR_INVALID_HANDLE, TRUE);
        /* How many calls the thread makes depends on how its wake-ups fall. */
        fired += os_total_calls() >= n;
        if (faulted.problems[0]) {
            print_error("the notifier's call %u failing:\n%s", n, faulted.problems);
            wrong++;
        }
    }
    print_message("a call of the notifier thread failed in %u runs of 8\n", fired);
    assert_true(fired >= 2); /* its first wait, and the one after the first notifications */
    if (wrong)
        fail_msg("%u runs went wrong (listed above)", wrong);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(without_a_fault_the_workload_succeeds_and_notifies),
        cmocka_unit_test(a_fault_at_any_os_call_is_answered_right_and_leaks_nothing),
        cmocka_unit_test(a_fault_in_the_notifier_thread_leaks_nothing),
    };

    return cmocka_run_group_tests_name("os_faults", tests, NULL, NULL);
}
