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

/* GetMemoryLoad's answer under a limit is committed / load_unit, capped at 100. The
   CLR's GC asks for it often, and a 64-bit division costs more than the OS's own answer
   (Wine answers from a cache in a few nanoseconds; on 32-bit it is a library call):
   both operands are shifted below 2^32, one 32x32 multiplication by a reciprocal (of
   the unit plus one, so it never overshoots by more than a step) lands within two of
   the quotient, and the two compare loops make it exact. */
void hm_limit_init_load(struct memory_manager *manager)
{
    uint64_t limit = manager->settings.commit_limit;
    uint32_t shift = 0;

    manager->load_unit = limit / 100 ? limit / 100 : 1;
    while (shift < 32 && (limit >> shift) > 0xFFFFFFFFu)
        shift++;
    manager->load_shift = shift;
    /* The unit shifted is at least 2^24 when shift > 0 (limit >= 2^32), and the unit
       itself otherwise: never 0. */
    manager->load_recip = (uint32_t)(((uint64_t)1 << 32) / ((manager->load_unit >> shift) + 1));
}

static DWORD load_percent(const struct memory_manager *manager, uint64_t committed)
{
    uint64_t unit = manager->load_unit;
    uint32_t q;

    /* committed < limit, so committed >> shift < 2^32 and the quotient is at most 100.
       Limits under 10000 bytes (a unit under 100) or over 2^62 (where 101 units would
       not fit in 64 bits) take the division. */
    if (unit < 100 || unit > ((uint64_t)1 << 56))
        q = (uint32_t)(committed / unit);
    else {
        q = (uint32_t)(((uint64_t)(uint32_t)(committed >> manager->load_shift) * manager->load_recip) >> 32);
        if (q > 101)
            q = 101;
        while (q && (uint64_t)q * unit > committed)
            q--;
        while (committed - (uint64_t)q * unit >= unit)
            q++;
    }
    return q > 100 ? 100 : (DWORD)q;
}

static HRESULT memory_load(struct memory_manager *manager, DWORD *load, SIZE_T *available)
{
    uint64_t limit = manager->settings.commit_limit, committed, room;
    MEMORYSTATUSEX status;

    if (!load || !available)
        return E_POINTER;
    *load = 0;
    *available = 0;
    status.dwLength = sizeof(status);
    if (!hm_os.GlobalMemoryStatusEx(&status))
        return hm_win32_error_to_hresult(GetLastError());
    if (limit) {
        /* Under a limit, the load is the share of the limit committed: that is how the
           limit reaches the CLR's GC, whose thresholds are loads (docs/clr-contract.md,
           "Memory load and the GC"). */
        committed = hm_ledger_committed_bytes(manager->ledger);
        room = committed < limit ? limit - committed : 0;
        if (room > status.ullAvailPhys)
            room = status.ullAvailPhys;
        *load = committed >= limit ? 100 : load_percent(manager, committed);
        *available = room > (uint64_t)SIZE_MAX ? SIZE_MAX : (SIZE_T)room;
        return S_OK;
    }
    *load = status.dwMemoryLoad;
    *available = status.ullAvailPhys > (DWORDLONG)SIZE_MAX ? SIZE_MAX : (SIZE_T)status.ullAvailPhys;
    return S_OK;
}

/* The vtable's entry (memory_manager.h). */
HRESULT WINAPI memory_manager_GetMemoryLoad(IHostMemoryManager *iface, DWORD *load, SIZE_T *available)
{
    struct memory_manager *manager = impl_from_IHostMemoryManager(iface);
    HRESULT hr = memory_load(manager, load, available);

    /* As VirtualProtect: never waits for the trace. */
    HM_TRACE_CALL(manager, FALSE, .method = "GetMemoryLoad", .present = HM_TRACE_HRESULT, .hr = hr);
    return hr;
}
