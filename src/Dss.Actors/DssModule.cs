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
        // require must fail loudly when DSS cannot start, but C# cannot raise a Lua error:
        // a Lua wrapper raises what the loader returns.
        int status = luaL_loadbuffer(luaState, RaisingLoader, "=darksidesync loader\0"u8);
        if (status == LUA_OK)
        {
            lua_rotate(luaState, -2, 1);
            status = lua_pcall(luaState, 1, 1);
        }
        if (status != LUA_OK)
        {
            var message = lua_tostring(luaState, -1);
            lua_settop(luaState, top);
            throw new InvalidOperationException("darksidesync: " + message);
        }
        lua_setfield(luaState, -2, "darksidesync\0"u8);
        lua_pop(luaState, 1);
    }

    /// <summary>
    /// A Lua chunk that takes a loader returning the module, or nil and a message (as
    /// <see cref="Open"/> does), and returns a loader that raises the message instead.
    /// </summary>
    public static ReadOnlySpan<byte> RaisingLoader =>
        "local open = ... return function(...) local m, err = open(...) if m == nil then error(err, 0) end return m end"u8;

    /// <summary>
    /// Lua thread: the body of <c>luaopen_darksidesync</c> for hosts that export their own
    /// loader (the NativeAOT module): starts DSS for the state and pushes the module table
    /// (returns 1), or nil and a message (returns 2). Never raises a Lua error, so the caller
    /// must raise the message from Lua or C (see <see cref="RaisingLoader"/>).
    /// </summary>
    public static int Open(nint luaState, ActorSystem system) => LuaFunctions.Open(luaState, system);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OpenFromPreload(lua_State L)
    {
        try
        {
            nint handle = *(nint*)lua_touserdata(L, lua_upvalueindex(1));
            if (handle == 0)
            {
                lua_pushnil(L);
                lua_pushstring(L, "darksidesync: the Lua state is closing");
                return 2;
            }
            return LuaFunctions.Open(L, (ActorSystem)GCHandle.FromIntPtr(handle).Target!);
        }
        catch (Exception e)
        {
            lua_pushnil(L);
            lua_pushstring(L, "darksidesync failed to load: " + e.GetType().Name + ": " + e.Message);
            return 2;
        }
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
