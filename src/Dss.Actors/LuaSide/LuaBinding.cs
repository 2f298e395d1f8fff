using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.Event;
using DarkSideSync.Engine;
using DarkSideSync.NativeAbi;
using DarkSideSync.Queueing;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.LuaSide;

/// <summary>
/// DSS's data for one Lua state, for the state's whole life: it outlives stop() and start(),
/// each of which ends or begins a <see cref="DssEngine"/>. Lua thread only.
/// </summary>
/// <remarks>
/// It lives in a full userdata (a GCHandle) kept in the registry and as upvalue 1 of every
/// darksidesync function; that userdata's <c>__gc</c>, which runs when the state closes,
/// starts stop-DSS. After it ran the handle is zero and the functions answer "not started".
/// </remarks>
internal sealed unsafe class LuaBinding
{
    private static ReadOnlySpan<byte> StateKey => "DarkSideSync.State\0"u8;
    private static ReadOnlySpan<byte> ApiKey => "DSS.DarkSideSync\0"u8;
    private static ReadOnlySpan<byte> CloseWatchKey => "DarkSideSync.CloseWatch\0"u8;
    private static ReadOnlySpan<byte> ApiVersionKey => "DSS API 1v0\0"u8;
    private static ReadOnlySpan<byte> Api1v1VersionKey => "DSS API 1v1\0"u8;

    // Pushes registry["DSS.DarkSideSync"], creating it (with the version) the first time.
    private static void PushApiTable(lua_State L)
    {
        if (lua_getfield(L, LUA_REGISTRYINDEX, ApiKey) == LUA_TTABLE)
        {
            return;
        }
        lua_pop(L, 1);
        lua_createtable(L, 0, 2);
        lua_pushstring(L, DssModule.Version);
        lua_setfield(L, -2, "Version\0"u8);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, ApiKey);
    }

    private LuaBinding(ActorSystem system)
    {
        System = system;
        Settings = DssSettings.Create(system);
        Capacity = Settings.QueueCapacity ?? QueueBound.Unbounded;
        FailWhenFull = Settings.QueueOverflow == QueueOverflow.Fail;
    }

    public ActorSystem System { get; }

    public DssSettings Settings { get; }

    /// <summary>How many times DSS stopped for this state: a dispatch that began before a stop ends.</summary>
    public int Stops { get; private set; }

    /// <summary>The engine's side of this state's dispatch calls.</summary>
    public Dispatcher Dispatcher { get; } = new();

    /// <summary>The running DSS of this state; null while stopped.</summary>
    public DssEngine? Engine { get; private set; }

    /// <summary>The state's queue bound (<see cref="QueueBound.Unbounded"/>: none); HOCON's at first, then setlimit's; each new engine gets it.</summary>
    public int Capacity { get; private set; }

    /// <summary>The state's overflow policy: true for "fail", false for "block".</summary>
    public bool FailWhenFull { get; private set; }

    /// <summary>The state's Lua thread: the one that required darksidesync, or the one the host declared.</summary>
    public LuaThreadWatch LuaThread { get; } = LuaThreadWatch.DeclaredByRequire();

    /// <summary>The figures of stats(), since the module was loaded for this state: every engine of the state counts into them.</summary>
    public DeliveryStatistics Statistics { get; } = new();

    /// <summary>Lua thread: the state's figures now (stats(), <see cref="DssModule.GetStats"/>).</summary>
    public DssStats ReadStatistics()
    {
        if (Engine is { } engine)
        {
            Statistics.Observe(engine.Mailbox.Count);
        }
        return Statistics.Read(Engine, Capacity, FailWhenFull);
    }

    /// <summary>getfd()'s descriptor: null until Lua first asks; then the same one until the state closes, across stop and start.</summary>
    public WakeFd? WakeFd { get; private set; }

    /// <summary>Lua thread, DSS running (getfd): the state's wake-up descriptor, opened on first use.</summary>
    /// <exception cref="IOException">No descriptor could be opened.</exception>
    public int GetFd(DssEngine engine)
    {
        if (WakeFd is null)
        {
            WakeFd = WakeFd.Open();
            engine.AttachWakeFd(WakeFd);
        }
        return WakeFd.Fd;
    }

    /// <summary>Lua thread (setlimit): the state's bound from now on, applied at once to the running queue.</summary>
    public void SetLimit(int capacity, bool failWhenFull)
    {
        Capacity = capacity;
        FailWhenFull = failWhenFull;
        Engine?.Mailbox.SetLimit(capacity, failWhenFull);
    }

    /// <summary>The binding of a state, looked up in its registry (for reg, getutilid, .NET utilities).</summary>
    public static DssStatus Find(lua_State L, out LuaBinding? binding)
    {
        lua_getfield(L, LUA_REGISTRYINDEX, StateKey);
        binding = FromUserdata(lua_touserdata(L, -1));
        lua_pop(L, 1);
        return binding is null ? DssStatus.NoGlobals : DssStatus.Success;
    }

    /// <summary>
    /// The binding a darksidesync function was created with (its upvalue 1). Every darksidesync
    /// Lua function starts here, so this is where a call from another thread than the one that
    /// required the module is seen (<see cref="LuaThreadWatch.Touch"/>).
    /// </summary>
    public static LuaBinding? FromUpvalue(lua_State L)
    {
        var binding = FromUserdata(lua_touserdata(L, lua_upvalueindex(1)));
        binding?.LuaThread.Touch();
        return binding;
    }

    private static LuaBinding? FromUserdata(void* userdata)
    {
        if (userdata is null)
        {
            return null;
        }
        nint handle = *(nint*)userdata;
        return handle == 0 ? null : (LuaBinding?)GCHandle.FromIntPtr(handle).Target;
    }

    /// <summary>
    /// Lua thread: pushes the state's binding userdata, creating the binding on first use.
    /// Starts DSS when it is not running (loading the module starts it).
    /// </summary>
    public static LuaBinding PushBinding(lua_State L, ActorSystem system)
    {
        lua_getfield(L, LUA_REGISTRYINDEX, StateKey);
        var binding = FromUserdata(lua_touserdata(L, -1));
        if (binding is null)
        {
            lua_pop(L, 1);
            binding = new LuaBinding(system);
            var slot = (nint*)lua_newuserdatauv(L, (nuint)sizeof(nint), 0);
            *slot = GCHandle.ToIntPtr(GCHandle.Alloc(binding));
            lua_createtable(L, 0, 2);
            lua_pushcclosure(L, &StateClosed, 0);
            lua_setfield(L, -2, "__gc\0"u8);
            lua_setmetatable(L, -2);
            lua_pushvalue(L, -1);
            lua_setfield(L, LUA_REGISTRYINDEX, StateKey);
        }
        if (binding.Engine is null)
        {
            binding.Start(L, 0);
        }
        return binding;
    }

    /// <summary>Lua thread: starts DSS (the startup sequence) and publishes the C API in the registry.</summary>
    public void Start(lua_State L, int? port)
    {
        if (Engine is { } running)
        {
            if (port is { } newPort)
            {
                running.Notifier.SetPort(newPort);
            }
            return;
        }
        Engine = new DssEngine(System, Settings, port ?? 0, LuaThread, Capacity, FailWhenFull, Statistics);
        if (WakeFd is { } wakeFd)
        {
            // Readable from the last engine's last moments perhaps; this one starts empty.
            wakeFd.ClearIfEmpty(Engine.Mailbox);
            Engine.AttachWakeFd(wakeFd);
        }
        PushApiTable(L);
        lua_pushlightuserdata(L, DssCApi.Instance);
        lua_setfield(L, -2, ApiVersionKey);
        lua_pushlightuserdata(L, DssCApi.Instance1v1);
        lua_setfield(L, -2, Api1v1VersionKey);
        lua_pop(L, 1);
    }

    /// <summary>
    /// Lua thread: the stop-DSS sequence. Utilities can no longer find the API; every one is
    /// cancelled. Called from inside a hook, the cancelling finishes once the hook has returned.
    /// </summary>
    /// <remarks>
    /// The registry table stays, without its API: a utility (or the header's helper) that finds
    /// the table but no API knows DSS is stopped (NOT_STARTED), not missing (NO_GLOBALS).
    /// </remarks>
    /// <param name="closing">True when the state is closing (lua_close): the utilities' code may be unloaded right after.</param>
    public void Stop(lua_State L, bool closing)
    {
        if (Engine is not { } engine)
        {
            return;
        }
        PushApiTable(L);
        lua_pushnil(L);
        lua_setfield(L, -2, ApiVersionKey);
        lua_pushnil(L);
        lua_setfield(L, -2, Api1v1VersionKey);
        lua_pop(L, 1);
        try
        {
            engine.Stop(closing);
        }
        finally
        {
            Engine = null;
            Stops++;
            // Nothing is queued after a stop (unless it finishes once a hook returns): a loop
            // watching the fd sleeps until start() and a delivery. The fd itself stays open.
            WakeFd?.ClearIfEmpty(engine.Mailbox);
        }
    }

    /// <summary>
    /// Lua thread: pushes the metatable of close watches, whose <c>__gc</c> runs stop-DSS.
    /// The binding userdata is at <paramref name="binding"/>.
    /// </summary>
    /// <remarks>
    /// lua_close runs finalizers newest first, so the binding's own <c>__gc</c> (created when
    /// the module loaded) would run after every waitingthread_callback's: those would answer
    /// "garbage" on a closing state before stop-DSS cancels them. So after each new callback
    /// the poller renews a close watch, a userdata only the registry holds: the current one
    /// can be collected only by lua_close, and it is always newer than every callback.
    /// </remarks>
    public static void PushCloseWatchMetatable(lua_State L, int binding)
    {
        lua_createtable(L, 0, 1);
        lua_pushvalue(L, binding);
        lua_pushcclosure(L, &CloseWatchCollected, 1);
        lua_setfield(L, -2, "__gc\0"u8);
    }

    /// <summary>Lua thread: a new close watch replaces the previous one (see <see cref="PushCloseWatchMetatable"/>).</summary>
    public static void RenewCloseWatch(lua_State L, int metatable)
    {
        lua_newuserdatauv(L, 0, 0);
        lua_pushvalue(L, metatable);
        lua_setmetatable(L, -2);
        lua_setfield(L, LUA_REGISTRYINDEX, CloseWatchKey);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int CloseWatchCollected(lua_State L)
    {
        try
        {
            lua_getfield(L, LUA_REGISTRYINDEX, CloseWatchKey);
            bool current = lua_rawequal(L, -1, 1) != 0; // a replaced watch is just garbage
            lua_pop(L, 1);
            if (current)
            {
                FromUpvalue(L)?.Stop(L, closing: true);
            }
        }
        catch (Exception)
        {
            // The binding's own __gc runs stop-DSS again and logs.
        }
        return 0;
    }

    // __gc of the binding userdata: the Lua state is closing.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int StateClosed(lua_State L)
    {
        var slot = (nint*)lua_touserdata(L, 1);
        if (FromUserdata(slot) is not { } binding)
        {
            return 0;
        }
        try
        {
            binding.Stop(L, closing: true);
        }
        catch (Exception e)
        {
            // Nothing may unwind into lua_close.
            Logging.GetLogger(binding.System, "DarkSideSync").Error(e, "stop-DSS failed while the Lua state closed.");
        }
        finally
        {
            binding.WakeFd?.Dispose();
            UtilityTable.ForgetGone(binding.Statistics);
            GCHandle.FromIntPtr(*slot).Free();
            *slot = 0;
        }
        return 0;
    }
}
