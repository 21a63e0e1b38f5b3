/*
 * Run by test_governance inside a Windows job: prints what the OS says of the job's
 * memory limits and what hostmem made of them (HOSTMEM_COMMIT_LIMIT_FROM_JOB, or
 * HOSTMEM_COMMIT_LIMIT=job from the parent), on one line the test parses.
 */
#define COBJMACROS
#include <stdio.h>
#include <string.h>

#include "hostmem.h"

int main(void)
{
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION info;
    HOSTMEM_CONFIG config;
    HOSTMEM_STATS stats;
    IHostControl *control = NULL;
    BOOL in_job = FALSE;

    memset(&info, 0, sizeof(info));
    IsProcessInJob(GetCurrentProcess(), NULL, &in_job);
    QueryInformationJobObject(NULL, JobObjectExtendedLimitInformation, &info, sizeof(info), NULL);
    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.commitLimit = HOSTMEM_COMMIT_LIMIT_FROM_JOB;
    if (FAILED(HostMemCreateHostControl(&config, &control)))
        return 1;
    memset(&stats, 0, sizeof(stats));
    stats.cbSize = sizeof(stats);
    if (FAILED(HostMemGetStats((IUnknown *)control, &stats)))
        return 1;
    printf("in_job %d flags 0x%lx process %llu job %llu limitSource %lu commitLimit %llu\n", in_job ? 1 : 0,
           (unsigned long)info.BasicLimitInformation.LimitFlags, (unsigned long long)info.ProcessMemoryLimit,
           (unsigned long long)info.JobMemoryLimit, (unsigned long)stats.limitSource,
           (unsigned long long)stats.commitLimit);
    IHostControl_Release(control);
    return 0;
}
