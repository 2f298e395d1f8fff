using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static DarkSideSync.Native.Interop.LuaNative;

namespace DarkSideSync.Native;

/// <summary>The exports of darksidesync.so: only the Lua module loader.</summary>
internal static class LuaOpen
{
    /// <summary>
    /// <c>require "darksidesync"</c> in the host's Lua: starts DSS for the calling state in
    /// the process's ActorSystem and returns the module table. On failure the error is raised
    /// from Lua once this frame has returned (<see cref="RaiseOnReturn"/>); no exception and no
    /// Lua error crosses it.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "luaopen_darksidesync", CallConvs = [typeof(CallConvCdecl)])]
    private static int Open(lua_State L)
    {
        int top = lua_gettop(L);
        string failure;
        try
        {
            int pushed = DssModule.Open(L, ProcessActorSystem.Get());
            if (pushed >= 1 && lua_type(L, top + 1) == LUA_TTABLE)
            {
                lua_settop(L, top + 1);
                return 1;
            }
            failure = EngineMessage(L, top, pushed);
        }
        catch (Exception e)
        {
            failure = "darksidesync failed to load: " + e.Message;
        }
        try
        {
            lua_settop(L, top);
            return RaiseOnReturn.Arrange(L, failure);
        }
        catch (Exception)
        {
            return 0; // nothing sane is left to do; require then returns true
        }
    }

    // The engine reports a failure as values, never as an error: a message string, alone or
    // after a nil.
    private static string EngineMessage(lua_State L, int top, int pushed)
    {
        for (int i = top + pushed; i > top; i--)
        {
            if (lua_type(L, i) == LUA_TSTRING)
            {
                return lua_tostring(L, i)!;
            }
        }
        return "darksidesync failed to load";
    }
}
