using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.TestKit.Xunit2;
using DarkSideSync.Tests.Support;

namespace DarkSideSync.Tests;

/// <summary>Real producer threads against a real Lua state polling on its own thread.</summary>
public sealed class DeliveryConcurrencySpec : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly LuaHost _host;

    public DeliveryConcurrencySpec()
    {
        _host = new LuaHost(Sys);
        _host.Run(LuaLoop.Define);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _host.Dispose();
        }
        base.Dispose(disposing);
    }

    [Fact]
    public void Four_producers_deliver_100k_items_with_nothing_lost_or_duplicated_and_each_producers_order_kept()
    {
        const int producers = 4, perProducer = 25_000;
        var utility = TestUtility.Register(_host, "bulk");
        _host.Run("""
            seen, last, disorder = 0, {}, 0
            function on_item(item)
              local producer, seq = item // 1000000, item % 1000000
              if seq ~= (last[producer] or -1) + 1 then disorder = disorder + 1 end
              last[producer] = seq
              seen = seen + 1
            end
            """);

        var threads = new RawThreads();
        threads.Start(producers, "producer", p =>
        {
            for (int seq = 0; seq < perProducer; seq++)
            {
                Assert.Equal(DssStatus.Success, utility.Deliver(p * 1_000_000L + seq));
            }
        });
        _host.Run($"run({producers * perProducer})");
        threads.Join(Patience);

        Assert.Equal(producers * perProducer, _host.Integer("seen"));
        Assert.Equal(0, _host.Integer("disorder"));
        Assert.Equal(-1, _host.Integer("darksidesync.poll()"));
        for (int p = 0; p < producers; p++)
        {
            Assert.Equal(perProducer - 1, _host.Integer($"last[{p}]"));
        }
    }

    [Fact]
    public void Deliveries_of_all_utilities_reach_lua_in_the_order_they_were_delivered()
    {
        var first = TestUtility.Register(_host, "fifo-1");
        var second = TestUtility.Register(_host, "fifo-2");
        _host.Run("order = {} function on_item(x) order[#order + 1] = x end");
        for (int i = 1; i <= 10; i++)
        {
            (i % 3 == 0 ? second : first).Deliver(i);
        }
        _host.Run("run(10)");
        Assert.Equal("1,2,3,4,5,6,7,8,9,10", _host.String("table.concat(order, ',')"));
    }

    [Fact]
    public async Task Blocking_round_trips_from_four_producers_get_their_own_answers()
    {
        const int producers = 4, perProducer = 500;
        var utility = TestUtility.Register(_host, "round-trips");
        _host.Run("function on_item(answer, x) answer(x * 2 + 1) end");

        var producing = Producers(producers, p =>
        {
            for (int i = 0; i < perProducer; i++)
            {
                long x = p * 100_000L + i;
                Assert.Equal(x * 2 + 1, utility.Ask(x).GetAwaiter().GetResult());
            }
        });
        _host.Run($"run({producers * perProducer})");

        await producing.WaitAsync(Patience);
    }

    [Fact]
    public async Task After_unregister_returns_the_utility_is_never_called_again_and_no_producer_waits()
    {
        var utility = TestUtility.Register(_host, "racing");
        var decodedAfterUnregister = 0;
        var unregistered = 0;
        var outcomes = new ConcurrentBag<Task<long>>();
        var refused = 0;
        _host.Run("function on_item(answer, x) answer(x) end");

        var producers = new RawThreads();
        producers.Start(4, "producer", p =>
        {
            // Each producer delivers until DSS refuses it: the last delivery races with unregister.
            for (long i = 0; ; i++)
            {
                var request = utility.Utility.DeliverAndWaitAsync(
                    i,
                    (lua, x) =>
                    {
                        if (Volatile.Read(ref unregistered) == 1)
                        {
                            Interlocked.Increment(ref decodedAfterUnregister);
                        }
                        utility.PushCallback(lua);
                        lua.PushInteger(x);
                        return 2;
                    },
                    static (lua, garbage) => lua.ToInteger(1) ?? -1);
                if (request.IsFaulted && request.Exception!.InnerException is DssDeliveryRefusedException)
                {
                    Interlocked.Increment(ref refused);
                    return;
                }
                outcomes.Add(request);
                if (i % 64 == 0)
                {
                    Thread.Yield();
                }
            }
        });

        var unregistering = Task.Run(() =>
        {
            Thread.Sleep(20);
            Assert.Equal(DssStatus.Success, utility.Utility.Unregister());
            Volatile.Write(ref unregistered, 1);
        });
        // The Lua thread keeps polling while the unregister races with it.
        var stopwatch = Stopwatch.StartNew();
        while (!unregistering.IsCompleted && stopwatch.Elapsed < Patience)
        {
            _host.Run("for i = 1, 50 do local n, cb, args = darksidesync.poll() if cb then cb(table.unpack(args)) end end");
        }
        await unregistering.WaitAsync(Patience);
        producers.Join(Patience);
        _host.Run("while darksidesync.poll() ~= -1 do end");

        Assert.Equal(0, decodedAfterUnregister);
        Assert.Equal(4, refused);
        var accepted = outcomes.ToArray();
        Assert.All(accepted, t => Assert.True(t.IsCompleted, "every accepted delivery ended"));
        Assert.All(accepted.Where(t => t.IsFaulted), t => Assert.IsType<DssDeliveryCanceledException>(t.Exception!.InnerException));
        Assert.Contains(accepted, t => t.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Closing_the_lua_state_releases_every_blocked_producer_within_a_second()
    {
        var utility = TestUtility.Register(_host, "closing");
        _host.Run("function on_item(answer, x) held = held or {} held[#held + 1] = answer end");
        var requests = Enumerable.Range(0, 8).Select(i => utility.Ask(i)).ToArray();
        _host.Run("for i = 1, 3 do local n, cb, args = darksidesync.poll() cb(table.unpack(args)) end"); // 3 wait on the Lua side, 5 stay queued

        var stopwatch = Stopwatch.StartNew();
        _host.Close();
        await Task.WhenAll(requests.Select(r => r.ContinueWith(_ => { }, TaskScheduler.Default))).WaitAsync(Patience);
        stopwatch.Stop();

        // Releasing takes a few ms; a second is 10x room on a noisy machine, far below any DSS timeout.
        Assert.True(stopwatch.ElapsedMilliseconds < 1000, $"released after {stopwatch.ElapsedMilliseconds} ms");
        // Stop-DSS runs before lua_close collects the callbacks Lua held: all eight are cancelled.
        var cancelled = requests.Select(r => Assert.IsType<DssDeliveryCanceledException>(r.Exception!.InnerException)).ToArray();
        Assert.Equal([true, true, true, false, false, false, false, false], cancelled.Select(c => c.ReachedLua));
        Assert.All(cancelled, c => Assert.Equal(CancelReason.DssStopped, c.Reason));
    }

    [Fact]
    public void Closing_one_lua_state_never_touches_another_states_utilities()
    {
        using var other = new LuaHost(Sys);
        var mine = TestUtility.Register(_host, "shared-lib");
        var theirs = TestUtility.Register(other, "shared-lib");
        other.Run("got = nil function on_item(x) got = x end");

        _host.Close();

        Assert.Equal(1, mine.Cancels);
        Assert.Equal(0, theirs.Cancels);
        Assert.True(theirs.Utility.IsRegistered);
        Assert.Equal(DssStatus.Success, theirs.Deliver(5));
        other.Run("darksidesync.drain()");
        Assert.Equal(5, other.Integer("got"));
    }

    [Fact]
    public async Task Decode_and_return_run_only_on_the_lua_thread()
    {
        var utility = TestUtility.Register(_host, "threads");
        var hookThreads = new ConcurrentBag<int>();
        _host.Run("function on_item(answer, x) answer(x) end");
        var producing = Producers(4, p =>
        {
            for (int i = 0; i < 200; i++)
            {
                utility.Utility.DeliverAndWaitAsync(
                    i,
                    (lua, x) =>
                    {
                        hookThreads.Add(Environment.CurrentManagedThreadId);
                        utility.PushCallback(lua);
                        lua.PushInteger(x);
                        return 2;
                    },
                    (lua, garbage) =>
                    {
                        hookThreads.Add(Environment.CurrentManagedThreadId);
                        return lua.ToInteger(1);
                    }).GetAwaiter().GetResult();
            }
        });
        _host.Run("run(800)");
        await producing.WaitAsync(Patience);

        Assert.Equal(1600, hookThreads.Count);
        Assert.All(hookThreads, id => Assert.Equal(_host.LuaThreadId, id));
    }

    // Producers on threads of their own, as a utility's worker threads are: a busy thread pool
    // (tests run in parallel) must not decide when they run. Their failures fail the test.
    private static Task Producers(int count, Action<int> produce)
    {
        var threads = new RawThreads();
        threads.Start(count, "producer", produce);
        return Task.Factory.StartNew(() => threads.Join(Patience), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }
}
