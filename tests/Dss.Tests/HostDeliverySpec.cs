using Akka.TestKit.Xunit2;
using DarkSideSync.Tests.Support;

namespace DarkSideSync.Tests;

/// <summary>
/// The C# API a hosting layer builds on: a blocking delivery that follows the state's overflow
/// policy when the bounded queue is full, and a host's own delivery that the bound never refuses.
/// </summary>
public sealed class HostDeliverySpec : TestKit
{
    private readonly LuaHost _host;
    private readonly TestUtility _utility;

    public HostDeliverySpec()
    {
        _host = new LuaHost(Sys);
        _host.Run("function on_item(v) end; darksidesync.setlimit(1)");
        _utility = TestUtility.Register(_host, "host");
        Assert.Equal(DssStatus.Success, _utility.Deliver(1)); // the queue is full
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _host.Dispose();
        }
        base.Dispose(disposing);
    }

    private static int Decode(LuaStack lua, long value) => 0;

    [Fact]
    public async Task A_blocking_delivery_told_to_fail_when_full_is_refused_at_once()
    {
        var refused = await Assert.ThrowsAsync<DssDeliveryRefusedException>(() =>
            _utility.Utility.DeliverAndWaitAsync(2L, Decode, static (_, _) => 0, TimeSpan.FromSeconds(10), default, null, QueueOverflow.Fail));
        Assert.Equal(DssStatus.QueueFull, refused.Status);
        Assert.Equal(1, _host.Integer("darksidesync.queuesize()"));
    }

    [Fact]
    public async Task A_blocking_delivery_told_to_block_when_full_waits_for_room_within_its_timeout()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var call = _utility.Utility.DeliverAndWaitAsync(2L, Decode, static (_, _) => 0, TimeSpan.FromMilliseconds(100), default, null, QueueOverflow.Block);
        var refused = await Assert.ThrowsAsync<DssDeliveryRefusedException>(() => call); // no room came in time
        Assert.Equal(DssStatus.QueueFull, refused.Status);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(80), $"refused after {clock.Elapsed}: it did not wait for room");
    }

    [Fact]
    public void A_delivery_past_the_bound_is_queued_although_the_queue_is_full()
    {
        Assert.Equal(DssStatus.Success, _utility.Utility.DeliverPastTheBound(3L, Decode));
        Assert.Equal(2, _host.Integer("darksidesync.queuesize()"));
    }
}
