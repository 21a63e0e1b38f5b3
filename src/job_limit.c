/*
 * The memory limit of the Windows job the process runs in, for
 * HOSTMEM_COMMIT_LIMIT_FROM_JOB: as the .NET runtime sizes its GC in a container, the
 * job's JOBOBJECT_EXTENDED_LIMIT_INFORMATION is read (docs
 * queryinformationjobobject, jobobject_extended_limit_information) and the smaller of
 * the per-process limit (JOB_OBJECT_LIMIT_PROCESS_MEMORY) and the job-wide one
 * (JOB_OBJECT_LIMIT_JOB_MEMORY) is the answer. Through the OS table, so tests can play
 * every kind of job.
 */
#include "governance.h"

#include <stdio.h>

#include "os.h"

ULONGLONG hm_job_memory_limit(void)
{
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION info;
    BOOL in_job = FALSE;
    ULONGLONG limit = 0;

    if (!hm_os.IsProcessInJob(GetCurrentProcess(), NULL, &in_job) || !in_job)
        return 0;
    ZeroMemory(&info, sizeof(info));
    /* NULL: the job of the calling process. */
    if (!hm_os.QueryInformationJobObject(NULL, JobObjectExtendedLimitInformation, &info, sizeof(info), NULL)) {
        fprintf(stderr, "hostmem: the job's memory limits cannot be read (Win32 error %lu); no limit\n",
                (unsigned long)GetLastError());
        return 0;
    }
    if (info.BasicLimitInformation.LimitFlags & JOB_OBJECT_LIMIT_PROCESS_MEMORY)
        limit = info.ProcessMemoryLimit;
    if ((info.BasicLimitInformation.LimitFlags & JOB_OBJECT_LIMIT_JOB_MEMORY) &&
        (!limit || info.JobMemoryLimit < limit))
        limit = info.JobMemoryLimit;
    return limit;
}
