using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Akka.TestKit.Xunit2;
using DarkSideSync.LuaSide;
using DarkSideSync.Tests.Support;
using KeraLua;
using lua_State = nint;

namespace DarkSideSync.Tests;

/// <summary>
/// No call deadlocks the Lua thread (DSS 1v1): a delivery that would wait — for Lua's answer,
/// or for room in a full queue with overflow "block" — is refused with WOULD_DEADLOCK (C) or
/// a <see cref="DssDeliveryRefusedException"/> (C#) when made on the state's Lua thread (the
/// one that required darksidesync, or the one the host declared), from inside a hook, or inside
/// a Lua-side call; nothing is queued. An await on the Lua thread is not refused. Other threads wait.
/// </summary>
public sealed unsafe class LuaThreadDeadlockSpec : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    // What the hooks below see; xunit runs a class's tests one at a time.
    private static CApi1v1? _api11;
    private static nint _innerUtilId;
    private static int _statusInsideHook;

    private readonly LuaHost _host; // created on the test thread: the test thread is its Lua thread
    private readonly CApi _api;
    private readonly CApiLog _log = new();
    private readonly nint _utilId;

    public LuaThreadDeadlockSpec()
    {
        _host = new LuaHost(Sys);
        _host.Run("function on_item(...) end function on_ask(reply) reply(1) end");
        _api = CApi.FromRegistry(_host.Lua)!;
        _api11 = CApi1v1.FromRegistry(_host.Lua)!;
        _utilId = _api.Reg(_host.State, CApiTestUtility.NewLibId(), _log, "deadlock", out _);
        _innerUtilId = _utilId;
        _statusInsideHook = 0;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _host.Dispose();
        }
        base.Dispose(disposing);
    }

    private static int Await(Task<int> producer) =>
        producer.Wait(Patience) ? producer.Result : throw new TimeoutException("the delivery never returned");

    private CApiItem Ask(string name) => new(_log, name, [1], blocking: true, callback: "on_ask");

    // ---- on the declared Lua thread ----

    [Fact]
    public void A_blocking_1v0_deliver_on_the_Lua_thread_must_return_WOULD_DEADLOCK_and_queue_nothing()
    {
        var item = Ask("here");

        Assert.Equal((int)DssStatus.WouldDeadlock, _api.Deliver(_utilId, item));

        Assert.Equal(0, _host.Integer("darksidesync.queuesize()"));
        Assert.Equal(0, item.Endings);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(500)]
    public void A_blocking_deliver_ex_on_the_Lua_thread_must_return_WOULD_DEADLOCK_whatever_its_timeout(int timeoutMs)
    {
        var item = Ask("here");

        Assert.Equal((int)DssStatus.WouldDeadlock, _api11!.DeliverEx(_utilId, item, timeoutMs));

        Assert.Equal(0, _host.Integer("darksidesync.queuesize()"));
        Assert.Equal(0, item.Endings);
    }

    [Fact]
    public void A_non_blocking_deliver_on_the_Lua_thread_into_a_full_blocking_queue_must_return_WOULD_DEADLOCK()
    {
        _host.Run("darksidesync.setlimit(1)");
        Assert.Equal((int)DssStatus.Success, _api.Deliver(_utilId, new CApiItem(_log, "fits", [1])));
        var item = new CApiItem(_log, "full", [2]);

        Assert.Equal((int)DssStatus.WouldDeadlock, _api.Deliver(_utilId, item));
        Assert.Equal((int)DssStatus.WouldDeadlock, _api11!.DeliverEx(_utilId, item, -1));
        Assert.Equal((int)DssStatus.QueueFull, _api11.DeliverEx(_utilId, item, 0)); // never waits: no deadlock

        Assert.Equal(1, _host.Integer("darksidesync.queuesize()"));
        Assert.Equal(0, item.Endings);
    }

    [Fact]
    public void A_synchronous_DeliverAndWait_on_the_Lua_thread_must_throw_WOULD_DEADLOCK_instead_of_hanging()
    {
        var utility = TestUtility.Register(_host, "sync", callback: "on_ask");

        var refused = Assert.Throws<DssDeliveryRefusedException>(() =>
            utility.Utility.DeliverAndWait(1L, static (_, _) => 0, static (_, _) => 0L));

        Assert.Equal(DssStatus.WouldDeadlock, refused.Status);
        Assert.Equal(0, _host.Integer("darksidesync.queuesize()"));
    }

    [Fact]
    public void DeliverAndWaitAsync_on_the_Lua_thread_must_not_be_refused_since_awaiting_it_blocks_nothing()
    {
        var utility = TestUtility.Register(_host, "async", callback: "on_ask");

        var asking = utility.Ask(5);
        _host.Run("local _, callback, args = darksidesync.poll() callback(table.unpack(args))");

        Assert.Equal(1, LuaThread.Await(asking, Patience, "the answer"));
    }

    [Fact]
    public void A_blocking_deliver_from_another_thread_must_wait_for_the_answer_as_before()
    {
        var item = Ask("elsewhere");
        var producer = OnThread.Run("producer", () => _api.Deliver(_utilId, item));
        var clock = Stopwatch.StartNew();
        while (_host.Integer("darksidesync.queuesize()") == 0)
        {
            Assert.True(clock.Elapsed < Patience);
            Thread.Sleep(1);
        }
        _host.Run("local _, callback, args = darksidesync.poll() callback(table.unpack(args))");

        Assert.Equal((int)DssStatus.Success, Await(producer));
        Assert.Equal([1L], item.Answer!);
    }

    [Fact]
    public void A_Lua_callback_calling_a_C_function_that_delivers_blocking_must_get_WOULD_DEADLOCK()
    {
        _tryBlocking = TryBlocking; // kept: Lua holds only a pointer to it
        _host.Lua.Register("try_blocking", _tryBlocking);
        _host.Run("function on_item() inner = try_blocking() end");
        _api.Deliver(_utilId, new CApiItem(_log, "trigger", [1]));

        _host.Run("local _, callback, args = darksidesync.poll() callback(table.unpack(args))");

        Assert.Equal((long)DssStatus.WouldDeadlock, _host.Integer("inner"));
        Assert.Equal(0, _host.Integer("darksidesync.queuesize()"));
    }

    private LuaFunction? _tryBlocking;

    private int TryBlocking(IntPtr L)
    {
        var item = Ask("from callback");
        Lua.FromIntPtr(L).PushInteger(_api.Deliver(_utilId, item));
        return 1;
    }

    // ---- inside hooks ----

    [Fact]
    public void A_blocking_deliver_ex_from_inside_a_decode_must_return_WOULD_DEADLOCK()
    {
        _api11!.Struct->DeliverEx(_utilId, (nint)(delegate* unmanaged[Cdecl]<lua_State, nint, nint, int>)&DecodeThatAsks, 0, 0, 0);

        Assert.Equal(0, _host.Integer("darksidesync.poll()"));

        Assert.Equal((int)DssStatus.WouldDeadlock, _statusInsideHook);
        Assert.Equal(0, _host.Integer("darksidesync.queuesize()"));
    }

    [Fact]
    public void A_blocking_deliver_from_inside_a_ret_must_return_WOULD_DEADLOCK()
    {
        var producer = OnThread.Run("asks", () => _api11!.Struct->DeliverEx(_utilId, CApiTestUtility.Decode,
            (nint)(delegate* unmanaged[Cdecl]<lua_State, nint, nint, int, int>)&RetThatAsks, Ask("outer").PData, 5_000));
        var clock = Stopwatch.StartNew();
        while (_host.Integer("darksidesync.queuesize()") == 0)
        {
            Assert.True(clock.Elapsed < Patience);
            Thread.Sleep(1);
        }

        _host.Run("local _, callback, args = darksidesync.poll() callback(table.unpack(args))");

        Assert.Equal((int)DssStatus.Success, Await(producer));
        Assert.Equal((int)DssStatus.WouldDeadlock, _statusInsideHook);
        Assert.Equal(0, _host.Integer("darksidesync.queuesize()"));
    }

    [Fact]
    public void A_synchronous_DeliverAndWait_from_inside_a_hook_on_another_Lua_thread_must_throw_WOULD_DEADLOCK()
    {
        using var lua = new LuaThread(Sys, "hooked");
        var utility = LuaThread.Await(lua.Start(h => TestUtility.Register(h, "hook")), Patience, "register");
        Exception? inside = null;
        utility.Utility.Deliver(0L, (_, _) =>
        {
            inside = Record(() => utility.Utility.DeliverAndWait(1L, static (_, _) => 0, static (_, _) => 0L));
            return 0;
        });

        LuaThread.Await(lua.Start(h => h.Integer("darksidesync.poll()")), Patience, "poll");

        Assert.Equal(DssStatus.WouldDeadlock, Assert.IsType<DssDeliveryRefusedException>(inside).Status);
    }

    private static Exception? Record(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    // ---- which thread is the Lua thread ----

    [Fact]
    public void The_require_thread_must_be_forgotten_once_the_state_is_used_from_another_thread()
    {
        var item = Ask("moved");
        Assert.Equal(0, Await(OnThread.Run("new Lua thread", () => (int)_host.Integer("darksidesync.queuesize()"))));

        // The test thread is no longer taken for the Lua thread: its blocking deliver waits.
        var poller = OnThread.Run("new Lua thread", () =>
        {
            var clock = Stopwatch.StartNew();
            while (_host.Integer("darksidesync.queuesize()") == 0)
            {
                if (clock.Elapsed > Patience) return -1;
                Thread.Sleep(1);
            }
            _host.Run("local _, callback, args = darksidesync.poll() callback(table.unpack(args))");
            return 0;
        });
        Assert.Equal((int)DssStatus.Success, _api.Deliver(_utilId, item));

        Assert.Equal(0, Await(poller));
        Assert.Equal([1L], item.Answer!);
    }

    [Fact]
    public void A_declared_Lua_thread_must_stay_declared_when_the_state_is_used_from_another_thread()
    {
        using var declared = new ManualResetEventSlim();
        using var go = new ManualResetEventSlim();
        var item = Ask("declared");
        var hostThread = OnThread.Run("host's Lua thread", () =>
        {
            Assert.Equal(DssStatus.Success, DssModule.DeclareLuaThread(_host.State));
            declared.Set();
            go.Wait(Patience);
            return _api.Deliver(_utilId, item);
        });
        Assert.True(declared.Wait(Patience));

        Assert.Equal(0, _host.Integer("darksidesync.queuesize()")); // a call from another thread: a declaration stays
        go.Set();

        Assert.Equal((int)DssStatus.WouldDeadlock, Await(hostThread));
        Assert.Equal(0, item.Endings);
    }

    [Fact]
    public void DeclareLuaThread_must_answer_NO_GLOBALS_for_a_state_without_darksidesync()
    {
        using var bare = new Lua();

        Assert.Equal(DssStatus.NoGlobals, DssModule.DeclareLuaThread(bare.Handle));
    }

    [Fact]
    public void A_thread_inside_a_Lua_side_call_must_be_refused_a_wait_until_it_leaves()
    {
        LuaBinding.Find(_host.State, out var binding);
        var engine = binding!.Engine!;
        var item = Ask("inside");
        var statuses = Await(OnThread.Run("dispatching thread", () =>
        {
            int inside;
            using (engine.EnterLuaSide())
            {
                inside = _api.Deliver(_utilId, item);
            }
            return inside * 1000 + (engine.MustNotWait ? 1 : 0);
        }));

        Assert.Equal((int)DssStatus.WouldDeadlock * 1000, statuses);
        Assert.Equal(0, item.Endings);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int DecodeThatAsks(lua_State L, nint pData, nint utilId)
    {
        if (L != 0)
        {
            _statusInsideHook = _api11!.Struct->DeliverEx(utilId, CApiTestUtility.Decode, CApiTestUtility.Ret, 0, 100);
        }
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int RetThatAsks(lua_State L, nint pData, nint utilId, int garbage)
    {
        if (L != 0)
        {
            _statusInsideHook = _api11!.Struct->DeliverEx(_innerUtilId, CApiTestUtility.Decode, CApiTestUtility.Ret, 0, 100);
        }
        return 0;
    }
}
