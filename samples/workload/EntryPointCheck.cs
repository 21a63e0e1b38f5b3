// Compiled against Workload.dll by the build (never run): it compiles only while
// HostmemSample.Workload.Run is the static int Run(string) that
// ICLRRuntimeHost::ExecuteInDefaultAppDomain needs.
using System;

static class EntryPointCheck
{
    static readonly Func<string, int> entryPoint = HostmemSample.Workload.Run;

    static int Check() { return entryPoint == null ? 1 : 0; }
}
