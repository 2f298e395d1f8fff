using System.Diagnostics;
using Akka.TestKit.Xunit2;
using DarkSideSync.Tests.Support;

namespace DarkSideSync.Tests;

/// <summary>
/// C decode and ret hooks that raise Lua errors (<c>luaL_error</c>) in the KeraLua host (issue 7,
/// defect 3): the error reaches Lua's caller, that delivery ends there (its deliverer released,
/// no later decode(NULL)/ret(NULL)), and the utility keeps working. The engine calls C hooks
/// through its C trampoline under lua_pcall, so the raise never crosses a .NET frame and the
/// cases run in the test process itself.
/// </summary>
public sealed unsafe class RaisingCHookSpec : TestKit
{
    // Each of these takes milliseconds; a hang fails the case after this long.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);
    private const int Success = (int)DssStatus.Success;

    private readonly LuaThread _lua;
    private readonly CApi _api;
    private readonly RaisingCHooks _hooks;
    private readonly RawThreads _threads = new();
    private readonly nint _utilId;

    public RaisingCHookSpec()
    {
        _lua = new LuaThread(Sys);
        _lua.Run("got = {} function on_item(...) got[#got + 1] = table.pack(...) end");
        _api = _lua.Call(h => CApi.FromRegistry(h.Lua))!;
        _hooks = RaisingCHooks.Load();
        _hooks.ResetCounts(); // the library is loaded once; its counters count for this case only
        _utilId = _lua.Call(h => _api.Reg(h.State, CApiTestUtility.NewLibId(), new CApiLog(), "raising", out _));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _lua.Dispose();
        }
        base.Dispose(disposing);
    }

    [Fact]
    public void A_raising_decode_makes_poll_raise_its_error_and_releases_the_deliverer()
    {
        var status = DeliverBlocking(_hooks.RaisingDecode, _hooks.QuietRet, 1);

        _lua.Run("ok, err = pcall(darksidesync.poll)");

        Assert.False(_lua.Boolean("ok"));
        Assert.EndsWith("decode raised 1", _lua.String("err"));
        _threads.Join(Patience);
        Assert.Equal(Success, status());
        Assert.Equal(Success, _api.Unreg(_utilId));
        Assert.Equal(1, _hooks.Count(RaisingCHooks.Decodes));
        Assert.Equal(0, _hooks.Count(RaisingCHooks.NullDecodes) + _hooks.Count(RaisingCHooks.NullRets) + _hooks.Count(RaisingCHooks.Rets));
    }

    [Fact]
    public void After_a_raising_decode_the_utility_keeps_working_and_stop_completes()
    {
        Assert.Equal(Success, _api.DeliverRaw(_utilId, _hooks.RaisingDecode, 0, 1));
        Assert.Equal(Success, _api.DeliverRaw(_utilId, _hooks.PushingDecode, 0, 2));

        _lua.Run("ok, err = pcall(darksidesync.poll) darksidesync.drain()");

        Assert.False(_lua.Boolean("ok"));
        Assert.Equal(2, _lua.Integer("got[1][1]"));
        Assert.Equal(Success, _api.DeliverRaw(_utilId, _hooks.PushingDecode, 0, 3));
        _lua.Run("darksidesync.stop()", Patience);
        Assert.Equal(1, _hooks.Count(RaisingCHooks.NullDecodes)); // item 3, cancelled by stop; nothing for item 1
    }

    [Fact]
    public void A_raising_ret_makes_the_waitingthread_callback_raise_its_error_and_releases_the_deliverer()
    {
        var status = DeliverBlocking(_hooks.PushingDecode, _hooks.RaisingRet, 3);

        _lua.Run("local n, cb, args = darksidesync.poll() ok, err = pcall(args[1], 5) again = select('#', args[1](6))");

        Assert.False(_lua.Boolean("ok"));
        Assert.EndsWith("ret raised 3", _lua.String("err"));
        Assert.Equal(0, _lua.Integer("again")); // spent: calling it again does nothing
        _threads.Join(Patience);
        Assert.Equal(Success, status());
        _lua.Run("darksidesync.stop()", Patience);
        Assert.Equal(1, _hooks.Count(RaisingCHooks.Rets));
        Assert.Equal(0, _hooks.Count(RaisingCHooks.NullRets) + _hooks.Count(RaisingCHooks.GarbageRets));
    }

    [Fact]
    public void A_raising_ret_run_by_gc_is_swallowed_and_releases_the_deliverer()
    {
        var status = DeliverBlocking(_hooks.PushingDecode, _hooks.RaisingRet, 4);

        _lua.Run("do local n, cb, args = darksidesync.poll() end collectgarbage() collectgarbage() after = 'still running'");

        Assert.Equal("still running", _lua.String("after"));
        _threads.Join(Patience);
        Assert.Equal(Success, status());
        Assert.Equal(1, _hooks.Count(RaisingCHooks.GarbageRets));
        _lua.Run("darksidesync.stop()", Patience);
        Assert.Equal(0, _hooks.Count(RaisingCHooks.NullRets));
    }

    // A raw thread makes the blocking deliver; returns once it is queued. The result reads deliver's status.
    private Func<int> DeliverBlocking(nint decode, nint ret, nint pData)
    {
        int status = 0;
        _threads.Start("deliver", () => status = _api.DeliverRaw(_utilId, decode, ret, pData));
        var clock = Stopwatch.StartNew();
        while (_lua.Integer("darksidesync.queuesize()") == 0)
        {
            Assert.True(clock.Elapsed < Patience, "the delivery was never queued");
            Thread.Sleep(1);
        }
        return () => status;
    }
}
