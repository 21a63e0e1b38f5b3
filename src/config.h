/*
 * The configuration after validation (config.c): HOSTMEM_CONFIG with every default
 * filled in and the environment's overrides applied, as the manager keeps it.
 */
#ifndef HOSTMEM_CONFIG_H
#define HOSTMEM_CONFIG_H

#include "hostmem_private.h"

#include "governance.h"
#include "policy.h"

typedef struct hm_settings {
    ULONGLONG                   commit_limit;        /* 0: none */
    DWORD                       limit_source;        /* HOSTMEM_LIMIT_SOURCE */
    ULONGLONG                   headroom[3];         /* bytes past the limit, by level */
    DWORD                       retry_timeout_ms;    /* 0: no wait, no retry */
    DWORD                       high_water_percent;
    DWORD                       low_water_percent;
    ULONGLONG                   address_space_limit; /* 0: none */
    hm_policy                   policy;
    HOSTMEM_ESCALATION_CALLBACK escalation_callback;
    void                       *escalation_context;
    WCHAR                       trace_file[MAX_PATH]; /* empty: no trace */
    hm_runtime_settings         runtime;             /* for HostMemConfigureRuntime */
    DWORD                       notification_repeat_ms; /* 0: Low is told once */
    BOOL                        publish_stats;       /* HOSTMEM_FLAG_PUBLISH_STATS or HOSTMEM_PUBLISH=1 */
} hm_settings;

#define HM_DEFAULT_APPDOMAIN_HEADROOM_PERCENT 5
#define HM_DEFAULT_PROCESS_HEADROOM_PERCENT   10
#define HM_DEFAULT_RETRY_TIMEOUT_MS           100
#define HM_MAX_RETRY_TIMEOUT_MS               60000
#define HM_DEFAULT_HIGH_WATER_PERCENT         90
#define HM_DEFAULT_LOW_WATER_PERCENT          60
#define HM_DEFAULT_NOTIFICATION_REPEAT_MS     1000

/* E_INVALIDARG for a bad cbSize or field; S_OK and *settings otherwise.
   HOSTMEM_COMMIT_LIMIT in the environment overrides commitLimit; a malformed value
   is reported on stderr and ignored. HOSTMEM_COMMIT_LIMIT_FROM_JOB (or =job) reads the
   job's limit (job_limit.c). */
HRESULT hm_settings_from_config(const HOSTMEM_CONFIG *config, hm_settings *settings);

#endif /* HOSTMEM_CONFIG_H */
