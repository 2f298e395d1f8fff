using Akka.TestKit.Xunit2;
using DarkSideSync.Queueing;
using DarkSideSync.Deliveries;
using DarkSideSync.Tests.Support;

namespace DarkSideSync.Tests;

/// <summary>
/// A producer can be descheduled between the two steps of a post (the exchange and the link):
/// until it runs again, the items posted after it are invisible from the front of the queue.
/// Unregister and stop-DSS must still find them.
/// </summary>
public sealed class DescheduledProducerSpec : TestKit
{
    private readonly LuaHost _host;

    public DescheduledProducerSpec() => _host = new LuaHost(Sys);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _host.Dispose();
        }
        base.Dispose(disposing);
    }

    [Fact]
    public async Task Unregister_waits_for_a_descheduled_producer_and_cancels_the_item_queued_behind_it()
    {
        var other = TestUtility.Register(_host, "other");
        var utility = TestUtility.Register(_host, "victim");
        int decodes = 0;
        var resume = DescheduleAPost(other);
        var request = utility.Utility.DeliverAndWaitAsync(1, (_, _) => Interlocked.Increment(ref decodes) * 0, static (_, _) => 0);

        var unregister = Task.Run(utility.Utility.Unregister);
        await Task.Delay(200);
        Assert.False(unregister.IsCompleted); // it waits for the post in progress
        resume();

        Assert.Equal(DssStatus.Success, await unregister.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.True(request.IsCompleted, "the blocked producer is released when unregister returns");
        var canceled = await Assert.ThrowsAsync<DssDeliveryCanceledException>(() => request);
        Assert.False(canceled.ReachedLua);
        _host.Run("darksidesync.drain()");
        Assert.Equal(0, decodes);
    }

    [Fact]
    public async Task Closing_the_state_releases_a_producer_whose_item_sits_behind_a_descheduled_post()
    {
        var other = TestUtility.Register(_host, "other");
        var utility = TestUtility.Register(_host, "victim");
        var resume = DescheduleAPost(other);
        var request = utility.Ask(1);

        var resumer = Task.Delay(200).ContinueWith(_ => resume());
        _host.Close();
        await resumer;

        var canceled = await Assert.ThrowsAsync<DssDeliveryCanceledException>(() => request.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(CancelReason.DssStopped, canceled.Reason);
    }

    /// <summary>Does the first step of a post for <paramref name="producer"/>; returns the second.</summary>
    private static Action DescheduleAPost(TestUtility producer)
    {
        var registration = producer.Utility.Registration;
        var queue = registration.Engine.Mailbox.Items;
        var delivery = ManagedDelivery<int>.Create(registration, 0, static (_, _) => 0, null);
        var previous = queue.Claim(delivery);
        return () => DeliveryQueue.Link(previous, delivery);
    }
}
