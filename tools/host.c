/*
 * hostmem-host: a real .NET Framework 4 host that runs a managed method under hostmem.
 *
 *   hostmem-host [--limit SIZE | --job-limit PERCENT] [--trace FILE] [--stats]
 *                ASSEMBLY TYPE METHOD [ARG]
 *
 * mscoree.dll -> CLRCreateInstance -> ICLRMetaHost::GetRuntime("v4.0.30319") ->
 * ICLRRuntimeInfo::GetInterface(CLSID_CLRRuntimeHost) -> SetHostControl(hostmem) ->
 * HostMemConfigureRuntime (SQL Server's escalation policy, GC limits, events; through
 * the recorder of tools/clr/clr_control.c, which prints what the CLR accepted) ->
 * Start -> ExecuteInDefaultAppDomain (docs/clr-contract.md, "Loading the runtime"). Each step that can fail has its
 * own exit code and one line on stderr naming the step and the HRESULT; on success the
 * exit code is the managed method's return value.
 *
 * mscoree.dll is loaded at run time: MinGW-w64 ships no import library for it, and a
 * host that could not even start without it could not say why it failed.
 */
#define COBJMACROS
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <initguid.h>
#include <windows.h>
#include <corerror.h>   /* before hostmem.h: hostmem_clr.h guards its HOST_E_* */
#include "hostmem.h"
#include "metahost.h"   /* generated from Wine's metahost.idl by widl (CMakeLists.txt) */

#include "size_parse.h"
#include "clr/clr_control.h"

/* Exit codes of the steps; the managed method's own return value otherwise. In the
   sysexits range so that they rarely meet a method's small return values. */
enum host_exit {
    EXIT_USAGE          = 64, /* bad arguments (EX_USAGE) */
    EXIT_LOAD_MSCOREE   = 65, /* LoadLibraryW(mscoree.dll): no .NET Framework */
    EXIT_NO_CREATE      = 66, /* mscoree.dll has no CLRCreateInstance (pre-4.0 shim) */
    EXIT_METAHOST       = 67, /* CLRCreateInstance(CLSID_CLRMetaHost) */
    EXIT_GET_RUNTIME    = 68, /* ICLRMetaHost::GetRuntime(v4.0.30319): no v4 runtime */
    EXIT_GET_INTERFACE  = 69, /* ICLRRuntimeInfo::GetInterface(CLSID_CLRRuntimeHost) */
    EXIT_HOSTMEM        = 70, /* HostMemCreateHostControl (or handing it its settings) */
    EXIT_SET_CONTROL    = 71, /* ICLRRuntimeHost::SetHostControl */
    EXIT_START          = 72, /* ICLRRuntimeHost::Start */
    EXIT_EXECUTE        = 73, /* ICLRRuntimeHost::ExecuteInDefaultAppDomain */
    EXIT_STATS          = 74, /* HostMemGetStats (--stats) */
    EXIT_CONFIGURE      = 75  /* HostMemConfigureRuntime */
};

static const char usage_line[] =
    "usage: hostmem-host [--limit SIZE | --job-limit PERCENT] [--trace FILE] [--stats] ASSEMBLY TYPE METHOD [ARG]\n";

static void print_help(void)
{
    fputs(usage_line, stdout);
    fputs("\n"
          "Runs the managed method  static int METHOD(string)  of TYPE in ASSEMBLY in the\n"
          ".NET Framework 4 CLR, with hostmem.dll as the CLR's memory manager.\n"
          "\n"
          "  --limit SIZE   commit limit: digits, then optionally K, M, G or T (binary);\n"
          "                 0 = none. Wins over HOSTMEM_COMMIT_LIMIT.\n"
          "  --job-limit PERCENT  commit limit: PERCENT (1..100) of the memory limit of the\n"
          "                 Windows job this process runs in (none outside a job);\n"
          "                 HOSTMEM_COMMIT_LIMIT=job does the same at 75%.\n"
          "  --trace FILE   hostmem writes one CSV line per call to FILE (HOSTMEM_TRACE).\n"
          "  --stats        print hostmem's statistics after the method returns.\n"
          "  ARG            the method's string argument (default: empty).\n"
          "\n"
          "Exit status: the method's return value, or\n"
          "  64  bad arguments\n"
          "  65  mscoree.dll cannot be loaded (no .NET Framework)\n"
          "  66  mscoree.dll has no CLRCreateInstance (older than .NET 4)\n"
          "  67  CLRCreateInstance(CLSID_CLRMetaHost) failed\n"
          "  68  ICLRMetaHost::GetRuntime(v4.0.30319) failed (no .NET Framework 4)\n"
          "  69  ICLRRuntimeInfo::GetInterface(CLSID_CLRRuntimeHost) failed\n"
          "      (Wine's mscoree without Wine Mono: 0x80131700 CLR_E_SHIM_RUNTIMELOAD)\n"
          "  70  HostMemCreateHostControl failed\n"
          "  71  ICLRRuntimeHost::SetHostControl failed (Wine's mscoree: E_NOTIMPL)\n"
          "  72  ICLRRuntimeHost::Start failed\n"
          "  73  ICLRRuntimeHost::ExecuteInDefaultAppDomain failed (assembly, type or\n"
          "      method not found, or the method threw)\n"
          "  74  HostMemGetStats failed (--stats)\n"
          "  75  HostMemConfigureRuntime failed (a CLR call it makes failed)\n",
          stdout);
}

/* The HRESULTs a host meets on this path, by name. */
static const char *hresult_name(HRESULT hr)
{
    switch (hr) {
    case S_OK:                                     return "S_OK";
    case S_FALSE:                                  return "S_FALSE";
    case E_FAIL:                                   return "E_FAIL";
    case E_NOTIMPL:                                return "E_NOTIMPL";
    case E_OUTOFMEMORY:                            return "E_OUTOFMEMORY";
    case E_INVALIDARG:                             return "E_INVALIDARG";
    case E_POINTER:                                return "E_POINTER";
    case E_NOINTERFACE:                            return "E_NOINTERFACE";
    case E_UNEXPECTED:                             return "E_UNEXPECTED";
    case E_ACCESSDENIED:                           return "E_ACCESSDENIED";
    case CLASS_E_CLASSNOTAVAILABLE:                return "CLASS_E_CLASSNOTAVAILABLE";
    case REGDB_E_CLASSNOTREG:                      return "REGDB_E_CLASSNOTREG";
    case CLR_E_SHIM_RUNTIMELOAD:                   return "CLR_E_SHIM_RUNTIMELOAD";
    case CLR_E_SHIM_RUNTIMEEXPORT:                 return "CLR_E_SHIM_RUNTIMEEXPORT";
    case CLR_E_SHIM_INSTALLROOT:                   return "CLR_E_SHIM_INSTALLROOT";
    case CLR_E_SHIM_INSTALLCOMP:                   return "CLR_E_SHIM_INSTALLCOMP";
    case CLR_E_SHIM_LEGACYRUNTIMEALREADYBOUND:     return "CLR_E_SHIM_LEGACYRUNTIMEALREADYBOUND";
    case CLR_E_SHIM_SHUTDOWNINPROGRESS:            return "CLR_E_SHIM_SHUTDOWNINPROGRESS";
    case HOST_E_CLRNOTAVAILABLE:                   return "HOST_E_CLRNOTAVAILABLE";
    case HOST_E_INVALIDOPERATION:                  return "HOST_E_INVALIDOPERATION";
    case COR_E_TYPELOAD:                           return "COR_E_TYPELOAD";
    case COR_E_MISSINGMETHOD:                      return "COR_E_MISSINGMETHOD";
    case COR_E_TARGETINVOCATION:                   return "COR_E_TARGETINVOCATION";
    case COR_E_NEWER_RUNTIME:                      return "COR_E_NEWER_RUNTIME";
    case COR_E_BADIMAGEFORMAT:                     return "COR_E_BADIMAGEFORMAT";
    case COR_E_FILENOTFOUND:                       return "COR_E_FILENOTFOUND";
    case HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND): return "ERROR_PATH_NOT_FOUND";
    case HRESULT_FROM_WIN32(ERROR_MOD_NOT_FOUND):  return "ERROR_MOD_NOT_FOUND";
    case HRESULT_FROM_WIN32(ERROR_PROC_NOT_FOUND): return "ERROR_PROC_NOT_FOUND";
    case HRESULT_FROM_WIN32(ERROR_DLL_INIT_FAILED):return "ERROR_DLL_INIT_FAILED";
    default:                                       return NULL;
    }
}

/* The one line a failing step prints; returns the step's exit code. */
static int step_failed(int code, const char *step, HRESULT hr, const char *hint)
{
    const char *name = hresult_name(hr);

    fprintf(stderr, "hostmem-host: %s failed: 0x%08lX%s%s%s%s%s\n", step, (unsigned long)hr,
            name ? " (" : "", name ? name : "", name ? ")" : "", hint ? ": " : "", hint ? hint : "");
    return code;
}

/* A Win32 error as the HRESULT the line shows; never S_OK for a failure. */
static HRESULT last_error_hresult(void)
{
    DWORD error = GetLastError();
    return error ? HRESULT_FROM_WIN32(error) : E_FAIL;
}

static int usage_error(const char *message)
{
    fprintf(stderr, "hostmem-host: %s\n", message);
    fputs(usage_line, stderr);
    return EXIT_USAGE;
}

/* --limit's value in ASCII for hm_parse_size; false for anything not ASCII. */
static BOOL narrow_ascii(const WCHAR *text, char *out, size_t out_size)
{
    size_t i;

    for (i = 0; text[i]; i++) {
        if (text[i] > 0x7f || i + 1 >= out_size)
            return FALSE;
        out[i] = (char)text[i];
    }
    out[i] = '\0';
    return TRUE;
}

static double mib(ULONGLONG bytes)
{
    return (double)bytes / (1024.0 * 1024.0);
}

static void print_stats(const HOSTMEM_STATS *s, ULONGLONG limit)
{
    printf("hostmem: committed %.1f MiB, peak %.1f MiB", mib(s->committedBytes), mib(s->peakCommittedBytes));
    if (limit)
        printf(" (limit %.1f MiB)", mib(limit));
    printf(", reserved %.1f MiB, malloc %.1f MiB, mapped %.1f MiB\n",
           mib(s->reservedBytes), mib(s->mallocBytes), mib(s->mappedBytes));
    printf("hostmem: refusals task %llu, domain %llu, process %llu; escalations %llu; "
           "notifications low %llu, neutral %llu, high %llu\n",
           s->failures[eTaskCritical], s->failures[eAppDomainCritical], s->failures[eProcessCritical],
           s->escalations, s->notifications[0], s->notifications[1], s->notifications[2]);
    printf("hostmem: domains unloaded %llu, policy failures %llu, timeouts %llu, default actions %llu; "
           "CLR disabled %s\n", s->domainUnloads, s->policyFailures, s->policyTimeouts, s->policyDefaultActions,
           s->clrDisabled ? "yes" : "no");
}

/* The commit limit in force and where it came from, as hostmem's statistics say. */
static void print_limit(IHostControl *control)
{
    static const char *const sources[] = { "none", "the command line", "HOSTMEM_COMMIT_LIMIT", "the Windows job" };
    HOSTMEM_STATS s;

    memset(&s, 0, sizeof(s));
    s.cbSize = sizeof(s);
    if (HostMemGetStats((IUnknown *)control, &s) != S_OK)
        return;
    if (s.commitLimit)
        printf("hostmem-host: commit limit %.1f MiB from %s\n", mib(s.commitLimit),
               s.limitSource < 4 ? sources[s.limitSource] : "?");
    else
        printf("hostmem-host: no commit limit\n");
}

/* The same lines hostmem-replay prints: each call HostMemConfigureRuntime made to the
   CLR with the CLR's answer, then the policy, GC limits and events now in force. */
static void print_configuration(const clr_runtime *clr)
{
    unsigned i;

    for (i = 0; i < clr->call_count; i++) {
        char call[128];
        const char *name = hresult_name(clr->calls[i].hr);
        clr_call_describe(&clr->calls[i], call, sizeof(call));
        printf("     %-70s %-14s %s\n", call, name ? name : "(failed)",
               clr->calls[i].hr == S_OK ? "set" : clr->calls[i].hr == E_NOINTERFACE ? "not offered: skipped" : "failed");
    }
    clr_runtime_print(clr, stdout);
}

typedef HRESULT (WINAPI *CLRCreateInstanceFn)(REFCLSID clsid, REFIID riid, void **ppInterface);

struct options {
    BOOL          have_limit;
    ULONGLONG     limit;
    DWORD         job_percent; /* --job-limit; 0: not given */
    const WCHAR  *trace;
    BOOL          stats;
    const WCHAR  *assembly, *type, *method, *argument;
};

/* Options come before ASSEMBLY; "--" ends them. Returns 0, EXIT_USAGE, or -1 for --help. */
static int parse_arguments(int argc, WCHAR **argv, struct options *o)
{
    int i = 1, positional;

    memset(o, 0, sizeof(*o));
    for (; i < argc && argv[i][0] == L'-' && argv[i][1] == L'-'; i++) {
        const WCHAR *arg = argv[i];
        const WCHAR *value = NULL;

        if (!wcscmp(arg, L"--")) {
            i++;
            break;
        }
        if (!wcscmp(arg, L"--help"))
            return -1;
        if (!wcscmp(arg, L"--stats")) {
            o->stats = TRUE;
            continue;
        }
        if (!wcsncmp(arg, L"--limit=", 8))
            value = arg + 8;
        else if (!wcsncmp(arg, L"--trace=", 8))
            value = arg + 8;
        else if (!wcsncmp(arg, L"--job-limit=", 12))
            value = arg + 12;
        else if (!wcscmp(arg, L"--limit") || !wcscmp(arg, L"--trace") || !wcscmp(arg, L"--job-limit")) {
            if (i + 1 >= argc) {
                char message[64];
                snprintf(message, sizeof(message), "%ls needs a value", arg);
                return usage_error(message);
            }
            value = argv[++i];
        } else {
            char message[160];
            snprintf(message, sizeof(message), "unknown option \"%.100ls\"", arg);
            return usage_error(message);
        }
        if (!wcsncmp(arg, L"--job-limit", 11)) {
            WCHAR *end;
            unsigned long percent = wcstoul(value, &end, 10);
            if (!*value || *end || percent < 1 || percent > 100) {
                char message[160];
                snprintf(message, sizeof(message), "--job-limit \"%.60ls\" is not a percentage (1..100)", value);
                return usage_error(message);
            }
            o->have_limit = TRUE;
            o->limit = HOSTMEM_COMMIT_LIMIT_FROM_JOB;
            o->job_percent = (DWORD)percent;
        } else if (!wcsncmp(arg, L"--limit", 7)) {
            char text[32];
            uint64_t bytes;
            if (!narrow_ascii(value, text, sizeof(text)) || !hm_parse_size(text, &bytes)) {
                char message[200];
                snprintf(message, sizeof(message), "--limit \"%.60ls\" is not a size (digits, then optionally "
                         "K, M, G or T: 512M)", value);
                return usage_error(message);
            }
            o->have_limit = TRUE;
            o->limit = bytes;
        } else {
            if (!*value)
                return usage_error("--trace needs a file name");
            o->trace = value;
        }
    }
    positional = argc - i;
    if (positional < 3)
        return usage_error("ASSEMBLY, TYPE and METHOD are required");
    if (positional > 4)
        return usage_error("too many arguments: the method takes one string");
    o->assembly = argv[i];
    o->type = argv[i + 1];
    o->method = argv[i + 2];
    o->argument = positional == 4 ? argv[i + 3] : L"";
    return 0;
}

int wmain(int argc, WCHAR **argv); /* the entry point with -municode */

int wmain(int argc, WCHAR **argv)
{
    struct options o;
    HOSTMEM_CONFIG config;
    CLRCreateInstanceFn create_instance;
    ICLRMetaHost *meta_host = NULL;
    ICLRRuntimeInfo *runtime_info = NULL;
    ICLRRuntimeHost *runtime_host = NULL;
    IHostControl *control = NULL;
    static clr_runtime clr; /* the CLR keeps hostmem's event action: it lives to the end */
    HMODULE mscoree;
    FARPROC proc;
    DWORD returned = 0;
    HRESULT hr;
    int rc;

    memset(&config, 0, sizeof(config));
    config.cbSize = sizeof(config);
    rc = parse_arguments(argc, argv, &o);
    if (rc < 0) {
        print_help();
        return 0;
    }
    if (rc)
        return rc;

    /* Settings first, so that nothing is loaded for a host that cannot be configured.
       The command line wins over the environment: HOSTMEM_COMMIT_LIMIT would override
       config.commitLimit, so it goes. Likewise HOSTMEM_TRACE would override
       config.traceFile, so --trace sets the variable itself. */
    if (o.have_limit) {
        config.commitLimit = o.limit;
        config.jobLimitPercent = o.job_percent;
        if (!SetEnvironmentVariableW(L"HOSTMEM_COMMIT_LIMIT", NULL) && GetLastError() != ERROR_ENVVAR_NOT_FOUND)
            return step_failed(EXIT_HOSTMEM, "clear HOSTMEM_COMMIT_LIMIT", last_error_hresult(), NULL);
    }
    if (o.trace) {
        config.traceFile = o.trace;
        if (!SetEnvironmentVariableW(L"HOSTMEM_TRACE", o.trace))
            return step_failed(EXIT_HOSTMEM, "set HOSTMEM_TRACE", last_error_hresult(), NULL);
    }

    mscoree = LoadLibraryW(L"mscoree.dll");
    if (!mscoree)
        return step_failed(EXIT_LOAD_MSCOREE, "load mscoree.dll", last_error_hresult(),
                           "is the .NET Framework 4 installed?");
    proc = GetProcAddress(mscoree, "CLRCreateInstance");
    if (!proc)
        return step_failed(EXIT_NO_CREATE, "GetProcAddress(mscoree.dll, CLRCreateInstance)", last_error_hresult(),
                           "mscoree.dll is older than .NET Framework 4");
    /* Through void (*)(void): the documented way to convert between function types. */
    create_instance = (CLRCreateInstanceFn)(void (*)(void))proc;

    hr = create_instance(&CLSID_CLRMetaHost, &IID_ICLRMetaHost, (void **)&meta_host);
    if (hr != S_OK || !meta_host)
        return step_failed(EXIT_METAHOST, "CLRCreateInstance(CLSID_CLRMetaHost)", hr == S_OK ? E_POINTER : hr, NULL);

    hr = ICLRMetaHost_GetRuntime(meta_host, L"v4.0.30319", &IID_ICLRRuntimeInfo, (void **)&runtime_info);
    if (hr != S_OK || !runtime_info)
        return step_failed(EXIT_GET_RUNTIME, "ICLRMetaHost::GetRuntime(v4.0.30319)", hr == S_OK ? E_POINTER : hr,
                           "is the .NET Framework 4 installed?");

    hr = ICLRRuntimeInfo_GetInterface(runtime_info, &CLSID_CLRRuntimeHost, &IID_ICLRRuntimeHost,
                                      (void **)&runtime_host);
    if (hr != S_OK || !runtime_host)
        return step_failed(EXIT_GET_INTERFACE, "ICLRRuntimeInfo::GetInterface(CLSID_CLRRuntimeHost)",
                           hr == S_OK ? E_POINTER : hr, NULL);

    hr = HostMemCreateHostControl(&config, &control);
    if (hr != S_OK)
        return step_failed(EXIT_HOSTMEM, "HostMemCreateHostControl", hr, NULL);

    /* Before Start: afterwards the CLR answers E_ACCESSDENIED (docs/clr-contract.md,
       "Sequence of SetHostControl"). */
    hr = ICLRRuntimeHost_SetHostControl(runtime_host, control);
    if (hr != S_OK)
        return step_failed(EXIT_SET_CONTROL, "ICLRRuntimeHost::SetHostControl", hr, NULL);
    print_limit(control);
    /* Also before Start: SetGCStartupLimits is honoured only then. The recorder passes
       each call on to the CLR and keeps what it accepted. */
    clr_runtime_init(&clr, runtime_host);
    hr = HostMemConfigureRuntime((IUnknown *)control, clr_runtime_host(&clr));
    printf("hostmem-host: HostMemConfigureRuntime\n");
    print_configuration(&clr);
    if (hr != S_OK)
        return step_failed(EXIT_CONFIGURE, "HostMemConfigureRuntime", hr, NULL);

    hr = ICLRRuntimeHost_Start(runtime_host);
    if (hr != S_OK)
        return step_failed(EXIT_START, "ICLRRuntimeHost::Start", hr, NULL);

    hr = ICLRRuntimeHost_ExecuteInDefaultAppDomain(runtime_host, o.assembly, o.type, o.method, o.argument,
                                                   &returned);
    if (hr != S_OK)
        return step_failed(EXIT_EXECUTE, "ICLRRuntimeHost::ExecuteInDefaultAppDomain", hr, NULL);

    printf("hostmem-host: %ls.%ls returned %ld\n", o.type, o.method, (long)returned);
    if (o.stats) {
        HOSTMEM_STATS stats;
        memset(&stats, 0, sizeof(stats));
        stats.cbSize = sizeof(stats);
        hr = HostMemGetStats((IUnknown *)control, &stats);
        if (hr != S_OK)
            return step_failed(EXIT_STATS, "HostMemGetStats", hr, NULL);
        print_stats(&stats, stats.commitLimit);
    }
    fflush(stdout);

    /* The CLR keeps using (and never releases) the memory manager until the process
       ends, even after Stop, so hostmem's objects and mscoree.dll stay as they are. */
    ICLRRuntimeHost_Stop(runtime_host);
    return (int)returned;
}
