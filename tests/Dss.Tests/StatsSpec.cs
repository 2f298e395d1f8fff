using Akka.TestKit.Xunit2;
using DarkSideSync.Tests.Support;

namespace DarkSideSync.Tests;

/// <summary>
/// <c>darksidesync.stats()</c> (DSS 1.1) and <see cref="DssUtility.Stats"/> in a KeraLua host:
/// the counters match what a run did (delivered = completed + cancelled + queued + waiting once
/// it is quiet), they survive stop and start, refusals after a stop are counted, and readings
/// taken while four threads deliver never show more outcomes than deliveries.
/// </summary>
public sealed class StatsSpec : TestKit
{
    private readonly LuaHost _host;
    private readonly TestUtility _utility;

    public StatsSpec()
    {
        _host = new LuaHost(Sys);
        _host.Run("n = 0; function on_item(v) n = n + 1 end; function hold(v) held[#held + 1] = v end; held = {}");
        _utility = TestUtility.Register(_host, "stats");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _host.Dispose();
        }
        base.Dispose(disposing);
    }

    private long Stat(string name) => _host.Integer($"darksidesync.stats().{name}");

    private DssStats Stats => DssModule.GetStats(_host.State)!;

    private static void AssertBalanced(DssStats s) =>
        Assert.Equal(s.Delivered, s.Completed + s.Cancelled + s.Queued + s.Waiting);

    [Fact]
    public void A_fresh_state_reports_zeros_an_unbounded_queue_and_the_block_policy()
    {
        _host.Run("""
            local s = darksidesync.stats()
            assert(s.queued == 0 and s.highwater == 0 and s.delivered == 0 and s.completed == 0)
            assert(s.cancelled == 0 and s.refused == 0 and s.waiting == 0)
            assert(s.capacity == nil and s.overflow == "block")
            """);
        Assert.Equal(1, Stat("utilities"));
        Assert.True(_host.Boolean("darksidesync.stats() ~= darksidesync.stats()"), "stats() returns a fresh table each time");
    }

    [Fact]
    public void Queued_items_count_as_delivered_and_queued_then_as_completed_once_dispatched()
    {
        var threads = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < 25; i++)
            {
                Assert.Equal(DssStatus.Success, _utility.Deliver(i));
            }
        })).ToArray();
        LuaThread.Await(Task.WhenAll(threads), LuaThread.Patience, "the producers");

        Assert.Equal(new DssStats(100, 100, 100, 0, 0, 0, 0, 1, null, QueueOverflow.Block), Stats);
        _host.Run("darksidesync.dispatch(40)");
        Assert.Equal(60, Stat("queued"));
        Assert.Equal(40, Stat("completed"));
        _host.Run("darksidesync.drain()");
        var s = Stats;
        Assert.Equal((0L, 100L, 100L, 100L), (s.Queued, s.Highwater, s.Delivered, s.Completed));
        AssertBalanced(s);
    }

    [Fact]
    public void Blocking_deliveries_Lua_holds_are_waiting_until_answered_or_cancelled()
    {
        var blocking = TestUtility.Register(_host, "blocking", callback: "hold");
        var asks = Enumerable.Range(1, 3).Select(i => blocking.Ask(i)).ToArray();
        _host.Run("darksidesync.drain()");
        Assert.Equal(3, Stat("waiting"));
        AssertBalanced(Stats);

        _host.Run("held[1](7)"); // the waitingthread_callback answers the first
        Assert.Equal(7, LuaThread.Await(asks[0], LuaThread.Patience, "the answer"));
        Assert.Equal((2L, 1L), (Stats.Waiting, Stats.Completed));

        Assert.Equal(DssStatus.Success, blocking.Utility.Unregister());
        var s = Stats;
        Assert.Equal((0L, 2L, 3L), (s.Waiting, s.Cancelled, s.Delivered));
        AssertBalanced(s);
    }

    [Fact]
    public void A_waitingthread_callback_collected_by_the_GC_completes_its_delivery()
    {
        var blocking = TestUtility.Register(_host, "collected", callback: "hold");
        var ask = blocking.Ask(1);
        _host.Run("darksidesync.drain()");
        Assert.Equal(1, Stat("waiting"));
        _host.Run("held = {}; collectgarbage(); collectgarbage()"); // the reply is dropped uncalled
        Assert.Equal(-1L, LuaThread.Await(ask, LuaThread.Patience, "the garbage answer"));
        var s = Stats;
        Assert.Equal((0L, 1L, 0L), (s.Waiting, s.Completed, s.Cancelled));
        AssertBalanced(s);
    }

    [Fact]
    public void A_timeout_while_queued_counts_as_cancelled()
    {
        var ask = _utility.Ask(1, TimeSpan.FromMilliseconds(20));
        Assert.ThrowsAny<Exception>(() => LuaThread.Await(ask, LuaThread.Patience, "the timeout"));
        var s = Stats;
        Assert.Equal((1L, 1L, 0L), (s.Delivered, s.Cancelled, s.Queued));
        AssertBalanced(s);
    }

    [Fact]
    public void A_throwing_decode_counts_as_cancelled_not_completed()
    {
        Assert.Equal(DssStatus.Success, _utility.Utility.Deliver(0, (_, _) => throw new InvalidOperationException("bad decode")));
        _host.Run("darksidesync.dispatch()");
        Assert.Equal((1L, 0L), (Stats.Cancelled, Stats.Completed));
    }

    [Fact]
    public void Refusals_are_counted_also_after_a_stop_and_every_counter_survives_stop_and_start()
    {
        _host.Run("darksidesync.setlimit(2, 'fail')");
        Assert.Equal(DssStatus.Success, _utility.Deliver(1));
        Assert.Equal(DssStatus.Success, _utility.Deliver(2));
        Assert.Equal(DssStatus.QueueFull, _utility.Deliver(3));
        _host.Run("darksidesync.dispatch()");
        Assert.Equal((2L, "fail"), (Stat("capacity"), _host.String("darksidesync.stats().overflow")));

        _host.Run("darksidesync.stop()");
        Assert.Contains("DSS was not started yet, or already stopped", _host.Error("darksidesync.stats()"));
        Assert.Equal(DssStatus.InvalidUtilId, _utility.Deliver(4));
        _host.Run("darksidesync.start()");

        var s = Stats;
        Assert.Equal((2L, 2L, 2L, 0, 2), (s.Delivered, s.Completed, s.Refused, s.Utilities, s.Capacity));
    }

    [Fact]
    public void Readings_under_load_never_show_more_outcomes_than_deliveries_and_add_up_at_the_end()
    {
        const int PerThread = 100_000;
        var producers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                Assert.Equal(DssStatus.Success, _utility.Deliver(i));
            }
        })).ToArray();
        var readings = new System.Collections.Concurrent.ConcurrentQueue<DssStats>();
        using var done = new CancellationTokenSource();
        var reader = Task.Run(() =>
        {
            while (!done.IsCancellationRequested)
            {
                readings.Enqueue(_utility.Utility.Stats); // another thread, racing the Lua thread's counting
            }
        });
        while (_host.Integer("n") < 4 * PerThread)
        {
            _host.Run("darksidesync.dispatch(1000)");
        }
        LuaThread.Await(Task.WhenAll(producers), LuaThread.Patience, "the producers");
        done.Cancel();
        LuaThread.Await(reader, LuaThread.Patience, "the reader");
        Assert.NotEmpty(readings);

        foreach (var r in readings)
        {
            Assert.True(r.Completed + r.Cancelled + r.Waiting + r.Queued <= r.Delivered, $"outcomes ahead of deliveries: {r}");
        }
        var ordered = readings.ToArray();
        for (int i = 1; i < ordered.Length; i++)
        {
            Assert.True(ordered[i].Delivered >= ordered[i - 1].Delivered && ordered[i].Completed >= ordered[i - 1].Completed);
        }
        var end = Stats;
        Assert.Equal((4L * PerThread, 4L * PerThread, 0L, 0L), (end.Delivered, end.Completed, end.Queued, end.Refused));
        Assert.InRange(end.Highwater, 1, 4 * PerThread);
    }
}
