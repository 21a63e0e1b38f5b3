/*
 * A fake clock in hostmem's OS table (fake_clock.c): GetTickCount64 answers the time
 * the test set, and each Sleep moves it on by its milliseconds (at least one) instead
 * of sleeping. Installed after fault_setup; fault_teardown puts kernel32's back. Calls
 * through it are not counted by os_call_count.
 */
#ifndef HOSTMEM_TEST_FAKE_CLOCK_H
#define HOSTMEM_TEST_FAKE_CLOCK_H

#include "test_support.h"

void fake_clock_start(ULONGLONG now);
void fake_clock_set(ULONGLONG now);
ULONGLONG fake_clock_now(void);

#endif /* HOSTMEM_TEST_FAKE_CLOCK_H */
