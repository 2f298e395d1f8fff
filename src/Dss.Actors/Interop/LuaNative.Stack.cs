using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DarkSideSync.Interop;

// Stack manipulation, pushing and reading values (lua.h: "basic stack manipulation",
// "push functions", "access functions").
internal static unsafe partial class LuaNative
{
    [LibraryImport(Library), SuppressGCTransition]
    public static partial int lua_gettop(lua_State L);

    [LibraryImport(Library), SuppressGCTransition]
    public static partial void lua_settop(lua_State L, int idx);

    [LibraryImport(Library), SuppressGCTransition]
    public static partial void lua_pushvalue(lua_State L, int idx);

    [LibraryImport(Library), SuppressGCTransition]
    public static partial void lua_rotate(lua_State L, int idx, int n);

    [LibraryImport(Library), SuppressGCTransition]
    public static partial void lua_copy(lua_State L, int fromidx, int toidx);

    // No GC transition: growing the stack may only run an emergency collection, which in
    // Lua 5.4 never calls finalizers, so this never calls back into .NET.
    [LibraryImport(Library), SuppressGCTransition]
    public static partial int lua_checkstack(lua_State L, int n);

    [LibraryImport(Library), SuppressGCTransition]
    public static partial int lua_type(lua_State L, int idx);

    [LibraryImport(Library), SuppressGCTransition]
    public static partial int lua_rawequal(lua_State L, int idx1, int idx2);

    [LibraryImport(Library), SuppressGCTransition]
    public static partial int lua_isinteger(lua_State L, int idx);

    [LibraryImport(Library), SuppressGCTransition]
    public static partial int lua_isnumber(lua_State L, int idx);

    [LibraryImport(Library), SuppressGCTransition]
    public static partial long lua_tointegerx(lua_State L, int idx, int* isnum);

    [LibraryImport(Library), SuppressGCTransition]
    public static partial double lua_tonumberx(lua_State L, int idx, int* isnum);

    [LibraryImport(Library), SuppressGCTransition]
    public static partial int lua_toboolean(lua_State L, int idx);

    // Not SuppressGCTransition: converting a number to a string allocates.
    [LibraryImport(Library)]
    public static partial byte* lua_tolstring(lua_State L, int idx, nuint* len);

    [LibraryImport(Library), SuppressGCTransition]
    public static partial void* lua_touserdata(lua_State L, int idx);

    [LibraryImport(Library), SuppressGCTransition]
    public static partial void lua_pushnil(lua_State L);

    [LibraryImport(Library), SuppressGCTransition]
    public static partial void lua_pushinteger(lua_State L, long n);

    [LibraryImport(Library), SuppressGCTransition]
    public static partial void lua_pushnumber(lua_State L, double n);

    [LibraryImport(Library), SuppressGCTransition]
    public static partial void lua_pushboolean(lua_State L, int b);

    [LibraryImport(Library), SuppressGCTransition]
    public static partial void lua_pushlightuserdata(lua_State L, void* p);

    [LibraryImport(Library)]
    public static partial byte* lua_pushlstring(lua_State L, byte* s, nuint len);

    [LibraryImport(Library)]
    public static partial void lua_pushcclosure(lua_State L, delegate* unmanaged[Cdecl]<lua_State, int> fn, int n);

    [LibraryImport(Library)]
    public static partial void* lua_newuserdatauv(lua_State L, nuint size, int nuvalue);

    public static void lua_pop(lua_State L, int n) => lua_settop(L, -n - 1);

    public static void lua_replace(lua_State L, int idx)
    {
        lua_copy(L, -1, idx);
        lua_pop(L, 1);
    }

    public static void lua_pushstring(lua_State L, ReadOnlySpan<byte> utf8)
    {
        fixed (byte* p = utf8)
        {
            lua_pushlstring(L, p, (nuint)utf8.Length);
        }
    }

    public static void lua_pushstring(lua_State L, string? s)
    {
        if (s is null)
        {
            lua_pushnil(L);
            return;
        }
        int max = System.Text.Encoding.UTF8.GetMaxByteCount(s.Length);
        if (max <= 512)
        {
            Span<byte> buffer = stackalloc byte[max];
            lua_pushstring(L, buffer[..System.Text.Encoding.UTF8.GetBytes(s, buffer)]);
        }
        else
        {
            lua_pushstring(L, System.Text.Encoding.UTF8.GetBytes(s));
        }
    }

    /// <summary>The string at <paramref name="idx"/>, or null when it is neither a string nor a number.</summary>
    public static string? lua_tostring(lua_State L, int idx)
    {
        int type = lua_type(L, idx);
        if (type != LUA_TSTRING && type != LUA_TNUMBER)
        {
            return null;
        }
        nuint len;
        byte* s = lua_tolstring(L, idx, &len);
        return s is null ? null : System.Text.Encoding.UTF8.GetString(s, checked((int)len));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool lua_isnoneornil(lua_State L, int idx) => lua_type(L, idx) <= LUA_TNIL;
}
