/*
 * hostmem.dll as a host links it: through the import library, by name with
 * GetProcAddress, and with a version resource.
 */
#define COBJMACROS
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <initguid.h>
#include "hostmem.h"

static void exports_are_found_by_name(void **state)
{
    HMODULE dll = GetModuleHandleA("hostmem.dll");
    (void)state;

    assert_non_null(dll);
    assert_non_null(GetProcAddress(dll, "HostMemCreateHostControl"));
    assert_non_null(GetProcAddress(dll, "HostMemCreateMemoryManager"));
    assert_non_null(GetProcAddress(dll, "HostMemEnumMallocBlocks"));
    assert_non_null(GetProcAddress(dll, "HostMemConfigureRuntime"));
    assert_non_null(GetProcAddress(dll, "HostMemEnumRegions"));
}

static void import_library_calls_reach_the_dll(void **state)
{
    IHostControl *control = NULL;
    IHostMemoryManager *manager = NULL;
    (void)state;

    assert_int_equal(HostMemCreateHostControl(NULL, &control), S_OK);
    assert_int_equal(IHostControl_GetHostManager(control, &IID_IHostMemoryManager, (void **)&manager), S_OK);
    assert_non_null(manager);
    IHostMemoryManager_Release(manager);
    assert_int_equal(IHostControl_Release(control), 0);
}

static BOOL WINAPI count_region(void *context, const HOSTMEM_REGION_INFO *region)
{
    (void)region;
    ++*(int *)context;
    return TRUE;
}

static void enum_regions_through_the_import_library(void **state)
{
    IHostMemoryManager *manager = NULL;
    void *p = NULL;
    int regions = 0;
    (void)state;

    assert_int_equal(HostMemCreateMemoryManager(NULL, &manager), S_OK);
    assert_int_equal(IHostMemoryManager_VirtualAlloc(manager, NULL, 65536, MEM_RESERVE, PAGE_NOACCESS, eTaskCritical, &p),
                     S_OK);
    assert_int_equal(HostMemEnumRegions((IUnknown *)manager, count_region, &regions), S_OK);
    assert_int_equal(regions, 1);
    assert_int_equal(IHostMemoryManager_VirtualFree(manager, p, 0, MEM_RELEASE), S_OK);
    assert_int_equal(IHostMemoryManager_Release(manager), 0);
}

static void dll_carries_a_version_resource(void **state)
{
    char path[MAX_PATH];
    DWORD handle = 0, size;
    void *data;
    VS_FIXEDFILEINFO *info = NULL;
    UINT length = 0;
    (void)state;

    assert_true(GetModuleFileNameA(GetModuleHandleA("hostmem.dll"), path, sizeof(path)) > 0);
    size = GetFileVersionInfoSizeA(path, &handle);
    assert_true(size > 0);
    data = malloc(size);
    assert_true(GetFileVersionInfoA(path, 0, size, data));
    assert_true(VerQueryValueA(data, "\\", (void **)&info, &length));
    assert_int_equal(info->dwSignature, 0xFEEF04BD);
    assert_int_equal(HIWORD(info->dwFileVersionMS), HOSTMEM_VERSION_MAJOR);
    assert_int_equal(LOWORD(info->dwFileVersionMS), HOSTMEM_VERSION_MINOR);
    assert_int_equal(HIWORD(info->dwFileVersionLS), HOSTMEM_VERSION_PATCH);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exports_are_found_by_name),
        cmocka_unit_test(import_library_calls_reach_the_dll),
        cmocka_unit_test(enum_regions_through_the_import_library),
        cmocka_unit_test(dll_carries_a_version_resource),
    };
    return cmocka_run_group_tests_name("dll_exports", tests, NULL, NULL);
}
