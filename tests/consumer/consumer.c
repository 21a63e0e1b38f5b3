/* Creates a host control with a 1 MiB limit through the installed hostmem and prints
   its limit from the statistics: "consumer: limit 1048576". */
#include <stdio.h>
#define COBJMACROS
#include <hostmem.h>

int main(void)
{
    HOSTMEM_CONFIG config = {0};
    HOSTMEM_STATS stats = {0};
    IHostControl *control = NULL;

    config.cbSize = sizeof(config);
    config.commitLimit = 1 << 20;
    stats.cbSize = sizeof(stats);
    if (HostMemCreateHostControl(&config, &control) != S_OK ||
        HostMemGetStats((IUnknown *)control, &stats) != S_OK)
        return 1;
    printf("consumer: limit %llu\n", (unsigned long long)stats.commitLimit);
    IHostControl_Release(control);
    return 0;
}
