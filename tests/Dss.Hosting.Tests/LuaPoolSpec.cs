using Akka.Actor;
using Akka.TestKit.Xunit2;
using DarkSideSync.Hosting.Tests.Support;

namespace DarkSideSync.Hosting.Tests;

/// <summary>
/// A pool of hosted states as actors: a supervisor with one child per state; calls routed by
/// key (always the same state) or by load; the actor messages (LuaCall -> LuaResult or
/// Status.Failure); a state that dies replaced after a back-off; back-pressure of a bounded
/// queue; reload without dropping a call; the stop sequence.
/// </summary>
public sealed class LuaPoolSpec : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly ScriptFolder _scripts = new();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _scripts.Dispose();
        }
        base.Dispose(disposing);
    }

    private Task<LuaPool> Start(int size = 2, Action<LuaPoolOptions>? configure = null, string version = "1")
    {
        _scripts.Write("startup.lua", $$"""
            version = "{{version}}"
            hits = 0
            function hit() hits = hits + 1; return hits end
            function add(a, b) return a + b end
            function die() require("darksidesync").stop() end
            function spin(seconds) local t = os.clock() + seconds; while os.clock() < t do end; return version end
            function get_version() return version end
            """);
        var options = new LuaPoolOptions
        {
            Size = size,
            MinBackoff = TimeSpan.FromMilliseconds(100),
            State = new LuaStateOptions { ScriptFolders = [_scripts.Path], StartupScripts = ["startup.lua"] },
        };
        configure?.Invoke(options);
        return LuaPool.StartAsync(Sys, options, "pool-" + Guid.NewGuid().ToString("N")[..8]);
    }

    private static string KeyFor(LuaPool pool, int index)
    {
        var members = new Pool.Internal.PoolMembers(pool.Size);
        return Enumerable.Range(0, 1000).Select(i => "key" + i).First(k => members.IndexOf(k) == index);
    }

    [Fact]
    public async Task Calls_with_the_same_key_always_reach_the_same_state()
    {
        await using var pool = await Start();
        long last = 0;
        for (int i = 0; i < 20; i++)
        {
            last = await pool.CallAsync<long>("hit", key: "customer-42");
        }
        Assert.Equal(20, last);
    }

    [Fact]
    public async Task Calls_without_a_key_spread_over_the_states()
    {
        await using var pool = await Start(configure: o => o.Routing = LuaRouting.RoundRobin);
        var hits = new List<long>();
        for (int i = 0; i < 10; i++)
        {
            hits.Add(await pool.CallAsync<long>("hit"));
        }
        Assert.Equal(5, hits.Max()); // each of the two states counted five
    }

    [Fact]
    public async Task Any_actor_asks_the_supervisor_with_plain_messages()
    {
        await using var pool = await Start();
        var result = await pool.Supervisor.Ask<LuaResult>(new LuaCall("add", [2, 3]), Patience);
        Assert.Equal([5L], result.Values);

        pool.Supervisor.Tell(new LuaCall("nothing", []), TestActor);
        var failure = await ExpectMsgAsync<Status.Failure>(Patience);
        Assert.IsType<LuaScriptException>(failure.Cause);
    }

    [Fact]
    public async Task A_call_s_own_budget_holds_through_the_pool_and_its_messages()
    {
        await using var pool = await Start();
        await Assert.ThrowsAsync<LuaBudgetExceededException>(() => pool.CallAsync<string>("spin", [5], timeout: Patience, budget: TimeSpan.FromMilliseconds(50)));
        pool.Supervisor.Tell(new LuaCall("spin", [5], Timeout: Patience, Budget: TimeSpan.FromMilliseconds(50)), TestActor);
        var failure = await ExpectMsgAsync<Status.Failure>(Patience);
        Assert.IsType<LuaBudgetExceededException>(failure.Cause);
    }

    [Fact]
    public async Task A_state_that_dies_is_replaced_after_a_back_off_and_the_pool_keeps_serving()
    {
        await using var pool = await Start();
        var key = KeyFor(pool, 0);
        var oldChild = await Sys.ActorSelection(pool.Supervisor.Path / "state-0-*").ResolveOne(Patience);
        Watch(oldChild);

        await Assert.ThrowsAnyAsync<Exception>(() => pool.CallAsync<object>("die", key: key, timeout: TimeSpan.FromSeconds(2)));
        await ExpectTerminatedAsync(oldChild, Patience);

        Assert.Equal(5L, await pool.CallAsync<long>("add", [2, 3])); // the other state serves meanwhile
        await AwaitAssertAsync(async () => Assert.Equal(1L, await pool.CallAsync<long>("hit", key: key)), Patience, TimeSpan.FromMilliseconds(50));
        var newChild = await Sys.ActorSelection(pool.Supervisor.Path / "state-0-*").ResolveOne(Patience);
        Assert.NotEqual(oldChild, newChild);
    }

    [Fact]
    public async Task A_full_bounded_queue_refuses_at_once_when_its_overflow_is_fail()
    {
        await using var pool = await Start(size: 1, configure: o =>
        {
            o.State.QueueCapacity = 1;
            o.State.QueueOverflow = QueueOverflow.Fail;
        });
        var busy = pool.CallAsync<string>("spin", [0.5], timeout: Patience); // runs
        await AwaitAssertAsync(() => Assert.Equal((1L, 0L), (pool.Stats[0]!.Delivered, pool.Stats[0]!.Queued)), Patience); // Lua took it
        var queued = pool.CallAsync<long>("add", [1, 1], timeout: Patience); // waits in the queue
        var refused = await Assert.ThrowsAsync<LuaStateUnavailableException>(() => pool.CallAsync<long>("add", [1, 2], timeout: Patience));
        Assert.Equal(DssStatus.QueueFull, refused.Status);
        Assert.Equal("1", await busy);
        Assert.Equal(2L, await queued);
    }

    [Fact]
    public async Task A_full_bounded_queue_makes_calls_wait_for_room_within_their_timeout_when_its_overflow_is_block()
    {
        await using var pool = await Start(size: 1, configure: o => o.State.QueueCapacity = 1);
        var busy = pool.CallAsync<string>("spin", [0.3], timeout: Patience);
        await AwaitAssertAsync(() => Assert.Equal((1L, 0L), (pool.Stats[0]!.Delivered, pool.Stats[0]!.Queued)), Patience); // Lua took it
        var calls = Enumerable.Range(0, 5).Select(i => pool.CallAsync<long>("add", [i, 1], timeout: Patience)).ToArray();
        var sums = await Task.WhenAll(calls);
        Assert.Equal(new long[] { 1, 2, 3, 4, 5 }, sums);
        await busy;
    }

    [Fact]
    public async Task Reload_brings_new_scripts_to_every_state_without_dropping_a_call()
    {
        await using var pool = await Start();
        var inFlight = pool.CallAsync<string>("spin", [0.3], key: KeyFor(pool, 0), timeout: Patience);
        await Task.Delay(50);
        _scripts.Write("startup.lua", File.ReadAllText(Path.Combine(_scripts.Path, "startup.lua")).Replace("version = \"1\"", "version = \"2\""));
        await pool.ReloadAsync(Patience);
        Assert.Equal("1", await inFlight); // finished in the old state
        Assert.Equal("2", await pool.CallAsync<string>("get_version", key: KeyFor(pool, 0)));
        Assert.Equal("2", await pool.CallAsync<string>("get_version", key: KeyFor(pool, 1)));
    }

    [Fact]
    public async Task A_start_up_error_fails_the_pool_s_start()
    {
        _scripts.Write("broken.lua", "error('no rules today')");
        var error = await Assert.ThrowsAsync<LuaStartupException>(() => LuaPool.StartAsync(Sys, new LuaPoolOptions
        {
            Size = 2,
            State = new LuaStateOptions { ScriptFolders = [_scripts.Path], StartupScripts = ["broken.lua"] },
        }, "broken-pool"));
        Assert.Contains("no rules today", error.Message);
    }

    [Fact]
    public async Task Stop_stops_every_state_and_the_supervisor()
    {
        var pool = await Start();
        Watch(pool.Supervisor);
        await pool.StopAsync();
        await ExpectTerminatedAsync(pool.Supervisor, Patience);
        await Assert.ThrowsAsync<LuaStateUnavailableException>(() => pool.CallAsync<long>("add", [1, 2]));
    }

    [Fact]
    public async Task Stop_returns_at_once_when_the_supervisor_is_gone_already()
    {
        var pool = await Start();
        await pool.StopAsync();
        var again = System.Diagnostics.Stopwatch.StartNew();
        await pool.StopAsync().WaitAsync(Patience); // a second stop, or one after the ActorSystem terminated
        Assert.True(again.Elapsed < TimeSpan.FromSeconds(5), $"took {again.Elapsed}");
    }
}
