using System.Diagnostics;
using Akka.TestKit.Xunit2;
using DarkSideSync.Tests.Support;

namespace DarkSideSync.Tests;

/// <summary>
/// What a host that runs its own loop uses: <see cref="DssUtility.WaitForDeliveries"/> sleeps as
/// <c>darksidesync.wait()</c> does, and <see cref="DssUtility.EnterLuaThread"/> makes the thread
/// that holds the state for now count as its Lua thread (a wait that could never be answered is
/// refused there).
/// </summary>
public sealed class HostLoopSpec : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly LuaThread _lua;
    private readonly DssUtility _utility;

    public HostLoopSpec()
    {
        _lua = new LuaThread(Sys);
        _utility = _lua.Call(host => TestUtility.Register(host, "host loop").Utility);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _lua.Dispose();
        }
        base.Dispose(disposing);
    }

    private static int PushNothing(LuaStack lua, int data) => 0;

    [Fact]
    public void WaitForDeliveries_returns_the_queue_size_once_something_is_delivered()
    {
        var waiting = _lua.Start(_ => _utility.WaitForDeliveries(TimeSpan.FromSeconds(30)));
        Thread.Sleep(50); // let it fall asleep
        Assert.Equal(DssStatus.Success, _utility.Deliver(1, PushNothing));
        Assert.Equal(1, LuaThread.Await(waiting, Patience, "the wait"));
    }

    [Fact]
    public void WaitForDeliveries_ends_at_a_wake_or_at_its_timeout_with_nothing_queued()
    {
        var waiting = _lua.Start(_ => _utility.WaitForDeliveries());
        Thread.Sleep(50);
        _utility.WakeLua();
        Assert.Equal(0, LuaThread.Await(waiting, Patience, "the woken wait"));

        var clock = Stopwatch.StartNew();
        Assert.Equal(0, _lua.Call(_ => _utility.WaitForDeliveries(TimeSpan.FromMilliseconds(200))));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(150), $"the wait ended after {clock.Elapsed}");
        Assert.Throws<ArgumentOutOfRangeException>(() => _utility.WaitForDeliveries(TimeSpan.FromSeconds(-2)));
    }

    [Fact]
    public async Task Inside_EnterLuaThread_a_blocking_delivery_is_refused_and_after_it_waits_again()
    {
        var outcome = await Task.Run(() =>
        {
            DssStatus inside;
            using (_utility.EnterLuaThread())
            {
                inside = Assert.Throws<DssDeliveryRefusedException>(() =>
                    _utility.DeliverAndWait(1, PushNothing, (_, _) => 0, TimeSpan.FromSeconds(5))).Status;
            }
            var after = Assert.Throws<DssDeliveryCanceledException>(() =>
                _utility.DeliverAndWait(2, PushNothing, (_, _) => 0, TimeSpan.FromMilliseconds(100)));
            return (inside, after.Reason);
        });
        Assert.Equal((DssStatus.WouldDeadlock, CancelReason.Timeout), outcome);
    }
}
