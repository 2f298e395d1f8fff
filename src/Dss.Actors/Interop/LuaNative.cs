global using lua_State = nint;

using System.Runtime.InteropServices;

namespace DarkSideSync.Interop;

/// <summary>
/// Every Lua C API call of the engine goes through this class, so one library name decides
/// which Lua the engine talks to: KeraLua's <c>liblua54.so</c> in a .NET host, or the symbols
/// of the host process in the NativeAOT module (which binds <see cref="Library"/> directly).
/// </summary>
/// <remarks>
/// Rules for every caller: only the Lua thread may call these; never call anything here that
/// can raise a Lua error while a C# frame is on the stack (a longjmp skips C# finally blocks).
/// <see cref="SuppressGCTransitionAttribute"/> marks only calls that can neither allocate nor run
/// a metamethod, so they can never re-enter managed code.
/// </remarks>
internal static partial class LuaNative
{
    public const string Library = "lua54";

    public const int LUA_REGISTRYINDEX = -1_000_000 - 1000;
    public const int LUA_MULTRET = -1;
    public const int LUA_OK = 0;
    public const int LUA_NOREF = -2;

    public const int LUA_TNONE = -1;
    public const int LUA_TNIL = 0;
    public const int LUA_TBOOLEAN = 1;
    public const int LUA_TLIGHTUSERDATA = 2;
    public const int LUA_TNUMBER = 3;
    public const int LUA_TSTRING = 4;
    public const int LUA_TTABLE = 5;
    public const int LUA_TFUNCTION = 6;
    public const int LUA_TUSERDATA = 7;

    public static int lua_upvalueindex(int i) => LUA_REGISTRYINDEX - i;
}
