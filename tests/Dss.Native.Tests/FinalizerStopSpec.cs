using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>
/// darksidesync.stop() from a Lua __gc finalizer that the collector runs while poll() or a
/// waitingthread_callback call is inside a hook (issue 7, defect 2): the stop is deferred
/// until the hook returns and is complete when poll (or the callback) returns — cancel hooks
/// ran, producers released, DSS stopped — in far less than the stop-timeout.
/// </summary>
[Collection(NativeCollection.Name)]
public sealed class FinalizerStopSpec(NativeModuleFixture module)
{
    // Much longer than the time stop-DSS needs: a stop that waits for it is the defect.
    private const string Config = "darksidesync { stop-timeout = 30s }";

    // A finalizer that calls darksidesync.stop(), and nothing referring to its object.
    private const string StopFinalizer = """
        local finalized = {}
        -- The collector is stopped first, so the finalizer runs in the hook's lua_gc, not earlier.
        local function garbage_that_stops()
          collectgarbage("stop")
          setmetatable({}, { __gc = function() finalized[#finalized + 1] = tostring(pcall(darksidesync.stop)) end })
        end

        """;

    // Starts on a line of its own: the scripts above end without a newline.
    private const string Report = """

        print("finalizer", table.concat(finalized, ","), "quick", elapsed < 10, "stopped", stopped())
        print("released", settled(u))
        u:join()
        local s = u:stats()
        print("cancels", s.cancels, "cancel unreg", s.cancel_unreg, "check", u:check())
        """;

    private readonly LuaProcess _lua = new(module) { Timeout = TimeSpan.FromSeconds(60) };

    [Fact]
    public async Task Stop_from_a_finalizer_collected_inside_decode_must_be_complete_when_poll_returns()
    {
        await _lua.AddFaultyUtilityAsync();
        _lua.UseConfig(Config);

        var result = await _lua.RunAsync(FaultLua.Prelude + StopFinalizer + """
            local u = assert(fu.new{ callback = answer })
            u:ask("ok", "ok")
            queued(1)
            local _, _, held = darksidesync.poll()   -- one waiting on the Lua side
            u:deliver("gc")                          -- its decode runs lua_gc(LUA_GCCOLLECT)
            u:produce{ threads = 2, items = 1, blocking = true }
            queued(3)
            garbage_that_stops()
            local t0 = socket.gettime()
            print("poll", pcall(darksidesync.poll))
            local elapsed = socket.gettime() - t0
            """ + Report);

        var lines = result.AssertEnded("stop() from a finalizer run inside decode").Lines;
        Assert.StartsWith("poll\ttrue", lines[0]);
        Assert.Equal(
            ["finalizer\ttrue\tquick\ttrue\tstopped\ttrue", "released\ttrue", "cancels\t1\tcancel unreg\tSUCCESS\tcheck\tok"],
            lines.Skip(1));
    }

    [Fact]
    public async Task Stop_from_a_finalizer_collected_inside_ret_must_be_complete_when_the_callback_returns()
    {
        await _lua.AddFaultyUtilityAsync();
        _lua.UseConfig(Config);

        var result = await _lua.RunAsync(FaultLua.Prelude + StopFinalizer + """
            local u = assert(fu.new{ callback = answer })
            u:ask("ok", "gc")                   -- ret runs lua_gc(LUA_GCCOLLECT)
            queued(1)
            local _, _, args = darksidesync.poll()
            u:produce{ threads = 2, items = 1, blocking = true }
            queued(2)
            garbage_that_stops()
            local t0 = socket.gettime()
            print("answer", pcall(args[1], 1))
            local elapsed = socket.gettime() - t0
            """ + Report);

        var lines = result.AssertEnded("stop() from a finalizer run inside ret").Lines;
        Assert.StartsWith("answer\ttrue", lines[0]);
        Assert.Equal(
            ["finalizer\ttrue\tquick\ttrue\tstopped\ttrue", "released\ttrue", "cancels\t1\tcancel unreg\tSUCCESS\tcheck\tok"],
            lines.Skip(1));
    }

    [Fact]
    public async Task Stop_from_finalizers_the_collector_runs_while_polling_must_complete_promptly()
    {
        await _lua.AddFaultyUtilityAsync();
        _lua.UseConfig(Config);

        // An aggressive incremental collector (pause 0: a new cycle at once) finalizes the
        // garbage at some allocation of the polling loop, poll's own among them.
        var result = await _lua.RunAsync(FaultLua.Prelude + StopFinalizer + """
            local u = assert(fu.new{ callback = answer })
            u:produce{ threads = 2, items = 1000000, blocking = true, mode = "many", n = 40 }
            u:produce{ threads = 2, items = 1000000, mode = "many", n = 40, pace_us = 1000 }
            queued(2)
            for _ = 1, 200 do garbage_that_stops() end
            collectgarbage("restart")
            collectgarbage("incremental", 0, 100, 0)
            local t0 = socket.gettime()
            while not stopped() and socket.gettime() - t0 < 40 do
              local n, f, args = darksidesync.poll()
              if f then f(table.unpack(args)) end
            end
            local elapsed = socket.gettime() - t0
            collectgarbage("incremental", 200, 100, 13)
            collectgarbage()
            finalized = { finalized[1] }
            """ + Report);

        Assert.Equal(
            ["finalizer\ttrue\tquick\ttrue\tstopped\ttrue", "released\ttrue", "cancels\t1\tcancel unreg\tSUCCESS\tcheck\tok"],
            result.AssertEnded("stop() from finalizers while polling").Lines);
    }
}
