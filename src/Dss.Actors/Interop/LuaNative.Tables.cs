using System.Runtime.InteropServices;

namespace DarkSideSync.Interop;

// Tables, the registry, metatables and references (lua.h "get/set functions", lauxlib refs).
internal static unsafe partial class LuaNative
{
    [LibraryImport(Library)]
    public static partial void lua_createtable(lua_State L, int narr, int nrec);

    // Growing the table allocates, but an allocation alone never runs a GC step or a finalizer.
    [LibraryImport(Library), SuppressGCTransition]
    public static partial void lua_rawseti(lua_State L, int idx, long n);

    [LibraryImport(Library), SuppressGCTransition]
    public static partial int lua_rawgeti(lua_State L, int idx, long n);

    [LibraryImport(Library)]
    public static partial int lua_getfield(lua_State L, int idx, byte* k);

    [LibraryImport(Library)]
    public static partial void lua_setfield(lua_State L, int idx, byte* k);

    [LibraryImport(Library)]
    public static partial int lua_setmetatable(lua_State L, int objindex);

    [LibraryImport(Library)]
    public static partial int luaL_newmetatable(lua_State L, byte* tname);

    [LibraryImport(Library)]
    public static partial void* luaL_testudata(lua_State L, int ud, byte* tname);

    [LibraryImport(Library)]
    public static partial int luaL_ref(lua_State L, int t);

    [LibraryImport(Library)]
    public static partial void luaL_unref(lua_State L, int t, int r);

    public static int lua_getfield(lua_State L, int idx, ReadOnlySpan<byte> utf8z)
    {
        fixed (byte* k = utf8z)
        {
            return lua_getfield(L, idx, k);
        }
    }

    public static void lua_setfield(lua_State L, int idx, ReadOnlySpan<byte> utf8z)
    {
        fixed (byte* k = utf8z)
        {
            lua_setfield(L, idx, k);
        }
    }

    public static void* luaL_testudata(lua_State L, int ud, ReadOnlySpan<byte> utf8z)
    {
        fixed (byte* k = utf8z)
        {
            return luaL_testudata(L, ud, k);
        }
    }

    public static bool luaL_newmetatable(lua_State L, ReadOnlySpan<byte> utf8z)
    {
        fixed (byte* k = utf8z)
        {
            return luaL_newmetatable(L, k) != 0;
        }
    }
}
