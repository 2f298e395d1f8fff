using Akka.TestKit.Xunit2;
using DarkSideSync.Tests.Support;

namespace DarkSideSync.Tests;

/// <summary>A cancel hook that never returns holds stop-DSS for at most <c>darksidesync.stop-timeout</c>.</summary>
public sealed class NeverReturningCancelSpec : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly LuaThread _lua;
    private readonly ManualResetEventSlim _releaseHook = new(false); // set at the end, so the hook's thread is not lost for good

    public NeverReturningCancelSpec()
        : base("darksidesync.stop-timeout = 1s")
    {
        _lua = new LuaThread(Sys);
        _lua.Run("function on_item(answer) held = held or {} held[#held + 1] = answer end");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _releaseHook.Set();
            _lua.Dispose();
            _releaseHook.Dispose();
        }
        base.Dispose(disposing);
    }

    [Fact]
    public async Task Stop_returns_within_a_few_seconds_and_releases_every_producer_of_every_utility()
    {
        var older = _lua.Call(h => TestUtility.Register(h, "older"));
        var hanging = _lua.Call(h => TestUtility.Register(h, "hanging", unregisterOnCancel: false, onCancel: () => _releaseHook.Wait()));
        var requests = new[] { older.Ask(1), hanging.Ask(2), older.Ask(3), hanging.Ask(4) };
        _lua.Run("local n, cb, args = darksidesync.poll() cb(table.unpack(args))"); // one waits on the Lua side

        var clock = System.Diagnostics.Stopwatch.StartNew();
        _lua.Run("darksidesync.stop()", TimeSpan.FromSeconds(6));
        clock.Stop();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(6), $"stop took {clock.Elapsed}");
        Assert.False(older.Utility.IsRegistered);
        Assert.False(hanging.Utility.IsRegistered);
        foreach (var request in requests)
        {
            await Assert.ThrowsAsync<DssDeliveryCanceledException>(() => request.WaitAsync(Patience));
        }
        Assert.EndsWith("DSS was not started yet, or already stopped", _lua.Error("darksidesync.queuesize()"));
    }

    [Fact]
    public void The_cancel_of_every_older_utility_is_still_called_past_the_stop_timeout()
    {
        var oldest = _lua.Call(h => TestUtility.Register(h, "oldest"));
        var older = _lua.Call(h => TestUtility.Register(h, "older"));
        _lua.Call(h => TestUtility.Register(h, "hanging", unregisterOnCancel: false, onCancel: () => _releaseHook.Wait()));

        _lua.Run("darksidesync.stop()", TimeSpan.FromSeconds(6));

        Assert.False(older.Utility.IsRegistered);
        Assert.False(oldest.Utility.IsRegistered);
        AwaitCondition(() => older.Cancels == 1 && oldest.Cancels == 1, Patience); // on the thread pool, not waited for
    }

    [Fact]
    public void After_such_a_stop_start_works_again_and_deliveries_reach_lua()
    {
        _lua.Call(h => TestUtility.Register(h, "hanging", unregisterOnCancel: false, onCancel: () => _releaseHook.Wait()));
        _lua.Run("darksidesync.stop()", TimeSpan.FromSeconds(6));
        _lua.Run("darksidesync.start() function on_item(x) got = x end");
        var fresh = _lua.Call(h => TestUtility.Register(h, "fresh"));
        Assert.Equal(DssStatus.Success, fresh.Deliver(11));
        _lua.Run("darksidesync.drain()");
        Assert.Equal(11, _lua.Integer("got"));
    }
}
