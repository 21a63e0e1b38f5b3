/*
 * The stack protector of cmake/hardening.cmake works under Wine: built with the same
 * -fstack-protector-strong and the same static libssp as hostmem.dll, a call that
 * overruns a 16-byte local by 16 bytes (over the guard word, short of the return
 * address of a protected frame) must end in __stack_chk_fail's trap, an illegal
 * instruction, rather than return. Without the protector the same call returns
 * into the overwritten frame and faults with an access violation instead, which the
 * test rejects. The exception filter reports the code and ends the process.
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

static LONG WINAPI report_exception(EXCEPTION_POINTERS *info)
{
    printf("exception 0x%08lX\n", (unsigned long)info->ExceptionRecord->ExceptionCode);
    fflush(stdout);
    ExitProcess(3);
}

/* Out of line, so the compiler cannot see the overrun and refuse or fold it. */
static void __attribute__((noinline)) copy_bytes(char *to, const char *from, size_t n)
{
    memcpy(to, from, n);
}

static int __attribute__((noinline)) guarded(size_t n)
{
    static const char source[64] = "x";
    char local[16];

    copy_bytes(local, source, n);
    return local[0];
}

int main(int argc, char **argv)
{
    (void)argv;
    SetUnhandledExceptionFilter(report_exception);
    printf("guarded call within bounds: %d\n", guarded(sizeof(char[16])) == 'x');
    fflush(stdout);
    /* The length comes from the command line so no compiler can prove the overrun. */
    guarded(argc > 1 ? 32 : 16);
    printf("overrun NOT DETECTED\n");
    return 0;
}
