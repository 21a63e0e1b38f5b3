/*
 * The commit limit: the ceiling a request at each level may reach (the limit plus that
 * level's headroom), what happens after the commit charge moves (waiting retries are
 * woken, the notification state follows the water marks), the wait-and-retry of the
 * domain and process levels, the out-of-memory answer the policy gives, and the memory
 * load the CLR reads.
 *
 * The charge itself is taken in the ledger (lock-free, before the OS is asked) by
 * virtual.c; this file decides what the limit means.
 */
#include "memory_manager.h"

#include "core/hints.h"
#include "os.h"

void hm_limit_pressure_moved(struct memory_manager *manager)
{
    /* After a change the books are read again: a thread that changed them while this
       one decided sees the new state, or this one sees its books (pressure.h), so the
       last state decided is the one the last books call for. */
    while (hm_pressure_update(&manager->pressure, hm_ledger_committed_bytes(manager->ledger)) != HM_AVAILABLE_NONE)
        ;
    hm_notifier_post(&manager->notifier, hm_pressure_decision(&manager->pressure));
}

BOOL hm_limit_wait_for_memory(struct memory_manager *manager, EMemoryCriticalLevel level, SIZE_T bytes)
{
    uint64_t ceiling = hm_limit_ceiling(manager, level), epoch, start;
    BOOL limited = manager->settings.commit_limit != 0;

    /* The task level fails at once; a request that could never fit is not worth a wait. */
    if (level == eTaskCritical || !manager->settings.retry_timeout_ms || (limited && bytes > ceiling))
        return FALSE;

    if (limited) {
        if (hm_pressure_force_low(&manager->pressure, hm_ledger_committed_bytes(manager->ledger)))
            hm_notifier_post(&manager->notifier, hm_pressure_decision(&manager->pressure));
        epoch = 0;
    } else {
        atomic_fetch_add_explicit(&manager->epoch_waiters, 1, memory_order_seq_cst);
        epoch = atomic_load_explicit(&manager->freed_epoch, memory_order_seq_cst);
        hm_notifier_force_low(&manager->notifier);
    }

    start = hm_os.GetTickCount64();
    for (;;) {
        if (limited ? hm_ledger_committed_bytes(manager->ledger) <= ceiling - bytes
                    : atomic_load_explicit(&manager->freed_epoch, memory_order_acquire) != epoch)
            break;
        if (hm_os.GetTickCount64() - start >= manager->settings.retry_timeout_ms)
            break; /* one more try all the same */
        hm_os.Sleep(1);
    }
    if (!limited)
        atomic_fetch_sub_explicit(&manager->epoch_waiters, 1, memory_order_relaxed);
    return TRUE;
}

HRESULT hm_limit_out_of_memory(struct memory_manager *manager, EMemoryCriticalLevel level, SIZE_T bytes,
                               DWORD os_error, const char *method)
{
    HRESULT hr = (HRESULT)hm_policy_failure(&manager->settings.policy, (uint32_t)level);

    atomic_fetch_add_explicit(&manager->failures[level], 1, memory_order_relaxed);
    if (hr == E_FAIL)
        atomic_fetch_add_explicit(&manager->escalations, 1, memory_order_relaxed);
    if (hr == E_FAIL && !manager->trace)
        hm_limit_escalate(manager, level, bytes, os_error, method);
    SetLastError(os_error);
    return hr;
}

void hm_limit_escalate(struct memory_manager *manager, EMemoryCriticalLevel level, SIZE_T bytes, DWORD os_error,
                       const char *method)
{
    HOSTMEM_ESCALATION info;

    if (!manager->settings.escalation_callback)
        return;
    info.cbSize  = sizeof(info);
    info.level   = level;
    info.bytes   = bytes;
    info.osError = os_error;
    info.method  = method;
    info.kind    = HOSTMEM_ESCALATION_FAILED_REQUEST;
    manager->settings.escalation_callback(manager->settings.escalation_context, &info);
}

/* Out of line, as the hot rows are (memory_manager.h, HM_TRACE_OUT_OF_LINE). */
static HM_TRACE_OUT_OF_LINE void trace_load(struct memory_manager *manager, HRESULT hr)
{
    HM_TRACE_CALL(manager, FALSE, .method = "GetMemoryLoad", .present = HM_TRACE_HRESULT, .hr = hr);
}

/* The vtable's entry (memory_manager.h). Under a limit the load is the share of the
   limit committed: that is how the limit reaches the CLR's GC, whose thresholds are
   loads (docs/clr-contract.md, "Memory load and the GC"). It is read from the books on
   every call. The OS is asked only for what the limit does not decide, its available
   physical memory (available is the smaller of that and the limit's room), and at most
   once every HM_PHYSICAL_REFRESH_MS: the CLR has just asked it itself before it asks
   the host (GetProcessMemoryLoad), on Windows that is a system call, and the GC reads
   the load at every collection. Two threads may both refresh, and one may read the
   figure of the refresh before: either is a figure the OS gave within the period.
   Without a limit every call asks the OS and answers what it says. The hints make a
   limit with a fresh figure the straight line (BENCHMARKS.md, 5b). */
HRESULT WINAPI memory_manager_GetMemoryLoad(IHostMemoryManager *iface, DWORD *load, SIZE_T *available)
{
    struct memory_manager *manager = impl_from_IHostMemoryManager(iface);
    uint64_t limit = manager->settings.commit_limit, committed, room = UINT64_MAX, physical, now = 0;
    MEMORYSTATUSEX status;
    HRESULT hr = S_OK;

    if (HM_UNLIKELY(!load || !available)) {
        hr = E_POINTER;
        goto done;
    }
    if (HM_LIKELY(limit)) {
        committed = hm_ledger_committed_bytes(manager->ledger);
        room = committed < limit ? limit - committed : 0;
        *load = hm_load_percent(&manager->load_divisor, committed);
        now = hm_os.GetTickCount64();
        if (HM_LIKELY(now < atomic_load_explicit(&manager->physical_fresh_until, memory_order_acquire))) {
            physical = atomic_load_explicit(&manager->physical_available, memory_order_relaxed);
            goto answer;
        }
    }
    status.dwLength = sizeof(status);
    if (HM_UNLIKELY(!hm_os.GlobalMemoryStatusEx(&status))) {
        *load = 0;
        *available = 0;
        hr = hm_win32_error_to_hresult(GetLastError());
        goto done; /* and the next call asks again */
    }
    physical = status.ullAvailPhys;
    if (HM_LIKELY(limit)) {
        atomic_store_explicit(&manager->physical_available, physical, memory_order_relaxed);
        atomic_store_explicit(&manager->physical_fresh_until, now + HM_PHYSICAL_REFRESH_MS, memory_order_release);
    } else {
        *load = status.dwMemoryLoad;
    }
answer:
    if (room > physical)
        room = physical;
    *available = room > (uint64_t)SIZE_MAX ? SIZE_MAX : (SIZE_T)room;
done:
    /* As VirtualProtect: never waits for the trace. */
    if (HM_UNLIKELY(manager->trace != NULL))
        trace_load(manager, hr);
    return hr;
}
