/*
 * A stand-in for the CLR's side of ICLRMemoryNotificationCallback, for tests: a
 * static object (AddRef and Release answer 1, as the CLR's do) that, like the CLR
 * (docs/notifications.md), drops every notification until its runtime has started
 * and otherwise keeps a low-memory flag that Low sets and Neutral or High clears.
 *
 * It records what it was told, by whom, and whether two calls ever overlapped, so a
 * test can check the notification rules at quiescence.
 */
#ifndef HOSTMEM_CLR_MODEL_H
#define HOSTMEM_CLR_MODEL_H

#define COBJMACROS
#include "hostmem.h"

#define CLR_MODEL_HISTORY 256

typedef struct clr_model {
    ICLRMemoryNotificationCallback iface;
    volatile LONG started;    /* 0: notifications are dropped, as before the runtime started */
    volatile LONG calls;      /* every call, dropped ones too */
    volatile LONG dropped;    /* calls before start */
    volatile LONG low_flag;   /* the GC's low-memory flag */
    volatile LONG last_state; /* the last state received, dropped or not (0: none yet) */
    volatile LONG inside;     /* calls running now */
    volatile LONG overlaps;   /* calls that found another one running */
    volatile LONG recorded;
    int   states[CLR_MODEL_HISTORY];
    DWORD threads[CLR_MODEL_HISTORY];
    /* Called inside each notification, after it was recorded (NULL: none). */
    void (*on_notification)(struct clr_model *model, EMemoryAvailable state);
    void *context;
} clr_model;

void clr_model_init(clr_model *model, BOOL started);
/* The runtime has started: notifications count from now on. */
void clr_model_start(clr_model *model);
/* Waits up to timeout_ms for at least `calls` calls; TRUE if they came. */
BOOL clr_model_wait_calls(clr_model *model, LONG calls, DWORD timeout_ms);
/* Waits up to timeout_ms until the last state received is `state`; TRUE if it is. */
BOOL clr_model_wait_state(clr_model *model, int state, DWORD timeout_ms);
/* Waits up to timeout_ms until the low-memory flag reads `set`. */
BOOL clr_model_wait_low_flag(clr_model *model, BOOL set, DWORD timeout_ms);

#endif /* HOSTMEM_CLR_MODEL_H */
