/*
 * The thread watch and numbers of thread.h on POSIX systems (the native builds, where
 * the sanitizers and fuzzers run): a pthread key whose destructor hands the exiting
 * thread's arenas on, and numbers each thread draws once from a counter. On Windows
 * the DLL provides them (src/thread_win32.c); this file is then empty.
 */
#include "thread.h"

#ifndef _WIN32
#include <pthread.h>
#include <stdatomic.h>

#include "heap.h"

static pthread_once_t watch_once = PTHREAD_ONCE_INIT;
static pthread_key_t  watch_key;
static bool           watch_ok;

/* The destructor's type is pthread's: value cannot be const. */
static void thread_exiting(void *value) /* cppcheck-suppress constParameter */
{
    if (value)
        hm_heap_thread_exit();
}

static void watch_init(void)
{
    watch_ok = pthread_key_create(&watch_key, thread_exiting) == 0;
}

bool hm_thread_watch(void)
{
    pthread_once(&watch_once, watch_init);
    return watch_ok && pthread_setspecific(watch_key, (void *)1) == 0;
}

void hm_thread_watch_end(void)
{
}

_Thread_local unsigned hm_thread_slot;

/* Numbers from 1, in the order threads first ask. */
unsigned hm_thread_number_draw(void)
{
    static atomic_uint next;
    unsigned n = atomic_fetch_add_explicit(&next, 1, memory_order_relaxed) + 1;

    if (!n)
        n = atomic_fetch_add_explicit(&next, 1, memory_order_relaxed) + 1;
    hm_thread_slot = n;
    return n;
}
#else
typedef int hm_thread_posix_unused; /* an empty file is not C */
#endif
