/*
 * The IIDs the DLL compares against. MinGW-w64 declares IID_IHostControl but no library
 * defines it, so it is defined here with the rest.
 */
#include <initguid.h>

#include "hostmem.h"
