using Akka.TestKit.Xunit2;
using DarkSideSync.Tests.Support;

namespace DarkSideSync.Tests;

/// <summary>
/// <c>darksidesync.getfd()</c> (DSS 1.1) in a KeraLua host: a descriptor readable whenever
/// deliveries are queued (level-triggered), unreadable once a poll or dispatch leaves the
/// queue empty, the same one for the life of the state. Watched with poll(2), as luv,
/// cqueues or any event loop would; deliveries come from real threads.
/// </summary>
public sealed class GetFdSpec : TestKit
{
    private readonly LuaHost _host;
    private readonly TestUtility _utility;

    public GetFdSpec()
    {
        _host = new LuaHost(Sys);
        _host.Run("n = 0; function on_item(v) n = n + 1 end");
        _utility = TestUtility.Register(_host, "fd");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _host.Dispose();
        }
        base.Dispose(disposing);
    }

    private int Fd => (int)_host.Integer("darksidesync.getfd()");

    private void DeliverFromAnotherThread(int items) =>
        Task.Run(() =>
        {
            for (int i = 0; i < items; i++)
            {
                Assert.Equal(DssStatus.Success, _utility.Deliver(i));
            }
        }).Wait(LuaThread.Patience);

    [Fact]
    public void The_fd_is_unreadable_while_nothing_is_queued_and_readable_once_something_is()
    {
        int fd = Fd;
        Assert.False(Readiness.IsReadable(fd));
        DeliverFromAnotherThread(1);
        Assert.True(Readiness.IsReadable(fd));
    }

    [Fact]
    public void It_stays_readable_after_a_partial_dispatch_and_goes_quiet_after_the_one_that_empties_the_queue()
    {
        int fd = Fd;
        DeliverFromAnotherThread(3);
        Assert.Equal(1, _host.Integer("(darksidesync.dispatch(1))"));
        Assert.True(Readiness.IsReadable(fd), "two items are still queued");
        Assert.Equal(2, _host.Integer("(darksidesync.dispatch())"));
        Assert.False(Readiness.IsReadable(fd), "the queue is empty");
    }

    [Fact]
    public void A_poll_that_takes_the_last_item_makes_it_unreadable()
    {
        int fd = Fd;
        DeliverFromAnotherThread(2);
        _host.Run("darksidesync.poll()");
        Assert.True(Readiness.IsReadable(fd));
        _host.Run("darksidesync.poll()");
        Assert.False(Readiness.IsReadable(fd));
    }

    [Fact]
    public void Items_queued_before_the_first_getfd_make_the_new_fd_readable()
    {
        DeliverFromAnotherThread(1);
        Assert.True(Readiness.IsReadable(Fd));
    }

    [Fact]
    public void It_is_one_fd_for_the_life_of_the_state_kept_across_stop_and_start_and_quiet_while_stopped()
    {
        int fd = Fd;
        Assert.Equal(fd, Fd);
        DeliverFromAnotherThread(2);
        _host.Run("darksidesync.stop()");
        Assert.False(Readiness.IsReadable(fd), "stop cancelled what was queued");
        Assert.Contains("DSS was not started yet, or already stopped", _host.Error("darksidesync.getfd()"));
        _host.Run("darksidesync.start()");
        Assert.Equal(fd, Fd);
        var again = TestUtility.Register(_host, "fd again");
        Assert.Equal(DssStatus.Success, again.Deliver(1));
        Assert.True(Readiness.IsReadable(fd), "the new engine writes to the same fd");
    }

    [Fact]
    public void A_decode_that_stops_DSS_leaves_the_fd_quiet_once_the_deferred_stop_cancelled_the_queue()
    {
        int fd = Fd;
        Assert.Equal(DssStatus.Success, _utility.Utility.Deliver(0, (lua, _) =>
        {
            // Inside the decode the utility's gate is held: stop-DSS finishes once it is left.
            KeraLua.Lua.FromIntPtr(lua.State).DoString("darksidesync.stop()");
            return 0;
        }));
        Assert.Equal(DssStatus.Success, _utility.Deliver(1));
        Assert.True(Readiness.IsReadable(fd));
        _host.Run("darksidesync.dispatch()");
        Assert.False(Readiness.IsReadable(fd), "readable while DSS is stopped and nothing is queued");
    }

    [Fact]
    public void The_fd_is_closed_when_the_state_closes()
    {
        int fd = Fd;
        _host.Close();
        Assert.False(File.Exists($"/proc/self/fd/{fd}") && File.ResolveLinkTarget($"/proc/self/fd/{fd}", false)?.FullName.Contains("eventfd") == true,
            "the eventfd is still open after lua_close");
    }

    [Fact]
    public void The_fd_is_non_blocking_and_close_on_exec()
    {
        int fd = Fd;
        var flags = File.ReadAllLines($"/proc/self/fdinfo/{fd}").Single(l => l.StartsWith("flags:"));
        int octal = Convert.ToInt32(flags["flags:".Length..].Trim(), 8);
        Assert.True((octal & 0x800) != 0, $"O_NONBLOCK missing ({flags})");   // 04000
        Assert.True((octal & 0x80000) != 0, $"O_CLOEXEC missing ({flags})");  // 02000000
    }

    [Fact]
    public void A_loop_that_sleeps_on_the_fd_never_misses_a_wake_up()
    {
        // One item at a time: the producer posts the next one a random moment after Lua decoded
        // the last, so its posts land in every part of the loop, also while the dispatch that
        // emptied the queue is making the fd unreadable. A missed wake-up strands that item
        // behind a quiet fd, and the producer waits for it forever: a stall.
        int fd = Fd;
        const int Items = 5_000;
        long decoded = 0;
        var producer = Task.Run(() =>
        {
            var random = new Random(8);
            for (int i = 0; i < Items; i++)
            {
                Thread.SpinWait(random.Next(0, 4000));
                Assert.Equal(DssStatus.Success, _utility.Utility.Deliver(0, (_, _) =>
                {
                    Interlocked.Increment(ref decoded);
                    return 0; // nothing to call: dispatch completes it at once
                }));
                var clock = System.Diagnostics.Stopwatch.StartNew();
                while (Interlocked.Read(ref decoded) <= i && clock.Elapsed < LuaThread.Patience)
                {
                    Thread.SpinWait(20);
                }
            }
        });
        while (Interlocked.Read(ref decoded) < Items)
        {
            Assert.True(Readiness.IsReadable(fd, 2000), $"no wake-up with {_host.Integer("darksidesync.queuesize()")} queued after {Interlocked.Read(ref decoded)} items");
            _host.Run("darksidesync.dispatch()");
        }
        LuaThread.Await(producer, LuaThread.Patience, "the producer");
        // A producer descheduled between its write and its state change may leave one spurious
        // wake-up (allowed); the next look at the empty queue clears it.
        _host.Run("darksidesync.dispatch()");
        Assert.False(Readiness.IsReadable(fd), "readable with nothing queued");
    }

    [Fact]
    public void Four_producer_threads_and_a_loop_sleeping_on_the_fd_get_every_item_through()
    {
        int fd = Fd;
        const int PerThread = 50_000;
        var producers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                Assert.Equal(DssStatus.Success, _utility.Deliver(i));
            }
        })).ToArray();
        long wakeUps = 0;
        while (_host.Integer("n") < 4 * PerThread)
        {
            Assert.True(Readiness.IsReadable(fd, 5000), $"stalled at {_host.Integer("n")} items");
            wakeUps++;
            _host.Run("darksidesync.dispatch()");
        }
        LuaThread.Await(Task.WhenAll(producers), LuaThread.Patience, "the producers");
        Assert.Equal(4 * PerThread, _host.Integer("n"));
        _host.Run("darksidesync.dispatch()"); // clears a spurious wake-up a descheduled producer may have left (allowed)
        Assert.False(Readiness.IsReadable(fd));
        Assert.InRange(wakeUps, 1, 4 * PerThread);
    }
}
