using System.Runtime.InteropServices;

namespace DarkSideSync.NativeAbi;

/// <summary>
/// The C API struct of DSS API 1v0, field for field: five pointer-sized fields, published
/// as a light userdata at <c>registry["DSS.DarkSideSync"]["DSS API 1v0"]</c>.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct DssApi1v0
{
    public byte* Version;
    public delegate* unmanaged[Cdecl]<lua_State, nint, nint, int*, nint> Reg;
    public delegate* unmanaged[Cdecl]<lua_State, nint, int*, nint> GetUtilId;
    public delegate* unmanaged[Cdecl]<nint, nint, nint, nint, int> Deliver;
    public delegate* unmanaged[Cdecl]<nint, int> Unreg;
}
