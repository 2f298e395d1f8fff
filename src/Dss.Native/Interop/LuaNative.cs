global using lua_State = nint;

using System.Runtime.InteropServices;

namespace DarkSideSync.Native.Interop;

/// <summary>
/// The few Lua C API calls the export layer makes itself, to hand a failed load back to Lua as
/// an error. The engine's own interop (Dss.Actors' <c>LuaNative</c>) is internal to it; these
/// bind the same library name, so with <c>DirectPInvoke</c> both resolve to the host's Lua.
/// </summary>
/// <remarks>Lua thread only. None of these raises a Lua error on the uses made of them here.</remarks>
internal static unsafe partial class LuaNative
{
    public const string Library = "lua54";

    public const int LUA_OK = 0;
    public const int LUA_TTABLE = 5;
    public const int LUA_TSTRING = 4;

    [LibraryImport(Library)]
    public static partial int lua_gettop(lua_State L);

    [LibraryImport(Library)]
    public static partial void lua_settop(lua_State L, int index);

    [LibraryImport(Library)]
    public static partial int lua_type(lua_State L, int index);

    [LibraryImport(Library)]
    public static partial byte* lua_tolstring(lua_State L, int index, nuint* len);

    [LibraryImport(Library)]
    public static partial byte* lua_pushlstring(lua_State L, byte* s, nuint len);

    [LibraryImport(Library)]
    public static partial int luaL_loadbufferx(lua_State L, byte* buff, nuint sz, byte* name, byte* mode);

    [LibraryImport(Library)]
    public static partial int lua_pcallk(lua_State L, int nargs, int nresults, int errfunc, nint ctx, nint k);

    [LibraryImport(Library)]
    public static partial void lua_toclose(lua_State L, int index);

    public static string? lua_tostring(lua_State L, int index)
    {
        nuint length;
        byte* s = lua_tolstring(L, index, &length);
        return s is null ? null : System.Text.Encoding.UTF8.GetString(s, checked((int)length));
    }

    public static void lua_pushstring(lua_State L, string value)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(value);
        fixed (byte* p = bytes)
        {
            lua_pushlstring(L, p, (nuint)bytes.Length);
        }
    }
}
