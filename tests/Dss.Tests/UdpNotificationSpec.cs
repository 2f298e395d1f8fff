using Akka.TestKit.Xunit2;
using DarkSideSync.Tests.Support;

namespace DarkSideSync.Tests;

/// <summary>UDP wake-ups in the default mode: one datagram to 127.0.0.1:port per delivery, payload " N".</summary>
public sealed class UdpNotificationSpec : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(500);
    private readonly LuaHost _host;
    private readonly TestUtility _utility;
    private readonly UdpListener _listener = new();

    public UdpNotificationSpec()
    {
        _host = new LuaHost(Sys);
        _utility = TestUtility.Register(_host, "udp");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _host.Dispose();
            _listener.Dispose();
        }
        base.Dispose(disposing);
    }

    [Fact]
    public void Every_delivery_sends_one_datagram_carrying_the_queue_size()
    {
        _host.Run($"darksidesync.setport({_listener.Port})");
        for (int i = 1; i <= 5; i++)
        {
            Assert.Equal(DssStatus.Success, _utility.Deliver(i));
        }
        Assert.Equal([" 1", " 2", " 3", " 4", " 5"], _listener.Receive(5, Patience));
        Assert.Null(_listener.Receive(Quiet));
    }

    [Fact]
    public void Getport_returns_the_port_set()
    {
        Assert.Equal(0, _host.Integer("darksidesync.getport()"));
        _host.Run($"darksidesync.setport({_listener.Port})");
        Assert.Equal(_listener.Port, _host.Integer("darksidesync.getport()"));
    }

    [Fact]
    public void Setport_0_stops_the_datagrams()
    {
        _host.Run($"darksidesync.setport({_listener.Port}) darksidesync.setport(0)");
        Assert.Equal(DssStatus.Success, _utility.Deliver(1));
        Assert.Null(_listener.Receive(Quiet));
        Assert.Equal(0, _host.Integer("darksidesync.getport()"));
    }

    [Fact]
    public void Start_with_a_port_turns_the_datagrams_on()
    {
        _host.Run($"darksidesync.stop() darksidesync.start({_listener.Port})");
        var utility = TestUtility.Register(_host, "after restart");
        Assert.Equal(DssStatus.Success, utility.Deliver(1));
        Assert.Equal(" 1", _listener.Receive(Patience));
        Assert.Equal(_listener.Port, _host.Integer("darksidesync.getport()"));
    }

    [Fact]
    public void Deliver_returns_success_when_nobody_listens_on_the_port()
    {
        _host.Run($"darksidesync.setport({UdpListener.FreePort()})");
        for (int i = 1; i <= 3; i++)
        {
            Assert.Equal(DssStatus.Success, _utility.Deliver(i));
        }
        Assert.Equal(3, _host.Integer("darksidesync.queuesize()"));
    }
}

/// <summary>UDP wake-ups with <c>darksidesync.notification = coalesced</c>: one datagram while the queue is non-empty.</summary>
public sealed class CoalescedUdpNotificationSpec : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(500);
    private readonly LuaHost _host;
    private readonly TestUtility _utility;
    private readonly UdpListener _listener = new();

    public CoalescedUdpNotificationSpec()
        : base("darksidesync.notification = coalesced")
    {
        _host = new LuaHost(Sys);
        _utility = TestUtility.Register(_host, "udp");
        _host.Run($"darksidesync.setport({_listener.Port}) seen = {{}} function on_item(x) seen[x] = (seen[x] or 0) + 1 end");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _host.Dispose();
            _listener.Dispose();
        }
        base.Dispose(disposing);
    }

    [Fact]
    public void A_burst_of_deliveries_sends_one_datagram()
    {
        for (int i = 1; i <= 100; i++)
        {
            Assert.Equal(DssStatus.Success, _utility.Deliver(i));
        }
        Assert.Equal(" 1", _listener.Receive(Patience));
        Assert.Null(_listener.Receive(Quiet));
    }

    [Fact]
    public void After_drain_the_next_delivery_sends_one_more()
    {
        for (int i = 1; i <= 10; i++)
        {
            _utility.Deliver(i);
        }
        Assert.Equal(" 1", _listener.Receive(Patience));
        Assert.Equal(10, _host.Integer("darksidesync.drain()"));
        Assert.Equal(DssStatus.Success, _utility.Deliver(11));
        Assert.Equal(" 1", _listener.Receive(Patience));
        Assert.Null(_listener.Receive(Quiet));
    }

    [Fact]
    public void No_item_is_stranded_when_four_producers_meet_a_drain_per_wakeup_loop()
    {
        const int Producers = 4, PerProducer = 12_500, Total = Producers * PerProducer, Burst = 100;
        int refused = 0;
        var producers = new RawThreads();
        producers.Start(Producers, "producer", p =>
        {
            for (int i = p * PerProducer + 1; i <= (p + 1) * PerProducer; i++)
            {
                if (_utility.Deliver(i) != DssStatus.Success)
                {
                    Interlocked.Increment(ref refused);
                }
                if (i % Burst == 0)
                {
                    Thread.Sleep(1); // let the queue run empty now and then, so wake-ups re-arm and race with deliveries
                }
            }
        });

        // The Lua thread: sleep in the socket until a wake-up, then drain everything.
        long handled = 0, datagrams = 0;
        while (handled < Total)
        {
            Assert.True(_listener.Receive(Patience) is not null,
                $"no wake-up for {Patience} with {Total - handled} items unhandled, queuesize {_host.Integer("darksidesync.queuesize()")}");
            datagrams++;
            handled += _host.Integer("darksidesync.drain()");
        }

        producers.Join(Patience);
        Assert.Equal(0, refused);
        Assert.Equal(Total, handled);
        Assert.Equal(0, _host.Integer($"(function() local bad = 0 for i = 1, {Total} do if seen[i] ~= 1 then bad = bad + 1 end end return bad end)()"));
        Assert.True(datagrams < Total / 10, $"{datagrams} datagrams for {Total} items");
    }
}
