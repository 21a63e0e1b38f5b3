/*
 * The calling thread as the heap needs to know it: a small number that picks its arena,
 * and a call when it exits, so that what it owns is handed on (heap.c). Portable: the
 * number is read inline; the exit watch is platform code, src/thread_win32.c for
 * Windows (through the OS table) and thread_posix.c elsewhere.
 */
#ifndef HOSTMEM_THREAD_H
#define HOSTMEM_THREAD_H

#include <stdbool.h>

/* A small number for the calling thread, for picking its arena (heap_internal.h):
   threads created one after another get consecutive numbers, so up to
   HM_HEAP_ARENAS of them never share one. On Windows the thread id, read straight
   from the TEB (Windows and Wine hand out ids in steps of 4, mostly consecutive);
   elsewhere a number each thread draws once from a counter (thread_posix.c). Unique among the
   threads alive at once: a heap's arena is owned by a number (heap.c claims it,
   heap_arena.c hands it on). */
#if defined(_WIN32) && (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
static inline unsigned hm_thread_number(void)
{
    unsigned long id;
#if defined(__x86_64__)
    __asm__("movl %%gs:0x48, %k0" : "=r"(id)); /* TEB.ClientId.UniqueThread */
#else
    __asm__("movl %%fs:0x24, %0" : "=r"(id));
#endif
    return (unsigned)(id >> 2);
}
#elif defined(_WIN32)
unsigned hm_thread_number(void); /* thread_win32.c: GetCurrentThreadId() >> 2 */
#else
extern _Thread_local unsigned hm_thread_slot; /* thread_posix.c; 0 until drawn */
unsigned hm_thread_number_draw(void);
static inline unsigned hm_thread_number(void)
{
    unsigned n = hm_thread_slot;
    return n ? n : hm_thread_number_draw();
}
#endif

/* Makes sure the calling thread calls hm_heap_thread_exit() (heap.h) when it exits:
   on Windows a fiber-local slot's callback (FlsAlloc; FLS callbacks run at thread
   exit, also in a program that links the core statically), elsewhere a pthread key's
   destructor. False when that could not be set up (the thread then never owns an
   arena). hm_thread_watch_end frees the slot (when the DLL is unloaded).
   On Windows these live in the DLL (src/thread_win32.c), where every OS call goes
   through the OS table so a test can make FlsAlloc fail; elsewhere in
   thread_posix.c. */
bool hm_thread_watch(void);
void hm_thread_watch_end(void);

#endif /* HOSTMEM_THREAD_H */
