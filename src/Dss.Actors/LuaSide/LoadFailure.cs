using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.LuaSide;

/// <summary>
/// Makes a module loader's failure a Lua error raised by <c>require</c>, although the loader
/// is C# and no Lua error may cross a C# frame (a longjmp through it corrupts the runtime).
/// </summary>
/// <remarks>
/// The loader leaves a to-be-closed value on its stack (<c>lua_toclose</c>) whose
/// <c>__close</c> calls <c>error(message, 0)</c>. Lua closes that slot once the loader has
/// returned, so the error starts in Lua's own code, after the C# frame is gone, and leaves
/// <c>require</c> like any loader's error.
/// </remarks>
internal static unsafe class LoadFailure
{
    private static ReadOnlySpan<byte> Chunk =>
        "local message = ... return setmetatable({}, { __close = function() error(message, 0) end })"u8;

    /// <summary>
    /// Lua thread, the last thing a loader (a Lua C function) does: arranges for
    /// <paramref name="message"/> to be raised once it returns; returns its result count.
    /// If even that fails (out of memory), the loader returns nil and the message.
    /// </summary>
    public static int RaiseOnReturn(lua_State L, string message)
    {
        int top = lua_gettop(L);
        if (luaL_loadbuffer(L, Chunk, "=darksidesync\0"u8) == LUA_OK)
        {
            lua_pushstring(L, message);
            if (lua_pcall(L, 1, 1) == LUA_OK && lua_type(L, -1) == LUA_TTABLE)
            {
                lua_toclose(L, -1);
                return 0;
            }
        }
        lua_settop(L, top);
        lua_pushnil(L);
        lua_pushstring(L, message);
        return 2;
    }
}
