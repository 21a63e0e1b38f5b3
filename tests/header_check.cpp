// hostmem.h compiles on its own in C++ with -Wall -Wextra -Werror (built, never run).
#include "hostmem.h"

int hostmem_header_check_cxx();
int hostmem_header_check_cxx()
{
    HOSTMEM_CONFIG config = {};
    config.cbSize = sizeof(config);
    config.commitLimit = 512ull << 20;
    IHostControl *control = nullptr;
    if (FAILED(HostMemCreateHostControl(&config, &control)))
        return 1;
    IHostMemoryManager *manager = nullptr;
    HRESULT hr = control->GetHostManager(IID_IHostMemoryManager, reinterpret_cast<void **>(&manager));
    if (SUCCEEDED(hr))
        manager->Release();
    HOSTMEM_STATS stats{};
    stats.cbSize = sizeof(stats);
    if (FAILED(HostMemGetStats(control, &stats)))
        hr = E_FAIL;
    control->Release();
    return hr == S_OK ? 0 : 1;
}
