using System.Runtime.InteropServices;

namespace DarkSideSync.Tests.Support;

/// <summary>poll(2) on one descriptor, as an event loop would watch <c>darksidesync.getfd()</c>.</summary>
internal static unsafe partial class Readiness
{
    private const short POLLIN = 0x001;

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    /// <summary>True when <paramref name="fd"/> is readable within <paramref name="timeoutMs"/> (0: now).</summary>
    public static bool IsReadable(int fd, int timeoutMs = 0)
    {
        var entry = new PollFd { Fd = fd, Events = POLLIN };
        int ready;
        do
        {
            ready = Poll(&entry, 1, timeoutMs);
        }
        while (ready < 0 && Marshal.GetLastPInvokeError() == 4); // EINTR
        Assert.True(ready >= 0, $"poll({fd}) failed: errno {Marshal.GetLastPInvokeError()}");
        return ready == 1 && (entry.Revents & POLLIN) != 0;
    }
}
