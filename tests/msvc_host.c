/*
 * The smallest host linked the way Visual Studio links one (tests/msvc_link.cmake):
 * by lld-link against hostmem.lib, the import library llvm-dlltool made for MSVC,
 * with /nodefaultlib and this entry point instead of a C runtime. So it calls no C
 * library function, and kernel32 comes from an import library made from a four-line
 * .def. It prints one line that the test matches only when every call succeeded.
 */
#include "hostmem.h"

static void say(const char *text)
{
    DWORD written = 0;
    WriteFile(GetStdHandle(STD_OUTPUT_HANDLE), text, (DWORD)lstrlenA(text), &written, NULL);
}

void hm_msvc_host_entry(void);
void hm_msvc_host_entry(void)
{
    IHostControl *control = NULL;
    HOSTMEM_STATS stats;
    HRESULT hr;

    hr = HostMemCreateHostControl(NULL, &control);
    if (FAILED(hr) || !control) {
        say("msvc host: HostMemCreateHostControl FAILED\n");
        ExitProcess(1);
    }
    stats.cbSize = sizeof(stats);
    hr = HostMemGetStats((IUnknown *)control, &stats);
    if (FAILED(hr) || stats.committedBytes != 0) {
        say("msvc host: HostMemGetStats FAILED\n");
        ExitProcess(2);
    }
    if (control->lpVtbl->Release(control) != 0) {
        say("msvc host: Release FAILED to free the host control\n");
        ExitProcess(3);
    }
    say("msvc host: hostmem.lib -> hostmem.dll: created, stats read, released\n");
    ExitProcess(0);
}
