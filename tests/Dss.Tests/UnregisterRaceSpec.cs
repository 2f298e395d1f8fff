using System.Collections.Concurrent;
using Akka.TestKit.Xunit2;
using DarkSideSync.Tests.Support;
using KeraLua;

namespace DarkSideSync.Tests;

/// <summary>
/// Unregister racing with itself: from many threads at once, from inside a hook of the utility
/// while another thread unregisters it (issue 7, item 1: a thread inside a hook never waits for
/// another thread's unregister), and from many threads during stop-DSS.
/// </summary>
public sealed class UnregisterRaceSpec : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(5);
    private const int Success = (int)DssStatus.Success;
    private const int InvalidUtilId = (int)DssStatus.InvalidUtilId;

    private readonly LuaThread _lua;
    private readonly CApi _api;
    private readonly CApiLog _log = new();
    private readonly RawThreads _threads = new();

    public UnregisterRaceSpec()
    {
        _lua = new LuaThread(Sys);
        _lua.Run("held = {} function on_item(answer) if type(answer) ~= 'number' then held[#held + 1] = answer end end function on_ask(answer) held[#held + 1] = answer end function on_tell() end");
        _api = _lua.Call(h => CApi.FromRegistry(h.Lua))!;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _lua.Dispose();
        }
        base.Dispose(disposing);
    }

    // ---- many threads ----

    [Fact]
    public async Task Unregister_from_eight_threads_at_once_returns_success_once_and_every_delivery_ends_once()
    {
        var utility = _lua.Call(h => TestUtility.Register(h, "contended")).Utility;
        var ledger = new DeliveryLedger();
        var asks = Enumerable.Range(0, 8).Select(_ => ledger.Ask(utility)).ToArray();
        for (int i = 0; i < 8; i++)
        {
            ledger.Tell(utility);
        }
        _lua.Run("for i = 1, 4 do local n, cb, args = darksidesync.poll() cb(table.unpack(args)) end"); // 4 held by Lua

        var statuses = new ConcurrentQueue<DssStatus>();
        using var go = new ManualResetEventSlim(false);
        _threads.Start(8, "unregister", _ =>
        {
            go.Wait();
            statuses.Enqueue(utility.Unregister());
        });
        go.Set();
        _threads.Join(Patience);

        Assert.Single(statuses, DssStatus.Success);
        Assert.Equal(7, statuses.Count(s => s == DssStatus.InvalidUtilId));
        await Task.WhenAll(asks.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default))).WaitAsync(Patience);
        ledger.AssertEveryDeliveryEndedOnce();
        Assert.Equal(0, _lua.Integer("#held > 0 and select('#', held[1](1)) or 0")); // a held callback is spent
    }

    [Fact]
    public void Unreg_from_eight_threads_at_once_returns_success_once_and_releases_every_raw_deliverer()
    {
        nint utilId = _lua.Call(h => _api.Reg(h.State, CApiTestUtility.NewLibId(), _log, "contended", out _));
        var producers = Enumerable.Range(0, 4).Select(i => CApiProducer.StartRepeating(_api, utilId, _log, $"p{i}")).ToArray();
        _lua.Run("for i = 1, 50 do local n, cb, args = darksidesync.poll() if cb then cb(table.unpack(args)) elseif n == -1 then darksidesync.wait(0.01) end end");

        var statuses = new ConcurrentQueue<int>();
        using var go = new ManualResetEventSlim(false);
        _threads.Start(8, "unreg", _ =>
        {
            go.Wait();
            statuses.Enqueue(_api.Unreg(utilId));
        });
        go.Set();
        _threads.Join(Patience);

        Assert.Single(statuses, Success);
        Assert.Equal(7, statuses.Count(s => s == InvalidUtilId));
        Assert.All(producers, p => Assert.True(p.Join(Patience), "a deliverer is still blocked"));
        Assert.All(producers.SelectMany(p => p.Delivered), item => Assert.Equal(1, item.Endings));
        Assert.All(producers, p => Assert.Equal(0, p.Refused!.Endings));
    }

    [Fact]
    public async Task Unregisters_from_eight_threads_racing_with_stop_all_return_and_stop_dss_completes()
    {
        var utilities = _lua.Call(h => Enumerable.Range(0, 4).Select(i => TestUtility.Register(h, $"stopping-{i}").Utility).ToArray());
        var ledger = new DeliveryLedger();
        var asks = utilities.SelectMany(u => new[] { ledger.Ask(u), ledger.Ask(u) }).ToArray();
        _lua.Run("for i = 1, 4 do local n, cb, args = darksidesync.poll() cb(table.unpack(args)) end");

        var statuses = new ConcurrentQueue<DssStatus>();
        using var go = new ManualResetEventSlim(false);
        _threads.Start(8, "unregister", i =>
        {
            go.Wait();
            statuses.Enqueue(utilities[i % utilities.Length].Unregister());
        });
        var stopping = _lua.Start(h =>
        {
            go.Set();
            h.Run("darksidesync.stop()");
        });

        LuaThread.Await(stopping, Prompt, "darksidesync.stop()");
        _threads.Join(Patience);
        Assert.Equal(8, statuses.Count);
        Assert.All(statuses, s => Assert.Contains(s, new[] { DssStatus.Success, DssStatus.InvalidUtilId }));
        Assert.All(utilities, u => Assert.False(u.IsRegistered));
        await Task.WhenAll(asks.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default))).WaitAsync(Patience);
        ledger.AssertEveryDeliveryEndedOnce();
    }

    // ---- from inside a hook, while another thread unregisters (issue 7, item 1) ----

    [Fact]
    public async Task Unregister_from_inside_decode_must_not_wait_for_a_concurrent_unregister()
    {
        var utility = _lua.Call(h => TestUtility.Register(h, "raced-in-decode")).Utility;
        var ledger = new DeliveryLedger();
        DssStatus? fromHook = null;
        using var inHook = new ManualResetEventSlim(false);
        var request = utility.DeliverAndWaitAsync(0, (lua, _) =>
        {
            inHook.Set();
            SpinUntilUnregistering(utility);
            fromHook = utility.Unregister();
            Lua.FromIntPtr(lua.State).GetGlobal("on_ask");
            return 1;
        }, static (_, _) => 0L);
        _ = ledger.Ask(utility);
        ledger.Tell(utility);
        var worker = UnregisterWhenInHook(inHook, utility.Unregister);

        _lua.Run("pcall(darksidesync.poll)", Prompt);

        Assert.Equal(DssStatus.InvalidUtilId, fromHook);
        Assert.Equal(DssStatus.Success, LuaThread.Await(worker, Prompt, "the worker's Unregister"));
        await Assert.ThrowsAsync<DssDeliveryCanceledException>(() => request.WaitAsync(Patience));
        ledger.AssertEveryDeliveryEndedOnce();
    }

    [Fact]
    public async Task Unregister_from_inside_a_return_hook_must_not_wait_for_a_concurrent_unregister()
    {
        var utility = _lua.Call(h => TestUtility.Register(h, "raced-in-return")).Utility;
        var ledger = new DeliveryLedger();
        DssStatus? fromHook = null;
        using var inHook = new ManualResetEventSlim(false);
        var request = utility.DeliverAndWaitAsync(0, static (lua, _) =>
        {
            Lua.FromIntPtr(lua.State).GetGlobal("on_ask");
            return 1;
        }, (lua, _) =>
        {
            inHook.Set();
            SpinUntilUnregistering(utility);
            fromHook = utility.Unregister();
            return lua.ToInteger(1) ?? -1;
        });
        _ = ledger.Ask(utility);
        ledger.Tell(utility);
        _lua.Run("local n, cb, args = darksidesync.poll() answer = args[1]");
        var worker = UnregisterWhenInHook(inHook, utility.Unregister);

        _lua.Run("pcall(answer, 6)", Prompt);

        Assert.Equal(DssStatus.InvalidUtilId, fromHook);
        Assert.Equal(DssStatus.Success, LuaThread.Await(worker, Prompt, "the worker's Unregister"));
        Assert.Equal(6, await request.WaitAsync(Patience));
        ledger.AssertEveryDeliveryEndedOnce();
    }

    [Fact]
    public void Unreg_from_inside_a_c_decode_must_not_wait_for_a_concurrent_unreg()
    {
        nint utilId = _lua.Call(h => _api.Reg(h.State, CApiTestUtility.NewLibId(), _log, "raced", out _));
        int fromHook = 0;
        using var inHook = new ManualResetEventSlim(false);
        using var workerCalling = new ManualResetEventSlim(false);
        var item = new ScriptedItem(_log, "raced", blocking: true, L =>
        {
            inHook.Set();
            WaitForTheWorkersUnreg(workerCalling);
            fromHook = _api.Unreg(utilId);
            Lua.FromIntPtr(L).GetGlobal("on_ask");
            return 1;
        });
        var queued = new CApiItem(_log, "queued", [1], blocking: true, callback: "on_ask");
        _threads.Start("deliver raced", () => _api.DeliverRaw(utilId, CApiScriptedUtility.Decode, CApiScriptedUtility.Ret, item.PData));
        WaitForQueueSize(1);
        _threads.Start("deliver queued", () => _api.Deliver(utilId, queued));
        WaitForQueueSize(2);
        var worker = UnregWhenInHook(inHook, workerCalling, utilId);

        _lua.Run("pcall(darksidesync.poll)", Prompt);

        int fromWorker = LuaThread.Await(worker, Prompt, "the worker's unreg");
        Assert.Equal([InvalidUtilId, Success], new[] { fromHook, fromWorker }.Order()); // the first to start succeeds
        _threads.Join(Patience);
        Assert.Equal(1, item.Endings);
        Assert.Equal(1, queued.Endings);
    }

    [Fact]
    public void Unreg_from_inside_a_c_ret_must_not_wait_for_a_concurrent_unreg()
    {
        nint utilId = _lua.Call(h => _api.Reg(h.State, CApiTestUtility.NewLibId(), _log, "raced", out _));
        int fromHook = 0;
        using var inHook = new ManualResetEventSlim(false);
        using var workerCalling = new ManualResetEventSlim(false);
        var item = new ScriptedItem(_log, "raced", blocking: true, static L =>
        {
            Lua.FromIntPtr(L).GetGlobal("on_ask");
            return 1;
        }, (_, _) =>
        {
            inHook.Set();
            WaitForTheWorkersUnreg(workerCalling);
            fromHook = _api.Unreg(utilId);
            return 0;
        });
        _threads.Start("deliver raced", () => _api.DeliverRaw(utilId, CApiScriptedUtility.Decode, CApiScriptedUtility.Ret, item.PData));
        WaitForQueueSize(1);
        _lua.Run("local n, cb, args = darksidesync.poll() answer = args[1]");
        var worker = UnregWhenInHook(inHook, workerCalling, utilId);

        _lua.Run("pcall(answer, 1)", Prompt);

        int fromWorker = LuaThread.Await(worker, Prompt, "the worker's unreg");
        Assert.Equal([InvalidUtilId, Success], new[] { fromHook, fromWorker }.Order()); // the first to start succeeds
        _threads.Join(Patience);
        Assert.Equal(1, item.Endings);
    }

    // ---- helpers ----

    private static void SpinUntilUnregistering(DssUtility utility)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (utility.IsRegistered && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(1);
        }
    }

    // Inside a C hook there is no registration to look at: give the worker, which announced it is
    // calling unreg, time to get into it (if it is slower, the hook's unreg is the first, which
    // the contract allows too).
    private static void WaitForTheWorkersUnreg(ManualResetEventSlim workerCalling)
    {
        workerCalling.Wait(Patience);
        Thread.Sleep(100);
    }

    private Task<DssStatus> UnregisterWhenInHook(ManualResetEventSlim inHook, Func<DssStatus> unregister)
    {
        var done = new TaskCompletionSource<DssStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        _threads.Start("worker", () =>
        {
            Assert.True(inHook.Wait(Patience), "the hook never ran");
            done.SetResult(unregister());
        });
        return done.Task;
    }

    private Task<int> UnregWhenInHook(ManualResetEventSlim inHook, ManualResetEventSlim calling, nint utilId)
    {
        var done = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        _threads.Start("worker", () =>
        {
            Assert.True(inHook.Wait(Patience), "the hook never ran");
            calling.Set();
            done.SetResult(_api.Unreg(utilId));
        });
        return done.Task;
    }

    private void WaitForQueueSize(int size)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (_lua.Integer("darksidesync.queuesize()") < size)
        {
            _threads.ThrowIfFailed();
            Assert.True(DateTime.UtcNow < deadline, $"the queue never reached {size}");
            Thread.Sleep(1);
        }
    }
}
