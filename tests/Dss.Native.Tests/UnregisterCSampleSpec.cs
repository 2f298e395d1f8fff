using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>
/// Stop-utility (spec sequence 5): when a utility is unregistered, each of its deliveries
/// still queued gets decode(NULL) and each one waiting on the Lua side gets ret(NULL), once,
/// in the order they were delivered, and every thread blocked in deliver is released.
/// </summary>
[Collection(NativeCollection.Name)]
public sealed class UnregisterCSampleSpec(NativeModuleFixture module)
{
    private readonly LuaProcess _lua = new(module) { Timeout = TimeSpan.FromSeconds(20) };

    [Fact]
    public async Task Unregister_must_cancel_each_queued_and_Lua_side_item_once_and_release_every_blocked_thread()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(CSampleLua.Prelude + """
            local producer = require "dss_producer"
            local held = {}
            local u = assert(producer.new{ callback = function(reply) held[#held + 1] = reply end })
            u:start{ threads = 3, items = 2, blocking = true } -- each thread blocks on its first item
            queued(3)
            for _ = 1, 2 do                                    -- two go to the Lua side, unanswered
              local _, cb, args = darksidesync.poll()
              cb(table.unpack(args))
            end
            u:deliver(3)                                       -- three non-blocking ones queue behind
            print("unregister", producer.statusname(u:unregister()))
            print("threads released", settled(u))
            u:join()
            local s = u:stats()
            print("queue", darksidesync.queuesize(), "decode", s.decode, "ret", s.ret,
              "decode(NULL)", s.decode_null, "ret(NULL)", s.ret_null)
            print("blocking outcomes: cancelled", s.outcomes.cancelled, "pending", s.outcomes.pending)
            print("accepted", s.codes.SUCCESS, "refused after unregister", s.codes.INVALID_UTILID)
            print("answering a cancelled item returns", select("#", held[1](1)), "values")
            """);

        Assert.Equal(
            [
                "unregister\tSUCCESS",
                "threads released\ttrue",
                "queue\t0\tdecode\t2\tret\t0\tdecode(NULL)\t4\tret(NULL)\t2",
                "blocking outcomes: cancelled\t3\tpending\t0",
                "accepted\t6\trefused after unregister\t3",
                "answering a cancelled item returns\t0\tvalues",
            ],
            result.AssertSucceeded().Lines);
    }

    // csample_probe logs the calls with L == NULL in the order they happen. Items 1, 2 and 4
    // are blocking (one pthread each), 3 and 5 non-blocking; 1 and 2 are polled and held by
    // Lua unanswered, 3 to 5 stay queued.
    [Theory]
    [InlineData("p:unregister()", "unreg")]         // the utility unregisters
    [InlineData("darksidesync.stop()", "unreg")]    // stop-DSS; its cancel unregisters
    [InlineData("darksidesync.stop()", "ignore")]   // stop-DSS; its cancel does not, DSS does
    public async Task Outstanding_items_must_be_cancelled_in_the_order_they_were_delivered(string how, string cancel)
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(CSampleLua.Prelude + $$"""
            local probe = require "csample_probe"
            local p = assert(probe.new(function() end, "{{cancel}}"))
            p:block() queued(1)
            p:block() queued(2)
            p:deliver()
            p:block() queued(4)
            p:deliver()
            local held = {}
            for _ = 1, 2 do local _, _, args = darksidesync.poll() held[#held + 1] = args[1] end
            {{how}}
            local r = p:join()
            print(p:log())
            print("blocked threads cancelled", r.cancelled, "other outcomes", r.right + r.wrong + r.garbage + r.refused)
            """);

        Assert.Equal(
            ["ret 1, ret 2, decode 3, decode 4, decode 5", "blocked threads cancelled\t3\tother outcomes\t0"],
            result.AssertSucceeded().Lines);
    }
}
