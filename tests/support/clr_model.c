/*
 * The CLR stand-in; see clr_model.h.
 */
#include "clr_model.h"

#include <string.h>

static clr_model *model_of(ICLRMemoryNotificationCallback *iface)
{
    return CONTAINING_RECORD(iface, clr_model, iface);
}

static HRESULT WINAPI model_QueryInterface(ICLRMemoryNotificationCallback *iface, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ICLRMemoryNotificationCallback)) {
        *ppv = iface;
        return S_OK;
    }
    return E_NOINTERFACE;
}

static ULONG WINAPI model_AddRef(ICLRMemoryNotificationCallback *iface)
{
    (void)iface;
    return 1;
}

static ULONG WINAPI model_Release(ICLRMemoryNotificationCallback *iface)
{
    (void)iface;
    return 1;
}

static HRESULT WINAPI model_OnMemoryNotification(ICLRMemoryNotificationCallback *iface, EMemoryAvailable state)
{
    clr_model *model = model_of(iface);
    LONG slot;

    if (InterlockedIncrement(&model->inside) > 1)
        InterlockedIncrement(&model->overlaps);
    slot = InterlockedIncrement(&model->recorded) - 1;
    if (slot < CLR_MODEL_HISTORY) {
        model->states[slot] = (int)state;
        model->threads[slot] = GetCurrentThreadId();
    }
    InterlockedExchange(&model->last_state, (LONG)state);
    if (!model->started) {
        /* corhost.cpp: the callback returns at once while the runtime has not started. */
        InterlockedIncrement(&model->dropped);
    } else {
        InterlockedExchange(&model->low_flag, state == eMemoryAvailableLow);
    }
    if (model->on_notification)
        model->on_notification(model, state);
    InterlockedDecrement(&model->inside);
    InterlockedIncrement(&model->calls);
    return S_OK;
}

static ICLRMemoryNotificationCallbackVtbl model_vtbl = {
    model_QueryInterface, model_AddRef, model_Release, model_OnMemoryNotification,
};

void clr_model_init(clr_model *model, BOOL started)
{
    memset(model, 0, sizeof(*model));
    model->iface.lpVtbl = &model_vtbl;
    model->started = started;
}

void clr_model_start(clr_model *model)
{
    InterlockedExchange(&model->started, 1);
}

BOOL clr_model_wait_calls(clr_model *model, LONG calls, DWORD timeout_ms)
{
    DWORD waited;

    for (waited = 0; model->calls < calls && waited < timeout_ms; waited++)
        Sleep(1);
    return model->calls >= calls;
}

BOOL clr_model_wait_state(clr_model *model, int state, DWORD timeout_ms)
{
    DWORD waited;

    for (waited = 0; model->last_state != state && waited < timeout_ms; waited++)
        Sleep(1);
    return model->last_state == state;
}

BOOL clr_model_wait_low_flag(clr_model *model, BOOL set, DWORD timeout_ms)
{
    DWORD waited;

    for (waited = 0; (model->low_flag != 0) != (set != 0) && waited < timeout_ms; waited++)
        Sleep(1);
    return (model->low_flag != 0) == (set != 0);
}
