/*
 * The IHostMemoryManager calls the limit's tests repeat, each with its answer checked
 * (manager_calls.c). Page-sized steps: the tests run on x86 and x64, 4 KiB pages.
 */
#ifndef HOSTMEM_TEST_MANAGER_CALLS_H
#define HOSTMEM_TEST_MANAGER_CALLS_H

#include "test_support.h"

/* A config with this commit limit and nothing else set, except that Low is not
   repeated: a test sees each state as it changes (the repeats are test_notifications'). */
HOSTMEM_CONFIG limit_config(ULONGLONG limit);

/* MEM_RESERVE, PAGE_NOACCESS, eTaskCritical; fails the test unless S_OK. */
void *vm_reserve(IHostMemoryManager *manager, SIZE_T bytes);
/* MEM_COMMIT, PAGE_READWRITE at `level`: the HRESULT, with the address checked on
   S_OK and NULL checked otherwise. */
HRESULT vm_commit(IHostMemoryManager *manager, void *address, SIZE_T bytes, EMemoryCriticalLevel level);
/* MEM_DECOMMIT and MEM_RELEASE; fail the test unless S_OK. */
void vm_decommit(IHostMemoryManager *manager, void *address, SIZE_T bytes);
void vm_release(IHostMemoryManager *manager, void *base);

#endif /* HOSTMEM_TEST_MANAGER_CALLS_H */
