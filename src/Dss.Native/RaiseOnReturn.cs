using static DarkSideSync.Native.Interop.LuaNative;

namespace DarkSideSync.Native;

/// <summary>
/// Turns a failed load into a Lua error raised by <c>require</c>, without a Lua error ever
/// crossing a C# frame (a longjmp through NativeAOT frames corrupts the runtime).
/// </summary>
/// <remarks>
/// The loader leaves a to-be-closed value on its stack (<c>lua_toclose</c>) whose
/// <c>__close</c> calls <c>error(message, 0)</c>. Lua closes that slot when the loader has
/// returned, so the error starts in Lua's own code, after our frame is gone, and propagates
/// from <c>require</c> like any loader error (Lua 5.4: an error in a closing method is raised
/// as a normal error).
/// </remarks>
internal static unsafe class RaiseOnReturn
{
    private static ReadOnlySpan<byte> Chunk =>
        "local message = ... return setmetatable({}, { __close = function() error(message, 0) end })"u8;

    /// <summary>
    /// Lua thread, last thing a loader does: arranges for <paramref name="message"/> to be raised
    /// once the loader returns, and returns the loader's result count. If even that fails (out
    /// of memory), the loader returns nil and the message instead.
    /// </summary>
    public static int Arrange(lua_State L, string message)
    {
        int top = lua_gettop(L);
        fixed (byte* chunk = Chunk)
        fixed (byte* name = "=darksidesync\0"u8)
        fixed (byte* mode = "t\0"u8)
        {
            if (luaL_loadbufferx(L, chunk, (nuint)Chunk.Length, name, mode) == LUA_OK)
            {
                lua_pushstring(L, message);
                if (lua_pcallk(L, 1, 1, 0, 0, 0) == LUA_OK && lua_type(L, -1) == LUA_TTABLE)
                {
                    lua_toclose(L, -1);
                    return 0;
                }
            }
        }
        lua_settop(L, top);
        lua_settop(L, top + 1); // nil
        lua_pushstring(L, message);
        return 2;
    }
}
