/* Links a host against hostmem's import library and its IIDs (built, never run). */
#include "hostmem.h"

int hostmem_header_check_c(void);

int main(void)
{
    IUnknown *none = NULL;
    return hostmem_header_check_c() + (HostMemEnumMallocBlocks(none, NULL, NULL) == E_POINTER) +
           (HostMemConfigureRuntime(none, NULL) == E_POINTER) + (int)IID_IHostMalloc.Data1 +
           (int)IID_IHostPolicyManager.Data1;
}
