/*
 * A fake clock in hostmem's OS table, for the behaviour that is timed: the bounded wait
 * before a retry, how long GetMemoryLoad answers with the OS's last figure. A test sets
 * the time; hostmem's Sleep moves it on instead of sleeping, so a bound is checked to
 * the millisecond and no test waits. See fake_clock.h.
 */
#include "fake_clock.h"

static volatile ULONGLONG fake_now;

static ULONGLONG WINAPI fake_tick_count(void)
{
    return fake_now;
}

static VOID WINAPI fake_sleep(DWORD ms)
{
    fake_now += ms ? ms : 1;
}

void fake_clock_start(ULONGLONG now)
{
    fake_now = now;
    hm_os.GetTickCount64 = fake_tick_count;
    hm_os.Sleep = fake_sleep;
}

void fake_clock_set(ULONGLONG now)
{
    fake_now = now;
}

ULONGLONG fake_clock_now(void)
{
    return fake_now;
}
