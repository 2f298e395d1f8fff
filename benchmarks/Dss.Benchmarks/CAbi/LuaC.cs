using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DarkSideSync.Benchmarks.CAbi;

/// <summary>
/// The few Lua C API calls a C utility makes, bound to the same liblua54 as KeraLua. The ones a
/// decode or return hook calls neither allocate nor run metamethods, so they skip the GC
/// transition, as close as C# gets to a C utility calling Lua directly.
/// </summary>
internal static unsafe partial class LuaC
{
    private const string Library = "lua54";

    public const int LUA_REGISTRYINDEX = -1_000_000 - 1000;

    [LibraryImport(Library), SuppressGCTransition]
    public static partial int lua_rawgeti(nint L, int idx, long n);

    [LibraryImport(Library), SuppressGCTransition]
    public static partial void lua_pushinteger(nint L, long n);

    [LibraryImport(Library), SuppressGCTransition]
    public static partial long lua_tointegerx(nint L, int idx, int* isnum);

    [LibraryImport(Library)]
    public static partial int lua_getfield(nint L, int idx, byte* k);

    [LibraryImport(Library), SuppressGCTransition]
    public static partial void* lua_touserdata(nint L, int idx);

    [LibraryImport(Library), SuppressGCTransition]
    public static partial void lua_settop(nint L, int idx);

    public static int lua_getfield(nint L, int idx, ReadOnlySpan<byte> utf8z)
    {
        fixed (byte* k = utf8z)
        {
            return lua_getfield(L, idx, k);
        }
    }
}

/// <summary>The DSS API 1v0 struct as a C utility declares it: five pointer-sized fields.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct DssApi1v0
{
    public byte* Version;
    public delegate* unmanaged[Cdecl]<nint, nint, delegate* unmanaged[Cdecl]<nint, void>, int*, nint> Reg;
    public delegate* unmanaged[Cdecl]<nint, nint, int*, nint> GetUtilId;
    public delegate* unmanaged[Cdecl]<nint, delegate* unmanaged[Cdecl]<nint, nint, nint, int>, delegate* unmanaged[Cdecl]<nint, nint, nint, int, int>, nint, int> Deliver;
    public delegate* unmanaged[Cdecl]<nint, int> Unreg;
}
