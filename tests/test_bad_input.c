/*
 * The bad-input matrix (issue 6 §1): every method of every interface hostmem
 * implements, and its four exports, against every kind of bad input that applies.
 *
 * One row of cases[] per case: the method, the case, the function that makes the call,
 * the HRESULT it must give, and the fixtures it runs on. Every row runs on a fresh
 * fixture (below) and must
 *   - give its HRESULT: the README's "What each call returns" / CONTRACT.md §3, or,
 *     where hostmem hands the call to the OS (FROM_OS), exactly what kernel32 itself
 *     answers for the same call on memory in the same state, with the same last error;
 *   - leave the books as they were: committed, reserved, malloc and mapped bytes, and
 *     the failure and escalation counts (bad input is never an out-of-memory);
 *   - create no heap, and crash nothing;
 * and once the fixture is released, no heap, thread, event or reservation of hostmem's
 * may be left, and every callback reference must be given back.
 *
 * `test_bad_input --markdown` prints the table that the README's "Bad input" section
 * lists (FROM_OS rows with the value kernel32 gives on the machine that runs it).
 */
#include "test_support.h"

#include <stdio.h>
#include <string.h>

#include "../tools/clr_managers.h"

#define KIB         ((SIZE_T)1024)
#define REGION_SIZE (256 * KIB) /* every region of the fixture: reserved ... */
#define COMMITTED   (64 * KIB)  /* ... with its first 64 KiB committed */
#define PAGE        ((SIZE_T)4096)
#define BLOCK_SIZE  ((SIZE_T)64)
#define SIZE_MAXIMUM (~(SIZE_T)0)
#define MBI_SIZE    sizeof(MEMORY_BASIC_INFORMATION)

/* "What kernel32 answers": no call ever returns this value. */
#define FROM_OS ((HRESULT)0x7FFFFFFF)

/* Wild addresses. */
#define WILD_1      ((ULONG_PTR)0x1)
#define WILD_10     ((ULONG_PTR)0x10)
#define WILD_TOP    ((ULONG_PTR)-4096)
#ifdef _WIN64
#define WILD_KERNEL ((ULONG_PTR)0xFFFF800000000000ull) /* the start of x64 kernel space */
#define WILD_SHARED ((ULONG_PTR)0xFFFFF78000000000ull) /* KUSER_SHARED_DATA, kernel side */
#else
#define WILD_KERNEL ((ULONG_PTR)0x80000000u)
#define WILD_SHARED ((ULONG_PTR)0xFFDF0000u)
#endif

static const GUID IID_made_up = { 0x6d1c2b3a, 0x8f4e, 0x4b5d, { 0x9a, 0x1e, 0x2c, 0x3d, 0x4e, 0x5f, 0x60, 0x71 } };

/* --- the fixture --------------------------------------------------------------------- */

/* What a row runs on. */
enum {
    FX_FULL         = 1, /* host control, manager and mallocs all held */
    FX_CONTROL_GONE = 2, /* the host control released: the CLR's manager reference remains */
    FX_MALLOC_ONLY  = 4, /* the malloc alone keeps its manager alive */
};
#define ON_CONTROL FX_FULL
#define ON_EXPORT  FX_FULL
#define ON_MANAGER (FX_FULL | FX_CONTROL_GONE)
#define ON_MALLOC  (FX_FULL | FX_CONTROL_GONE | FX_MALLOC_ONLY)

typedef struct test_callback {
    ICLRMemoryNotificationCallback iface;
    LONG refs; /* held by hostmem */
} test_callback;

static ULONG WINAPI callback_AddRef(ICLRMemoryNotificationCallback *iface)
{
    return (ULONG)InterlockedIncrement(&CONTAINING_RECORD(iface, test_callback, iface)->refs);
}
static ULONG WINAPI callback_Release(ICLRMemoryNotificationCallback *iface)
{
    return (ULONG)InterlockedDecrement(&CONTAINING_RECORD(iface, test_callback, iface)->refs);
}
static HRESULT WINAPI callback_QueryInterface(ICLRMemoryNotificationCallback *iface, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ICLRMemoryNotificationCallback)) {
        *ppv = iface;
        callback_AddRef(iface);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}
static HRESULT WINAPI callback_OnMemoryNotification(ICLRMemoryNotificationCallback *iface, EMemoryAvailable state)
{
    (void)iface;
    (void)state;
    return S_OK;
}
static ICLRMemoryNotificationCallbackVtbl callback_vtbl = {
    callback_QueryInterface, callback_AddRef, callback_Release, callback_OnMemoryNotification,
};

/* Somebody else's COM object. */
static HRESULT WINAPI foreign_QueryInterface(IUnknown *iface, REFIID riid, void **ppv)
{
    (void)riid;
    *ppv = iface;
    return S_OK;
}
static ULONG WINAPI foreign_AddRef(IUnknown *iface) { (void)iface; return 2; }
static ULONG WINAPI foreign_Release(IUnknown *iface) { (void)iface; return 1; }
static IUnknownVtbl foreign_vtbl = { foreign_QueryInterface, foreign_AddRef, foreign_Release };
static IUnknown foreign_object = { &foreign_vtbl };

typedef struct fixture {
    unsigned            kind;
    IHostControl       *control;       /* NULL once released */
    IHostMemoryManager *manager;       /* in FX_MALLOC_ONLY the test holds no reference of its own */
    BOOL                own_manager;   /* the test still holds its manager reference */
    IHostMalloc        *malloc;
    IHostMalloc        *other_malloc;  /* the same manager's; NULL once released */
    IHostMemoryManager *other_manager;
    IHostMalloc        *foreign_malloc; /* other_manager's */
    char *region;           /* ours */
    char *decommitted;      /* ours: its 64 KiB were committed, then decommitted */
    char *released;         /* was ours, released */
    char *other_region;     /* other_manager's */
    char *os_region;        /* kernel32's */
    char *twin_region;      /* kernel32's, in the state of region, other_region and os_region */
    char *twin_decommitted; /* kernel32's, in the state of decommitted */
    void *block, *freed_block, *other_block, *foreign_block;
    void *heap_block;       /* the process heap's, zeroed */
    test_callback callback;
    DWORD os_error;         /* what kernel32 left in GetLastError (FROM_OS rows) */
    DWORD last_error;       /* what hostmem left */
} fixture;

typedef enum where {
    AT_NULL, AT_ABSOLUTE, AT_REGION, AT_DECOMMITTED, AT_RELEASED, AT_OTHER_REGION, AT_OS_REGION,
    AT_HEAP_BLOCK, AT_BLOCK, AT_FREED_BLOCK, AT_OTHER_BLOCK, AT_FOREIGN_BLOCK,
} where;

static void *address_of(const fixture *fx, where at, ULONG_PTR offset)
{
    char *base = NULL;

    switch (at) {
    case AT_NULL:          base = NULL; break;
    case AT_ABSOLUTE:      return (void *)offset;
    case AT_REGION:        base = fx->region; break;
    case AT_DECOMMITTED:   base = fx->decommitted; break;
    case AT_RELEASED:      base = fx->released; break;
    case AT_OTHER_REGION:  base = fx->other_region; break;
    case AT_OS_REGION:     base = fx->os_region; break;
    case AT_HEAP_BLOCK:    base = fx->heap_block; break;
    case AT_BLOCK:         base = fx->block; break;
    case AT_FREED_BLOCK:   base = fx->freed_block; break;
    case AT_OTHER_BLOCK:   base = fx->other_block; break;
    case AT_FOREIGN_BLOCK: base = fx->foreign_block; break;
    }
    return base + offset;
}

/* Where kernel32 gets the same call for reference: memory of kernel32's own in the
   same state, or the very address when hostmem owns nothing there. */
static void *twin_of(const fixture *fx, where at, ULONG_PTR offset)
{
    switch (at) {
    case AT_REGION:
    case AT_OTHER_REGION:
    case AT_OS_REGION:    return fx->twin_region + offset;
    case AT_DECOMMITTED:  return fx->twin_decommitted + offset;
    default:              return address_of(fx, at, offset);
    }
}

static void *hm_region(IHostMemoryManager *manager, BOOL decommit)
{
    void *base = NULL, *p = NULL;

    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, REGION_SIZE, MEM_RESERVE, PAGE_READWRITE,
                                                     eTaskCritical, &base), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, base, COMMITTED, MEM_COMMIT, PAGE_READWRITE,
                                                     eTaskCritical, &p), S_OK);
    memset(base, 0x5a, COMMITTED);
    if (decommit)
        assert_int_equal(IHostMemoryManager_VirtualFree(manager, base, COMMITTED, MEM_DECOMMIT), S_OK);
    return base;
}

static char *os_region(BOOL decommit)
{
    char *base = VirtualAlloc(NULL, REGION_SIZE, MEM_RESERVE, PAGE_READWRITE);

    assert_non_null(base);
    assert_non_null(VirtualAlloc(base, COMMITTED, MEM_COMMIT, PAGE_READWRITE));
    memset(base, 0x5a, COMMITTED);
    if (decommit)
        assert_true(VirtualFree(base, COMMITTED, MEM_DECOMMIT));
    return base;
}

static void *hm_block(IHostMalloc *malloc)
{
    void *p = NULL;

    assert_int_equal(IHostMalloc_Alloc(malloc, BLOCK_SIZE, eTaskCritical, &p), S_OK);
    memset(p, 0xa5, BLOCK_SIZE);
    return p;
}

static void fixture_setup(fixture *fx, unsigned kind)
{
    fault_setup(NULL); /* tracks hostmem's heaps, threads, events and reservations */
    memset(fx, 0, sizeof(*fx));
    fx->kind = kind;
    fx->callback.iface.lpVtbl = &callback_vtbl;

    /* As the CLR gets them in SetHostControl (CONTRACT.md §1). */
    assert_int_equal(HostMemCreateHostControl(NULL, &fx->control), S_OK);
    assert_int_equal(IHostControl_GetHostManager(fx->control, &IID_IHostMemoryManager, (void **)&fx->manager), S_OK);
    fx->own_manager = TRUE;
    assert_int_equal(IHostMemoryManager_CreateMalloc(fx->manager, MALLOC_THREADSAFE, &fx->malloc), S_OK);
    assert_int_equal(IHostMemoryManager_CreateMalloc(fx->manager, MALLOC_THREADSAFE, &fx->other_malloc), S_OK);
    fx->block = hm_block(fx->malloc);
    fx->freed_block = hm_block(fx->malloc);
    assert_int_equal(IHostMalloc_Free(fx->malloc, fx->freed_block), S_OK);
    fx->other_block = hm_block(fx->other_malloc);
    fx->region = hm_region(fx->manager, FALSE);
    fx->decommitted = hm_region(fx->manager, TRUE);

    fx->other_manager = new_manager(NULL);
    assert_int_equal(IHostMemoryManager_CreateMalloc(fx->other_manager, MALLOC_THREADSAFE, &fx->foreign_malloc),
                     S_OK);
    fx->foreign_block = hm_block(fx->foreign_malloc);
    fx->other_region = hm_region(fx->other_manager, FALSE);

    fx->os_region = os_region(FALSE);
    fx->twin_region = os_region(FALSE);
    fx->twin_decommitted = os_region(TRUE);
    fx->heap_block = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, BLOCK_SIZE);
    assert_non_null(fx->heap_block);

    /* Last, so that nothing of the fixture's lands where it was. */
    fx->released = hm_region(fx->manager, FALSE);
    assert_int_equal(IHostMemoryManager_VirtualFree(fx->manager, fx->released, 0, MEM_RELEASE), S_OK);

    if (kind & (FX_CONTROL_GONE | FX_MALLOC_ONLY)) {
        assert_int_equal(IHostControl_Release(fx->control), 0);
        fx->control = NULL;
    }
    if (kind & FX_MALLOC_ONLY) {
        assert_int_equal(IHostMalloc_Release(fx->other_malloc), 0);
        fx->other_malloc = NULL;
        assert_int_equal(IHostMemoryManager_Release(fx->manager), 1); /* the malloc's */
        fx->own_manager = FALSE;
    }
}

/* Releases everything; hostmem must have given back all it took from the OS. */
static void fixture_teardown(fixture *fx)
{
    IHostMalloc_Release(fx->foreign_malloc);
    release_last((IUnknown *)fx->other_manager);
    if (fx->other_malloc)
        IHostMalloc_Release(fx->other_malloc);
    if (fx->control)
        IHostControl_Release(fx->control);
    if (fx->own_manager)
        IHostMemoryManager_Release(fx->manager);
    release_last((IUnknown *)fx->malloc); /* the last reference in every kind of fixture */

    assert_int_equal(fx->callback.refs, 0);
    assert_int_equal(os_live_objects(OS_OBJECT_HEAP), 0);
    assert_int_equal(os_live_objects(OS_OBJECT_THREAD), 0);
    assert_int_equal(os_live_objects(OS_OBJECT_EVENT), 0);
    assert_int_equal(os_live_objects(OS_OBJECT_RESOURCE_NOTIFICATION), 0);
    assert_int_equal(os_live_objects(OS_OBJECT_RESERVATION), 0);
    assert_int_equal(os_page_state(fx->region), MEM_FREE);
    assert_int_equal(os_page_state(fx->other_region), MEM_FREE);
    assert_true(os_threads_ended(5000));
    fault_teardown(NULL);

    assert_true(VirtualFree(fx->os_region, 0, MEM_RELEASE));
    assert_true(VirtualFree(fx->twin_region, 0, MEM_RELEASE));
    assert_true(VirtualFree(fx->twin_decommitted, 0, MEM_RELEASE));
    assert_true(HeapFree(GetProcessHeap(), 0, fx->heap_block));
}

static HOSTMEM_STATS books_of(const fixture *fx)
{
    HOSTMEM_STATS stats;

    memset(&stats, 0, sizeof(stats));
    stats.cbSize = sizeof(stats);
    /* In FX_MALLOC_ONLY the malloc's reference keeps the manager alive. */
    assert_int_equal(HostMemGetStats((IUnknown *)fx->manager, &stats), S_OK);
    return stats;
}

/* The HRESULT hostmem gives for an OS failure (README): E_UNEXPECTED for a silent one. */
static HRESULT os_result(BOOL ok, fixture *fx)
{
    fx->os_error = ok ? 0 : GetLastError();
    if (ok)
        return S_OK;
    return fx->os_error ? HRESULT_FROM_WIN32(fx->os_error) : E_UNEXPECTED;
}

/* --- the rows ------------------------------------------------------------------------ */

typedef struct bad_case bad_case;
typedef HRESULT (*call_fn)(fixture *fx, const bad_case *c);

struct bad_case {
    const char *method;
    const char *name;     /* the case, as the README lists it */
    call_fn     call;     /* makes the call through hostmem */
    HRESULT     expected; /* FROM_OS: what `os` answers */
    call_fn     os;       /* makes the same call through kernel32 (FROM_OS rows) */
    unsigned    on;       /* FX_* */
    /* arguments of the calls that take them */
    where       at;
    ULONG_PTR   offset;
    SIZE_T      size;
    DWORD       flags;    /* allocation or free type, malloc type, new protection, buffer kind */
    DWORD       protect;
    DWORD       level;
};

/* --- IHostControl --- */

static HRESULT control_qi_null_out(fixture *fx, const bad_case *c)
{
    (void)c;
    return IHostControl_QueryInterface(fx->control, &IID_IUnknown, NULL);
}

static HRESULT control_qi(fixture *fx, const bad_case *c)
{
    static const IID *iids[] = { NULL, &IID_IHostMemoryManager, &IID_IHostMalloc, &IID_made_up };
    void *object = (void *)1;
    HRESULT hr = IHostControl_QueryInterface(fx->control, iids[c->flags], &object);

    assert_null(object);
    return hr;
}

static HRESULT control_get_manager_null_out(fixture *fx, const bad_case *c)
{
    (void)c;
    return IHostControl_GetHostManager(fx->control, &IID_IHostMemoryManager, NULL);
}

static HRESULT control_get_manager(fixture *fx, const bad_case *c)
{
    static const IID *iids[] = { NULL, &IID_IUnknown, &IID_IHostControl, &IID_IHostMalloc,
                                 &clr_other_managers[0].iid, &IID_made_up };
    void *object = (void *)1;
    HRESULT hr = IHostControl_GetHostManager(fx->control, iids[c->flags], &object);

    assert_null(object);
    return hr;
}

static HRESULT control_set_domain_manager(fixture *fx, const bad_case *c)
{
    return IHostControl_SetAppDomainManager(fx->control, c->flags, c->size ? &foreign_object : NULL);
}

/* --- IHostMemoryManager --- */

static HRESULT manager_qi_null_out(fixture *fx, const bad_case *c)
{
    (void)c;
    return IHostMemoryManager_QueryInterface(fx->manager, &IID_IUnknown, NULL);
}

static HRESULT manager_qi(fixture *fx, const bad_case *c)
{
    static const IID *iids[] = { NULL, &IID_IHostControl, &IID_IHostMalloc, &IID_made_up };
    void *object = (void *)1;
    HRESULT hr = IHostMemoryManager_QueryInterface(fx->manager, iids[c->flags], &object);

    assert_null(object);
    return hr;
}

static HRESULT create_malloc_null_out(fixture *fx, const bad_case *c)
{
    return IHostMemoryManager_CreateMalloc(fx->manager, c->flags, NULL);
}

static HRESULT create_malloc(fixture *fx, const bad_case *c)
{
    IHostMalloc *malloc = (IHostMalloc *)1;
    HRESULT hr = IHostMemoryManager_CreateMalloc(fx->manager, c->flags, &malloc);

    assert_null(malloc);
    return hr;
}

static HRESULT virtual_alloc_null_out(fixture *fx, const bad_case *c)
{
    return IHostMemoryManager_VirtualAlloc(fx->manager, address_of(fx, c->at, c->offset), c->size, c->flags,
                                           c->protect, (EMemoryCriticalLevel)c->level, NULL);
}

static HRESULT virtual_alloc(fixture *fx, const bad_case *c)
{
    void *p = (void *)1;
    HRESULT hr = IHostMemoryManager_VirtualAlloc(fx->manager, address_of(fx, c->at, c->offset), c->size, c->flags,
                                                 c->protect, (EMemoryCriticalLevel)c->level, &p);

    fx->last_error = GetLastError();
    if (hr == S_OK)
        assert_non_null(p);
    else
        assert_null(p);
    return hr;
}

static HRESULT os_virtual_alloc(fixture *fx, const bad_case *c)
{
    return os_result(VirtualAlloc(twin_of(fx, c->at, c->offset), c->size, c->flags, c->protect) != NULL, fx);
}

/* A commit into memory hostmem did not reserve: the OS's to judge, not booked. The
   pages go back through kernel32, as they came. */
static HRESULT virtual_alloc_foreign_commit(fixture *fx, const bad_case *c)
{
    void *address = address_of(fx, c->at, c->offset);
    HRESULT hr = virtual_alloc(fx, c);

    if (hr == S_OK) {
        assert_int_equal(os_page_state(address), MEM_COMMIT);
        assert_true(VirtualFree(address, c->size, MEM_DECOMMIT));
    }
    return hr;
}

static HRESULT os_virtual_alloc_then_undo(fixture *fx, const bad_case *c)
{
    HRESULT hr = os_virtual_alloc(fx, c);

    if (hr == S_OK)
        assert_true(VirtualFree(twin_of(fx, c->at, c->offset), c->size, MEM_DECOMMIT));
    return hr;
}

static HRESULT virtual_free(fixture *fx, const bad_case *c)
{
    void *address = address_of(fx, c->at, c->offset);
    DWORD state = os_page_state(address);
    HRESULT hr = IHostMemoryManager_VirtualFree(fx->manager, address, c->size, c->flags);

    fx->last_error = GetLastError();
    /* Refused: nothing freed, per the OS. */
    if (hr != S_OK)
        assert_int_equal(os_page_state(address), state);
    return hr;
}

static HRESULT os_virtual_free(fixture *fx, const bad_case *c)
{
    return os_result(VirtualFree(twin_of(fx, c->at, c->offset), c->size, c->flags), fx);
}

enum { BUFFER_OK, BUFFER_NULL, BUFFER_WILD };

static void *query_buffer(const bad_case *c, MEMORY_BASIC_INFORMATION *info)
{
    return c->flags == BUFFER_OK ? (void *)info : c->flags == BUFFER_NULL ? NULL : (void *)WILD_10;
}

static HRESULT virtual_query_null_result(fixture *fx, const bad_case *c)
{
    MEMORY_BASIC_INFORMATION info;

    return IHostMemoryManager_VirtualQuery(fx->manager, address_of(fx, c->at, c->offset), &info, MBI_SIZE, NULL);
}

static SIZE_T os_query_written;

static HRESULT virtual_query(fixture *fx, const bad_case *c)
{
    MEMORY_BASIC_INFORMATION info;
    SIZE_T written = (SIZE_T)-1;
    HRESULT hr = IHostMemoryManager_VirtualQuery(fx->manager, address_of(fx, c->at, c->offset),
                                                 query_buffer(c, &info), c->size, &written);

    fx->last_error = GetLastError();
    if (c->expected == FROM_OS)
        assert_int_equal(written, os_query_written);
    if (hr == HRESULT_FROM_WIN32(ERROR_NOACCESS))
        assert_int_equal(fx->last_error, ERROR_NOACCESS);
    if (hr != S_OK)
        assert_int_equal(written, 0);
    return hr;
}

static HRESULT os_virtual_query(fixture *fx, const bad_case *c)
{
    MEMORY_BASIC_INFORMATION info;

    os_query_written = VirtualQuery(twin_of(fx, c->at, c->offset), query_buffer(c, &info), c->size);
    return os_result(os_query_written != 0, fx);
}

static HRESULT virtual_protect_null_old(fixture *fx, const bad_case *c)
{
    return IHostMemoryManager_VirtualProtect(fx->manager, address_of(fx, c->at, c->offset), c->size, c->flags, NULL);
}

static HRESULT virtual_protect(fixture *fx, const bad_case *c)
{
    DWORD old = 0;
    HRESULT hr = IHostMemoryManager_VirtualProtect(fx->manager, address_of(fx, c->at, c->offset), c->size,
                                                   c->flags, &old);

    fx->last_error = GetLastError();
    return hr;
}

static HRESULT os_virtual_protect(fixture *fx, const bad_case *c)
{
    DWORD old = 0;

    return os_result(VirtualProtect(twin_of(fx, c->at, c->offset), c->size, c->flags, &old), fx);
}

static HRESULT memory_load(fixture *fx, const bad_case *c)
{
    DWORD load = 1;
    SIZE_T available = 1;

    return IHostMemoryManager_GetMemoryLoad(fx->manager, (c->flags & 1) ? NULL : &load,
                                            (c->flags & 2) ? NULL : &available);
}

static HRESULT register_null(fixture *fx, const bad_case *c)
{
    (void)c;
    return IHostMemoryManager_RegisterMemoryNotificationCallback(fx->manager, NULL);
}

static HRESULT register_then_null(fixture *fx, const bad_case *c)
{
    (void)c;
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(fx->manager, &fx->callback.iface), S_OK);
    assert_int_equal(fx->callback.refs, 1);
    return IHostMemoryManager_RegisterMemoryNotificationCallback(fx->manager, NULL);
}

static HRESULT register_twice(fixture *fx, const bad_case *c)
{
    HRESULT hr;

    (void)c;
    assert_int_equal(IHostMemoryManager_RegisterMemoryNotificationCallback(fx->manager, &fx->callback.iface), S_OK);
    hr = IHostMemoryManager_RegisterMemoryNotificationCallback(fx->manager, &fx->callback.iface);
    assert_int_equal(fx->callback.refs, 1); /* released at the manager's end: see fixture_teardown */
    return hr;
}

static HRESULT needs_address_space(fixture *fx, const bad_case *c)
{
    return IHostMemoryManager_NeedsVirtualAddressSpace(fx->manager, address_of(fx, c->at, c->offset), c->size);
}

static HRESULT acquired_address_space(fixture *fx, const bad_case *c)
{
    return IHostMemoryManager_AcquiredVirtualAddressSpace(fx->manager, address_of(fx, c->at, c->offset), c->size);
}

static HRESULT released_address_space(fixture *fx, const bad_case *c)
{
    return IHostMemoryManager_ReleasedVirtualAddressSpace(fx->manager, address_of(fx, c->at, c->offset));
}

static HRESULT released_address_space_twice(fixture *fx, const bad_case *c)
{
    void *view = address_of(fx, c->at, c->offset);

    assert_int_equal(IHostMemoryManager_AcquiredVirtualAddressSpace(fx->manager, view, c->size), S_OK);
    assert_int_equal(IHostMemoryManager_ReleasedVirtualAddressSpace(fx->manager, view), S_OK);
    return IHostMemoryManager_ReleasedVirtualAddressSpace(fx->manager, view);
}

/* --- IHostMalloc --- */

static HRESULT malloc_qi_null_out(fixture *fx, const bad_case *c)
{
    (void)c;
    return IHostMalloc_QueryInterface(fx->malloc, &IID_IUnknown, NULL);
}

static HRESULT malloc_qi(fixture *fx, const bad_case *c)
{
    static const IID *iids[] = { NULL, &IID_IHostMemoryManager, &IID_IHostControl, &IID_made_up };
    void *object = (void *)1;
    HRESULT hr = IHostMalloc_QueryInterface(fx->malloc, iids[c->flags], &object);

    assert_null(object);
    return hr;
}

static HRESULT malloc_alloc(fixture *fx, const bad_case *c)
{
    void *p = (void *)1;
    HRESULT hr = IHostMalloc_Alloc(fx->malloc, c->size, (EMemoryCriticalLevel)c->level, c->flags ? NULL : &p);

    if (!c->flags)
        assert_null(p);
    return hr;
}

static HRESULT malloc_debug_alloc(fixture *fx, const bad_case *c)
{
    static char file[] = __FILE__;
    void *p = (void *)1;
    HRESULT hr = IHostMalloc_DebugAlloc(fx->malloc, c->size, (EMemoryCriticalLevel)c->level,
                                        c->protect ? NULL : file, -1, c->flags ? NULL : &p);

    if (!c->flags)
        assert_null(p);
    return hr;
}

static HRESULT malloc_free(fixture *fx, const bad_case *c)
{
    void *p = address_of(fx, c->at, c->offset);
    HRESULT hr = IHostMalloc_Free(fx->malloc, p);

    /* Refused without being touched: a live block still holds its bytes (another
       malloc's block is gone with its malloc in FX_MALLOC_ONLY). */
    if (c->at == AT_BLOCK || c->at == AT_FOREIGN_BLOCK || (c->at == AT_OTHER_BLOCK && fx->other_malloc))
        assert_int_equal(*(unsigned char *)address_of(fx, c->at, 0), 0xa5);
    return hr;
}

/* --- the exports --- */

/* A config with one thing wrong; which, by c->flags. */
enum { CFG_SIZE, CFG_ACTION0, CFG_ACTION2, CFG_RETRY, CFG_HIGH, CFG_LOW_EQUALS_HIGH, CFG_LOW_ABOVE_HIGH, CFG_HIGH_MAX };

static HOSTMEM_CONFIG bad_config(const bad_case *c)
{
    HOSTMEM_CONFIG config;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    switch (c->flags) {
    case CFG_SIZE:            config.cbSize = (DWORD)c->size; break;
    case CFG_ACTION0:         config.failureAction[0] = (DWORD)c->size; break;
    case CFG_ACTION2:         config.failureAction[2] = (DWORD)c->size; break;
    case CFG_RETRY:           config.retryTimeoutMs = (DWORD)c->size; break;
    case CFG_HIGH:            config.highWaterPercent = (DWORD)c->size; break;
    case CFG_LOW_EQUALS_HIGH: config.highWaterPercent = config.lowWaterPercent = (DWORD)c->size; break;
    case CFG_LOW_ABOVE_HIGH:  config.highWaterPercent = 50; config.lowWaterPercent = (DWORD)c->size; break;
    case CFG_HIGH_MAX:        config.highWaterPercent = (DWORD)c->size; config.lowWaterPercent = 10; break;
    }
    return config;
}

static HRESULT create_control_null_out(fixture *fx, const bad_case *c)
{
    (void)fx;
    (void)c;
    return HostMemCreateHostControl(NULL, NULL);
}

static HRESULT create_control(fixture *fx, const bad_case *c)
{
    HOSTMEM_CONFIG config = bad_config(c);
    IHostControl *control = (IHostControl *)1;
    HRESULT hr = HostMemCreateHostControl(&config, &control);

    (void)fx;
    assert_null(control);
    return hr;
}

static HRESULT create_manager_null_out(fixture *fx, const bad_case *c)
{
    (void)fx;
    (void)c;
    return HostMemCreateMemoryManager(NULL, NULL);
}

static HRESULT create_manager(fixture *fx, const bad_case *c)
{
    HOSTMEM_CONFIG config = bad_config(c);
    IHostMemoryManager *manager = (IHostMemoryManager *)1;
    HRESULT hr = HostMemCreateMemoryManager(&config, &manager);

    (void)fx;
    assert_null(manager);
    return hr;
}

/* c->flags: which object; c->size: cbSize (0: sizeof(HOSTMEM_STATS), STATS_CB_ZERO: 0);
   c->level: 1 for a NULL stats or callback. */
#define STATS_CB_ZERO SIZE_MAXIMUM
enum { OBJ_NULL, OBJ_CONTROL, OBJ_MALLOC, OBJ_FOREIGN_COM, OBJ_HEAP_BLOCK, OBJ_OS_MEMORY };

static IUnknown *object_of(fixture *fx, DWORD which)
{
    switch (which) {
    case OBJ_CONTROL:     return (IUnknown *)fx->control;
    case OBJ_MALLOC:      return (IUnknown *)fx->malloc;
    case OBJ_FOREIGN_COM: return &foreign_object;
    case OBJ_HEAP_BLOCK:  return fx->heap_block;
    case OBJ_OS_MEMORY:   return (IUnknown *)fx->os_region;
    default:              return NULL;
    }
}

static HRESULT get_stats(fixture *fx, const bad_case *c)
{
    HOSTMEM_STATS stats;
    HRESULT hr;

    memset(&stats, 0xcc, sizeof(stats));
    stats.cbSize = c->size == STATS_CB_ZERO ? 0 : c->size ? (DWORD)c->size : sizeof(stats);
    hr = HostMemGetStats(object_of(fx, c->flags), c->level ? NULL : &stats);
    /* A refusal writes nothing. */
    assert_int_equal(stats.committedBytes, 0xccccccccccccccccull);
    return hr;
}

static BOOL WINAPI count_block(void *context, const HOSTMEM_BLOCK_INFO *block)
{
    (void)block;
    ++*(unsigned *)context;
    return TRUE;
}

static HRESULT enum_blocks(fixture *fx, const bad_case *c)
{
    unsigned calls = 0;
    HRESULT hr = HostMemEnumMallocBlocks(object_of(fx, c->flags), c->level ? NULL : count_block, &calls);

    assert_int_equal(calls, 0);
    return hr;
}

/* --- the table ------------------------------------------------------------------------ */

#define HOST_CONTROL "IHostControl::"
#define MANAGER      "IHostMemoryManager::"
#define MALLOC       "IHostMalloc::"

#define ROW(method, name, call, expected, on) { method, name, call, expected, NULL, on, AT_NULL, 0, 0, 0, 0, 0 }
#define ROWF(method, name, call, flags, expected, on) \
    { method, name, call, expected, NULL, on, AT_NULL, 0, 0, flags, 0, 0 }
#define VALLOC(name, at, off, size, type, protect, level, expected) \
    { MANAGER "VirtualAlloc", name, virtual_alloc, expected, os_virtual_alloc, ON_MANAGER, at, off, size, type, protect, level }
#define VALLOC_FOREIGN(name, at, off, size) \
    { MANAGER "VirtualAlloc", name, virtual_alloc_foreign_commit, FROM_OS, os_virtual_alloc_then_undo, ON_MANAGER, \
      at, off, size, MEM_COMMIT, PAGE_READWRITE, eTaskCritical }
#define VFREE(name, at, off, size, type, expected) \
    { MANAGER "VirtualFree", name, virtual_free, expected, os_virtual_free, ON_MANAGER, at, off, size, type, 0, 0 }
#define VQUERY(name, at, off, buffer, length) \
    { MANAGER "VirtualQuery", name, virtual_query, FROM_OS, os_virtual_query, ON_MANAGER, at, off, length, buffer, 0, 0 }
#define VPROTECT(name, at, off, size, protect) \
    { MANAGER "VirtualProtect", name, virtual_protect, FROM_OS, os_virtual_protect, ON_MANAGER, at, off, size, protect, 0, 0 }
#define ADDRESS_SPACE(method, call, name, at, off, size, expected) \
    { MANAGER method, name, call, expected, NULL, ON_MANAGER, at, off, size, 0, 0, 0 }
#define ALLOC(name, size, level, null_out, expected) \
    { MALLOC "Alloc", name, malloc_alloc, expected, NULL, ON_MALLOC, AT_NULL, 0, size, null_out, 0, level }
#define DEBUG_ALLOC(name, size, level, null_out, null_file, expected) \
    { MALLOC "DebugAlloc", name, malloc_debug_alloc, expected, NULL, ON_MALLOC, AT_NULL, 0, size, null_out, null_file, level }
#define FREE(name, at, off) \
    { MALLOC "Free", name, malloc_free, HOST_E_INVALIDOPERATION, NULL, ON_MALLOC, at, off, 0, 0, 0, 0 }
#define CREATE(name, what, value, expected) \
    { "HostMemCreateHostControl", name, create_control, expected, NULL, ON_EXPORT, AT_NULL, 0, value, what, 0, 0 }, \
    { "HostMemCreateMemoryManager", name, create_manager, expected, NULL, ON_EXPORT, AT_NULL, 0, value, what, 0, 0 }
#define STATS(name, object, cb_size, null_stats, expected) \
    { "HostMemGetStats", name, get_stats, expected, NULL, ON_EXPORT, AT_NULL, 0, cb_size, object, 0, null_stats }
#define ENUM(name, object, null_callback, expected) \
    { "HostMemEnumMallocBlocks", name, enum_blocks, expected, NULL, ON_EXPORT, AT_NULL, 0, 0, object, 0, null_callback }

/* Sizes past what any request can be: the whole span of user space plus one byte, and
   sizes that wrap when rounded up to a page or to a heap block's header. */
#ifdef _WIN64
#define USER_SPAN ((SIZE_T)0x7FFFFFFE0000ull) /* lpMaximumApplicationAddress + 1 - lpMinimumApplicationAddress */
#else
#define USER_SPAN ((SIZE_T)0x7FFE0000u)
#endif
#define WRAPS_ON_PAGE   (SIZE_MAXIMUM - PAGE + 2)
#define WRAPS_ON_HEADER (SIZE_MAXIMUM - 7)

static const bad_case cases[] = {
    /* IHostControl */
    ROW(HOST_CONTROL "QueryInterface", "NULL ppv", control_qi_null_out, E_POINTER, ON_CONTROL),
    ROWF(HOST_CONTROL "QueryInterface", "NULL riid", control_qi, 0, E_INVALIDARG, ON_CONTROL),
    ROWF(HOST_CONTROL "QueryInterface", "IID_IHostMemoryManager (not an interface of the control)", control_qi, 1,
         E_NOINTERFACE, ON_CONTROL),
    ROWF(HOST_CONTROL "QueryInterface", "IID_IHostMalloc", control_qi, 2, E_NOINTERFACE, ON_CONTROL),
    ROWF(HOST_CONTROL "QueryInterface", "an IID nobody implements", control_qi, 3, E_NOINTERFACE, ON_CONTROL),
    ROW(HOST_CONTROL "GetHostManager", "NULL ppObject", control_get_manager_null_out, E_INVALIDARG, ON_CONTROL),
    ROWF(HOST_CONTROL "GetHostManager", "NULL riid", control_get_manager, 0, E_INVALIDARG, ON_CONTROL),
    ROWF(HOST_CONTROL "GetHostManager", "IID_IUnknown", control_get_manager, 1, E_NOINTERFACE, ON_CONTROL),
    ROWF(HOST_CONTROL "GetHostManager", "IID_IHostControl", control_get_manager, 2, E_NOINTERFACE, ON_CONTROL),
    ROWF(HOST_CONTROL "GetHostManager", "IID_IHostMalloc", control_get_manager, 3, E_NOINTERFACE, ON_CONTROL),
    ROWF(HOST_CONTROL "GetHostManager", "IID_IHostTaskManager", control_get_manager, 4, E_NOINTERFACE, ON_CONTROL),
    ROWF(HOST_CONTROL "GetHostManager", "an IID nobody implements", control_get_manager, 5, E_NOINTERFACE,
         ON_CONTROL),
    { HOST_CONTROL "SetAppDomainManager", "domain 0xFFFFFFFF, NULL manager", control_set_domain_manager, S_OK, NULL,
      ON_CONTROL, AT_NULL, 0, 0, 0xFFFFFFFF, 0, 0 },
    { HOST_CONTROL "SetAppDomainManager", "domain 0, somebody else's object", control_set_domain_manager, S_OK, NULL,
      ON_CONTROL, AT_NULL, 0, 1, 0, 0, 0 },

    /* IHostMemoryManager: IUnknown, CreateMalloc */
    ROW(MANAGER "QueryInterface", "NULL ppv", manager_qi_null_out, E_POINTER, ON_MANAGER),
    ROWF(MANAGER "QueryInterface", "NULL riid", manager_qi, 0, E_INVALIDARG, ON_MANAGER),
    ROWF(MANAGER "QueryInterface", "IID_IHostControl", manager_qi, 1, E_NOINTERFACE, ON_MANAGER),
    ROWF(MANAGER "QueryInterface", "IID_IHostMalloc", manager_qi, 2, E_NOINTERFACE, ON_MANAGER),
    ROWF(MANAGER "QueryInterface", "an IID nobody implements", manager_qi, 3, E_NOINTERFACE, ON_MANAGER),
    ROWF(MANAGER "CreateMalloc", "NULL ppMalloc", create_malloc_null_out, MALLOC_THREADSAFE, E_POINTER, ON_MANAGER),
    ROWF(MANAGER "CreateMalloc", "NULL ppMalloc and undefined flag bits", create_malloc_null_out, 0x4, E_POINTER,
         ON_MANAGER),
    ROWF(MANAGER "CreateMalloc", "undefined flag bit 0x4", create_malloc, MALLOC_THREADSAFE | 0x4, E_INVALIDARG,
         ON_MANAGER),
    ROWF(MANAGER "CreateMalloc", "undefined flag bit 0x80000000", create_malloc, 0x80000000, E_INVALIDARG,
         ON_MANAGER),
    ROWF(MANAGER "CreateMalloc", "flags 0xFFFFFFFF", create_malloc, 0xFFFFFFFF, E_INVALIDARG, ON_MANAGER),

    /* VirtualAlloc: what hostmem refuses itself */
    { MANAGER "VirtualAlloc", "NULL ppMem", virtual_alloc_null_out, E_POINTER, NULL, ON_MANAGER, AT_NULL, 0,
      REGION_SIZE, MEM_RESERVE, PAGE_READWRITE, eTaskCritical },
    { MANAGER "VirtualAlloc", "NULL ppMem and critical level 3", virtual_alloc_null_out, E_POINTER, NULL, ON_MANAGER,
      AT_NULL, 0, REGION_SIZE, MEM_RESERVE, PAGE_READWRITE, 3 },
    VALLOC("critical level 3", AT_NULL, 0, REGION_SIZE, MEM_RESERVE, PAGE_READWRITE, 3, E_INVALIDARG),
    VALLOC("critical level 0xFFFFFFFF", AT_NULL, 0, REGION_SIZE, MEM_RESERVE, PAGE_READWRITE, 0xFFFFFFFF,
           E_INVALIDARG),
    VALLOC("critical level 3, commit inside a reservation", AT_REGION, COMMITTED, PAGE, MEM_COMMIT, PAGE_READWRITE, 3,
           E_INVALIDARG),
    VALLOC("MEM_RESERVE, size 0", AT_NULL, 0, 0, MEM_RESERVE, PAGE_READWRITE, eTaskCritical, E_INVALIDARG),
    VALLOC("MEM_COMMIT at NULL, size 0", AT_NULL, 0, 0, MEM_COMMIT, PAGE_READWRITE, eTaskCritical, E_INVALIDARG),
    VALLOC("MEM_RESERVE, size SIZE_T max", AT_NULL, 0, SIZE_MAXIMUM, MEM_RESERVE, PAGE_READWRITE, eTaskCritical,
           E_INVALIDARG),
    VALLOC("MEM_RESERVE|MEM_COMMIT, size SIZE_T max, eProcessCritical", AT_NULL, 0, SIZE_MAXIMUM,
           MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE, eProcessCritical, E_INVALIDARG),
    VALLOC("MEM_RESERVE, a size that wraps when rounded up to a page", AT_NULL, 0, WRAPS_ON_PAGE, MEM_RESERVE,
           PAGE_READWRITE, eTaskCritical, E_INVALIDARG),
    VALLOC("MEM_RESERVE, the whole user address space plus one byte", AT_NULL, 0, USER_SPAN + 1, MEM_RESERVE,
           PAGE_READWRITE, eAppDomainCritical, E_INVALIDARG),
    VALLOC("MEM_RESERVE at an address, address + size wraps", AT_REGION, PAGE, SIZE_MAXIMUM - PAGE, MEM_RESERVE,
           PAGE_READWRITE, eTaskCritical, E_INVALIDARG),
    VALLOC("MEM_RESERVE at (void *)-4096", AT_ABSOLUTE, WILD_TOP, PAGE, MEM_RESERVE, PAGE_READWRITE, eTaskCritical,
           E_INVALIDARG),
    /* VirtualAlloc: what the OS judges */
    VALLOC("MEM_RESERVE at 0x1", AT_ABSOLUTE, WILD_1, PAGE, MEM_RESERVE, PAGE_READWRITE, eTaskCritical, FROM_OS),
    VALLOC("MEM_RESERVE at 0x10", AT_ABSOLUTE, WILD_10, PAGE, MEM_RESERVE, PAGE_READWRITE, eTaskCritical, FROM_OS),
    VALLOC("MEM_RESERVE at 0xFFFF800000000000 (kernel)", AT_ABSOLUTE, WILD_KERNEL, PAGE, MEM_RESERVE, PAGE_READWRITE,
           eTaskCritical, FROM_OS),
    VALLOC("MEM_RESERVE at 0xFFFFF78000000000 (kernel)", AT_ABSOLUTE, WILD_SHARED, PAGE, MEM_RESERVE, PAGE_READWRITE,
           eTaskCritical, FROM_OS),
    VALLOC("MEM_RESERVE inside a reservation of its own", AT_REGION, COMMITTED, PAGE, MEM_RESERVE, PAGE_READWRITE,
           eTaskCritical, FROM_OS),
    VALLOC("MEM_RESERVE inside kernel32's reservation", AT_OS_REGION, 0, PAGE, MEM_RESERVE, PAGE_READWRITE,
           eTaskCritical, FROM_OS),
    VALLOC("MEM_COMMIT at 0x1", AT_ABSOLUTE, WILD_1, PAGE, MEM_COMMIT, PAGE_READWRITE, eTaskCritical, FROM_OS),
    VALLOC("MEM_COMMIT at 0x10", AT_ABSOLUTE, WILD_10, PAGE, MEM_COMMIT, PAGE_READWRITE, eTaskCritical, FROM_OS),
    VALLOC("MEM_COMMIT at 0xFFFF800000000000 (kernel)", AT_ABSOLUTE, WILD_KERNEL, PAGE, MEM_COMMIT, PAGE_READWRITE,
           eAppDomainCritical, FROM_OS),
    VALLOC("MEM_COMMIT at 0xFFFFF78000000000 (kernel)", AT_ABSOLUTE, WILD_SHARED, PAGE, MEM_COMMIT, PAGE_READWRITE,
           eProcessCritical, FROM_OS),
    VALLOC("MEM_COMMIT at (void *)-4096", AT_ABSOLUTE, WILD_TOP, PAGE, MEM_COMMIT, PAGE_READWRITE, eTaskCritical,
           FROM_OS),
    VALLOC("MEM_COMMIT inside a reservation, size 0", AT_REGION, COMMITTED, 0, MEM_COMMIT, PAGE_READWRITE,
           eTaskCritical, FROM_OS),
    VALLOC("MEM_COMMIT inside a reservation, size SIZE_T max", AT_REGION, 0, SIZE_MAXIMUM, MEM_COMMIT,
           PAGE_READWRITE, eTaskCritical, FROM_OS),
    VALLOC("MEM_COMMIT inside a reservation, size SIZE_T max, eProcessCritical", AT_REGION, COMMITTED, SIZE_MAXIMUM,
           MEM_COMMIT, PAGE_READWRITE, eProcessCritical, FROM_OS),
    VALLOC("MEM_COMMIT running past the end of the reservation", AT_REGION, REGION_SIZE - COMMITTED, 2 * COMMITTED,
           MEM_COMMIT, PAGE_READWRITE, eTaskCritical, FROM_OS),
    VALLOC("MEM_COMMIT at an unaligned address (region + 1), already committed", AT_REGION, 1, PAGE, MEM_COMMIT,
           PAGE_READWRITE, eTaskCritical, FROM_OS),
    VALLOC("MEM_COMMIT into a released reservation", AT_RELEASED, 0, PAGE, MEM_COMMIT, PAGE_READWRITE, eTaskCritical,
           FROM_OS),
    VALLOC("allocation type 0", AT_NULL, 0, PAGE, 0, PAGE_READWRITE, eTaskCritical, FROM_OS),
    VALLOC("allocation type 0 inside a reservation", AT_REGION, COMMITTED, PAGE, 0, PAGE_READWRITE, eTaskCritical,
           FROM_OS),
    VALLOC("undefined allocation type bit: MEM_RESERVE | 0x1", AT_NULL, 0, PAGE, MEM_RESERVE | 0x1, PAGE_READWRITE,
           eTaskCritical, FROM_OS),
    VALLOC("undefined allocation type bit: MEM_COMMIT | 0x1 inside a reservation", AT_REGION, COMMITTED, PAGE,
           MEM_COMMIT | 0x1, PAGE_READWRITE, eTaskCritical, FROM_OS),
    VALLOC("allocation type 0xFFFFFFFF", AT_NULL, 0, PAGE, 0xFFFFFFFF, PAGE_READWRITE, eTaskCritical, FROM_OS),
    /* Windows refuses MEM_RESET with anything else; Wine resets and answers yes without
       committing: either way nothing may be booked. (MEM_RESERVE | MEM_RESET at NULL is
       no row: Wine reserves, and hostmem books what the OS did.) */
    VALLOC("MEM_COMMIT | MEM_RESET inside a reservation", AT_REGION, COMMITTED, PAGE, MEM_COMMIT | MEM_RESET,
           PAGE_READWRITE, eTaskCritical, FROM_OS),
    VALLOC("MEM_COMMIT | MEM_RESET_UNDO inside a reservation", AT_REGION, COMMITTED, PAGE,
           MEM_COMMIT | MEM_RESET_UNDO, PAGE_READWRITE, eTaskCritical, FROM_OS),
    VALLOC("MEM_COMMIT | MEM_PHYSICAL inside a reservation", AT_REGION, COMMITTED, PAGE, MEM_COMMIT | MEM_PHYSICAL,
           PAGE_READWRITE, eAppDomainCritical, FROM_OS),
    VALLOC("MEM_COMMIT | MEM_LARGE_PAGES inside a reservation", AT_REGION, COMMITTED, PAGE,
           MEM_COMMIT | MEM_LARGE_PAGES, PAGE_READWRITE, eTaskCritical, FROM_OS),
    VALLOC("MEM_RESERVE, protection 0", AT_NULL, 0, PAGE, MEM_RESERVE, 0, eTaskCritical, FROM_OS),
    VALLOC("MEM_RESERVE, protection 0x12345678", AT_NULL, 0, PAGE, MEM_RESERVE, 0x12345678, eTaskCritical, FROM_OS),
    VALLOC("MEM_RESERVE|MEM_COMMIT, protection PAGE_READONLY|PAGE_READWRITE", AT_NULL, 0, PAGE,
           MEM_RESERVE | MEM_COMMIT, PAGE_READONLY | PAGE_READWRITE, eProcessCritical, FROM_OS),
    VALLOC("MEM_COMMIT inside a reservation, protection 0", AT_REGION, COMMITTED, PAGE, MEM_COMMIT, 0, eTaskCritical,
           FROM_OS),
    VALLOC("MEM_COMMIT inside a reservation, protection 0xFFFFFFFF", AT_REGION, COMMITTED, PAGE, MEM_COMMIT,
           0xFFFFFFFF, eAppDomainCritical, FROM_OS),
    VALLOC_FOREIGN("MEM_COMMIT into kernel32's reservation (passed on, not booked)", AT_OS_REGION, COMMITTED, PAGE),
    VALLOC_FOREIGN("MEM_COMMIT into another manager's reservation (passed on, not booked)", AT_OTHER_REGION,
                   COMMITTED, PAGE),
    VALLOC("MEM_COMMIT over a process-heap block (passed on, not booked)", AT_HEAP_BLOCK, 0, BLOCK_SIZE, MEM_COMMIT,
           PAGE_READWRITE, eTaskCritical, FROM_OS),
    VALLOC("MEM_COMMIT over an IHostMalloc block (passed on, not booked)", AT_BLOCK, 0, BLOCK_SIZE, MEM_COMMIT,
           PAGE_READWRITE, eTaskCritical, FROM_OS),

    /* VirtualFree */
    VFREE("free type 0", AT_REGION, 0, 0, 0, E_INVALIDARG),
    VFREE("MEM_DECOMMIT | MEM_RELEASE", AT_REGION, 0, 0, MEM_DECOMMIT | MEM_RELEASE, E_INVALIDARG),
    VFREE("undefined free type bit: MEM_RELEASE | 0x1", AT_REGION, 0, 0, MEM_RELEASE | 0x1, E_INVALIDARG),
    VFREE("undefined free type bit: MEM_DECOMMIT | 0x8000", AT_REGION, 0, PAGE, MEM_DECOMMIT | 0x8000, E_INVALIDARG),
    VFREE("free type 0xFFFFFFFF", AT_REGION, 0, 0, 0xFFFFFFFF, E_INVALIDARG),
    VFREE("NULL", AT_NULL, 0, 0, MEM_RELEASE, HOST_E_INVALIDOPERATION),
    VFREE("0x1", AT_ABSOLUTE, WILD_1, 0, MEM_RELEASE, HOST_E_INVALIDOPERATION),
    VFREE("0x10", AT_ABSOLUTE, WILD_10, PAGE, MEM_DECOMMIT, HOST_E_INVALIDOPERATION),
    VFREE("0xFFFF800000000000 (kernel)", AT_ABSOLUTE, WILD_KERNEL, 0, MEM_RELEASE, HOST_E_INVALIDOPERATION),
    VFREE("0xFFFFF78000000000 (kernel)", AT_ABSOLUTE, WILD_SHARED, PAGE, MEM_DECOMMIT, HOST_E_INVALIDOPERATION),
    VFREE("(void *)-4096", AT_ABSOLUTE, WILD_TOP, 0, MEM_RELEASE, HOST_E_INVALIDOPERATION),
    VFREE("MEM_RELEASE of kernel32's reservation", AT_OS_REGION, 0, 0, MEM_RELEASE, HOST_E_INVALIDOPERATION),
    VFREE("MEM_DECOMMIT of kernel32's committed pages", AT_OS_REGION, 0, COMMITTED, MEM_DECOMMIT,
          HOST_E_INVALIDOPERATION),
    VFREE("MEM_RELEASE of another manager's reservation", AT_OTHER_REGION, 0, 0, MEM_RELEASE,
          HOST_E_INVALIDOPERATION),
    VFREE("MEM_DECOMMIT of another manager's committed pages", AT_OTHER_REGION, 0, COMMITTED, MEM_DECOMMIT,
          HOST_E_INVALIDOPERATION),
    VFREE("MEM_RELEASE of a process-heap block", AT_HEAP_BLOCK, 0, 0, MEM_RELEASE, HOST_E_INVALIDOPERATION),
    VFREE("MEM_DECOMMIT of an IHostMalloc block", AT_BLOCK, 0, BLOCK_SIZE, MEM_DECOMMIT, HOST_E_INVALIDOPERATION),
    VFREE("MEM_RELEASE of a released reservation (double release)", AT_RELEASED, 0, 0, MEM_RELEASE,
          HOST_E_INVALIDOPERATION),
    VFREE("MEM_DECOMMIT of a released reservation", AT_RELEASED, 0, COMMITTED, MEM_DECOMMIT, HOST_E_INVALIDOPERATION),
    VFREE("MEM_DECOMMIT running past the end of the reservation", AT_REGION, 0, REGION_SIZE + PAGE, MEM_DECOMMIT,
          HOST_E_INVALIDOPERATION),
    VFREE("MEM_DECOMMIT, size SIZE_T max", AT_REGION, 0, SIZE_MAXIMUM, MEM_DECOMMIT, HOST_E_INVALIDOPERATION),
    VFREE("MEM_DECOMMIT where address + size wraps", AT_REGION, PAGE, SIZE_MAXIMUM - PAGE + 1, MEM_DECOMMIT,
          HOST_E_INVALIDOPERATION),
    VFREE("MEM_RELEASE, size SIZE_T max", AT_REGION, 0, SIZE_MAXIMUM, MEM_RELEASE, HOST_E_INVALIDOPERATION),
    VFREE("MEM_DECOMMIT, size 0, inside the reservation (not its base)", AT_REGION, PAGE, 0, MEM_DECOMMIT,
          E_INVALIDARG),
    VFREE("MEM_RELEASE with a size", AT_REGION, 0, PAGE, MEM_RELEASE, FROM_OS),
    VFREE("MEM_RELEASE inside the reservation (not its base)", AT_REGION, PAGE, 0, MEM_RELEASE, FROM_OS),
    VFREE("MEM_DECOMMIT of a decommitted reservation", AT_DECOMMITTED, 0, 0, MEM_DECOMMIT, FROM_OS),
    VFREE("MEM_DECOMMIT of decommitted pages", AT_DECOMMITTED, 0, COMMITTED, MEM_DECOMMIT, FROM_OS),
    VFREE("MEM_DECOMMIT at an unaligned address of uncommitted pages", AT_REGION, COMMITTED + 1, PAGE, MEM_DECOMMIT,
          FROM_OS),

    /* VirtualQuery: never refused by hostmem but for a NULL pResult */
    { MANAGER "VirtualQuery", "NULL pResult", virtual_query_null_result, E_POINTER, NULL, ON_MANAGER, AT_REGION, 0, 0,
      0, 0, 0 },
    VQUERY("NULL", AT_NULL, 0, BUFFER_OK, MBI_SIZE),
    VQUERY("0x1", AT_ABSOLUTE, WILD_1, BUFFER_OK, MBI_SIZE),
    VQUERY("0x10", AT_ABSOLUTE, WILD_10, BUFFER_OK, MBI_SIZE),
    VQUERY("0xFFFF800000000000 (kernel)", AT_ABSOLUTE, WILD_KERNEL, BUFFER_OK, MBI_SIZE),
    VQUERY("0xFFFFF78000000000 (kernel)", AT_ABSOLUTE, WILD_SHARED, BUFFER_OK, MBI_SIZE),
    VQUERY("(void *)-4096", AT_ABSOLUTE, WILD_TOP, BUFFER_OK, MBI_SIZE),
    VQUERY("a released reservation", AT_RELEASED, 0, BUFFER_OK, MBI_SIZE),
    VQUERY("kernel32's reservation", AT_OS_REGION, 0, BUFFER_OK, MBI_SIZE),
    VQUERY("another manager's reservation", AT_OTHER_REGION, 0, BUFFER_OK, MBI_SIZE),
    VQUERY("a process-heap block", AT_HEAP_BLOCK, 0, BUFFER_OK, MBI_SIZE),
    /* kernel32 answers these with ERROR_NOACCESS too, but asking it is not safe under
       Wine 8: its VirtualQuery faults inside its virtual-memory lock and keeps the lock,
       and the next thread exit hangs. hostmem answers them without the OS. */
    { MANAGER "VirtualQuery", "NULL buffer", virtual_query, HRESULT_FROM_WIN32(ERROR_NOACCESS), NULL, ON_MANAGER,
      AT_REGION, 0, MBI_SIZE, BUFFER_NULL, 0, 0 },
    { MANAGER "VirtualQuery", "buffer at 0x10", virtual_query, HRESULT_FROM_WIN32(ERROR_NOACCESS), NULL, ON_MANAGER,
      AT_REGION, 0, MBI_SIZE, BUFFER_WILD, 0, 0 },
    VQUERY("length 0", AT_REGION, 0, BUFFER_OK, 0),
    VQUERY("length 8 (shorter than MEMORY_BASIC_INFORMATION)", AT_REGION, 0, BUFFER_OK, 8),
    VQUERY("NULL buffer, length 0", AT_DECOMMITTED, 0, BUFFER_NULL, 0),

    /* VirtualProtect: passed to the OS but for a NULL pflOldProtect */
    { MANAGER "VirtualProtect", "NULL pflOldProtect", virtual_protect_null_old, E_POINTER, NULL, ON_MANAGER, AT_REGION,
      0, PAGE, PAGE_READWRITE, 0, 0 },
    VPROTECT("NULL", AT_NULL, 0, PAGE, PAGE_READWRITE),
    VPROTECT("0x1", AT_ABSOLUTE, WILD_1, PAGE, PAGE_READWRITE),
    VPROTECT("0x10", AT_ABSOLUTE, WILD_10, PAGE, PAGE_READWRITE),
    VPROTECT("0xFFFF800000000000 (kernel)", AT_ABSOLUTE, WILD_KERNEL, PAGE, PAGE_READWRITE),
    VPROTECT("0xFFFFF78000000000 (kernel)", AT_ABSOLUTE, WILD_SHARED, PAGE, PAGE_READWRITE),
    VPROTECT("(void *)-4096", AT_ABSOLUTE, WILD_TOP, PAGE, PAGE_READWRITE),
    VPROTECT("a released reservation", AT_RELEASED, 0, PAGE, PAGE_READWRITE),
    VPROTECT("uncommitted pages", AT_REGION, COMMITTED, PAGE, PAGE_READWRITE),
    VPROTECT("decommitted pages", AT_DECOMMITTED, 0, PAGE, PAGE_READWRITE),
    VPROTECT("size 0", AT_REGION, 0, 0, PAGE_READWRITE),
    VPROTECT("size SIZE_T max", AT_REGION, 0, SIZE_MAXIMUM, PAGE_READWRITE),
    VPROTECT("running past the committed pages", AT_REGION, 0, 2 * COMMITTED, PAGE_READWRITE),
    VPROTECT("protection 0", AT_REGION, 0, PAGE, 0),
    VPROTECT("protection 0x12345678", AT_REGION, 0, PAGE, 0x12345678),
    VPROTECT("protection PAGE_READONLY|PAGE_READWRITE", AT_REGION, 0, PAGE, PAGE_READONLY | PAGE_READWRITE),

    /* GetMemoryLoad */
    ROWF(MANAGER "GetMemoryLoad", "NULL pMemoryLoad", memory_load, 1, E_POINTER, ON_MANAGER),
    ROWF(MANAGER "GetMemoryLoad", "NULL pAvailableBytes", memory_load, 2, E_POINTER, ON_MANAGER),
    ROWF(MANAGER "GetMemoryLoad", "both NULL", memory_load, 3, E_POINTER, ON_MANAGER),

    /* RegisterMemoryNotificationCallback */
    ROW(MANAGER "RegisterMemoryNotificationCallback", "NULL, none registered", register_null, S_OK, ON_MANAGER),
    ROW(MANAGER "RegisterMemoryNotificationCallback", "NULL after a callback (released once)", register_then_null,
        S_OK, ON_MANAGER),
    ROW(MANAGER "RegisterMemoryNotificationCallback", "the same callback twice (one reference kept)", register_twice,
        S_OK, ON_MANAGER),

    /* Needs/Acquired/ReleasedVirtualAddressSpace */
    ADDRESS_SPACE("NeedsVirtualAddressSpace", needs_address_space, "NULL, size 0 (no limit)", AT_NULL, 0, 0, S_OK),
    ADDRESS_SPACE("NeedsVirtualAddressSpace", needs_address_space, "(void *)-4096, size SIZE_T max (no limit)",
                  AT_ABSOLUTE, WILD_TOP, SIZE_MAXIMUM, S_OK),
    ADDRESS_SPACE("AcquiredVirtualAddressSpace", acquired_address_space, "NULL", AT_NULL, 0, COMMITTED,
                  E_INVALIDARG),
    ADDRESS_SPACE("AcquiredVirtualAddressSpace", acquired_address_space, "size SIZE_T max", AT_OS_REGION, 0,
                  SIZE_MAXIMUM, E_INVALIDARG),
    ADDRESS_SPACE("AcquiredVirtualAddressSpace", acquired_address_space, "address + size wraps", AT_OS_REGION, 0,
                  SIZE_MAXIMUM - COMMITTED, E_INVALIDARG),
    ADDRESS_SPACE("AcquiredVirtualAddressSpace", acquired_address_space, "0x10", AT_ABSOLUTE, WILD_10, PAGE,
                  E_INVALIDARG),
    ADDRESS_SPACE("AcquiredVirtualAddressSpace", acquired_address_space, "0xFFFF800000000000 (kernel)", AT_ABSOLUTE,
                  WILD_KERNEL, PAGE, E_INVALIDARG),
    ADDRESS_SPACE("AcquiredVirtualAddressSpace", acquired_address_space, "(void *)-4096", AT_ABSOLUTE, WILD_TOP,
                  PAGE, E_INVALIDARG),
    ADDRESS_SPACE("ReleasedVirtualAddressSpace", released_address_space, "NULL", AT_NULL, 0, 0,
                  HOST_E_INVALIDOPERATION),
    ADDRESS_SPACE("ReleasedVirtualAddressSpace", released_address_space, "0xFFFF800000000000 (kernel)", AT_ABSOLUTE,
                  WILD_KERNEL, 0, HOST_E_INVALIDOPERATION),
    ADDRESS_SPACE("ReleasedVirtualAddressSpace", released_address_space, "a base never acquired (a reservation)",
                  AT_REGION, 0, 0, HOST_E_INVALIDOPERATION),
    ADDRESS_SPACE("ReleasedVirtualAddressSpace", released_address_space_twice, "a base released already",
                  AT_OS_REGION, 0, COMMITTED, HOST_E_INVALIDOPERATION),

    /* IHostMalloc */
    ROW(MALLOC "QueryInterface", "NULL ppv", malloc_qi_null_out, E_POINTER, ON_MALLOC),
    ROWF(MALLOC "QueryInterface", "NULL riid", malloc_qi, 0, E_INVALIDARG, ON_MALLOC),
    ROWF(MALLOC "QueryInterface", "IID_IHostMemoryManager", malloc_qi, 1, E_NOINTERFACE, ON_MALLOC),
    ROWF(MALLOC "QueryInterface", "IID_IHostControl", malloc_qi, 2, E_NOINTERFACE, ON_MALLOC),
    ROWF(MALLOC "QueryInterface", "an IID nobody implements", malloc_qi, 3, E_NOINTERFACE, ON_MALLOC),
    ALLOC("NULL ppMem", 16, eTaskCritical, TRUE, E_POINTER),
    ALLOC("NULL ppMem and critical level 3", 16, 3, TRUE, E_POINTER),
    ALLOC("critical level 3", 16, 3, FALSE, E_INVALIDARG),
    ALLOC("critical level 0xFFFFFFFF", 16, 0xFFFFFFFF, FALSE, E_INVALIDARG),
    ALLOC("size SIZE_T max", SIZE_MAXIMUM, eTaskCritical, FALSE, E_INVALIDARG),
    ALLOC("size SIZE_T max, eProcessCritical", SIZE_MAXIMUM, eProcessCritical, FALSE, E_INVALIDARG),
    ALLOC("a size that wraps with a heap block's header", WRAPS_ON_HEADER, eAppDomainCritical, FALSE, E_INVALIDARG),
    ALLOC("the whole user address space plus one byte", USER_SPAN + 1, eTaskCritical, FALSE, E_INVALIDARG),
    DEBUG_ALLOC("NULL ppMem", 16, eTaskCritical, TRUE, FALSE, E_POINTER),
    DEBUG_ALLOC("critical level 3", 16, 3, FALSE, FALSE, E_INVALIDARG),
    DEBUG_ALLOC("critical level 0xFFFFFFFF, NULL file name", 16, 0xFFFFFFFF, FALSE, TRUE, E_INVALIDARG),
    DEBUG_ALLOC("size SIZE_T max", SIZE_MAXIMUM, eTaskCritical, FALSE, FALSE, E_INVALIDARG),
    DEBUG_ALLOC("a size that wraps with a heap block's header, eProcessCritical", WRAPS_ON_HEADER, eProcessCritical,
                FALSE, FALSE, E_INVALIDARG),
    DEBUG_ALLOC("the whole user address space plus one byte", USER_SPAN + 1, eTaskCritical, FALSE, FALSE,
                E_INVALIDARG),
    FREE("a block freed already (double free)", AT_FREED_BLOCK, 0),
    FREE("inside a block of its own (block + 1)", AT_BLOCK, 1),
    FREE("a block of another IHostMalloc of the same manager", AT_OTHER_BLOCK, 0),
    FREE("a block of another manager's IHostMalloc", AT_FOREIGN_BLOCK, 0),
    FREE("a process-heap block", AT_HEAP_BLOCK, 0),
    FREE("kernel32's committed memory", AT_OS_REGION, 0),
    FREE("kernel32's reserved, uncommitted memory", AT_OS_REGION, COMMITTED),
    FREE("a reservation of its own manager", AT_REGION, 0),
    FREE("a decommitted reservation", AT_DECOMMITTED, 0),
    FREE("a released reservation", AT_RELEASED, 0),
    FREE("0x1", AT_ABSOLUTE, WILD_1),
    FREE("0x10", AT_ABSOLUTE, WILD_10),
    FREE("0xFFFF800000000000 (kernel)", AT_ABSOLUTE, WILD_KERNEL),
    FREE("(void *)-4096", AT_ABSOLUTE, WILD_TOP),

    /* The exports */
    ROW("HostMemCreateHostControl", "NULL ppHostControl", create_control_null_out, E_POINTER, ON_EXPORT),
    ROW("HostMemCreateMemoryManager", "NULL ppManager", create_manager_null_out, E_POINTER, ON_EXPORT),
    CREATE("cbSize 0", CFG_SIZE, 0, E_INVALIDARG),
    CREATE("cbSize HOSTMEM_CONFIG_MIN_SIZE - 1", CFG_SIZE, HOSTMEM_CONFIG_MIN_SIZE - 1, E_INVALIDARG),
    CREATE("cbSize sizeof(HOSTMEM_CONFIG) + 1", CFG_SIZE, sizeof(HOSTMEM_CONFIG) + 1, E_INVALIDARG),
    CREATE("cbSize 0xFFFFFFFF", CFG_SIZE, 0xFFFFFFFF, E_INVALIDARG),
    CREATE("failureAction[0] 3", CFG_ACTION0, 3, E_INVALIDARG),
    CREATE("failureAction[2] 0xFFFFFFFF", CFG_ACTION2, 0xFFFFFFFF, E_INVALIDARG),
    CREATE("retryTimeoutMs 60001", CFG_RETRY, 60001, E_INVALIDARG),
    CREATE("highWaterPercent 101", CFG_HIGH, 101, E_INVALIDARG),
    CREATE("highWaterPercent 0xFFFFFFFF", CFG_HIGH_MAX, 0xFFFFFFFF, E_INVALIDARG),
    CREATE("lowWaterPercent = highWaterPercent", CFG_LOW_EQUALS_HIGH, 50, E_INVALIDARG),
    CREATE("lowWaterPercent 0xFFFFFFFF", CFG_LOW_ABOVE_HIGH, 0xFFFFFFFF, E_INVALIDARG),
    STATS("NULL object", OBJ_NULL, 0, FALSE, E_POINTER),
    STATS("NULL stats", OBJ_CONTROL, 0, TRUE, E_POINTER),
    STATS("cbSize 0", OBJ_CONTROL, STATS_CB_ZERO, FALSE, E_INVALIDARG),
    STATS("cbSize 0xFFFFFFFF", OBJ_CONTROL, 0xFFFFFFFF, FALSE, E_INVALIDARG),
    STATS("cbSize sizeof(HOSTMEM_STATS) - 4", OBJ_CONTROL, sizeof(HOSTMEM_STATS) - 4, FALSE, E_INVALIDARG),
    STATS("cbSize HOSTMEM_STATS_V1_SIZE - 8", OBJ_CONTROL, HOSTMEM_STATS_V1_SIZE - 8, FALSE, E_INVALIDARG),
    STATS("cbSize sizeof(HOSTMEM_STATS) + 1", OBJ_CONTROL, sizeof(HOSTMEM_STATS) + 1, FALSE, E_INVALIDARG),
    STATS("an IHostMalloc", OBJ_MALLOC, 0, FALSE, E_INVALIDARG),
    STATS("somebody else's COM object", OBJ_FOREIGN_COM, 0, FALSE, E_INVALIDARG),
    STATS("a process-heap block", OBJ_HEAP_BLOCK, 0, FALSE, E_INVALIDARG),
    STATS("kernel32's memory", OBJ_OS_MEMORY, 0, FALSE, E_INVALIDARG),
    ENUM("NULL object", OBJ_NULL, FALSE, E_POINTER),
    ENUM("NULL callback", OBJ_CONTROL, TRUE, E_POINTER),
    ENUM("somebody else's COM object", OBJ_FOREIGN_COM, FALSE, E_INVALIDARG),
    ENUM("a process-heap block", OBJ_HEAP_BLOCK, FALSE, E_INVALIDARG),
    ENUM("kernel32's memory", OBJ_OS_MEMORY, FALSE, E_INVALIDARG),
};

#define CASE_COUNT (sizeof(cases) / sizeof(cases[0]))

/* --- running the table ---------------------------------------------------------------- */

static const char *fixture_name(unsigned kind)
{
    return kind == FX_FULL ? "everything held" : kind == FX_CONTROL_GONE ? "host control released" : "malloc alone";
}

/* Runs one row on one fixture; a mismatch is reported (not asserted) so every row of
   the table gets its say. Returns the number of mismatches. */
static unsigned run_case(const bad_case *c, unsigned kind)
{
    fixture fx;
    HOSTMEM_STATS before, after;
    HRESULT expected, hr;
    unsigned heaps, wrong = 0;
    int i;

    fixture_setup(&fx, kind);
    expected = c->expected == FROM_OS ? c->os(&fx, c) : c->expected;
    before = books_of(&fx);
    heaps = os_live_objects(OS_OBJECT_HEAP);

    SetLastError(0xdeadbeef);
    hr = c->call(&fx, c);

    if (hr != expected) {
        print_error("%s, %s [%s]: 0x%08lx, expected 0x%08lx\n", c->method, c->name, fixture_name(kind),
                    (unsigned long)hr, (unsigned long)expected);
        wrong++;
    } else if (c->expected == FROM_OS && hr != S_OK && fx.last_error != fx.os_error) {
        print_error("%s, %s [%s]: GetLastError() %lu, kernel32 said %lu\n", c->method, c->name, fixture_name(kind),
                    fx.last_error, fx.os_error);
        wrong++;
    }
    after = books_of(&fx);
    if (after.committedBytes != before.committedBytes || after.reservedBytes != before.reservedBytes ||
        after.mallocBytes != before.mallocBytes || after.mappedBytes != before.mappedBytes ||
        after.escalations != before.escalations) {
        print_error("%s, %s [%s]: the books moved: committed %llu -> %llu, reserved %llu -> %llu, malloc %llu -> "
                    "%llu, mapped %llu -> %llu\n", c->method, c->name, fixture_name(kind),
                    before.committedBytes, after.committedBytes, before.reservedBytes, after.reservedBytes,
                    before.mallocBytes, after.mallocBytes, before.mappedBytes, after.mappedBytes);
        wrong++;
    }
    for (i = 0; i < 3; i++) {
        if (after.failures[i] != before.failures[i]) {
            print_error("%s, %s [%s]: counted as an out-of-memory at level %d\n", c->method, c->name,
                        fixture_name(kind), i);
            wrong++;
        }
    }
    if (os_live_objects(OS_OBJECT_HEAP) != heaps) {
        print_error("%s, %s [%s]: %u heaps before, %u after\n", c->method, c->name, fixture_name(kind), heaps,
                    os_live_objects(OS_OBJECT_HEAP));
        wrong++;
    }
    fixture_teardown(&fx);
    return wrong;
}

static void run_table(unsigned kind)
{
    unsigned i, rows = 0, wrong = 0;

    for (i = 0; i < CASE_COUNT; i++) {
        if (!(cases[i].on & kind))
            continue;
        rows++;
        wrong += run_case(&cases[i], kind);
    }
    print_message("%u rows on a fixture with %s\n", rows, fixture_name(kind));
    if (wrong)
        fail_msg("%u mismatches (listed above)", wrong);
}

static void every_case_gives_its_hresult_and_leaves_the_books_alone(void **state)
{
    (void)state;
    run_table(FX_FULL);
}

static void every_manager_case_holds_after_the_host_control_released_its_manager(void **state)
{
    (void)state;
    run_table(FX_CONTROL_GONE);
}

static void every_malloc_case_holds_when_the_malloc_alone_keeps_its_manager(void **state)
{
    (void)state;
    run_table(FX_MALLOC_ONLY);
}

/* Every method of every interface appears in the table. */
static void the_table_covers_every_method(void **state)
{
    static const char *const methods[] = {
        HOST_CONTROL "QueryInterface", HOST_CONTROL "GetHostManager", HOST_CONTROL "SetAppDomainManager",
        MANAGER "QueryInterface", MANAGER "CreateMalloc", MANAGER "VirtualAlloc", MANAGER "VirtualFree",
        MANAGER "VirtualQuery", MANAGER "VirtualProtect", MANAGER "GetMemoryLoad",
        MANAGER "RegisterMemoryNotificationCallback", MANAGER "NeedsVirtualAddressSpace",
        MANAGER "AcquiredVirtualAddressSpace", MANAGER "ReleasedVirtualAddressSpace",
        MALLOC "QueryInterface", MALLOC "Alloc", MALLOC "DebugAlloc", MALLOC "Free",
        "HostMemCreateHostControl", "HostMemCreateMemoryManager", "HostMemGetStats", "HostMemEnumMallocBlocks",
    };
    unsigned m, i;
    (void)state;

    for (m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
        for (i = 0; i < CASE_COUNT && strcmp(cases[i].method, methods[m]); i++)
            ;
        if (i == CASE_COUNT)
            fail_msg("no row for %s", methods[m]);
    }
}

/* --- the README's table ---------------------------------------------------------------- */

static const char *hresult_name(HRESULT hr, char *buffer, size_t size)
{
    static const struct { HRESULT hr; const char *name; } names[] = {
        { S_OK, "S_OK" }, { E_POINTER, "E_POINTER" }, { E_INVALIDARG, "E_INVALIDARG" },
        { E_NOINTERFACE, "E_NOINTERFACE" }, { E_OUTOFMEMORY, "E_OUTOFMEMORY" }, { E_FAIL, "E_FAIL" },
        { E_UNEXPECTED, "E_UNEXPECTED" }, { HOST_E_INVALIDOPERATION, "HOST_E_INVALIDOPERATION" },
        { HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS), "HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS)" },
        { HRESULT_FROM_WIN32(ERROR_NOACCESS), "HRESULT_FROM_WIN32(ERROR_NOACCESS)" },
        { HRESULT_FROM_WIN32(ERROR_BAD_LENGTH), "HRESULT_FROM_WIN32(ERROR_BAD_LENGTH)" },
        { HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED), "HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED)" },
        { HRESULT_FROM_WIN32(ERROR_NOT_ENOUGH_MEMORY), "HRESULT_FROM_WIN32(ERROR_NOT_ENOUGH_MEMORY)" },
    };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].hr == hr)
            return names[i].name;
    snprintf(buffer, size, "0x%08lx", (unsigned long)hr);
    return buffer;
}

/* A case name in a Markdown table cell: its '|' escaped. */
static const char *cell(const char *text)
{
    static char buffer[256];
    size_t n = 0;

    for (; *text && n + 2 < sizeof(buffer); text++) {
        if (*text == '|')
            buffer[n++] = '\\';
        buffer[n++] = *text;
    }
    buffer[n] = 0;
    return buffer;
}

static void print_markdown(void)
{
    unsigned i;

    printf("| method | case | HRESULT | also with |\n|---|---|---|---|\n");
    for (i = 0; i < CASE_COUNT; i++) {
        const bad_case *c = &cases[i];
        char buffer[32];

        if (c->expected == FROM_OS) {
            fixture fx;
            HRESULT hr;

            fixture_setup(&fx, FX_FULL);
            hr = c->os(&fx, c);
            fixture_teardown(&fx);
            printf("| `%s` | %s | as kernel32: `%s` |", c->method, cell(c->name), hresult_name(hr, buffer, sizeof(buffer)));
        } else {
            printf("| `%s` | %s | `%s` |", c->method, cell(c->name), hresult_name(c->expected, buffer, sizeof(buffer)));
        }
        printf(" %s |\n", c->on == ON_MALLOC ? "control released; malloc alone"
                          : c->on == ON_MANAGER ? "control released" : "");
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_table_covers_every_method),
        cmocka_unit_test(every_case_gives_its_hresult_and_leaves_the_books_alone),
        cmocka_unit_test(every_manager_case_holds_after_the_host_control_released_its_manager),
        cmocka_unit_test(every_malloc_case_holds_when_the_malloc_alone_keeps_its_manager),
    };

    if (argc > 1 && !strcmp(argv[1], "--markdown")) {
        print_markdown();
        return 0;
    }
    return cmocka_run_group_tests_name("bad_input", tests, NULL, NULL);
}
