/*
 * The published statistics; see publish.h, and publish_layout.h for the section.
 *
 * Who writes: a thread of the publisher's own, never an allocating thread, so
 * publishing costs the CLR's threads nothing. It reads the books as HostMemGetStats
 * does (lock-free) and writes a new snapshot only when something changed, at most
 * every PUBLISH_MIN_MS; while nothing changes it backs off to PUBLISH_MAX_MS, so an
 * idle manager costs about 16 wake-ups a second.
 *
 * Who may read: the section's DACL grants read access (section query and map-read)
 * to the process's own user and to the Administrators group, and nothing else to
 * anybody; an OWNER RIGHTS entry takes away the owner's implicit right to rewrite the
 * DACL. Only the handle from the creation (the writer's) can map the section for
 * writing: nobody can write to it through its name, this process included.
 */
#include "publish.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "exports.h"
#include "memory_manager.h"
#include "os.h"
#include "publish_layout.h"

#define PUBLISH_MIN_MS       4
#define PUBLISH_MAX_MS       64
#define PUBLISH_MAX_MANAGERS 4096
#define READ_ACCESS          (STANDARD_RIGHTS_READ | SECTION_QUERY | SECTION_MAP_READ)

_Static_assert(sizeof(hm_published) <= HM_PUBLISH_BYTES, "the snapshot fits the section");
_Static_assert(sizeof(hm_published_values) % 8 == 0, "the values copy as 64-bit words");

struct hm_publisher {
    struct memory_manager *manager;
    HANDLE                 mapping;
    hm_published          *shared;
    HANDLE                 stop;   /* manual-reset */
    HANDLE                 thread;
    unsigned               number;
    hm_published_values    last;   /* the publisher thread's */
};

/* The DACL and everything it points at, on the stack of hm_publish_start. The
   variable-size parts are pointer-aligned buffers. */
typedef struct security {
    SECURITY_DESCRIPTOR descriptor;
    void               *token_user[(sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE) / sizeof(void *) + 1];
    BYTE                admins[SECURITY_MAX_SID_SIZE];
    BYTE                owner_rights[SECURITY_MAX_SID_SIZE];
    void               *acl[512 / sizeof(void *)];
} security;

static const char *build_security(security *s, SECURITY_ATTRIBUTES *attributes)
{
    TOKEN_USER *user = (TOKEN_USER *)s->token_user;
    ACL *acl = (ACL *)s->acl;
    HANDLE token;
    DWORD size;
    BOOL got;

    if (!hm_os.OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token))
        return "OpenProcessToken";
    got = hm_os.GetTokenInformation(token, TokenUser, user, sizeof(s->token_user), &size);
    hm_os.CloseHandle(token);
    if (!got)
        return "GetTokenInformation(TokenUser)";
    size = sizeof(s->admins);
    if (!hm_os.CreateWellKnownSid(WinBuiltinAdministratorsSid, NULL, s->admins, &size))
        return "CreateWellKnownSid(Administrators)";
    if (!hm_os.InitializeAcl(acl, sizeof(s->acl), ACL_REVISION))
        return "InitializeAcl";
    if (!hm_os.AddAccessAllowedAce(acl, ACL_REVISION, READ_ACCESS, user->User.Sid) ||
        !hm_os.AddAccessAllowedAce(acl, ACL_REVISION, READ_ACCESS, s->admins))
        return "AddAccessAllowedAce";
    /* OWNER RIGHTS (Vista on): the owner gets only this entry's rights, not the
       implicit READ_CONTROL | WRITE_DAC. An OS without it still gets a read-only
       DACL. */
    size = sizeof(s->owner_rights);
    if (hm_os.CreateWellKnownSid(WinCreatorOwnerRightsSid, NULL, s->owner_rights, &size) &&
        !hm_os.AddAccessAllowedAce(acl, ACL_REVISION, READ_ACCESS, s->owner_rights))
        return "AddAccessAllowedAce(OWNER RIGHTS)";
    if (!hm_os.InitializeSecurityDescriptor(&s->descriptor, SECURITY_DESCRIPTOR_REVISION))
        return "InitializeSecurityDescriptor";
    if (!hm_os.SetSecurityDescriptorDacl(&s->descriptor, TRUE, acl, FALSE))
        return "SetSecurityDescriptorDacl";
    attributes->nLength = sizeof(*attributes);
    attributes->lpSecurityDescriptor = &s->descriptor;
    attributes->bInheritHandle = FALSE;
    return NULL;
}

static void collect(struct hm_publisher *publisher, hm_published_values *values)
{
    struct memory_manager *manager = publisher->manager;
    HOSTMEM_STATS stats;
    unsigned level;
    int i;

    memset(values, 0, sizeof(*values));
    stats.cbSize = sizeof(stats);
    hm_exports_read_stats(manager, &stats);
    values->committedBytes = stats.committedBytes;
    values->peakCommittedBytes = stats.peakCommittedBytes;
    values->reservedBytes = stats.reservedBytes;
    values->mallocBytes = stats.mallocBytes;
    values->mappedBytes = stats.mappedBytes;
    for (i = 0; i < 3; i++) {
        values->failures[i] = stats.failures[i];
        values->notifications[i] = stats.notifications[i];
    }
    values->escalations = stats.escalations;
    values->commitLimit = manager->settings.commit_limit;
    values->addressSpaceLimit = manager->settings.address_space_limit;
    values->notificationState = (uint32_t)atomic_load_explicit(&manager->notification_state, memory_order_relaxed);
    for (level = 0; level < HM_LEVEL_COUNT; level++)
        if (hm_policy_escalates(&manager->settings.policy, level))
            values->escalatingLevels |= 1u << level;
}

/* Writes a snapshot if the books moved; TRUE if it did. */
static BOOL publish_if_changed(struct hm_publisher *publisher)
{
    hm_published_values values;

    collect(publisher, &values);
    values.updates = publisher->last.updates;
    if (publisher->last.updates && !memcmp(&values, &publisher->last, sizeof(values)))
        return FALSE;
    values.updates++;
    hm_published_write(publisher->shared, &values);
    publisher->last = values;
    return TRUE;
}

static DWORD WINAPI publisher_thread(void *parameter)
{
    struct hm_publisher *publisher = parameter;
    DWORD wait = PUBLISH_MIN_MS;

    while (hm_os.WaitForSingleObject(publisher->stop, wait) == WAIT_TIMEOUT) {
        if (publish_if_changed(publisher))
            wait = PUBLISH_MIN_MS;
        else if (wait < PUBLISH_MAX_MS)
            wait *= 2;
    }
    return 0;
}

/* The lowest free Local\hostmem-<pid>-<n>, created with the read-only DACL. A name
   that exists (a live manager's, or one a reader still holds open) is skipped. */
static HANDLE create_section(SECURITY_ATTRIBUTES *attributes, unsigned *number, DWORD *error)
{
    unsigned n;

    for (n = 1; n <= PUBLISH_MAX_MANAGERS; n++) {
        WCHAR name[HM_PUBLISH_NAME_CHARS];
        HANDLE mapping;

        swprintf(name, HM_PUBLISH_NAME_CHARS, HM_PUBLISH_NAME, (unsigned long)GetCurrentProcessId(), n);
        mapping = hm_os.CreateFileMappingW(INVALID_HANDLE_VALUE, attributes, PAGE_READWRITE, 0, HM_PUBLISH_BYTES, name);
        *error = GetLastError();
        if (mapping && *error != ERROR_ALREADY_EXISTS) {
            *number = n;
            return mapping;
        }
        if (mapping)
            hm_os.CloseHandle(mapping);
        else if (*error != ERROR_ACCESS_DENIED) /* a section of ours: read-only by name */
            return NULL;
    }
    *error = ERROR_ALREADY_EXISTS;
    return NULL;
}

static void report(const char *step, DWORD error)
{
    static LONG reported;

    if (!InterlockedExchange(&reported, 1))
        fprintf(stderr, "hostmem: cannot publish the statistics (%s failed, Win32 error %lu); going on without\n",
                step, (unsigned long)error);
}

struct hm_publisher *hm_publish_start(struct memory_manager *manager)
{
    struct hm_publisher *publisher;
    SECURITY_ATTRIBUTES attributes;
    security s;
    const char *failed;
    DWORD error = 0;

    if (!(publisher = hm_manager_heap_alloc(manager, sizeof(*publisher)))) {
        report("HeapAlloc", ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    memset(publisher, 0, sizeof(*publisher));
    publisher->manager = manager;
    memset(&s, 0, sizeof(s));
    if ((failed = build_security(&s, &attributes))) {
        error = GetLastError();
        goto fail;
    }
    failed = "CreateFileMappingW";
    if (!(publisher->mapping = create_section(&attributes, &publisher->number, &error)))
        goto fail;
    failed = "MapViewOfFile";
    if (!(publisher->shared = hm_os.MapViewOfFile(publisher->mapping, FILE_MAP_WRITE, 0, 0, HM_PUBLISH_BYTES))) {
        error = GetLastError();
        goto fail;
    }
    publisher->shared->version = HM_PUBLISH_VERSION;
    publisher->shared->size = sizeof(hm_published);
    publisher->shared->pid = GetCurrentProcessId();
    publisher->shared->manager = publisher->number;
    publish_if_changed(publisher);
    MemoryBarrier();
    publisher->shared->magic = HM_PUBLISH_MAGIC; /* last: a reader sees a whole section or none */

    failed = "CreateEventW";
    if (!(publisher->stop = hm_os.CreateEventW(NULL, TRUE, FALSE, NULL))) {
        error = GetLastError();
        goto fail;
    }
    failed = "CreateThread";
    if (!(publisher->thread = hm_os.CreateThread(NULL, (SIZE_T)64 * 1024, publisher_thread, publisher,
                                                 STACK_SIZE_PARAM_IS_A_RESERVATION, NULL))) {
        error = GetLastError();
        goto fail;
    }
    return publisher;

fail:
    report(failed, error);
    hm_publish_stop(publisher);
    return NULL;
}

void hm_publish_stop(struct hm_publisher *publisher)
{
    if (!publisher)
        return;
    if (publisher->thread) {
        /* The manager's memory goes once this returns, so the thread must have ended:
           a wake-up or a wait the OS refuses is made again, not trusted. */
        while (!hm_os.SetEvent(publisher->stop) ||
               hm_os.WaitForSingleObject(publisher->thread, INFINITE) != WAIT_OBJECT_0)
            hm_os.Sleep(1);
        hm_os.CloseHandle(publisher->thread);
    }
    if (publisher->stop)
        hm_os.CloseHandle(publisher->stop);
    if (publisher->shared)
        hm_os.UnmapViewOfFile(publisher->shared);
    if (publisher->mapping)
        hm_os.CloseHandle(publisher->mapping);
    hm_manager_heap_free(publisher->manager, publisher);
}

unsigned hm_publish_number(const struct hm_publisher *publisher)
{
    return publisher ? publisher->number : 0;
}
