// A managed workload for hostmem-host: it allocates in several application domains
// until memory runs short, so that on Windows with the .NET Framework 4 a user sees the
// real CLR under hostmem's limit: Low notifications and collections, refused requests,
// OutOfMemoryException in a domain, that domain unloaded, the process going on.
//
//   hostmem-host --limit 256M --stats Workload.dll HostmemSample.Workload Run 4
//
// Run is the entry point ICLRRuntimeHost::ExecuteInDefaultAppDomain calls: a static
// method that takes one string and returns an int. Its argument is the number of
// domains (default 3); it returns how many of them ran out of memory.
using System;
using System.Collections.Generic;

namespace HostmemSample
{
    public static class Workload
    {
        public static int Run(string argument)
        {
            int domains;
            if (!int.TryParse(argument, out domains) || domains < 1)
                domains = 3;

            int ranOut = 0;
            for (int i = 0; i < domains; i++) {
                AppDomain domain = AppDomain.CreateDomain("hostmem-sample-" + i);
                try {
                    Eater eater = (Eater)domain.CreateInstanceAndUnwrap(
                        typeof(Eater).Assembly.FullName, typeof(Eater).FullName);
                    long megabytes = eater.EatUntilShort(64 << i);
                    Console.WriteLine("domain {0}: held {1} MiB before memory ran short", i, megabytes);
                    if (eater.RanOut)
                        ranOut++;
                } catch (OutOfMemoryException) {
                    Console.WriteLine("domain {0}: out of memory while starting", i);
                    ranOut++;
                } finally {
                    AppDomain.Unload(domain);
                }
                GC.Collect();
            }
            return ranOut;
        }
    }

    // Lives in its own domain: what it holds goes when the domain is unloaded.
    public sealed class Eater : MarshalByRefObject
    {
        private readonly List<byte[]> held = new List<byte[]>();

        public bool RanOut { get; private set; }

        // Allocates 1 MiB blocks, touching each, until OutOfMemoryException or
        // `limitMegabytes`; returns how many MiB it held.
        public long EatUntilShort(int limitMegabytes)
        {
            try {
                while (held.Count < limitMegabytes) {
                    byte[] block = new byte[1 << 20];
                    for (int offset = 0; offset < block.Length; offset += 4096)
                        block[offset] = 1;
                    held.Add(block);
                }
            } catch (OutOfMemoryException) {
                RanOut = true;
            }
            return held.Count;
        }
    }
}
