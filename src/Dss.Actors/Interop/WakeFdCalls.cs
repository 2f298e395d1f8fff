using System.Runtime.InteropServices;

namespace DarkSideSync.Interop;

/// <summary>The eventfd behind <c>darksidesync.getfd()</c> (<c>wake_fd.c</c>, in the engine's C side). Any thread.</summary>
internal static partial class WakeFdCalls
{
    /// <summary>A new non-blocking, close-on-exec eventfd, or -errno.</summary>
    [LibraryImport(HookCalls.Library)]
    public static partial int dss_wakefd_open();

    /// <summary>Makes the fd readable: 0, or -errno.</summary>
    [LibraryImport(HookCalls.Library)]
    public static partial int dss_wakefd_signal(int fd);

    /// <summary>Makes the fd unreadable (also when it was not readable): 0, or -errno.</summary>
    [LibraryImport(HookCalls.Library)]
    public static partial int dss_wakefd_clear(int fd);

    [LibraryImport(HookCalls.Library)]
    public static partial void dss_wakefd_close(int fd);
}
