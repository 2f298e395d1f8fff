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
public static unsafe class DssModule
{
    /// <summary>The DSS version string, as in <c>registry["DSS.DarkSideSync"].Version</c>.</summary>
    public const string Version = "DarkSideSync 1.0.0 (.NET)";

    /// <summary>
    /// Lua thread: registers the module in <c>package.preload</c>, so that
    /// <c>require "darksidesync"</c> starts DSS for this state. Call once per state, after the
    /// standard libraries are open (KeraLua: <c>DssModule.Preload(lua.Handle, system)</c>).
    /// </summary>
    public static void Preload(nint luaState, ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        if (luaState == 0)
        {
            throw new ArgumentException("The Lua state is null.", nameof(luaState));
        }
        int top = lua_gettop(luaState);
        lua_getfield(luaState, LUA_REGISTRYINDEX, "_PRELOAD\0"u8);
        if (lua_type(luaState, -1) != LUA_TTABLE)
        {
            lua_pop(luaState, 1);
            throw new InvalidOperationException("package.preload is missing: open the standard libraries (package) first.");
        }
        // The loader's upvalue holds the ActorSystem; its __gc frees the handle when the state closes.
        var slot = (nint*)lua_newuserdatauv(luaState, (nuint)sizeof(nint), 0);
        *slot = GCHandle.ToIntPtr(GCHandle.Alloc(system));
        lua_createtable(luaState, 0, 1);
        lua_pushcclosure(luaState, &FreeSystemHandle, 0);
        lua_setfield(luaState, -2, "__gc\0"u8);
        lua_setmetatable(luaState, -2);
        lua_pushcclosure(luaState, &OpenFromPreload, 1);
        lua_setfield(luaState, -2, "darksidesync\0"u8);
        lua_settop(luaState, top);
    }

    /// <summary>
    /// Lua thread: the figures of <c>darksidesync.stats()</c> for this state (also while DSS is
    /// stopped: the counters survive stop and start); null when darksidesync was never
    /// required in it. From other threads, read <see cref="DssUtility.Stats"/>.
    /// </summary>
    public static DssStats? GetStats(nint luaState)
    {
        if (luaState == 0)
        {
            throw new ArgumentException("The Lua state is null.", nameof(luaState));
        }
        return LuaBinding.Find(luaState, out var binding) == DssStatus.Success ? binding!.ReadStatistics() : null;
    }

    /// <summary>
    /// Lua thread, as the whole body of a module loader (a Lua C function such as
    /// <c>luaopen_darksidesync</c>): starts DSS for the state and returns the module table.
    /// When DSS cannot start, <c>require</c> raises the reason once the loader has returned.
    /// Never throws and never raises a Lua error through the caller's frame.
    /// </summary>
    public static int Open(nint luaState, ActorSystem system)
    {
        try
        {
            return LuaFunctions.Open(luaState, system);
        }
        catch (Exception e)
        {
            return FailLoad(luaState, "darksidesync failed to load: " + e.Message);
        }
    }

    /// <summary>
    /// Lua thread, as the last thing a module loader does: makes <c>require</c> raise
    /// <paramref name="message"/> once the loader has returned (for failures before
    /// <see cref="Open"/> could run, such as a bad configuration). Returns the loader's result count.
    /// </summary>
    public static int FailLoad(nint luaState, string message)
    {
        try
        {
            return RaiseOnReturn.Arrange(luaState, message, RaiseOnReturn.NoPosition);
        }
        catch (Exception)
        {
            return 0; // out of memory: require then returns true, and nothing worse happens
        }
    }

    /// <summary>
    /// On the thread the host runs the state on: declares it the state's Lua thread, for the
    /// no-deadlock rule. A delivery made on this thread that would block it (a synchronous
    /// <see cref="DssUtility.DeliverAndWait"/>, a blocking C <c>deliver</c>, a wait for room in
    /// a full queue) is refused with <see cref="DssStatus.WouldDeadlock"/> instead of hanging.
    /// Without a declaration the thread that ran <c>require "darksidesync"</c> counts, until a
    /// darksidesync function of the state is called from another thread; a declaration stays
    /// until the next one (a host that moves the state declares the new thread).
    /// </summary>
    /// <returns><see cref="DssStatus.Success"/>, or <see cref="DssStatus.NoGlobals"/> when darksidesync was never loaded into the state.</returns>
    public static DssStatus DeclareLuaThread(nint luaState)
    {
        if (luaState == 0)
        {
            throw new ArgumentException("The Lua state is null.", nameof(luaState));
        }
        var status = LuaBinding.Find(luaState, out var binding);
        if (status == DssStatus.Success)
        {
            binding!.LuaThread.Declare();
        }
        return status;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OpenFromPreload(lua_State L)
    {
        nint handle = *(nint*)lua_touserdata(L, lua_upvalueindex(1));
        return handle == 0
            ? FailLoad(L, "darksidesync: the Lua state is closing")
            : Open(L, (ActorSystem)GCHandle.FromIntPtr(handle).Target!);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int FreeSystemHandle(lua_State L)
    {
        try
        {
            var slot = (nint*)lua_touserdata(L, 1);
            if (slot is not null && *slot != 0)
            {
                GCHandle.FromIntPtr(*slot).Free();
                *slot = 0;
            }
        }
        catch (Exception)
        {
            // Nothing may escape into lua_close; a handle that cannot be freed leaks, no more.
        }
        return 0;
    }
}
