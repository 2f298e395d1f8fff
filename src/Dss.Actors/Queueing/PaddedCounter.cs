using System.Runtime.InteropServices;

namespace DarkSideSync.Queueing;

/// <summary>
/// A counter on a cache line of its own, for counters that producer threads change on every
/// delivery while the Lua thread reads the fields around them: no false sharing.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct PaddedCounter
{
    [FieldOffset(64)]
    public long Value;
}
