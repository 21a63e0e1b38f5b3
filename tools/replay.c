/*
 * hostmem-replay: plays the CLR's side of ICLRRuntimeHost::SetHostControl against
 * hostmem exactly as CONTRACT.md §1 describes, and prints each call with its HRESULT.
 */
#define COBJMACROS
#include <stdio.h>
#include <string.h>

#include <initguid.h>
#include "hostmem.h"

int main(void)
{
    printf("hostmem-replay: placeholder\n");
    return 0;
}
