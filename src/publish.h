/*
 * Live statistics for other processes: with HOSTMEM_FLAG_PUBLISH_STATS (or
 * HOSTMEM_PUBLISH=1) each manager keeps a read-only copy of its HOSTMEM_STATS in a
 * named section, Local\hostmem-<pid>-<n>, that hostmem-stat reads. Layout and
 * protocol: publish_layout.h.
 */
#ifndef HOSTMEM_PUBLISH_H
#define HOSTMEM_PUBLISH_H

#include "hostmem_private.h"

struct hm_publisher;

/* Creates the section under the lowest free n and starts the thread that keeps it
   current. NULL when the OS refuses any step: that is reported once on stderr and the
   manager goes on unpublished. */
struct hm_publisher *hm_publish_start(struct memory_manager *manager);
/* Stops the thread and closes the section (a reader's own handle keeps it readable,
   frozen). NULL does nothing. */
void hm_publish_stop(struct hm_publisher *publisher);
/* The n the section was created under. */
unsigned hm_publish_number(const struct hm_publisher *publisher);

#endif /* HOSTMEM_PUBLISH_H */
