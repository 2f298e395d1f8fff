using Akka.Event;
using Akka.TestKit.Xunit2;
using DarkSideSync.Tests.Support;

namespace DarkSideSync.Tests;

/// <summary>The C# API for .NET utilities: registration, refusals, timeouts, failing hooks.</summary>
public sealed class DssUtilitySpec : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly LuaHost _host;

    public DssUtilitySpec() => _host = new LuaHost(Sys);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _host.Dispose();
        }
        base.Dispose(disposing);
    }

    [Fact]
    public void Registering_again_returns_the_existing_registration_and_already_registered()
    {
        var first = TestUtility.Register(_host, "twice").Utility;
        Assert.Equal(DssStatus.AlreadyRegistered, DssUtility.Register(_host.State, "twice", _ => { }, out var again));
        Assert.Equal(first.UtilId, again!.UtilId);
        Assert.Equal(first.UtilId, DssUtility.Find(_host.State, "twice")!.UtilId);
        Assert.Null(DssUtility.Find(_host.State, "never"));
    }

    [Fact]
    public void Registering_with_a_state_without_darksidesync_returns_no_globals()
    {
        using var bare = new KeraLua.Lua();
        Assert.Equal(DssStatus.NoGlobals, DssUtility.Register(bare.Handle, "bare", _ => { }, out var utility));
        Assert.Null(utility);
    }

    [Fact]
    public void Registering_after_stop_returns_not_started()
    {
        _host.Run("darksidesync.stop()");
        Assert.Equal(DssStatus.NotStarted, DssUtility.Register(_host.State, "late", _ => { }, out _));
    }

    [Fact]
    public void Delivering_after_unregister_is_refused_and_queues_nothing()
    {
        var utility = TestUtility.Register(_host, "gone");
        Assert.Equal(DssStatus.Success, utility.Utility.Unregister());
        Assert.Equal(DssStatus.InvalidUtilId, utility.Deliver(1));
        Assert.Equal(DssStatus.InvalidUtilId, utility.Utility.Unregister());
        Assert.Equal(0, _host.Integer("darksidesync.queuesize()"));
    }

    [Fact]
    public async Task A_blocking_delivery_after_stop_fails_with_the_refusal_status()
    {
        var utility = TestUtility.Register(_host, "stopped");
        _host.Run("darksidesync.stop()");
        var refused = await Assert.ThrowsAsync<DssDeliveryRefusedException>(() => utility.Ask(1));
        Assert.Equal(DssStatus.InvalidUtilId, refused.Status);
    }

    [Fact]
    public async Task A_timeout_while_queued_withdraws_the_delivery_so_it_is_never_decoded()
    {
        var utility = TestUtility.Register(_host, "slow-lua");
        var request = utility.Ask(1, timeout: TimeSpan.FromMilliseconds(50));

        var cancelled = await Assert.ThrowsAsync<DssDeliveryCanceledException>(() => request.WaitAsync(Patience));

        Assert.Equal(CancelReason.Timeout, cancelled.Reason);
        Assert.False(cancelled.ReachedLua);
        Assert.Equal(0, _host.Integer("darksidesync.queuesize()"));
        Assert.Equal(-1, _host.Integer("darksidesync.poll()"));
    }

    [Fact]
    public async Task A_timeout_after_lua_received_it_discards_the_late_answer()
    {
        var utility = TestUtility.Register(_host, "late-answer");
        // Long enough that drain surely takes it first on a noisy machine (it needs a few ms).
        var request = utility.Ask(1, timeout: TimeSpan.FromSeconds(1));
        _host.Run("function on_item(answer) held = answer end darksidesync.drain()");

        var cancelled = await Assert.ThrowsAsync<DssDeliveryCanceledException>(() => request.WaitAsync(Patience));

        Assert.Equal(CancelReason.Timeout, cancelled.Reason);
        Assert.True(cancelled.ReachedLua);
        Assert.Equal(0, _host.Integer("select('#', held(5))")); // the return hook no longer runs
    }

    [Fact]
    public async Task A_request_given_up_after_lua_received_it_never_runs_its_return_hook()
    {
        var utility = TestUtility.Register(_host, "given-up");
        int returnHookRuns = 0;
        using var cts = new CancellationTokenSource();
        var request = utility.Utility.DeliverAndWaitAsync(0, (lua, _) => utility.PushCallback(lua), (_, _) => Interlocked.Increment(ref returnHookRuns), cancellationToken: cts.Token);
        _host.Run("function on_item(answer) held = answer end darksidesync.drain()");

        await cts.CancelAsync();
        await Assert.ThrowsAsync<DssDeliveryCanceledException>(() => request.WaitAsync(Patience));
        _host.Run("held(1) held = nil collectgarbage() collectgarbage()");

        Assert.Equal(0, returnHookRuns);
    }

    [Fact]
    public void A_non_blocking_delivery_cancelled_while_queued_is_handed_to_the_dropped_hook()
    {
        var utility = TestUtility.Register(_host, "dropping");
        var dropped = new List<(int, CancelReason)>();
        for (int i = 1; i <= 3; i++)
        {
            utility.Utility.Deliver(i, static (_, _) => 0, (item, reason) => dropped.Add((item, reason)));
        }

        utility.Utility.Unregister();

        Assert.Equal([(1, CancelReason.UtilityUnregistered), (2, CancelReason.UtilityUnregistered), (3, CancelReason.UtilityUnregistered)], dropped);
    }

    [Fact]
    public async Task The_callers_token_cancels_a_queued_delivery()
    {
        var utility = TestUtility.Register(_host, "token");
        using var cts = new CancellationTokenSource();
        var request = utility.Ask(1, token: cts.Token);

        await cts.CancelAsync();

        var cancelled = await Assert.ThrowsAsync<DssDeliveryCanceledException>(() => request.WaitAsync(Patience));
        Assert.Equal(CancelReason.CallerCancelled, cancelled.Reason);
        Assert.Equal(-1, _host.Integer("darksidesync.poll()"));
    }

    [Fact]
    public async Task A_decode_that_throws_is_logged_and_fails_only_its_own_delivery()
    {
        var utility = TestUtility.Register(_host, "bad-decode");
        _host.Run("got = nil function on_item(answer, x) got = x answer(x) end");
        var failing = utility.Utility.DeliverAndWaitAsync(0, static (lua, _) =>
        {
            lua.PushString("half pushed");
            throw new InvalidOperationException("decode broke");
        }, static (_, _) => 0L);
        var healthy = utility.Ask(7);

        await EventFilter.Exception<InvalidOperationException>(contains: "decode broke").ExpectOneAsync(async () =>
        {
            Assert.Equal(1, _host.Integer("darksidesync.poll()")); // the failed delivery gives Lua nothing
            _host.Run("darksidesync.drain()");
            await Task.Yield();
        });

        var failure = await Assert.ThrowsAsync<DssUtilityException>(() => failing.WaitAsync(Patience));
        Assert.Equal("decode broke", failure.InnerException!.Message);
        Assert.Equal(7, await healthy.WaitAsync(Patience));
    }

    [Fact]
    public async Task A_return_hook_that_throws_is_logged_and_fails_its_delivery()
    {
        var utility = TestUtility.Register(_host, "bad-return");
        _host.Run("function on_item(answer) results = select('#', answer(1)) end");
        var failing = utility.Utility.DeliverAndWaitAsync(0, (lua, _) => utility.PushCallback(lua), static long (_, _) =>
            throw new FormatException("return broke"));

        await EventFilter.Exception<FormatException>().ExpectOneAsync(() =>
        {
            _host.Run("darksidesync.drain()");
            return Task.CompletedTask;
        });

        await Assert.ThrowsAsync<DssUtilityException>(() => failing.WaitAsync(Patience));
        Assert.Equal(0, _host.Integer("results"));
    }

    [Fact]
    public async Task Unregister_cancels_what_lua_holds_and_what_is_queued()
    {
        var utility = TestUtility.Register(_host, "outstanding");
        _host.Run("held = {} function on_item(answer) held[#held + 1] = answer end");
        var requests = Enumerable.Range(0, 4).Select(i => utility.Ask(i)).ToArray();
        _host.Run("for i = 1, 2 do local n, cb, args = darksidesync.poll() cb(table.unpack(args)) end");

        Assert.Equal(DssStatus.Success, utility.Utility.Unregister());

        var reachedLua = new List<bool>();
        foreach (var request in requests)
        {
            var cancelled = await Assert.ThrowsAsync<DssDeliveryCanceledException>(() => request.WaitAsync(Patience));
            Assert.Equal(CancelReason.UtilityUnregistered, cancelled.Reason);
            reachedLua.Add(cancelled.ReachedLua);
        }
        Assert.Equal([true, true, false, false], reachedLua);
        Assert.Equal(0, _host.Integer("select('#', held[1](1))")); // the spent callback does nothing
        Assert.Equal(-1, _host.Integer("darksidesync.poll()"));
    }

    [Theory]
    [InlineData(-2.0)]
    [InlineData(30_000_000.0)]
    public void A_timeout_out_of_range_is_refused_before_anything_is_queued(double seconds)
    {
        var utility = TestUtility.Register(_host, "bad-timeout");
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = utility.Ask(1, TimeSpan.FromSeconds(seconds)); });
        Assert.Equal(0, _host.Integer("darksidesync.queuesize()"));
    }

    [Fact]
    public async Task A_request_cancelled_before_lua_got_it_is_handed_to_the_dropped_hook()
    {
        var utility = TestUtility.Register(_host, "dropped-request");
        var dropped = new List<(int, CancelReason)>();
        using var caller = new CancellationTokenSource();
        var request = utility.Utility.DeliverAndWaitAsync(
            7, static (_, _) => 0, static (_, _) => 0, cancellationToken: caller.Token, dropped: (data, reason) => dropped.Add((data, reason)));
        var other = utility.Utility.DeliverAndWaitAsync(
            8, static (_, _) => 0, static (_, _) => 0, dropped: (data, reason) => dropped.Add((data, reason)));

        await caller.CancelAsync();
        await Assert.ThrowsAsync<DssDeliveryCanceledException>(() => request.WaitAsync(Patience));
        utility.Utility.Unregister();
        await Assert.ThrowsAsync<DssDeliveryCanceledException>(() => other.WaitAsync(Patience));

        Assert.Equal([(7, CancelReason.CallerCancelled), (8, CancelReason.UtilityUnregistered)], dropped);
    }

    [Fact]
    public async Task A_second_unregister_returns_only_after_the_first_has_finished()
    {
        var utility = TestUtility.Register(_host, "twice");
        var hookRunning = new ManualResetEventSlim();
        var hookEnded = false;
        utility.Utility.Deliver(1, static (_, _) => 0, (_, _) =>
        {
            hookRunning.Set();
            Thread.Sleep(300);
            Volatile.Write(ref hookEnded, true);
        });

        var first = Task.Run(utility.Utility.Unregister);
        hookRunning.Wait(Patience);
        Assert.Equal(DssStatus.InvalidUtilId, utility.Utility.Unregister());
        Assert.True(Volatile.Read(ref hookEnded));
        Assert.Equal(DssStatus.Success, await first);
    }

    [Fact]
    public void A_hook_of_the_unregistering_thread_may_unregister_again_without_waiting_for_itself()
    {
        var utility = TestUtility.Register(_host, "reentrant");
        DssStatus? inner = null;
        utility.Utility.Deliver(1, static (_, _) => 0, (_, _) => inner = utility.Utility.Unregister());

        Assert.Equal(DssStatus.Success, utility.Utility.Unregister());
        Assert.Equal(DssStatus.InvalidUtilId, inner);
    }

    [Fact]
    public async Task A_return_hook_may_hand_lua_more_values_than_lua_guarantees_a_c_function()
    {
        var utility = TestUtility.Register(_host, "wide-answer");
        _host.Run("function on_item(answer) n = select('#', answer()) end");
        var request = utility.Utility.DeliverAndWaitAsync(0, (lua, _) => utility.PushCallback(lua), static (lua, _) =>
        {
            for (int i = 0; i < 300; i++)
            {
                lua.PushInteger(i);
            }
            return true;
        });
        _host.Run("darksidesync.drain()");

        Assert.True(await request.WaitAsync(Patience));
        Assert.Equal(300, _host.Integer("n"));
    }
}
