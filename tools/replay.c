/*
 * hostmem-replay: the CLR played faithfully against hostmem.dll, for machines without
 * the .NET Framework. It makes ICLRRuntimeHost::SetHostControl's calls in the CLR's
 * order (docs/clr-contract.md, "Sequence of SetHostControl"), starts up at eProcessCritical, then runs "managed" threads
 * that allocate as the CLR's allocators do (GC segments growing and shrinking, loader
 * heaps committed page by page, executable memory for JIT code, IHostMalloc churn) at
 * the critical levels the CLR would pass, plus a finalizer thread. It reacts to
 * notifications as the CLR does (on Low the "GC" gives memory back) and to failures as
 * the CLR would: E_OUTOFMEMORY at task level aborts the task, at domain level unloads
 * the domain, E_FAIL ends the run (the CLR is finished in the process). After
 * SetHostControl the host calls HostMemConfigureRuntime against a stand-in CLR
 * (tools/clr/clr_control.c) that records the escalation policy, GC limits and event
 * registrations; a failure is then handled by the policy in force (FAIL_CriticalResource
 * for a domain-level refusal, FAIL_NonCriticalResource for a task-level one), the
 * CLR tells hostmem's IHostPolicyManager::OnFailure first, a domain unload raises
 * Event_DomainUnload and an escalation Event_ClrDisabled.
 *
 * Exit status: 0 when every call answered something the CLR can use (an escalation is
 * such an answer), 1 when one did not, 2 for a usage error.
 */
#define COBJMACROS
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <initguid.h>
#include "hostmem.h"

#include "clr/clr_callback.h"

#include "clr/clr_managers.h"
#include "clr/clr_control.h"
#include "replay_from.h"
#include "trace/replay_trace.h"

#define KiB ((SIZE_T)1 << 10)
#define MiB ((SIZE_T)1 << 20)
#define PAGE (4 * KiB)

#define MAX_THREADS     64
#define GC_SEGMENT      (256 * MiB)   /* reserved per managed thread, committed as the heap grows */
#define LOADER_HEAP     (64 * KiB)    /* reserved, committed page by page */
#define MAX_LOADER      1024
#define JIT_BLOCK       (64 * KiB)
#define MAX_JIT         2048
#define PACE_EVERY      4             /* managed code computes between allocations: a 1 ms pause every few */
#define MAX_BLOCKS      512

/* --- options --- */

struct options {
    ULONGLONG   limit;
    unsigned    threads;
    double      seconds;   /* 0 when --ops is given */
    unsigned    ops;       /* per managed thread; 0 when --seconds is given */
    unsigned    seed;
    const char *trace;
    const char *chart;
    BOOL        quiet;
    unsigned    clr_offers; /* CLR_OFFERS_*: the managers the stand-in CLR hands out */
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: hostmem-replay [--limit SIZE] [--threads N] [--seconds S | --ops N] [--seed N]\n"
            "                      [--trace FILE] [--chart FILE] [--clr-managers LIST] [--quiet]\n"
            "  --limit SIZE   commit limit (512M, 2G, bytes; 0 = none)        default 64M\n"
            "  --threads N    managed threads (1..%d)                          default 4\n"
            "  --seconds S    run for S seconds                              default 6\n"
            "  --ops N        or: N operations per managed thread (repeatable per seed on one thread)\n"
            "  --seed N       random seed                                    default 1\n"
            "  --trace FILE   write hostmem's call trace (CSV) to FILE\n"
            "  --chart FILE   write an SVG chart of the run to FILE (traces to FILE.csv if no --trace)\n"
            "  --clr-managers LIST  the managers the CLR offers HostMemConfigureRuntime: a comma list of\n"
            "                 policy, gc, events, or none                    default policy,gc,events\n"
            "  --quiet        no progress lines\n"
            "   or: hostmem-replay --from TRACE [--limit SIZE] [--speed N | --fast] [--chart FILE]\n"
            "  --from TRACE   replay a recorded hostmem trace under another limit (see --from --help)\n"
            "exit status: 0 the CLR got answers it can use (an escalation included), 1 it did not, 2 usage\n",
            MAX_THREADS);
}

static BOOL parse_size(const char *text, ULONGLONG *bytes)
{
    ULONGLONG value = 0;
    unsigned shift = 0;

    if (!*text)
        return FALSE;
    for (; *text >= '0' && *text <= '9'; text++) {
        if (value > (~0ULL - 9) / 10)
            return FALSE;
        value = value * 10 + (ULONGLONG)(*text - '0');
    }
    switch (*text) {
    case 'k': case 'K': shift = 10; text++; break;
    case 'm': case 'M': shift = 20; text++; break;
    case 'g': case 'G': shift = 30; text++; break;
    case 't': case 'T': shift = 40; text++; break;
    default: break;
    }
    if (*text || (shift && value > (~0ULL >> shift)))
        return FALSE;
    *bytes = value << shift;
    return TRUE;
}

static BOOL parse_clr_managers(const char *text, unsigned *offers)
{
    char list[64], *name, *rest;

    if (!strcmp(text, "none")) {
        *offers = 0;
        return TRUE;
    }
    if (strlen(text) >= sizeof(list))
        return FALSE;
    strcpy(list, text);
    *offers = 0;
    for (name = strtok_r(list, ",", &rest); name; name = strtok_r(NULL, ",", &rest)) {
        if (!strcmp(name, "policy"))
            *offers |= CLR_OFFERS_POLICY;
        else if (!strcmp(name, "gc"))
            *offers |= CLR_OFFERS_GC;
        else if (!strcmp(name, "events"))
            *offers |= CLR_OFFERS_EVENTS;
        else
            return FALSE;
    }
    return *offers != 0;
}

static BOOL parse_options(int argc, char **argv, struct options *o)
{
    int i;

    memset(o, 0, sizeof(*o));
    o->limit = 64 * MiB;
    o->threads = 4;
    o->seconds = 6;
    o->seed = 1;
    o->clr_offers = CLR_OFFERS_ALL;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end;

        if (!strcmp(a, "--quiet")) {
            o->quiet = TRUE;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        }
        if (!v) {
            fprintf(stderr, "hostmem-replay: %s needs a value\n", a);
            return FALSE;
        }
        i++;
        if (!strcmp(a, "--limit")) {
            if (!parse_size(v, &o->limit)) {
                fprintf(stderr, "hostmem-replay: --limit %s is not a size (512M, 2G, bytes)\n", v);
                return FALSE;
            }
        } else if (!strcmp(a, "--threads")) {
            o->threads = (unsigned)strtoul(v, &end, 10);
            if (*end || o->threads < 1 || o->threads > MAX_THREADS) {
                fprintf(stderr, "hostmem-replay: --threads takes 1..%d\n", MAX_THREADS);
                return FALSE;
            }
        } else if (!strcmp(a, "--seconds")) {
            o->seconds = strtod(v, &end);
            if (*end || o->seconds <= 0 || o->seconds > 3600) {
                fprintf(stderr, "hostmem-replay: --seconds takes a number of seconds up to 3600\n");
                return FALSE;
            }
            o->ops = 0;
        } else if (!strcmp(a, "--ops")) {
            o->ops = (unsigned)strtoul(v, &end, 10);
            if (*end || !o->ops) {
                fprintf(stderr, "hostmem-replay: --ops takes a positive number\n");
                return FALSE;
            }
            o->seconds = 0;
        } else if (!strcmp(a, "--seed")) {
            o->seed = (unsigned)strtoul(v, &end, 10);
            if (*end) {
                fprintf(stderr, "hostmem-replay: --seed takes a number\n");
                return FALSE;
            }
        } else if (!strcmp(a, "--trace")) {
            o->trace = v;
        } else if (!strcmp(a, "--chart")) {
            o->chart = v;
        } else if (!strcmp(a, "--clr-managers")) {
            if (!parse_clr_managers(v, &o->clr_offers)) {
                fprintf(stderr, "hostmem-replay: --clr-managers takes policy, gc, events (comma-separated) or none\n");
                return FALSE;
            }
        } else {
            fprintf(stderr, "hostmem-replay: unknown option %s\n", a);
            return FALSE;
        }
    }
    return TRUE;
}

/* --- printing --- */

static int mismatches;
static int step_number;

static const char *hresult_name(HRESULT hr)
{
    switch (hr) {
    case S_OK:                    return "S_OK";
    case S_FALSE:                 return "S_FALSE";
    case E_FAIL:                  return "E_FAIL";
    case E_OUTOFMEMORY:           return "E_OUTOFMEMORY";
    case E_INVALIDARG:            return "E_INVALIDARG";
    case E_POINTER:               return "E_POINTER";
    case E_NOINTERFACE:           return "E_NOINTERFACE";
    case E_UNEXPECTED:            return "E_UNEXPECTED";
    case HOST_E_INVALIDOPERATION: return "HOST_E_INVALIDOPERATION";
    default:                      return NULL;
    }
}

/* One line per call of the host sequence: number, call, HRESULT, what the CLR makes of it. */
static void step(const char *call, HRESULT hr, HRESULT expected, const char *meaning)
{
    const char *name = hresult_name(hr);
    char code[32];

    if (!name) {
        snprintf(code, sizeof(code), "0x%08lX", (unsigned long)hr);
        name = code;
    }
    printf("%3d  %-62s %-16s %s%s\n", ++step_number, call, name, meaning,
           hr == expected ? "" : "   <-- NOT WHAT THE CLR NEEDS");
    if (hr != expected)
        mismatches++;
}

static double mib(ULONGLONG bytes)
{
    return (double)bytes / (double)MiB;
}

/* --- the CLR's state --- */

static IHostMemoryManager *manager;
static IHostPolicyManager *replay_policy_manager; /* hostmem's, from SetHostControl */
static clr_runtime clr;                          /* the CLR's ICLRControl and its managers */
static volatile LONG next_domain_id = 1;          /* 1 is the default domain */
static volatile LONG clr_disabled_raised;
static volatile LONG clr_disabled_told;           /* Event_ClrDisabled reached a registered action */
static volatile LONG domain_unloads_told;         /* Event_DomainUnload reached a registered action */
static volatile LONG policy_failures_told;        /* OnFailure calls the CLR made */
static IHostMalloc *clr_malloc;
static struct options options;
static volatile LONG clr_finished;       /* an E_FAIL: the CLR is unusable */
static volatile LONG gc_pressure;        /* the last notification: eMemoryAvailable */
static volatile LONG gc_epoch;           /* bumps at each Low: every thread collects once */
static volatile LONG unexpected_results; /* answers the CLR cannot use */
static LARGE_INTEGER started, frequency;
static char escalation_text[256];

static double elapsed(void)
{
    LARGE_INTEGER now;

    QueryPerformanceCounter(&now);
    return (double)(now.QuadPart - started.QuadPart) / (double)frequency.QuadPart;
}

struct counters {
    LONG64 gc_commits, gc_decommits, loader_pages, jit_blocks, mallocs, frees, queries;
    LONG64 bytes_committed, tasks_aborted, domains_unloaded, collections;
    LONG64 policy_unloads; /* of domains_unloaded: by the escalation policy, with Event_DomainUnload */
};

struct region {
    char  *base;
    SIZE_T committed; /* bytes, a prefix */
};

struct managed_thread {
    unsigned        index;
    ULONGLONG       rng;
    BOOL            default_domain;
    LONG            domain_id;   /* the domain the thread runs in (1: the default domain) */
    BOOL            finalizer;
    HANDLE          handle;
    struct region   gc;          /* one GC segment, committed as a prefix */
    struct region   loader[MAX_LOADER];
    unsigned        loaders;
    struct region   jit[MAX_JIT];
    unsigned        jits;
    void           *blocks[MAX_BLOCKS];
    LONG            seen_gc_epoch;
    struct counters n;
};

static struct managed_thread threads[MAX_THREADS + 1];

static unsigned next_random(struct managed_thread *t)
{
    /* xorshift64*: repeatable per seed and thread. */
    t->rng ^= t->rng >> 12;
    t->rng ^= t->rng << 25;
    t->rng ^= t->rng >> 27;
    return (unsigned)((t->rng * 0x2545F4914F6CDD1DULL) >> 32);
}

static double progress(const struct managed_thread *t, unsigned done)
{
    double p = options.ops ? (double)done / options.ops : elapsed() / options.seconds;
    (void)t;
    return p > 1 ? 1 : p;
}

/* The level the CLR passes: eTaskCritical unless the thread holds a lock, then
   eProcessCritical in the default domain and eAppDomainCritical elsewhere
   (docs/clr-contract.md, "Which critical level the CLR passes"); finalizers run at
   eProcessCritical. */
static EMemoryCriticalLevel pick_level(struct managed_thread *t)
{
    if (t->finalizer)
        return eProcessCritical;
    if (next_random(t) % 100 < 12)
        return t->default_domain ? eProcessCritical : eAppDomainCritical;
    return eTaskCritical;
}

/* --- what the CLR's allocators do --- */

static void note_result(HRESULT hr, EMemoryCriticalLevel level, const char *what, SIZE_T bytes,
                        struct managed_thread *t);

static void gc_shrink_to(struct managed_thread *t, SIZE_T keep)
{
    keep &= ~(PAGE - 1);
    if (t->gc.base && t->gc.committed > keep) {
        HRESULT hr = IHostMemoryManager_VirtualFree(manager, t->gc.base + keep, t->gc.committed - keep, MEM_DECOMMIT);
        if (hr != S_OK)
            InterlockedIncrement(&unexpected_results);
        t->gc.committed = keep;
        t->n.gc_decommits++;
    }
}

static HRESULT gc_allocate(struct managed_thread *t, EMemoryCriticalLevel level, double ramp)
{
    SIZE_T budget = (SIZE_T)((double)(options.limit ? options.limit : 1024 * MiB) / options.threads * ramp);
    SIZE_T chunk = (SIZE_T)(64 + next_random(t) % 448) * KiB;
    void *p = NULL;
    HRESULT hr;

    if (!t->gc.base)
        return S_OK;
    /* Past its budget the heap collects first: the GC keeps what survives. */
    if (t->gc.committed + chunk > budget || t->gc.committed + chunk > GC_SEGMENT) {
        gc_shrink_to(t, t->gc.committed / 2);
        t->n.collections++;
    }
    hr = IHostMemoryManager_VirtualAlloc(manager, t->gc.base + t->gc.committed, chunk, MEM_COMMIT, PAGE_READWRITE,
                                         level, &p);
    if (hr == S_OK) {
        t->gc.committed += chunk;
        t->n.gc_commits++;
        t->n.bytes_committed += (LONG64)chunk;
    }
    note_result(hr, level, "GC heap commit", chunk, t);
    return hr;
}

static HRESULT loader_allocate(struct managed_thread *t, EMemoryCriticalLevel level)
{
    struct region *heap = t->loaders ? &t->loader[t->loaders - 1] : NULL;
    void *p = NULL;
    HRESULT hr;

    if (!heap || heap->committed == LOADER_HEAP) {
        if (t->loaders == MAX_LOADER)
            return S_OK; /* this thread has loaded all it will */
        hr = IHostMemoryManager_VirtualAlloc(manager, NULL, LOADER_HEAP, MEM_RESERVE, PAGE_NOACCESS, level, &p);
        note_result(hr, level, "loader heap reserve", LOADER_HEAP, t);
        if (hr != S_OK)
            return hr;
        heap = &t->loader[t->loaders++];
        heap->base = p;
        heap->committed = 0;
    }
    hr = IHostMemoryManager_VirtualAlloc(manager, heap->base + heap->committed, PAGE, MEM_COMMIT, PAGE_READWRITE,
                                         level, &p);
    if (hr == S_OK) {
        heap->committed += PAGE;
        t->n.loader_pages++;
        t->n.bytes_committed += PAGE;
    }
    note_result(hr, level, "loader heap commit", PAGE, t);
    return hr;
}

static HRESULT jit_allocate(struct managed_thread *t, EMemoryCriticalLevel level)
{
    void *p = NULL;
    HRESULT hr;

    if (t->jits == MAX_JIT)
        return S_OK;
    hr = IHostMemoryManager_VirtualAlloc(manager, NULL, JIT_BLOCK, MEM_RESERVE | MEM_COMMIT, PAGE_EXECUTE_READWRITE,
                                         level, &p);
    if (hr == S_OK) {
        t->jit[t->jits].base = p;
        t->jit[t->jits++].committed = JIT_BLOCK;
        t->n.jit_blocks++;
        t->n.bytes_committed += JIT_BLOCK;
    }
    note_result(hr, level, "JIT code", JIT_BLOCK, t);
    return hr;
}

static HRESULT malloc_churn(struct managed_thread *t, EMemoryCriticalLevel level)
{
    unsigned i = next_random(t) % MAX_BLOCKS;
    HRESULT hr;

    if (t->blocks[i]) {
        hr = IHostMalloc_Free(clr_malloc, t->blocks[i]);
        if (hr != S_OK)
            InterlockedIncrement(&unexpected_results);
        t->blocks[i] = NULL;
        t->n.frees++;
        return S_OK;
    }
    hr = IHostMalloc_Alloc(clr_malloc, 16 + next_random(t) % 1009, level, &t->blocks[i]);
    if (hr == S_OK)
        t->n.mallocs++;
    note_result(hr, level, "IHostMalloc::Alloc", 1024, t);
    return hr;
}

static void free_blocks(struct managed_thread *t, unsigned every)
{
    unsigned i;

    for (i = 0; i < MAX_BLOCKS; i++)
        if (t->blocks[i] && i % every == 0) {
            IHostMalloc_Free(clr_malloc, t->blocks[i]);
            t->blocks[i] = NULL;
            t->n.frees++;
        }
}

static void release_regions(struct region *regions, unsigned *count)
{
    unsigned i;

    for (i = 0; i < *count; i++)
        if (IHostMemoryManager_VirtualFree(manager, regions[i].base, 0, MEM_RELEASE) != S_OK)
            InterlockedIncrement(&unexpected_results);
    *count = 0;
}

/* E_OUTOFMEMORY at task level: the CLR throws on this thread; the task's memory goes. */
static void abort_task(struct managed_thread *t)
{
    free_blocks(t, 2);
    gc_shrink_to(t, t->gc.committed / 2);
    t->n.tasks_aborted++;
}

/* E_OUTOFMEMORY at domain level: the host unloads the domain and all it held. */
static void unload_domain(struct managed_thread *t)
{
    free_blocks(t, 1);
    gc_shrink_to(t, 0);
    release_regions(t->loader, &t->loaders);
    release_regions(t->jit, &t->jits);
    t->n.domains_unloaded++;
}

/* The CLR disables itself (an escalation, or a policy that says so): hostmem hears of
   it through Event_ClrDisabled, once. */
static void disable_clr(void)
{
    InterlockedExchange(&clr_finished, 1);
    if (!InterlockedExchange(&clr_disabled_raised, 1) && clr_runtime_raise(&clr, Event_ClrDisabled, NULL))
        InterlockedExchange(&clr_disabled_told, 1);
}

/* E_OUTOFMEMORY: the CLR applies its escalation policy for this failure, telling the
   host's IHostPolicyManager first (docs ihostpolicymanager-onfailure-method). */
static void apply_policy(struct managed_thread *t, EClrFailure failure)
{
    EPolicyAction action = clr_runtime_failure_action(&clr, failure);

    if (replay_policy_manager) {
        IHostPolicyManager_OnFailure(replay_policy_manager, failure, action);
        InterlockedIncrement(&policy_failures_told);
    }
    switch (action) {
    case eUnloadAppDomain:
    case eRudeUnloadAppDomain:
        if (!t->default_domain) {
            LONG unloaded = t->domain_id;
            unload_domain(t);
            t->n.policy_unloads++;
            t->domain_id = InterlockedIncrement(&next_domain_id); /* the work goes on in a new domain */
            if (clr_runtime_raise(&clr, Event_DomainUnload, (void *)(ULONG_PTR)unloaded))
                InterlockedIncrement(&domain_unloads_told);
            return;
        }
        /* The default domain cannot be unloaded: the task goes instead. */
        abort_task(t);
        return;
    case eExitProcess:
    case eFastExitProcess:
    case eRudeExitProcess:
    case eDisableRuntime:
        if (!InterlockedExchange(&clr_finished, 1))
            snprintf(escalation_text, sizeof(escalation_text), "escalation at %.1f s: the policy's %s on %s",
                     elapsed(), clr_action_name(action), clr_failure_name(failure));
        disable_clr();
        return;
    default:
        abort_task(t); /* eThrowException and the thread aborts */
        return;
    }
}

static void note_result(HRESULT hr, EMemoryCriticalLevel level, const char *what, SIZE_T bytes,
                        struct managed_thread *t)
{
    if (hr == S_OK)
        return;
    if (hr == E_FAIL) {
        if (!InterlockedExchange(&clr_finished, 1))
            snprintf(escalation_text, sizeof(escalation_text),
                     "escalation at %.1f s: %s of %lu KiB at %s on %s %u returned E_FAIL",
                     elapsed(), what, (unsigned long)(bytes / KiB),
                     level == eProcessCritical ? "eProcessCritical" : level == eAppDomainCritical ? "eAppDomainCritical" : "eTaskCritical",
                     t->finalizer ? "the finalizer thread" : "managed thread", t->index);
        disable_clr(); /* E_FAIL: the CLR is no longer usable */
        return;
    }
    if (hr != E_OUTOFMEMORY) {
        InterlockedIncrement(&unexpected_results);
        fprintf(stderr, "hostmem-replay: %s answered 0x%08lX, which the CLR cannot use\n", what, (unsigned long)hr);
        return;
    }
    if (level == eAppDomainCritical)
        apply_policy(t, FAIL_CriticalResource);
    else if (level == eTaskCritical)
        apply_policy(t, FAIL_NonCriticalResource);
    else
        abort_task(t); /* start-up, the default domain, finalizers: nothing to unload */
}

static DWORD WINAPI managed_thread_main(void *parameter)
{
    struct managed_thread *t = parameter;
    unsigned done;

    for (done = 0; !clr_finished; done++) {
        double p = progress(t, done);
        /* The program's appetite grows through the run, past the limit at the end. */
        double ramp = 0.5 + 1.0 * p;
        EMemoryCriticalLevel level = pick_level(t);
        unsigned kind = next_random(t) % 100;
        LONG epoch = gc_epoch;

        if ((options.ops && done >= options.ops) || (!options.ops && p >= 1))
            break;
        /* After a Low notification every thread's GC collects once. */
        if (epoch != t->seen_gc_epoch) {
            t->seen_gc_epoch = epoch;
            gc_shrink_to(t, t->gc.committed / 2);
            t->n.collections++;
        }
        /* Later in the run the program loads more and more code (plug-ins): loader heaps
           and JIT code that only a domain unload gives back, and in the default domain
           nothing does. */
        if (kind < 40) {
            gc_allocate(t, level, ramp);
        } else if (kind < 50 + (unsigned)(25 * p)) {
            loader_allocate(t, t->default_domain ? eProcessCritical : eAppDomainCritical);
        } else if (kind < 55 + (unsigned)(35 * p)) {
            jit_allocate(t, t->default_domain ? eProcessCritical : level);
        } else if (kind < 95) {
            malloc_churn(t, level);
        } else {
            MEMORY_BASIC_INFORMATION info;
            SIZE_T written;
            DWORD load;
            SIZE_T available;
            if (IHostMemoryManager_VirtualQuery(manager, t->gc.base, &info, sizeof(info), &written) != S_OK ||
                IHostMemoryManager_GetMemoryLoad(manager, &load, &available) != S_OK)
                InterlockedIncrement(&unexpected_results);
            t->n.queries++;
        }
        if (done % PACE_EVERY == PACE_EVERY - 1)
            Sleep(1);
    }
    return 0;
}

/* The finalizer thread: runs finalizers at eProcessCritical, more of them under pressure. */
static DWORD WINAPI finalizer_main(void *parameter)
{
    struct managed_thread *t = parameter;
    unsigned done;

    for (done = 0; !clr_finished; done++) {
        double p = progress(t, done * 50);

        if ((options.ops && done * 50 >= options.ops) || (!options.ops && p >= 1))
            break;
        malloc_churn(t, eProcessCritical);
        if (gc_pressure == eMemoryAvailableLow)
            free_blocks(t, 3);
        Sleep(2);
    }
    return 0;
}

/* --- the CLR's notification callback: a static object, AddRef/Release return 1 --- */

static HRESULT WINAPI callback_OnMemoryNotification(ICLRMemoryNotificationCallback *iface, EMemoryAvailable state)
{
    (void)iface;
    /* The CLR's GC behaves as under memory pressure on Low; Neutral or High clears it. */
    InterlockedExchange(&gc_pressure, (LONG)state);
    if (state == eMemoryAvailableLow)
        InterlockedIncrement(&gc_epoch);
    return S_OK;
}
static ICLRMemoryNotificationCallbackVtbl callback_vtbl = CLR_CALLBACK_VTBL(callback_OnMemoryNotification);
static ICLRMemoryNotificationCallback clr_callback = { &callback_vtbl };

/* --- the run --- */

static HOSTMEM_STATS read_stats(void)
{
    HOSTMEM_STATS stats;

    memset(&stats, 0, sizeof(stats));
    stats.cbSize = sizeof(stats);
    HostMemGetStats((IUnknown *)manager, &stats);
    return stats;
}

static void print_progress(void)
{
    HOSTMEM_STATS s = read_stats();

    printf("[%5.1f s] committed %7.1f MiB", elapsed(), mib(s.committedBytes));
    if (options.limit)
        printf(" of %.0f MiB", mib(options.limit));
    printf(" (peak %.1f), malloc %.1f MiB, refused %llu/%llu/%llu, notifications L%llu N%llu H%llu\n",
           mib(s.peakCommittedBytes), mib(s.mallocBytes), (unsigned long long)s.failures[0],
           (unsigned long long)s.failures[1], (unsigned long long)s.failures[2], (unsigned long long)s.notifications[0],
           (unsigned long long)s.notifications[1], (unsigned long long)s.notifications[2]);
}

static BOOL set_host_control(IHostControl **control)
{
    HOSTMEM_CONFIG config;
    static WCHAR trace_path[MAX_PATH];
    HRESULT hr;
    size_t i;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    config.commitLimit = options.limit;
    if (options.trace) {
        MultiByteToWideChar(CP_UTF8, 0, options.trace, -1, trace_path, MAX_PATH);
        config.traceFile = trace_path;
    }

    printf("The host\n");
    hr = HostMemCreateHostControl(&config, control);
    step("HostMemCreateHostControl(&config, &control)", hr, S_OK, "handed to SetHostControl");
    if (FAILED(hr))
        return FALSE;

    printf("\nICLRRuntimeHost::SetHostControl (the CLR, on the host's thread)\n");
    hr = IHostControl_GetHostManager(*control, &IID_IHostMemoryManager, (void **)&manager);
    step("GetHostManager(IID_IHostMemoryManager)", hr, S_OK, manager ? "accepted: S_OK and a manager" : "refused");
    if (hr != S_OK || !manager)
        return FALSE;
    hr = IHostMemoryManager_CreateMalloc(manager, MALLOC_THREADSAFE, &clr_malloc);
    step("IHostMemoryManager::CreateMalloc(MALLOC_THREADSAFE)", hr, S_OK, "else SetHostControl fails");
    if (hr != S_OK)
        return FALSE;
    hr = IHostMemoryManager_RegisterMemoryNotificationCallback(manager, &clr_callback);
    step("IHostMemoryManager::RegisterMemoryNotificationCallback(&cb)", hr, S_OK, "result ignored");
    for (i = 0; i < CLR_OTHER_MANAGER_COUNT; i++) {
        char call[96];
        void *other = (void *)1;

        snprintf(call, sizeof(call), "GetHostManager(IID_%s)", clr_other_managers[i].name);
        hr = IHostControl_GetHostManager(*control, &clr_other_managers[i].iid, &other);
        if (IsEqualIID(&clr_other_managers[i].iid, &IID_IHostPolicyManager)) {
            /* hostmem hears of the CLR's escalations; the CLR keeps it (never releases it). */
            step(call, hr, S_OK, other ? "the CLR tells hostmem of its escalations" : "refused");
            if (hr == S_OK && other)
                replay_policy_manager = other;
            else
                mismatches++;
            continue;
        }
        step(call, hr, E_NOINTERFACE, other ? "out pointer NOT cleared" : "the CLR keeps its own");
        if (other)
            mismatches++;
    }
    return TRUE;
}

/* The host, after SetHostControl and before Start: hostmem sets the CLR's policy, GC
   limits and events through the stand-in ICLRControl, which shows each call. */
static void configure_runtime(IHostControl *control)
{
    int before = step_number, failed = mismatches;
    unsigned i;
    HRESULT hr;

    clr_runtime_init(&clr, NULL);
    clr.offers = options.clr_offers;
    printf("\nHostMemConfigureRuntime(control, runtimeHost) (the host, before Start)\n");
    hr = HostMemConfigureRuntime((IUnknown *)control, clr_runtime_host(&clr));
    /* The CLR's answers are its own: listed, not judged. */
    for (i = 0; i < clr.call_count; i++) {
        char call[128];
        clr_call_describe(&clr.calls[i], call, sizeof(call));
        printf("     %-70s %-14s %s\n", call, hresult_name(clr.calls[i].hr) ? hresult_name(clr.calls[i].hr) : "(failed)",
               clr.calls[i].hr == S_OK ? "set" : clr.calls[i].hr == E_NOINTERFACE ? "not offered: skipped" : "failed");
    }
    step("HostMemConfigureRuntime", hr, S_OK, "the CLR governed as SQL Server's is");
    if (clr.outstanding)
        printf("     %ld references to the CLR's objects not released   <-- NOT WHAT THE CLR NEEDS\n",
               (long)clr.outstanding);
    printf("     HostMemConfigureRuntime: %u calls to the CLR, %d not as the CLR needs\n", clr.call_count,
           mismatches - failed);
    (void)before;
}

/* Start-up: the runtime has not started, so every request is eProcessCritical. */
static BOOL start_up(void)
{
    unsigned i;

    printf("\nStart-up (eProcessCritical): GC segments, loader heaps, JIT, the CLR's heap\n");
    for (i = 0; i <= options.threads; i++) {
        struct managed_thread *t = &threads[i];
        void *p = NULL;
        HRESULT hr;

        memset(t, 0, sizeof(*t));
        t->index = i;
        t->finalizer = i == options.threads;
        t->default_domain = !t->finalizer && i % 4 == 0;
        t->domain_id = t->default_domain || t->finalizer ? 1 : InterlockedIncrement(&next_domain_id);
        t->rng = 0x9E3779B97F4A7C15ULL * ((ULONGLONG)options.seed * 131 + i + 1);
        if (t->finalizer)
            continue;
        hr = IHostMemoryManager_VirtualAlloc(manager, NULL, GC_SEGMENT, MEM_RESERVE, PAGE_NOACCESS, eProcessCritical, &p);
        if (hr != S_OK) {
            printf("     GC segment for thread %u: 0x%08lX\n", i, (unsigned long)hr);
            return hr == E_OUTOFMEMORY || hr == E_FAIL;
        }
        t->gc.base = p;
        if (gc_allocate(t, eProcessCritical, 0.05) != S_OK || loader_allocate(t, eProcessCritical) != S_OK ||
            malloc_churn(t, eProcessCritical) != S_OK)
            return !unexpected_results;
    }
    printf("     %u GC segments of %.0f MiB reserved, %.1f MiB committed\n", options.threads, mib(GC_SEGMENT),
           mib(read_stats().committedBytes));
    return TRUE;
}

static void run_managed_code(void)
{
    unsigned i, n = options.threads + 1;
    HANDLE handles[MAX_THREADS + 1];
    DWORD waited;

    printf("\nRunning managed code: %u threads and the finalizer%s\n", options.threads,
           options.ops ? "" : ", progress every second");
    for (i = 0; i < n; i++) {
        threads[i].handle = CreateThread(NULL, 0, threads[i].finalizer ? finalizer_main : managed_thread_main,
                                         &threads[i], 0, NULL);
        handles[i] = threads[i].handle;
    }
    do {
        waited = WaitForMultipleObjects(n, handles, TRUE, 1000);
        if (!options.quiet && !options.ops)
            print_progress();
    } while (waited == WAIT_TIMEOUT);
    for (i = 0; i < n; i++)
        CloseHandle(handles[i]);
}

static void shut_down(void)
{
    unsigned i;

    for (i = 0; i <= options.threads; i++) {
        struct managed_thread *t = &threads[i];
        unsigned one = t->gc.base ? 1 : 0;

        free_blocks(t, 1);
        release_regions(t->loader, &t->loaders);
        release_regions(t->jit, &t->jits);
        release_regions(&t->gc, &one);
        t->gc.base = NULL;
    }
}

/* One line: what the CLR did, how much of it reached hostmem (nothing without a
   registration), and whether hostmem's statistics agree with that. */
static void books(const char *what, ULONGLONG clr_count, ULONGLONG told, ULONGLONG hostmem_count, const char *seen)
{
    printf("  %-34s %10llu (told %llu, hostmem counted %llu %s)%s\n", what, clr_count, told, hostmem_count, seen,
           told == hostmem_count ? "" : "   <-- hostmem's books disagree");
    if (told != hostmem_count)
        InterlockedIncrement(&unexpected_results);
}

static void print_summary(const HOSTMEM_STATS *s, double seconds)
{
    struct counters total;
    unsigned i;

    memset(&total, 0, sizeof(total));
    for (i = 0; i <= options.threads; i++) {
        const struct counters *c = &threads[i].n;
        total.gc_commits += c->gc_commits;
        total.gc_decommits += c->gc_decommits;
        total.loader_pages += c->loader_pages;
        total.jit_blocks += c->jit_blocks;
        total.mallocs += c->mallocs;
        total.frees += c->frees;
        total.queries += c->queries;
        total.bytes_committed += c->bytes_committed;
        total.tasks_aborted += c->tasks_aborted;
        total.domains_unloaded += c->domains_unloaded;
        total.policy_unloads += c->policy_unloads;
        total.collections += c->collections;
    }

    printf("\nSummary: %u managed threads and the finalizer, %.1f s, seed %u\n", options.threads, seconds, options.seed);
    if (options.limit)
        printf("  %-34s %10.0f MiB\n", "commit limit", mib(options.limit));
    else
        printf("  %-34s %10s\n", "commit limit", "none");
    printf("  %-34s %10lld\n", "GC heap commits", (long long)total.gc_commits);
    printf("  %-34s %10lld\n", "GC heap decommits", (long long)total.gc_decommits);
    printf("  %-34s %10lld\n", "GC collections", (long long)total.collections);
    printf("  %-34s %10lld\n", "loader heap pages", (long long)total.loader_pages);
    printf("  %-34s %10lld\n", "JIT code blocks", (long long)total.jit_blocks);
    printf("  %-34s %10lld / %lld\n", "IHostMalloc allocs / frees", (long long)total.mallocs, (long long)total.frees);
    printf("  %-34s %10lld\n", "queries (VirtualQuery, load)", (long long)total.queries);
    printf("  %-34s %10.1f MiB\n", "bytes committed over the run", mib((ULONGLONG)total.bytes_committed));
    if (options.limit)
        printf("  %-34s %10.1f MiB (%.0f%% of the limit)\n", "peak committed", mib(s->peakCommittedBytes),
               100.0 * (double)s->peakCommittedBytes / (double)options.limit);
    else
        printf("  %-34s %10.1f MiB\n", "peak committed", mib(s->peakCommittedBytes));
    printf("  %-34s %6llu task, %llu domain, %llu process\n", "failures by level", (unsigned long long)s->failures[0],
           (unsigned long long)s->failures[1], (unsigned long long)s->failures[2]);
    printf("  %-34s %10llu\n", "escalations (E_FAIL)", (unsigned long long)s->escalations);
    printf("  %-34s %6llu Low, %llu Neutral, %llu High\n", "notifications", (unsigned long long)s->notifications[0],
           (unsigned long long)s->notifications[1], (unsigned long long)s->notifications[2]);
    printf("  %-34s %10lld\n", "tasks aborted", (long long)total.tasks_aborted);
    printf("  %-34s %10lld\n", "domains unloaded", (long long)total.domains_unloaded);
    printf("  %-34s %s\n", "outcome", clr_finished ? escalation_text : "the CLR ran to the end");

    /* What HostMemConfigureRuntime set, and what the CLR did with it. */
    clr_runtime_print(&clr, stdout);
    books("domains unloaded by policy", (ULONGLONG)total.policy_unloads, (ULONGLONG)domain_unloads_told,
          s->domainUnloads, "Event_DomainUnload");
    books("policy failures (OnFailure)", (ULONGLONG)policy_failures_told, (ULONGLONG)policy_failures_told,
          s->policyFailures, "OnFailure");
    books("CLR disabled (Event_ClrDisabled)", (ULONGLONG)clr_disabled_raised, (ULONGLONG)clr_disabled_told,
          s->clrDisabled, "clrDisabled");
}

int main(int argc, char **argv)
{
    IHostControl *control = NULL;
    HOSTMEM_STATS final_stats;
    char chart_trace[MAX_PATH];
    double seconds;
    int status, i;

    setvbuf(stdout, NULL, _IONBF, 0);
    for (i = 1; i < argc; i++) /* --from TRACE: the what-if replay of a recorded trace */
        if (!strcmp(argv[i], "--from"))
            return replay_from_main(argc, argv);
    if (!parse_options(argc, argv, &options)) {
        usage(stderr);
        return 2;
    }
    if (options.chart && !options.trace) {
        snprintf(chart_trace, sizeof(chart_trace), "%s.csv", options.chart);
        options.trace = chart_trace;
    }
    QueryPerformanceFrequency(&frequency);
    QueryPerformanceCounter(&started);
    printf("hostmem-replay %s: the CLR played against hostmem.dll\n\n", HOSTMEM_VERSION_STRING);

    if (!set_host_control(&control))
        return 1;
    printf("     SetHostControl: %d calls, %d not as the CLR needs\n", step_number, mismatches);
    configure_runtime(control);

    if (start_up() && !clr_finished) {
        QueryPerformanceCounter(&started); /* the run's clock starts with managed code */
        run_managed_code();
    }
    seconds = elapsed();
    final_stats = read_stats();
    print_summary(&final_stats, seconds);

    shut_down();
    /* No notification after this point, so the trace and the statistics can agree. */
    IHostMemoryManager_RegisterMemoryNotificationCallback(manager, NULL);
    final_stats = read_stats();
    IHostMalloc_Release(clr_malloc);
    if (replay_policy_manager)
        IHostPolicyManager_Release(replay_policy_manager);
    clr_runtime_clear(&clr); /* the event registrations' references */
    IHostMemoryManager_Release(manager);
    IHostControl_Release(control); /* the last reference: the trace is complete */

    status = mismatches || unexpected_results ? 1 : 0;
    if (options.trace) {
        char error[256];
        if (replay_check_trace(options.trace, &final_stats, error, sizeof(error))) {
            printf("\ntrace %s: agrees with the statistics\n", options.trace);
        } else {
            printf("\ntrace %s: %s\n", options.trace, error);
            status = 1;
        }
    }
    if (options.chart) {
        char error[320];
        if (replay_write_chart(options.trace, options.chart, error, sizeof(error))) {
            printf("chart %s: written\n", options.chart);
        } else {
            printf("chart %s: %s\n", options.chart, error);
            status = 1;
        }
    }
    if (unexpected_results)
        printf("%ld answers the CLR could not use\n", (long)unexpected_results);
    return status;
}
