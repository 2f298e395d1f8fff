using System.Runtime.InteropServices;

namespace DarkSideSync.Interop;

// Loading and calling Lua code (lua.h "load and call", lauxlib "luaL_loadbufferx").
internal static unsafe partial class LuaNative
{
    [LibraryImport(Library)]
    public static partial int luaL_loadbufferx(lua_State L, byte* buff, nuint sz, byte* name, byte* mode);

    [LibraryImport(Library)]
    public static partial int lua_pcallk(lua_State L, int nargs, int nresults, int errfunc, nint ctx, nint k);

    [LibraryImport(Library)]
    public static partial void lua_toclose(lua_State L, int idx);

    /// <summary>Pushes "chunkname:currentline: " of the function at <paramref name="level"/> (1: the caller of the running C function), as luaL_error does.</summary>
    [LibraryImport(Library)]
    public static partial void luaL_where(lua_State L, int level);

    [LibraryImport(Library)]
    public static partial void lua_concat(lua_State L, int n);

    /// <summary>Loads and runs a chunk in protected mode: a Lua error comes back as a status, never as a longjmp.</summary>
    public static int lua_pcall(lua_State L, int nargs, int nresults) => lua_pcallk(L, nargs, nresults, 0, 0, 0);

    public static int luaL_loadbuffer(lua_State L, ReadOnlySpan<byte> chunk, ReadOnlySpan<byte> nameZ)
    {
        fixed (byte* b = chunk)
        fixed (byte* n = nameZ)
        {
            return luaL_loadbufferx(L, b, (nuint)chunk.Length, n, null);
        }
    }
}
