/*
 * The CLR's virtual memory: IHostMemoryManager's VirtualAlloc, VirtualFree,
 * VirtualQuery and VirtualProtect, forwarded to the OS and booked in the ledger.
 *
 * Every commit is charged against the limit (limit.c) before the OS is asked, so a
 * refused request touches nothing; a region's lock orders its page bits with the OS
 * call, so concurrent commits and decommits in one region never make the books drift.
 * VirtualQuery takes no lock at all: the CLR may call it while other threads are
 * suspended (docs/clr-contract.md, "VirtualQuery must not wait").
 */
#include "memory_manager.h"

#include "os.h"

static HRESULT invalid_parameter(void)
{
    SetLastError(ERROR_INVALID_PARAMETER);
    return E_INVALIDARG;
}

/* What kernel32 refuses with ERROR_INVALID_PARAMETER whatever the memory
   (docs/clr-contract.md, "Return codes"), found before anything is charged: a bad
   argument is never an out-of-memory, and never reaches the policy. A protection of 0
   or a mix of base protections for a commit or reservation; an address or range past
   user space. MEM_RESET ignores the protection. */
static BOOL arguments_are_valid(const struct memory_manager *manager, void *address, SIZE_T size, DWORD type,
                                DWORD protect)
{
    uintptr_t start = (uintptr_t)address;
    DWORD base = protect & 0xFF;

    if ((type & (MEM_COMMIT | MEM_RESERVE)) && !(type & MEM_RESET) && (!base || (base & (base - 1))))
        return FALSE;
    if (address && (start > manager->max_address || (size && (start + size < start ||
                                                              start + size - 1 > manager->max_address))))
        return FALSE;
    return TRUE;
}

static SIZE_T round_up(SIZE_T value, SIZE_T unit)
{
    return (value + unit - 1) & ~(unit - 1);
}

/* An OS failure: "no memory" may be waited for and goes to the policy; anything else
   is the OS's own answer, with its last error. */
static HRESULT os_failure(DWORD os_error)
{
    if (hm_win32_error_is_out_of_memory(os_error))
        return HM_E_NO_MEMORY;
    SetLastError(os_error);
    return hm_win32_error_to_hresult(os_error);
}

/* MEM_RESERVE, or MEM_COMMIT at NULL (which the OS reserves too): a new region. The
   limits are charged before the OS is asked, so a refused request reserves nothing. */
static HRESULT reserve_region(struct memory_manager *manager, void *address, SIZE_T size, DWORD type,
                              DWORD protect, EMemoryCriticalLevel level, void **mem, DWORD *os_error)
{
    uintptr_t start = (uintptr_t)address;
    SIZE_T span;
    uint64_t charge;
    hm_region *region;
    void *base;

    if (!size || size > manager->max_request)
        return invalid_parameter();
    /* The OS rounds a reservation's address down to the allocation granularity. */
    if (address) {
        uintptr_t first = start & ~(uintptr_t)(manager->granularity - 1);
        if (start + size < start || start + size > UINTPTR_MAX - manager->page_size)
            return invalid_parameter();
        span = round_up((SIZE_T)(start + size - first), manager->page_size);
    } else {
        span = round_up(size, manager->page_size);
    }

    *os_error = ERROR_NOT_ENOUGH_MEMORY;
    if (!(region = hm_ledger_prepare_region(manager->ledger, span)))
        return HM_E_NO_MEMORY;
    hm_region_set_origin(region, protect, (unsigned)level); /* for HostMemEnumRegions */
    if (!hm_manager_charge_address_space(manager, span)) {
        hm_ledger_discard_region(manager->ledger, region);
        return HM_E_NO_MEMORY;
    }
    charge = (type & MEM_COMMIT) ? span : 0;
    if (charge && !hm_ledger_charge(manager->ledger, charge, hm_limit_ceiling(manager, level))) {
        hm_manager_uncharge_address_space(manager, span);
        hm_ledger_discard_region(manager->ledger, region);
        return HM_E_NO_MEMORY;
    }

    base = hm_os.VirtualAlloc(address, size, type, protect);
    if (!base || !hm_ledger_publish_region(manager->ledger, region, (uintptr_t)base, charge != 0)) {
        *os_error = base ? ERROR_NOT_ENOUGH_MEMORY : GetLastError();
        if (base)
            hm_os.VirtualFree(base, 0, MEM_RELEASE); /* the books could not take it */
        else
            hm_ledger_discard_region(manager->ledger, region);
        hm_ledger_uncharge(manager->ledger, charge);
        hm_manager_uncharge_address_space(manager, span);
        hm_limit_commit_changed(manager, FALSE);
        return os_failure(*os_error);
    }
    if (charge)
        hm_limit_commit_changed(manager, FALSE);
    *mem = base;
    return S_OK;
}

/* Right after an OS call: what the books read next, all at once. */
static inline void prefetch_books(const struct memory_manager *manager, const hm_region *region, const void *bits)
{
    HM_PREFETCH(region);
    HM_PREFETCH(bits);
    HM_PREFETCH(manager->ledger);
    HM_PREFETCH(&manager->pressure);
    HM_PREFETCH(&manager->settings);
}

/* MEM_COMMIT inside a region of ours (locked): the region's lock orders the page bits
   with the OS call, so concurrent commits and decommits never make the books drift. */
static HRESULT commit_in_region(struct memory_manager *manager, hm_region *region, void *address, SIZE_T size,
                                DWORD type, DWORD protect, EMemoryCriticalLevel level, void **mem,
                                DWORD *os_error)
{
    uintptr_t start = (uintptr_t)address;
    uintptr_t end = start + size < start ? UINTPTR_MAX : start + size;
    uint64_t charge = (uint64_t)hm_region_count_uncommitted(region, start, end) * manager->page_size;
    const void *bits = hm_region_bits_at(region, start);
    void *result;

    if (charge && !hm_ledger_charge(manager->ledger, charge, hm_limit_ceiling(manager, level))) {
        hm_ledger_unlock_region(region);
        *os_error = ERROR_NOT_ENOUGH_MEMORY;
        return HM_E_NO_MEMORY;
    }
    result = hm_os.VirtualAlloc(address, size, type, protect);
    prefetch_books(manager, region, bits);
    if (!result) {
        *os_error = GetLastError();
        hm_ledger_uncharge(manager->ledger, charge);
        hm_ledger_unlock_region(region);
        if (charge)
            hm_limit_commit_changed(manager, FALSE);
        return os_failure(*os_error);
    }
    hm_region_mark_committed(region, start, end);
    hm_ledger_unlock_region(region);
    if (charge)
        hm_limit_commit_changed(manager, FALSE);
    *mem = result;
    return S_OK;
}

static inline HRESULT try_virtual_alloc(struct memory_manager *manager, void *address, SIZE_T size, DWORD type,
                                 DWORD protect, EMemoryCriticalLevel level, void **mem, DWORD *os_error)
{
    hm_region *region;
    void *result;

    if ((type & MEM_RESERVE) || ((type & MEM_COMMIT) && !address))
        return reserve_region(manager, address, size, type, protect, level, mem, os_error);
    /* MEM_RESET commits nothing, whatever it comes with: Windows refuses MEM_COMMIT |
       MEM_RESET, Wine resets and answers yes without committing. */
    if ((type & MEM_COMMIT) && !(type & MEM_RESET) &&
        (region = hm_ledger_lock_region(manager->ledger, (uintptr_t)address)))
        return commit_in_region(manager, region, address, size, type, protect, level, mem, os_error);

    /* MEM_RESET and friends change no commit; a commit into memory that hostmem did not
       reserve (the CLR took a few blocks from the OS before SetHostControl) is the OS's
       to judge and is not booked. */
    if ((result = hm_os.VirtualAlloc(address, size, type, protect))) {
        *mem = result;
        return S_OK;
    }
    *os_error = GetLastError();
    return os_failure(*os_error);
}

static HRESULT virtual_alloc(struct memory_manager *manager, void *address, SIZE_T size, DWORD type, DWORD protect,
                             EMemoryCriticalLevel level, void **mem)
{
    DWORD os_error = 0;
    BOOL waited = FALSE;
    HRESULT hr;

    *mem = NULL;
    if (!hm_level_is_valid((uint32_t)level) || !arguments_are_valid(manager, address, size, type, protect))
        return invalid_parameter();
    /* One call site, so that the attempt is inlined here: see memory_manager.h. */
    for (;;) {
        hr = try_virtual_alloc(manager, address, size, type, protect, level, mem, &os_error);
        if (hr != HM_E_NO_MEMORY || waited || !hm_limit_wait_for_memory(manager, level, size))
            break;
        waited = TRUE;
    }
    if (hr == HM_E_NO_MEMORY)
        hr = hm_limit_out_of_memory(manager, level, size, os_error, "VirtualAlloc");
    return hr;
}

static HRESULT virtual_free(struct memory_manager *manager, void *address, SIZE_T size, DWORD free_type)
{
    uintptr_t start = (uintptr_t)address;
    hm_region *region;
    uint64_t freed; /* committed bytes */
    const void *bits;

    if (free_type != MEM_DECOMMIT && free_type != MEM_RELEASE)
        return invalid_parameter();
    if (!(region = hm_ledger_lock_region(manager->ledger, start)))
        return HOST_E_INVALIDOPERATION;

    /* A range that leaves the region is partly memory hostmem never gave out. */
    if (size && (start + size < start || start + size > hm_region_end(region))) {
        hm_ledger_unlock_region(region);
        return HOST_E_INVALIDOPERATION;
    }
    /* Size 0 is documented only at the region's base (decommit or release it all).
       A decommit of "the rest of the region" from inside it is refused here; a
       MEM_RELEASE away from the base goes to the OS, which refuses it with its own
       error (ERROR_INVALID_ADDRESS), so the CLR reads the OS's answer. */
    if (!size && free_type == MEM_DECOMMIT && start != hm_region_base(region)) {
        hm_ledger_unlock_region(region);
        return invalid_parameter();
    }

    bits = hm_region_bits_at(region, start);
    if (!hm_os.VirtualFree(address, size, free_type)) {
        DWORD error = GetLastError();
        hm_ledger_unlock_region(region);
        SetLastError(error);
        return hm_win32_error_to_hresult(error);
    }
    prefetch_books(manager, region, bits);
    if (free_type == MEM_RELEASE) {
        uint64_t span = hm_region_end(region) - hm_region_base(region);
        freed = hm_ledger_retire_region(manager->ledger, region);
        hm_manager_uncharge_address_space(manager, span);
    } else {
        freed = (uint64_t)hm_region_mark_decommitted(region, start, size ? start + size : hm_region_end(region)) *
                manager->page_size;
        hm_ledger_unlock_region(region);
        hm_ledger_uncharge(manager->ledger, freed);
    }
    if (freed)
        hm_limit_commit_changed(manager, TRUE);
    return S_OK;
}

static HRESULT virtual_query(const struct memory_manager *manager, void *address, void *buffer, SIZE_T length,
                         SIZE_T *result)
{
    SIZE_T written;

    if (!result)
        return E_POINTER;
    /* Nothing is ever mapped below the lowest application address, so the OS would
       fault writing there and answer ERROR_NOACCESS; Wine does, but faults inside its
       virtual-memory lock and keeps it (later thread exits hang). Answer as the OS. */
    if (length >= sizeof(MEMORY_BASIC_INFORMATION) && (uintptr_t)buffer < manager->min_address) {
        *result = 0;
        SetLastError(ERROR_NOACCESS);
        return HRESULT_FROM_WIN32(ERROR_NOACCESS);
    }
    written = hm_os.VirtualQuery(address, buffer, length);
    *result = written;
    if (!written) {
        DWORD error = GetLastError();
        SetLastError(error);
        return hm_win32_error_to_hresult(error);
    }
    return S_OK;
}

static HRESULT virtual_protect(void *address, SIZE_T size, DWORD protect, DWORD *old_protect)
{
    if (!old_protect)
        return E_POINTER;
    if (!hm_os.VirtualProtect(address, size, protect, old_protect))
        return hm_win32_error_to_hresult(GetLastError());
    return S_OK;
}

/* --- the vtable's entries (memory_manager.h) --- */

static HM_TRACE_OUT_OF_LINE void trace_alloc(struct memory_manager *manager, void *address, SIZE_T size, DWORD type,
                                             DWORD protect, EMemoryCriticalLevel level, HRESULT hr, void *result)
{
    HM_TRACE_CALL(manager, TRUE, .method = "VirtualAlloc", .present = HM_TRACE_LEVEL | HM_TRACE_ADDRESS | HM_TRACE_SIZE |
                  HM_TRACE_FLAGS | HM_TRACE_PROTECT | HM_TRACE_HRESULT | HM_TRACE_RESULT, .level = (DWORD)level,
                  .address = address, .size = size, .flags = type, .protect = protect, .hr = hr, .result = result);
}

static HM_TRACE_OUT_OF_LINE void trace_free(struct memory_manager *manager, void *address, SIZE_T size,
                                            DWORD free_type, HRESULT hr)
{
    HM_TRACE_CALL(manager, TRUE, .method = "VirtualFree", .present = HM_TRACE_ADDRESS | HM_TRACE_SIZE | HM_TRACE_FLAGS |
                  HM_TRACE_HRESULT, .address = address, .size = size, .flags = free_type, .hr = hr);
}

HRESULT WINAPI memory_manager_VirtualAlloc(IHostMemoryManager *iface, void *address, SIZE_T size, DWORD type,
                                           DWORD protect, EMemoryCriticalLevel level, void **mem)
{
    struct memory_manager *manager = impl_from_IHostMemoryManager(iface);
    HRESULT hr;

    if (!mem)
        return E_POINTER;
    hr = virtual_alloc(manager, address, size, type, protect, level, mem);
    if (manager->trace)
        trace_alloc(manager, address, size, type, protect, level, hr, *mem);
    return hr;
}

HRESULT WINAPI memory_manager_VirtualFree(IHostMemoryManager *iface, LPVOID address, SIZE_T size, DWORD free_type)
{
    struct memory_manager *manager = impl_from_IHostMemoryManager(iface);
    HRESULT hr = virtual_free(manager, address, size, free_type);

    if (manager->trace)
        trace_free(manager, address, size, free_type, hr);
    return hr;
}

HRESULT WINAPI memory_manager_VirtualQuery(IHostMemoryManager *iface, void *address, void *buffer, SIZE_T length, SIZE_T *result)
{
    struct memory_manager *manager = impl_from_IHostMemoryManager(iface);
    HRESULT hr = virtual_query(manager, address, buffer, length, result);

    /* Never waits for the trace either: a row is dropped rather than wait. */
    HM_TRACE_CALL(manager, FALSE, .method = "VirtualQuery", .present = HM_TRACE_ADDRESS | HM_TRACE_SIZE | HM_TRACE_HRESULT,
                  .address = address, .size = length, .hr = hr);
    return hr;
}

HRESULT WINAPI memory_manager_VirtualProtect(IHostMemoryManager *iface, void *address, SIZE_T size, DWORD protect, DWORD *old_protect)
{
    struct memory_manager *manager = impl_from_IHostMemoryManager(iface);
    HRESULT hr = virtual_protect(address, size, protect, old_protect);

    /* The CLR may call it while other threads are suspended: a row is dropped (and
       counted) rather than wait for the trace. */
    HM_TRACE_CALL(manager, FALSE, .method = "VirtualProtect", .present = HM_TRACE_ADDRESS | HM_TRACE_SIZE | HM_TRACE_PROTECT |
                  HM_TRACE_HRESULT, .address = address, .size = size, .protect = protect, .hr = hr);
    return hr;
}
