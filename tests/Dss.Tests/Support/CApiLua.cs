using System.Runtime.InteropServices;
using lua_State = nint;

namespace DarkSideSync.Tests.Support;

/// <summary>
/// The few Lua C functions the test C utility calls from its hooks, declared as a C utility
/// would include them from lua.h. None of them can raise a Lua error here.
/// </summary>
internal static unsafe partial class CApiLua
{
    private const string Library = "lua54";

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int lua_getglobal(lua_State L, string name);

    [LibraryImport(Library)]
    public static partial void lua_pushinteger(lua_State L, long n);

    [LibraryImport(Library)]
    public static partial int lua_gettop(lua_State L);

    [LibraryImport(Library)]
    public static partial void lua_settop(lua_State L, int idx);

    [LibraryImport(Library)]
    public static partial long lua_tointegerx(lua_State L, int idx, int* isnum);
}
