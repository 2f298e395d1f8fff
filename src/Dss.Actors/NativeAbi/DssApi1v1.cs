using System.Runtime.InteropServices;

namespace DarkSideSync.NativeAbi;

/// <summary>
/// The C API struct of DSS API 1v1: the five fields of <see cref="DssApi1v0"/>, same order and
/// same functions, then deliver_ex and queuesize. Published as a light userdata at
/// <c>registry["DSS.DarkSideSync"]["DSS API 1v1"]</c>, beside the 1v0 struct.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct DssApi1v1
{
    public byte* Version;
    public delegate* unmanaged[Cdecl]<lua_State, nint, nint, int*, nint> Reg;
    public delegate* unmanaged[Cdecl]<lua_State, nint, int*, nint> GetUtilId;
    public delegate* unmanaged[Cdecl]<nint, nint, nint, nint, int> Deliver;
    public delegate* unmanaged[Cdecl]<nint, int> Unreg;
    public delegate* unmanaged[Cdecl]<nint, nint, nint, nint, int, int> DeliverEx;
    public delegate* unmanaged[Cdecl]<nint, int> QueueSize;
}
