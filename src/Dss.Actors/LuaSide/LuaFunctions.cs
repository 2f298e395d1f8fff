using Akka.Event;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Akka.Actor;
using DarkSideSync.Queueing;
using DarkSideSync.Engine;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.LuaSide;

/// <summary>
/// The functions of the darksidesync module, as Lua calls them, and the module loader.
/// </summary>
/// <remarks>
/// None of them raises a Lua error (that would longjmp through this C# frame): on bad input
/// or when DSS is stopped they return nil and a message, and the Lua wrappers of
/// darksidesync.lua raise it in the caller's name. poll, the hot path, has no wrapper: it
/// raises through <see cref="RaiseOnReturn"/> once it has returned. Upvalue 1 of each is the state's
/// <see cref="LuaBinding"/> userdata; poll's upvalues 2 and 3 are the metatables of
/// waitingthread_callbacks and of close watches.
/// </remarks>
internal static unsafe class LuaFunctions
{
    public const string NotStarted = "DSS was not started yet, or already stopped";

    /// <summary>
    /// Lua thread, the body of <c>luaopen_darksidesync</c>: starts DSS for the state if needed
    /// and pushes the module table (returns 1). When the module chunk fails, arranges for
    /// <c>require</c> to raise the error (<see cref="RaiseOnReturn"/>).
    /// </summary>
    public static int Open(lua_State L, ActorSystem system)
    {
        Interop.HookCalls.EnsureInitialized(); // dispatch is C
        int top = lua_gettop(L);
        LuaBinding.PushBinding(L, system);
        int binding = lua_gettop(L);
        WaitingThreadCallback.PushMetatable(L);
        LuaBinding.PushCloseWatchMetatable(L, binding);

        lua_createtable(L, 0, 11);
        AddFunction(L, binding, "poll\0"u8, &Poll, withMetatable: true);
        AddFunction(L, binding, "queuesize\0"u8, &QueueSize);
        AddFunction(L, binding, "setport\0"u8, &SetPort);
        AddFunction(L, binding, "getport\0"u8, &GetPort);
        AddFunction(L, binding, "start\0"u8, &Start);
        AddFunction(L, binding, "stop\0"u8, &Stop);
        AddFunction(L, binding, "wait\0"u8, &Wait);
        AddFunction(L, binding, "setlimit\0"u8, &SetLimit);
        AddFunction(L, binding, "getfd\0"u8, &GetFd);
        AddFunction(L, binding, "stats\0"u8, &Stats);
        Dispatcher.PushFunction(L, binding, binding + 1, binding + 2);
        lua_setfield(L, -2, "dispatch\0"u8);

        var chunk = ModuleChunk.Value;
        int status = luaL_loadbuffer(L, chunk, "=darksidesync.lua\0"u8);
        if (status == LUA_OK)
        {
            lua_rotate(L, -2, 1); // chunk(core, version)
            lua_pushstring(L, DssModule.Version);
            status = lua_pcall(L, 2, 1);
        }
        if (status != LUA_OK)
        {
            string message = "darksidesync failed to load: " + lua_tostring(L, -1);
            lua_settop(L, top);
            return RaiseOnReturn.Arrange(L, message, RaiseOnReturn.NoPosition);
        }
        // Leave only the module table above the caller's values.
        lua_rotate(L, top + 1, 1);
        lua_settop(L, top + 1);
        return 1;
    }

    private static readonly Lazy<byte[]> ModuleChunk = new(() =>
    {
        using var resource = typeof(LuaFunctions).Assembly.GetManifestResourceStream("DarkSideSync.darksidesync.lua")!;
        using var bytes = new MemoryStream();
        resource.CopyTo(bytes);
        return bytes.ToArray();
    });

    private static void AddFunction(lua_State L, int binding, ReadOnlySpan<byte> name, delegate* unmanaged[Cdecl]<lua_State, int> function, bool withMetatable = false)
    {
        lua_pushvalue(L, binding);
        if (withMetatable)
        {
            lua_pushvalue(L, binding + 1);
            lua_pushvalue(L, binding + 2);
        }
        lua_pushcclosure(L, function, withMetatable ? 3 : 1);
        lua_setfield(L, -2, name);
    }

    private static int Fail(lua_State L, string message)
    {
        lua_pushnil(L);
        lua_pushstring(L, message);
        return 2;
    }

    private static int Fail(lua_State L, Exception e)
    {
        LuaBinding.FromUpvalue(L)?.Engine?.Log.Error(e, "A darksidesync function failed.");
        return Fail(L, "darksidesync: " + e.Message);
    }

    // The hottest function of DSS, called straight from Lua without a wrapper: it raises its
    // errors itself, after returning (RaiseOnReturn).
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Poll(lua_State L)
    {
        try
        {
            return LuaBinding.FromUpvalue(L)?.Engine is { } engine
                ? Poller.Poll(L, engine, lua_upvalueindex(2), lua_upvalueindex(3))
                : RaiseOnReturn.Arrange(L, NotStarted, RaiseOnReturn.CallersLine);
        }
        catch (Exception e)
        {
            LuaBinding.FromUpvalue(L)?.Engine?.Log.Error(e, "poll failed.");
            return RaiseOnReturn.Arrange(L, "darksidesync: " + e.Message, RaiseOnReturn.CallersLine);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int QueueSize(lua_State L)
    {
        try
        {
            if (LuaBinding.FromUpvalue(L)?.Engine is not { } engine)
            {
                return Fail(L, NotStarted);
            }
            int size = engine.Mailbox.Count;
            engine.Statistics.Observe(size);
            lua_pushinteger(L, size);
            return 1;
        }
        catch (Exception e)
        {
            return Fail(L, e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetPort(lua_State L)
    {
        try
        {
            if (LuaBinding.FromUpvalue(L)?.Engine is not { } engine)
            {
                return Fail(L, NotStarted);
            }
            if (LuaArguments.CheckPort(L, 1, "setport", out int port) is { } error)
            {
                return Fail(L, error);
            }
            engine.Notifier.SetPort(port);
            lua_pushinteger(L, 1);
            return 1;
        }
        catch (Exception e)
        {
            return Fail(L, e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetPort(lua_State L)
    {
        try
        {
            if (LuaBinding.FromUpvalue(L)?.Engine is not { } engine)
            {
                return Fail(L, NotStarted);
            }
            lua_pushinteger(L, engine.Notifier.Port);
            return 1;
        }
        catch (Exception e)
        {
            return Fail(L, e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Start(lua_State L)
    {
        try
        {
            if (LuaBinding.FromUpvalue(L) is not { } binding)
            {
                return Fail(L, "darksidesync: the Lua state is closing");
            }
            int? port = null;
            if (!lua_isnoneornil(L, 1))
            {
                if (LuaArguments.CheckPort(L, 1, "start", out int given) is { } error)
                {
                    return Fail(L, error);
                }
                port = given;
            }
            binding.Start(L, port);
            lua_pushboolean(L, 1);
            return 1;
        }
        catch (Exception e)
        {
            return Fail(L, e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Stop(lua_State L)
    {
        try
        {
            LuaBinding.FromUpvalue(L)?.Stop(L, closing: false);
            lua_pushboolean(L, 1);
            return 1;
        }
        catch (Exception e)
        {
            return Fail(L, e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Wait(lua_State L)
    {
        try
        {
            if (LuaBinding.FromUpvalue(L)?.Engine is not { } engine)
            {
                return Fail(L, NotStarted);
            }
            if (LuaArguments.CheckOptionalSeconds(L, 1, "wait", out var timeout) is { } error)
            {
                return Fail(L, error);
            }
            int size = engine.Mailbox.WaitForWork(timeout ?? Timeout.InfiniteTimeSpan);
            engine.Statistics.Observe(size);
            lua_pushinteger(L, size);
            return 1;
        }
        catch (Exception e)
        {
            return Fail(L, e);
        }
    }

    // getfd(): the state's wake-up descriptor (WakeFd), opened on the first call.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetFd(lua_State L)
    {
        try
        {
            if (LuaBinding.FromUpvalue(L) is not { Engine: { } engine } binding)
            {
                return Fail(L, NotStarted);
            }
            lua_pushinteger(L, binding.GetFd(engine));
            return 1;
        }
        catch (Exception e)
        {
            return Fail(L, e);
        }
    }

    // stats(): a fresh table of the state's figures (DeliveryStatistics), since the module was loaded.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Stats(lua_State L)
    {
        try
        {
            if (LuaBinding.FromUpvalue(L) is not { Engine: { } engine } binding)
            {
                return Fail(L, NotStarted);
            }
            var stats = binding.ReadStatistics();
            lua_createtable(L, 0, 10);
            SetField(L, "queued\0"u8, stats.Queued);
            SetField(L, "highwater\0"u8, stats.Highwater);
            SetField(L, "delivered\0"u8, stats.Delivered);
            SetField(L, "completed\0"u8, stats.Completed);
            SetField(L, "cancelled\0"u8, stats.Cancelled);
            SetField(L, "refused\0"u8, stats.Refused);
            SetField(L, "waiting\0"u8, stats.Waiting);
            SetField(L, "utilities\0"u8, stats.Utilities);
            if (stats.Capacity is { } capacity)
            {
                SetField(L, "capacity\0"u8, capacity);
            }
            lua_pushstring(L, stats.Overflow == QueueOverflow.Fail ? "fail"u8 : "block"u8);
            lua_setfield(L, -2, "overflow\0"u8);
            return 1;
        }
        catch (Exception e)
        {
            return Fail(L, e);
        }
    }

    private static void SetField(lua_State L, ReadOnlySpan<byte> name, long value)
    {
        lua_pushinteger(L, value);
        lua_setfield(L, -2, name);
    }

    private static readonly string[] OverflowOptions = ["block", "fail"];

    // setlimit([capacity [, overflow]]): bounds this state's queue. Returns true and the previous
    // capacity (nil: unbounded) and overflow: the previous capacity may be nil, so the wrapper
    // tells success by the true in front.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetLimit(lua_State L)
    {
        try
        {
            if (LuaBinding.FromUpvalue(L) is not { Engine: not null } binding)
            {
                return Fail(L, NotStarted);
            }
            if (LuaArguments.CheckCapacity(L, 1, "setlimit", out int capacity) is { } badCapacity)
            {
                return Fail(L, badCapacity);
            }
            if (LuaArguments.CheckOptionalOption(L, 2, "setlimit", OverflowOptions, out string? overflow) is { } badOverflow)
            {
                return Fail(L, badOverflow);
            }
            int previousCapacity = binding.Capacity;
            bool previousFail = binding.FailWhenFull;
            binding.SetLimit(capacity, overflow is null ? previousFail : overflow == "fail");
            lua_pushboolean(L, 1);
            if (previousCapacity == QueueBound.Unbounded)
            {
                lua_pushnil(L);
            }
            else
            {
                lua_pushinteger(L, previousCapacity);
            }
            lua_pushstring(L, previousFail ? "fail"u8 : "block"u8);
            return 3;
        }
        catch (Exception e)
        {
            return Fail(L, e);
        }
    }
}
