/*
 * The layout of a published statistics section (Local\hostmem-<pid>-<n>) and the
 * sequence-counter protocol that writes and reads it. Shared by the DLL (publish.c,
 * the one writer), hostmem-stat and the tests (readers in other processes).
 *
 * Fixed-size fields only, so a 32-bit reader can read a 64-bit writer. The writer
 * makes `sequence` odd, stores the values, makes it even again; a reader copies the
 * values between two reads of an equal, even sequence, so it never keeps a torn copy.
 * Bump HM_PUBLISH_VERSION whenever the layout changes.
 */
#ifndef HOSTMEM_PUBLISH_LAYOUT_H
#define HOSTMEM_PUBLISH_LAYOUT_H

#include <windows.h>
#include <stdint.h>

#define HM_PUBLISH_MAGIC      0x54534D48u /* "HMST" */
#define HM_PUBLISH_VERSION    1u
#define HM_PUBLISH_NAME       L"Local\\hostmem-%lu-%u" /* pid, manager number (1, 2, ...) */
#define HM_PUBLISH_NAME_CHARS 64
#define HM_PUBLISH_BYTES      4096u

/* What a snapshot holds: HOSTMEM_STATS's fields, and what a reader needs to make
   sense of them. */
typedef struct hm_published_values {
    uint64_t committedBytes, peakCommittedBytes, reservedBytes, mallocBytes, mappedBytes;
    uint64_t failures[3];
    uint64_t escalations;
    uint64_t notifications[3];
    uint64_t commitLimit;        /* 0: none */
    uint64_t addressSpaceLimit;  /* 0: none */
    uint64_t updates;            /* snapshots written so far */
    uint32_t notificationState;  /* the last EMemoryAvailable delivered; 0: none yet */
    uint32_t escalatingLevels;   /* bit n: a failure at level n returns E_FAIL */
} hm_published_values;

typedef struct hm_published {
    uint32_t magic;      /* HM_PUBLISH_MAGIC once the section is ready */
    uint32_t version;    /* HM_PUBLISH_VERSION */
    uint32_t size;       /* sizeof(hm_published) */
    uint32_t pid;
    uint32_t manager;    /* n of the name */
    uint32_t reserved0;
    volatile LONG64 sequence; /* odd while the values are being written */
    hm_published_values values;
} hm_published;

/* The one writer. */
static inline void hm_published_write(hm_published *shared, const hm_published_values *values)
{
    volatile uint64_t *to = (volatile uint64_t *)&shared->values;
    const uint64_t *from = (const uint64_t *)values;
    LONG64 sequence = shared->sequence;
    size_t i;

    shared->sequence = sequence + 1;
    MemoryBarrier();
    for (i = 0; i < sizeof(*values) / sizeof(uint64_t); i++)
        to[i] = from[i];
    MemoryBarrier();
    shared->sequence = sequence + 2;
}

/* A reader: TRUE and a whole snapshot, or FALSE when the section is not (or no
   longer) one of hostmem's or the writer never let go within `attempts` tries. */
static inline BOOL hm_published_read(const hm_published *shared, hm_published_values *values, unsigned attempts)
{
    const volatile uint64_t *from = (const volatile uint64_t *)&shared->values;
    uint64_t *to = (uint64_t *)values;

    if (shared->magic != HM_PUBLISH_MAGIC || shared->version != HM_PUBLISH_VERSION ||
        shared->size != sizeof(*shared))
        return FALSE;
    while (attempts--) {
        LONG64 before = shared->sequence, after;
        size_t i;

        MemoryBarrier();
        if (before & 1) {
            YieldProcessor();
            continue;
        }
        for (i = 0; i < sizeof(*values) / sizeof(uint64_t); i++)
            to[i] = from[i];
        MemoryBarrier();
        after = shared->sequence;
        if (after == before)
            return TRUE;
    }
    return FALSE;
}

#endif /* HOSTMEM_PUBLISH_LAYOUT_H */
