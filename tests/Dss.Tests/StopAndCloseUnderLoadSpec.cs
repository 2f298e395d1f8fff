using Akka.TestKit.Xunit2;
using DarkSideSync.Tests.Support;

namespace DarkSideSync.Tests;

/// <summary>
/// Stop-DSS and lua_close racing with eight producer threads that deliver through both APIs,
/// blocking and not: every accepted delivery ends exactly once, no refused one is decoded, and
/// no producer stays blocked.
/// </summary>
public sealed class StopAndCloseUnderLoadSpec : TestKit
{
    private const int Producers = 8;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly LuaThread _lua;
    private readonly CApi _api;
    private readonly LoadTargets _targets = new();
    private readonly LoadProducers _producers;
    private readonly int _seed = Environment.TickCount;

    /// <summary>The Lua side of the load: answers most blocking deliveries at once, holds some, drops a few.</summary>
    internal const string ServeLua = """
        held, told, asked = {}, 0, 0
        function on_tell(id) told = told + 1 end
        function on_ask(answer, id)
          asked = asked + 1
          local r = math.random()
          if r < 0.7 then answer(id) elseif r < 0.9 then held[#held + 1] = answer end -- else dropped: __gc answers
        end
        function release_held() for _, answer in ipairs(held) do answer(0) end held = {} end
        function serve(max)
          local poll, ran = darksidesync.poll, 0
          for i = 1, max do
            local n, cb, args = poll()
            if n == -1 then
              if darksidesync.wait(0.002) == 0 then break end
            elseif cb then
              cb(table.unpack(args))
              ran = ran + 1
            end
          end
          if #held > 32 or math.random() < 0.2 then release_held() end
          if math.random() < 0.1 then collectgarbage() end
          return ran
        end
        """;

    public StopAndCloseUnderLoadSpec()
    {
        _lua = new LuaThread(Sys);
        _lua.Run(ServeLua + $"\nmath.randomseed({_seed})");
        _api = _lua.Call(h => CApi.FromRegistry(h.Lua))!;
        _producers = new LoadProducers(_targets, _api, unregisterPerMille: 0);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _producers.Stop();
            _lua.Dispose();
        }
        base.Dispose(disposing);
    }

    private string Context => $"(seed {_seed}; {_producers.Summary()})";

    [Fact]
    public void Stop_start_cycles_under_eight_producers_end_every_delivery_once_and_leave_none_blocked()
    {
        _lua.Call(RegisterBoth);
        _producers.Start(Producers, _seed);
        for (int cycle = 0; cycle < 20; cycle++)
        {
            _lua.Call(h =>
            {
                h.Run("serve(300)");
                h.Run("darksidesync.stop()");
                h.Run("darksidesync.start()");
                RegisterBoth(h);
            }, what: $"stop/start cycle {cycle}");
        }
        _producers.Stop();
        _lua.Run("darksidesync.stop()");

        _producers.StopAndJoin(Patience);
        _producers.AssertEveryDeliveryEndedOnce(Context);
        Assert.True(_producers.ManagedCount > 0 && _producers.NativeCount > 0, Context);
    }

    [Fact]
    public void Stop_from_a_lua_callback_under_eight_producers_releases_every_producer()
    {
        _lua.Call(RegisterBoth);
        _producers.Start(Producers, _seed);
        _lua.Run("local on = on_tell function on_tell(id) on(id) if told == 500 then darksidesync.stop() end end");

        _lua.Run("repeat ok, err = pcall(serve, 1000) until not ok", Patience);

        Assert.EndsWith("DSS was not started yet, or already stopped", _lua.String("err"));
        _producers.StopAndJoin(Patience);
        _producers.AssertEveryDeliveryEndedOnce(Context);
    }

    [Fact]
    public void Closing_the_state_under_eight_producers_that_deliver_and_wait_releases_them_all()
    {
        var (managed, native) = _lua.Call(RegisterBoth);
        _producers.Start(Producers, _seed);
        _lua.Run("for i = 1, 10 do serve(200) end function on_ask(answer) held[#held + 1] = answer end serve(100)");

        _lua.Close();

        _producers.StopAndJoin(Patience);
        _producers.AssertEveryDeliveryEndedOnce(Context);
        Assert.False(managed.IsRegistered);
        Assert.Equal((int)DssStatus.InvalidUtilId, _api.Deliver(native, new CApiItem(_producers.Log, "after close", [1])));
    }

    [Fact]
    public async Task Closing_the_state_with_answers_held_by_lua_and_deliveries_queued_ends_each_once()
    {
        var (managed, native) = _lua.Call(RegisterBoth);
        var ledger = new DeliveryLedger();
        var asks = Enumerable.Range(0, 6).Select(_ => ledger.Ask(managed)).ToArray();
        ledger.Tell(managed);
        var threads = new RawThreads();
        var items = Enumerable.Range(0, 6).Select(i => new CApiItem(_producers.Log, $"raw{i}", [i], blocking: true, callback: "on_ask")).ToArray();
        foreach (var item in items)
        {
            threads.Start(item.Name, () => Assert.Equal((int)DssStatus.Success, _api.Deliver(native, item)));
        }
        await AwaitConditionAsync(() => Task.FromResult(_lua.Integer("darksidesync.queuesize()") == 13), Patience);
        _lua.Run("function on_ask(answer) held[#held + 1] = answer end for i = 1, 6 do local n, cb, args = darksidesync.poll() if cb then cb(table.unpack(args)) end end");

        _lua.Close();

        threads.Join(Patience);
        await Task.WhenAll(asks.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default))).WaitAsync(Patience);
        ledger.AssertEveryDeliveryEndedOnce();
        Assert.All(items, item => Assert.Equal(1, item.Endings));
        Assert.All(asks, t => Assert.Equal(CancelReason.DssStopped, Assert.IsType<DssDeliveryCanceledException>(t.Exception!.InnerException).Reason));
    }

    // Lua thread: registers a .NET and a C utility and makes them the producers' targets.
    private (DssUtility Managed, nint Native) RegisterBoth(LuaHost host)
    {
        Assert.Equal(DssStatus.Success, DssUtility.Register(host.State, "load-managed", u => u.Unregister(), out var managed));
        nint native = _api.Reg(host.State, CApiTestUtility.NewLibId(), _producers.Log, "load-c", out int errcode);
        Assert.Equal((int)DssStatus.Success, errcode);
        _targets.Add(managed!);
        _targets.Add(native);
        return (managed!, native);
    }
}
