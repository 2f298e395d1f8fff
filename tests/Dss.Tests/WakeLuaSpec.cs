using System.Diagnostics;
using Akka.TestKit.Xunit2;
using DarkSideSync.Tests.Support;

namespace DarkSideSync.Tests;

/// <summary>
/// <see cref="DssUtility.WakeLua"/>: a host ends the Lua thread's <c>darksidesync.wait()</c> from
/// another thread without delivering anything (a stop, work of its own), at once or, when Lua
/// is not waiting yet, at its next wait.
/// </summary>
public sealed class WakeLuaSpec : TestKit
{
    private readonly LuaThread _lua;
    private readonly DssUtility _utility;

    public WakeLuaSpec()
    {
        _lua = new LuaThread(Sys);
        _utility = _lua.Call(host => TestUtility.Register(host, "waker").Utility);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _lua.Dispose();
        }
        base.Dispose(disposing);
    }

    [Fact]
    public void A_wake_ends_a_long_wait_at_once_with_nothing_queued()
    {
        var waiting = _lua.Start(host => host.Integer("darksidesync.wait(30)"));
        Thread.Sleep(50); // let it fall asleep
        var clock = Stopwatch.StartNew();
        _utility.WakeLua();
        Assert.Equal(0, LuaThread.Await(waiting, TimeSpan.FromSeconds(5), "the interrupted wait"));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"wait took {clock.Elapsed} to wake");
    }

    [Fact]
    public void A_wake_before_the_wait_ends_the_next_wait_and_only_that_one()
    {
        _utility.WakeLua();
        Assert.Equal(0, _lua.Integer("darksidesync.wait(30)"));
        var clock = Stopwatch.StartNew();
        Assert.Equal(0, _lua.Integer("darksidesync.wait(0.2)"));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(150), $"the spent wake ended a second wait after {clock.Elapsed}");
    }
}
