/*
 * Hints to the compiler about which way a branch goes and what stays out of line,
 * shared by the hot paths (the heap, IHostMalloc, GetMemoryLoad). They change the
 * layout of the code, never what it does: the expected case becomes the straight line,
 * with no taken jump, and the slow paths save no registers for the fast ones. Free of
 * windows.h; without GCC or clang they are nothing.
 */
#ifndef HOSTMEM_HINTS_H
#define HOSTMEM_HINTS_H

#if defined(__GNUC__)
#define HM_NOINLINE    __attribute__((noinline))
#define HM_LIKELY(x)   __builtin_expect(!!(x), 1)
#define HM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define HM_NOINLINE
#define HM_LIKELY(x)   (x)
#define HM_UNLIKELY(x) (x)
#endif

#endif /* HOSTMEM_HINTS_H */
