using System.Runtime.InteropServices;

namespace DarkSideSync.NativeAbi;

/// <summary>
/// The C API struct of DSS API 1v1: a <see cref="DssApi1v0"/> (so it begins with the 1v0
/// members, same order, same functions), then deliver_ex and queuesize. Published as a light
/// userdata at <c>registry["DSS.DarkSideSync"]["DSS API 1v1"]</c>, beside the 1v0 struct.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct DssApi1v1
{
    public DssApi1v0 Base; // its Version is "DSS API 1v1"
    public delegate* unmanaged[Cdecl]<nint, nint, nint, nint, int, int> DeliverEx;
    public delegate* unmanaged[Cdecl]<nint, int> QueueSize;
}
