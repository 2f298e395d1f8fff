using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>
/// Races between the Lua thread and producer pthreads: lua_close while pthreads deliver and
/// wait, stop/start cycles under 8 producers, stop() from a callback. Nothing hangs,
/// nothing crashes, and every accepted delivery ends exactly once.
/// </summary>
[Collection(NativeCollection.Name)]
public sealed class RaceSpec(NativeModuleFixture module)
{
    private readonly LuaProcess _lua = new(module) { Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task Lua_close_while_pthreads_deliver_and_wait_must_exit_0_with_every_delivery_ended()
    {
        await _lua.AddFaultyUtilityAsync();

        // The utilities' __gc (report = true) join their pthreads after lua_close's stop-DSS
        // or their own unreg, and print their check.
        var result = await _lua.RunAsync(FaultLua.Prelude + """
            a = assert(fu.new{ callback = answer, report = true })
            b = assert(fu.new{ callback = answer, cancel = "ignore", report = true })
            for _, u in ipairs{ a, b } do
              u:produce{ threads = 2, items = 100000000, pace_us = 200 }
              u:produce{ threads = 2, items = 100000000, blocking = true }
            end
            queued(4)
            held = {}
            for i = 1, 2 do
              local _, _, args = darksidesync.poll()
              held[i] = args[1]
            end
            print("closing")
            """);

        var lines = result.AssertEnded("lua_close with pthreads delivering and blocked").Lines;
        Assert.Equal("closing", lines[0]);
        Assert.Equal(2, lines.Count(l => l.StartsWith("closed: ok (", StringComparison.Ordinal)));
        Assert.Equal(3, lines.Count);
    }

    [Fact]
    public async Task Stop_start_cycles_under_8_producer_pthreads_must_end_every_delivery_exactly_once()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local bad = 0
            for cycle = 1, 20 do
              local u = assert(fu.new{ callback = answer })
              u:produce{ threads = 4, items = 100000000, pace_us = 100 }
              u:produce{ threads = 4, items = 100000000, blocking = true }
              local t0 = socket.gettime()
              while socket.gettime() - t0 < 0.05 do
                local n, f, args = darksidesync.poll()
                if f then f(table.unpack(args)) elseif n == -1 then darksidesync.wait(0.001) end
              end
              darksidesync.stop()
              if not settled(u) then print("cycle", cycle, "producers not released") end
              u:join()
              local check = u:check()
              if check ~= "ok" or u:stats().cancels ~= 1 then
                bad = bad + 1
                print("cycle", cycle, check, "cancels", u:stats().cancels)
              end
              u:close()
              darksidesync.start()
            end
            print("cycles with a defect", bad)
            """);

        Assert.Equal("cycles with a defect\t0", result.AssertEnded("stop/start cycles").Lines.Last());
    }

    [Fact]
    public async Task Stop_from_a_callback_run_by_drain_must_end_drain_and_release_every_producer()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local calls = 0
            local u
            u = assert(fu.new{ callback = function(first)
              calls = calls + 1
              if calls == 3 then darksidesync.stop() end
              if type(first) == "userdata" then first(1) end
            end })
            u:produce{ threads = 3, items = 100000000, blocking = true }
            u:produce{ threads = 2, items = 100000000, pace_us = 200 }
            queued(5)
            print("drain", pcall(darksidesync.drain))
            print("calls", calls, "stopped", stopped(), "released", settled(u))
            u:join()
            print("cancels", u:stats().cancels, "check", u:check())
            """);

        Assert.Equal(["drain\ttrue\t3", "calls\t3\tstopped\ttrue\treleased\ttrue", "cancels\t1\tcheck\tok"],
            result.AssertEnded("stop() from a callback of drain").Lines);
    }

    [Fact]
    public async Task Stop_from_a_callback_must_turn_its_held_waitingthread_callback_into_a_no_op()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = function(cb) darksidesync.stop(); return cb end })
            u:produce{ threads = 3, items = 100000000, blocking = true }
            queued(3)
            local _, f, args = darksidesync.poll()
            local cb = f(table.unpack(args))
            print("answer after stop", select("#", cb(1)), "stopped", stopped(), "released", settled(u))
            u:join()
            local s = u:stats()
            print("ret(NULL)", s.ret_null, "answered", s.answered, "check", u:check())
            """);

        Assert.Equal(["answer after stop\t0\tstopped\ttrue\treleased\ttrue", "ret(NULL)\t1\tanswered\t0\tcheck\tok"],
            result.AssertEnded("stop() from a callback").Lines);
    }
}
