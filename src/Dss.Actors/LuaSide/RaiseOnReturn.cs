using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.LuaSide;

/// <summary>
/// Lets a Lua C function written in C# fail with a Lua error, although no Lua error may cross
/// a C# frame (a longjmp through it corrupts the runtime).
/// </summary>
/// <remarks>
/// The function leaves a to-be-closed value on its stack (<c>lua_toclose</c>) whose
/// <c>__close</c> calls <c>error</c>. Lua closes that slot once the function has returned, so
/// the error starts in Lua's own code, after the C# frame is gone, and reaches the caller as
/// if the function had raised it.
/// </remarks>
internal static unsafe class RaiseOnReturn
{
    // Level 3 from inside __close: __close (1), the C function being left (2), its caller (3).
    private static ReadOnlySpan<byte> Chunk =>
        "local message, level = ... return setmetatable({}, { __close = function() error(message, level) end })"u8;

    /// <summary>The error names no position (a module loader's failure, raised by require).</summary>
    public const int NoPosition = 0;

    /// <summary>The error names the line of Lua code that called the C function, as luaL_error does.</summary>
    public const int CallersLine = 3;

    /// <summary>
    /// Lua thread, the last thing a Lua C function does: arranges for <paramref name="message"/>
    /// to be raised once it returns; returns its result count. If even that fails (out of
    /// memory), the function returns nil and the message instead.
    /// </summary>
    public static int Arrange(lua_State L, string message, int level)
    {
        lua_pushstring(L, message);
        return Arrange(L, lua_gettop(L), level);
    }

    /// <summary>
    /// Lua thread, the last thing a Lua C function does: arranges for the value on top of the
    /// stack (an error object a hook raised, say) to be raised as it is once the function
    /// returns; returns its result count (nil and the value when that fails).
    /// </summary>
    public static int ArrangeTop(lua_State L) => Arrange(L, lua_gettop(L), NoPosition);

    // valueIndex: an absolute index.
    private static int Arrange(lua_State L, int valueIndex, int level)
    {
        int top = lua_gettop(L);
        if (luaL_loadbuffer(L, Chunk, "=darksidesync\0"u8) == LUA_OK)
        {
            lua_pushvalue(L, valueIndex);
            lua_pushinteger(L, level);
            if (lua_pcall(L, 2, 1) == LUA_OK && lua_type(L, -1) == LUA_TTABLE)
            {
                lua_toclose(L, -1);
                return 0;
            }
        }
        lua_settop(L, top);
        lua_pushnil(L);
        lua_pushvalue(L, valueIndex);
        return 2;
    }
}
