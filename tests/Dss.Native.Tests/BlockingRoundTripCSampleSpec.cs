using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>
/// Blocking deliveries from pthreads (deliver with a return function): the thread waits in
/// deliver until Lua answered through args[1], and finds the answer in its pData.
/// </summary>
[Collection(NativeCollection.Name)]
public sealed class BlockingRoundTripCSampleSpec(NativeModuleFixture module)
{
    private readonly LuaProcess _lua = new(module) { Timeout = TimeSpan.FromSeconds(20) };

    [Fact]
    public async Task Lua_answers_must_reach_the_pthreads_blocked_in_deliver()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(CSampleLua.Prelude + """
            local probe = require "csample_probe"
            -- Each thread checks, once released, that the answer in its pData is 2 * v.
            local p = assert(probe.new(function(reply, v) reply(v * 2) end))
            p:ask(4, 250)
            local handled = 0
            while handled < 1000 do
              if darksidesync.wait(5) == 0 then break end
              handled = handled + darksidesync.drain()
            end
            local r = p:join()
            print("handled", handled, "right", r.right, "wrong", r.wrong, "cancelled", r.cancelled,
              "garbage", r.garbage, "refused", r.refused)
            """);

        Assert.Equal(
            "handled\t1000\tright\t1000\twrong\t0\tcancelled\t0\tgarbage\t0\trefused\t0",
            result.AssertSucceeded().Lines.Single());
    }

    [Fact]
    public async Task The_waitingthread_callback_must_return_what_ret_left_and_release_each_thread_in_turn()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(CSampleLua.Prelude + """
            local producer = require "dss_producer"
            local mismatched = 0
            -- dss_producer's ret stores Lua's first value in the item and pushes it back.
            local u = assert(producer.new{ callback = function(reply, pid, seq)
              local answer = pid * 1000 + seq
              if reply(answer) ~= answer then mismatched = mismatched + 1 end
            end })
            u:start{ threads = 3, items = 100, blocking = true }
            local handled = 0
            while handled < 300 do
              if darksidesync.wait(5) == 0 then break end
              handled = handled + darksidesync.drain()
            end
            print("all threads ended", settled(u))
            u:join()
            local s = u:stats()
            print("handled", handled, "mismatched", mismatched, "ret", s.ret, "answered", s.outcomes.answered,
              "pending", s.outcomes.pending, "fifo violations", s.fifo_violations, "round trips", u:latency().count)
            """);

        var lines = result.AssertSucceeded().Lines;
        Assert.Equal("all threads ended\ttrue", lines[0]);
        Assert.Equal(
            "handled\t300\tmismatched\t0\tret\t300\tanswered\t300\tpending\t0\tfifo violations\t0\tround trips\t300",
            lines[1]);
    }

    [Fact]
    public async Task A_second_call_of_the_waitingthread_callback_must_do_nothing()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(CSampleLua.Prelude + """
            local producer = require "dss_producer"
            local u = assert(producer.new{ callback = function() end })
            u:start{ threads = 1, items = 1, blocking = true }
            queued(1)
            local _, _, args = darksidesync.poll()
            print("first", args[1](7))
            print("second", select("#", args[1](8)))
            print("released", settled(u))
            u:join()
            local s = u:stats()
            print("ret", s.ret, "answered", s.outcomes.answered)
            """);

        Assert.Equal(["first\t7", "second\t0", "released\ttrue", "ret\t1\tanswered\t1"], result.AssertSucceeded().Lines);
    }

    [Fact]
    public async Task A_waitingthread_callback_collected_uncalled_must_release_its_thread_with_ret_garbage()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(CSampleLua.Prelude + """
            local producer = require "dss_producer"
            local u = assert(producer.new{ callback = function() end })
            u:start{ threads = 1, items = 1, blocking = true }
            queued(1)
            do local _, _, args = darksidesync.poll() end -- dropped without an answer
            collectgarbage()
            collectgarbage()
            print("released", settled(u))
            u:join()
            local s = u:stats()
            print("ret", s.ret, "garbage", s.ret_garbage, "outcome garbage", s.outcomes.garbage, "pending", s.outcomes.pending)
            """);

        Assert.Equal(["released\ttrue", "ret\t0\tgarbage\t1\toutcome garbage\t1\tpending\t0"], result.AssertSucceeded().Lines);
    }
}
