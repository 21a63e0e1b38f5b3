/*
 * IHostControl (host_control.c): what the host hands to ICLRRuntimeHost::SetHostControl.
 */
#ifndef HOSTMEM_HOST_CONTROL_H
#define HOSTMEM_HOST_CONTROL_H

#include "hostmem_private.h"

/* A new IHostControl over `manager`, taking over the caller's reference to it (also
   when it fails: the manager is then released). */
HRESULT hm_host_control_create(struct memory_manager *manager, IHostControl **control);
/* The manager behind an IHostControl of this DLL, or NULL for any other object. */
struct memory_manager *hm_host_control_manager(IUnknown *object);

#endif /* HOSTMEM_HOST_CONTROL_H */
