/*
 * HOSTMEM_CONFIG, checked and completed with defaults. cbSize lets the struct grow: a
 * field that lies (even partly) beyond cbSize counts as zero, its default.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "governance.h"
#include "os.h"
#include "size_parse.h"

static ULONGLONG percent_of(ULONGLONG value, unsigned percent)
{
    return value / 100 * percent + value % 100 * percent / 100;
}

static ULONGLONG headroom(ULONGLONG configured, ULONGLONG limit, unsigned default_percent)
{
    if (configured == HOSTMEM_HEADROOM_NONE)
        return 0;
    return configured ? configured : percent_of(limit, default_percent);
}

/* HOSTMEM_COMMIT_LIMIT=512M or =job: all or nothing; a malformed value is reported and
   the configured limit stays. The limit's source when the environment set it. */
static DWORD commit_limit_from_environment(ULONGLONG *limit)
{
    WCHAR wide[64];
    char text[64];
    DWORD length = hm_os.GetEnvironmentVariableW(L"HOSTMEM_COMMIT_LIMIT", wide, ARRAYSIZE(wide));
    uint64_t bytes;
    DWORD i;

    if (!length)
        return HOSTMEM_LIMIT_NONE;
    if (length >= ARRAYSIZE(wide)) {
        fprintf(stderr, "hostmem: HOSTMEM_COMMIT_LIMIT is too long to be a size; ignored\n");
        return HOSTMEM_LIMIT_NONE;
    }
    for (i = 0; i <= length; i++)
        text[i] = (char)(wide[i] < 0x80 ? wide[i] : '?');
    if (!_stricmp(text, "job")) {
        *limit = HOSTMEM_COMMIT_LIMIT_FROM_JOB;
        return HOSTMEM_LIMIT_JOB;
    }
    if (!hm_parse_size(text, &bytes)) {
        fprintf(stderr, "hostmem: HOSTMEM_COMMIT_LIMIT=\"%s\" is not a size (digits, then optionally K, M, G "
                        "or T) nor \"job\"; ignored\n", text);
        return HOSTMEM_LIMIT_NONE;
    }
    *limit = bytes;
    return HOSTMEM_LIMIT_ENVIRONMENT;
}

/* The commit limit in force and where it came from: the config, the environment over
   it, and the job's limit for HOSTMEM_COMMIT_LIMIT_FROM_JOB from either. */
static void resolve_commit_limit(const HOSTMEM_CONFIG *copy, DWORD job_percent, BOOL use_environment,
                                 hm_settings *settings)
{
    ULONGLONG limit = copy->commitLimit;
    DWORD source = limit ? HOSTMEM_LIMIT_CONFIG : HOSTMEM_LIMIT_NONE, from_environment;

    if (use_environment && (from_environment = commit_limit_from_environment(&limit)) != HOSTMEM_LIMIT_NONE)
        source = from_environment;
    if (limit == HOSTMEM_COMMIT_LIMIT_FROM_JOB) {
        limit = percent_of(hm_job_memory_limit(), job_percent);
        source = HOSTMEM_LIMIT_JOB;
    }
    settings->commit_limit = limit;
    settings->limit_source = limit ? source : HOSTMEM_LIMIT_NONE;
}

/* HOSTMEM_PUBLISH=1 turns publishing on; 0 or anything else leaves the config's choice. */
static BOOL publish_from_environment(void)
{
    WCHAR value[8];
    DWORD length = hm_os.GetEnvironmentVariableW(L"HOSTMEM_PUBLISH", value, ARRAYSIZE(value));

    return length == 1 && value[0] == L'1';
}

/* Every flag this version knows. */
#define KNOWN_FLAGS (HOSTMEM_FLAG_PUBLISH_STATS | HOSTMEM_FLAG_IGNORE_ENVIRONMENT)

HRESULT hm_settings_from_config(const HOSTMEM_CONFIG *config, hm_settings *settings)
{
    HOSTMEM_CONFIG copy;
    DWORD level, length = 0;
    BOOL use_environment;

    memset(&copy, 0, sizeof(copy));
    if (config) {
        if (config->cbSize < HOSTMEM_CONFIG_MIN_SIZE || config->cbSize > sizeof(HOSTMEM_CONFIG))
            return E_INVALIDARG;
        memcpy(&copy, config, config->cbSize);
        /* A field cut by cbSize counts as absent, like those wholly beyond it. */
#define CUT(field)                                                                     \
    if (offsetof(HOSTMEM_CONFIG, field) + sizeof(copy.field) > config->cbSize)         \
        memset(&copy.field, 0, sizeof(copy.field))
        CUT(failureAction);
        CUT(escalationCallback);
        CUT(escalationContext);
        CUT(appDomainHeadroom);
        CUT(processHeadroom);
        CUT(retryTimeoutMs);
        CUT(highWaterPercent);
        CUT(lowWaterPercent);
        CUT(addressSpaceLimit);
        CUT(traceFile);
        CUT(criticalResourceAction);
        CUT(orphanedLockAction);
        CUT(nonCriticalResourceAction);
        CUT(unloadTimeoutAction);
        CUT(unloadTimeoutMs);
        CUT(gcSegmentSize);
        CUT(gcMaxGen0Size);
        CUT(jobLimitPercent);
        CUT(notificationRepeatMs);
        CUT(flags);
#undef CUT
    }

    memset(settings, 0, sizeof(*settings));
    if (copy.flags & ~(DWORD)KNOWN_FLAGS)
        return E_INVALIDARG;
    /* A host that must decide alone (a database, security tooling) forbids the
       environment's overrides: HOSTMEM_COMMIT_LIMIT, HOSTMEM_TRACE, HOSTMEM_PUBLISH. */
    use_environment = !(copy.flags & HOSTMEM_FLAG_IGNORE_ENVIRONMENT);
    hm_policy_init(&settings->policy);
    for (level = 0; level < HM_LEVEL_COUNT; level++)
        if (!hm_policy_set(&settings->policy, level, copy.failureAction[level]))
            return E_INVALIDARG;
    settings->escalation_callback = copy.escalationCallback;
    settings->escalation_context = copy.escalationContext;

    settings->high_water_percent = copy.highWaterPercent ? copy.highWaterPercent : HM_DEFAULT_HIGH_WATER_PERCENT;
    settings->low_water_percent = copy.lowWaterPercent ? copy.lowWaterPercent : HM_DEFAULT_LOW_WATER_PERCENT;
    if (settings->high_water_percent > 100 || settings->low_water_percent >= settings->high_water_percent)
        return E_INVALIDARG;

    if (copy.retryTimeoutMs == HOSTMEM_RETRY_NONE)
        settings->retry_timeout_ms = 0;
    else if (copy.retryTimeoutMs > HM_MAX_RETRY_TIMEOUT_MS)
        return E_INVALIDARG;
    else
        settings->retry_timeout_ms = copy.retryTimeoutMs ? copy.retryTimeoutMs : HM_DEFAULT_RETRY_TIMEOUT_MS;

    if (copy.notificationRepeatMs == HOSTMEM_NOTIFICATION_REPEAT_NONE)
        settings->notification_repeat_ms = 0;
    else
        settings->notification_repeat_ms =
            copy.notificationRepeatMs ? copy.notificationRepeatMs : HM_DEFAULT_NOTIFICATION_REPEAT_MS;

    if (copy.jobLimitPercent > 100)
        return E_INVALIDARG;
    resolve_commit_limit(&copy, copy.jobLimitPercent ? copy.jobLimitPercent : HM_DEFAULT_JOB_LIMIT_PERCENT,
                         use_environment, settings);
    if (FAILED(hm_runtime_settings_from_config(&copy, settings->commit_limit, &settings->runtime)))
        return E_INVALIDARG;
    settings->headroom[eTaskCritical] = 0;
    settings->headroom[eAppDomainCritical] =
        headroom(copy.appDomainHeadroom, settings->commit_limit, HM_DEFAULT_APPDOMAIN_HEADROOM_PERCENT);
    settings->headroom[eProcessCritical] =
        headroom(copy.processHeadroom, settings->commit_limit, HM_DEFAULT_PROCESS_HEADROOM_PERCENT);
    settings->address_space_limit = copy.addressSpaceLimit;

    settings->publish_stats =
        (copy.flags & HOSTMEM_FLAG_PUBLISH_STATS) || (use_environment && publish_from_environment());

    /* HOSTMEM_TRACE=FILE wins over the config; a path too long for either is refused
       when it comes from the host, and reported and ignored when it comes from the
       environment. */
    if (use_environment)
        length = hm_os.GetEnvironmentVariableW(L"HOSTMEM_TRACE", settings->trace_file, ARRAYSIZE(settings->trace_file));
    if (length >= ARRAYSIZE(settings->trace_file)) {
        fprintf(stderr, "hostmem: HOSTMEM_TRACE is longer than %u characters; ignored\n",
                (unsigned)ARRAYSIZE(settings->trace_file) - 1);
        length = 0;
    }
    if (!length) {
        settings->trace_file[0] = 0;
        if (copy.traceFile) {
            if (wcslen(copy.traceFile) >= ARRAYSIZE(settings->trace_file))
                return E_INVALIDARG;
            wcscpy(settings->trace_file, copy.traceFile);
        }
    }
    return S_OK;
}
