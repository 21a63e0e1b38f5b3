/* hostmem.h compiles on its own in C with -Wall -Wextra -Werror (built, never run). */
#define COBJMACROS
#include "hostmem.h"

int hostmem_header_check_c(void);
int hostmem_header_check_c(void)
{
    HOSTMEM_CONFIG config = { .cbSize = sizeof(config), .commitLimit = 0 };
    IHostMemoryManager *manager = NULL;

    if (FAILED(HostMemCreateMemoryManager(&config, &manager)))
        return 1;
    IHostMemoryManager_Release(manager);
    return (int)(sizeof(HOSTMEM_BLOCK_INFO) + eProcessCritical + MALLOC_EXECUTABLE);
}
