/*
 * HOSTMEM_CONFIG, checked and completed with defaults. cbSize lets the struct grow: a
 * field that lies (even partly) beyond cbSize counts as zero, its default.
 */
#include "hostmem_private.h"

#include <string.h>

HRESULT hm_settings_from_config(const HOSTMEM_CONFIG *config, hm_settings *settings)
{
    HOSTMEM_CONFIG copy;
    DWORD level;

    memset(&copy, 0, sizeof(copy));
    if (config) {
        if (config->cbSize < HOSTMEM_CONFIG_MIN_SIZE || config->cbSize > sizeof(HOSTMEM_CONFIG))
            return E_INVALIDARG;
        memcpy(&copy, config, config->cbSize);
    }
#define PRESENT(field) (config && offsetof(HOSTMEM_CONFIG, field) + sizeof(copy.field) <= config->cbSize)

    memset(settings, 0, sizeof(*settings));
    settings->commit_limit = copy.commitLimit;
    hm_policy_init(&settings->policy);
    if (PRESENT(failureAction)) {
        for (level = 0; level < HM_LEVEL_COUNT; level++)
            if (!hm_policy_set(&settings->policy, level, copy.failureAction[level]))
                return E_INVALIDARG;
    }
    if (PRESENT(escalationCallback))
        settings->escalation_callback = copy.escalationCallback;
    if (PRESENT(escalationContext))
        settings->escalation_context = copy.escalationContext;
#undef PRESENT
    return S_OK;
}
