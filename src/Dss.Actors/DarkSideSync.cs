using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Akka.Actor;
using DarkSideSync.LuaSide;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync;

/// <summary>
/// Entry point for .NET hosts that embed Lua: makes <c>require "darksidesync"</c> work in a
/// Lua state, with DSS's actors in the host's <see cref="ActorSystem"/>.
/// </summary>
public static unsafe class DarkSideSync
{
    /// <summary>The DSS version string, as in <c>registry["DSS.DarkSideSync"].Version</c>.</summary>
    public const string Version = "DarkSideSync 1.0.0 (.NET)";

    /// <summary>
    /// Lua thread: registers the module in <c>package.preload</c>, so that
    /// <c>require "darksidesync"</c> starts DSS for this state. Call once per state, after the
    /// standard libraries are open (KeraLua: <c>DarkSideSync.Preload(lua.Handle, system)</c>).
    /// </summary>
    public static void Preload(nint luaState, ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        if (luaState == 0)
        {
            throw new ArgumentException("The Lua state is null.", nameof(luaState));
        }
        var systemHandle = GCHandle.Alloc(system); // lives as long as the process: one per ActorSystem preloaded
        lua_getfield(luaState, LUA_REGISTRYINDEX, "_PRELOAD\0"u8);
        if (lua_type(luaState, -1) != LUA_TTABLE)
        {
            lua_pop(luaState, 1);
            systemHandle.Free();
            throw new InvalidOperationException("package.preload is missing: open the standard libraries (package) first.");
        }
        lua_pushlightuserdata(luaState, (void*)GCHandle.ToIntPtr(systemHandle));
        lua_pushcclosure(luaState, &OpenFromPreload, 1);
        lua_setfield(luaState, -2, "darksidesync\0"u8);
        lua_pop(luaState, 1);
    }

    /// <summary>
    /// Lua thread: the body of <c>luaopen_darksidesync</c> for hosts that export their own
    /// loader (the NativeAOT module): starts DSS for the state and pushes the module table.
    /// Returns the number of values pushed. Never raises a Lua error.
    /// </summary>
    public static int Open(nint luaState, ActorSystem system) => LuaFunctions.Open(luaState, system);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OpenFromPreload(lua_State L)
    {
        try
        {
            var system = (ActorSystem)GCHandle.FromIntPtr((nint)lua_touserdata(L, lua_upvalueindex(1))).Target!;
            return LuaFunctions.Open(L, system);
        }
        catch (Exception e)
        {
            lua_pushnil(L);
            lua_pushstring(L, "darksidesync failed to load: " + e.GetType().Name + ": " + e.Message);
            return 2;
        }
    }
}
