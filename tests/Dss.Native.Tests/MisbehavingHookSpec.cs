using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>
/// C decodes that push thousands of values, push a non-function first, lie about how many
/// values they pushed, deliver re-entrantly, or stop DSS from inside: nothing crashes or
/// hangs, poll() hands Lua exactly what decode pushed, and every delivery ends exactly once.
/// </summary>
[Collection(NativeCollection.Name)]
public sealed class MisbehavingHookSpec(NativeModuleFixture module)
{
    private const string Checked = """
        u:join()
        print("unregister", u:unregister(), "check", u:check())
        """;

    private readonly LuaProcess _lua = new(module) { Timeout = TimeSpan.FromSeconds(20) };

    [Fact]
    public async Task Poll_must_return_all_5000_values_of_a_decode_that_grew_the_stack()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = answer })
            u:deliver("many", 5000)
            local n, f, args = darksidesync.poll()
            print(n, f == answer, #args, args[1], args[5000])
            u:ask("many", "ok", 5000)
            queued(1)
            n, f, args = darksidesync.poll()
            print(n, type(args[1]), #args, args[2], args[5001], args[1](1))
            """ + Checked);

        Assert.Equal(
            ["0\ttrue\t5000\t1\t5000", "0\tuserdata\t5001\t1\t5000\tanswered", "unregister\tSUCCESS\tcheck\tok"],
            result.AssertEnded("poll with 5000 decoded values").Lines);
    }

    [Fact]
    public async Task Poll_must_hand_Lua_a_first_value_that_is_not_a_function_as_it_is()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = answer })
            u:deliver("notfunction")
            local n, f, args = darksidesync.poll()
            print(n, f, #args, args[1])
            u:ask("notfunction", "ok")
            queued(1)
            n, f, args = darksidesync.poll()
            print(n, f, #args, args[2], args[1](1))
            """ + Checked);

        Assert.Equal(
            ["0\t42\t1\t1", "0\t42\t2\t2\tanswered", "unregister\tSUCCESS\tcheck\tok"],
            result.AssertEnded("poll with a non-function first").Lines);
    }

    [Fact]
    public async Task A_decode_that_returns_more_than_it_pushed_must_yield_only_what_it_pushed()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = answer })
            u:deliver("overcount")
            print(select("#", darksidesync.poll()))
            u:deliver("overcount")
            local n, f, args = darksidesync.poll()
            print(n, f == answer, #args, args[1])
            """ + Checked);

        Assert.Equal(["3", "0\ttrue\t1\t2", "unregister\tSUCCESS\tcheck\tok"],
            result.AssertEnded("poll after an overcounting decode").Lines);
    }

    [Fact]
    public async Task A_decode_that_returns_fewer_than_it_pushed_must_yield_the_topmost_values()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = answer })
            u:deliver("undercount")              -- pushes "junk", callback, tag; returns 2
            local n, f, args = darksidesync.poll()
            print(n, f == answer, #args, args[1])
            """ + Checked);

        Assert.Equal(["0\ttrue\t1\t1", "unregister\tSUCCESS\tcheck\tok"],
            result.AssertEnded("poll after an undercounting decode").Lines);
    }

    [Fact]
    public async Task A_decode_that_returns_a_negative_count_must_end_its_delivery_with_nothing_for_Lua()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = answer })
            u:deliver("negative")
            print(darksidesync.poll())
            u:ask("negative", "ok")
            queued(1)
            print(darksidesync.poll())
            print("released", settled(u), "queue", darksidesync.queuesize())
            """ + Checked);

        Assert.Equal(["0", "0", "released\ttrue\tqueue\t0", "unregister\tSUCCESS\tcheck\tok"],
            result.AssertEnded("poll after a decode that returned -1").Lines);
    }

    [Fact]
    public async Task A_decode_that_delivers_for_its_own_utility_must_have_that_delivery_polled_next()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = answer })
            u:deliver("deliver")
            local _, f, args = darksidesync.poll()
            print("first", f == answer, args[1], u:stats().decode_deliver)
            local _, f2, args2 = darksidesync.poll()
            print("next", f2 == answer, args2[1], darksidesync.poll())
            """ + Checked);

        Assert.Equal(["first\ttrue\t1\tSUCCESS", "next\ttrue\t2\t-1", "unregister\tSUCCESS\tcheck\tok"],
            result.AssertEnded("a decode that delivered").Lines);
    }

    [Fact]
    public async Task A_blocking_delivery_from_many_pthreads_with_lying_decodes_must_end_exactly_once_each()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = answer })
            for _, mode in ipairs{ "ok", "zero", "many", "notfunction", "overcount", "negative", "undercount" } do
              u:produce{ threads = 2, items = 50, blocking = true, mode = mode, n = 30 }
              u:produce{ threads = 1, items = 50, mode = mode, n = 30 }
            end
            local done = 0
            local deadline = socket.gettime() + 15
            while u:running() > 0 or darksidesync.queuesize() > 0 do
              assert(socket.gettime() < deadline, "the producers never finished")
              local n, f, args = darksidesync.poll()
              if n == -1 then darksidesync.wait(0.01)
              elseif args then
                if type(args[1]) == "userdata" then args[1](1) end
                done = done + 1
              end
            end
            local s = u:stats()
            print("accepted", s.accepted, "released", s.released, "of", s.blocking)
            """ + Checked);

        Assert.Equal(["accepted\t1050\treleased\t700\tof\t700", "unregister\tSUCCESS\tcheck\tok"],
            result.AssertEnded("lying decodes from many pthreads").Lines);
    }

    [Fact]
    public async Task Stop_from_a_Lua_function_called_inside_decode_must_be_complete_when_poll_returns()
    {
        await _lua.AddFaultyUtilityAsync();
        _lua.UseConfig("darksidesync { stop-timeout = 30s }");
        _lua.Timeout = TimeSpan.FromSeconds(60);

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = answer, stopper = function() darksidesync.stop() end })
            u:deliver("stop")
            u:produce{ threads = 2, items = 1, blocking = true }
            queued(3)
            local t0 = socket.gettime()
            print("poll", (pcall(darksidesync.poll)))
            local s = u:stats()
            print("quick", socket.gettime() - t0 < 10, "stopped", stopped(), "stopper", s.stop_ok, s.stop_msg)
            print("released", settled(u))
            u:join()
            s = u:stats()
            print("cancels", s.cancels, "decode(NULL)", s.decode_null, "check", u:check())
            """);

        Assert.Equal(
            ["poll\ttrue", "quick\ttrue\tstopped\ttrue\tstopper\ttrue\t", "released\ttrue", "cancels\t1\tdecode(NULL)\t2\tcheck\tok"],
            result.AssertEnded("stop() from inside decode").Lines);
    }

    [Fact]
    public async Task Stop_from_a_Lua_function_called_inside_ret_must_be_complete_when_the_callback_returns()
    {
        await _lua.AddFaultyUtilityAsync();
        _lua.UseConfig("darksidesync { stop-timeout = 30s }");
        _lua.Timeout = TimeSpan.FromSeconds(60);

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = answer, stopper = function() darksidesync.stop() end })
            u:ask("ok", "stop")
            queued(1)
            local _, _, args = darksidesync.poll()
            u:produce{ threads = 2, items = 1, blocking = true }
            queued(2)
            local t0 = socket.gettime()
            print("answer", pcall(args[1], 1))
            local s = u:stats()
            print("quick", socket.gettime() - t0 < 10, "stopped", stopped(), "stopper", s.stop_ok, s.stop_msg)
            print("released", settled(u))
            u:join()
            s = u:stats()
            print("cancels", s.cancels, "decode(NULL)", s.decode_null, "check", u:check())
            """);

        Assert.Equal(
            ["answer\ttrue\tanswered", "quick\ttrue\tstopped\ttrue\tstopper\ttrue\t", "released\ttrue", "cancels\t1\tdecode(NULL)\t2\tcheck\tok"],
            result.AssertEnded("stop() from inside ret").Lines);
    }
}
