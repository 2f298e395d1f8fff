using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>
/// A cancel hook that never returns (blocks forever on a condition, or sleeps for ten
/// minutes): stop-DSS is bounded by <c>stop-timeout</c>, unregisters the utility itself and
/// releases every producer; a cancel that unregisters is called once and its unreg succeeds.
/// </summary>
[Collection(NativeCollection.Name)]
public sealed class CancelHookSpec(NativeModuleFixture module)
{
    // One item held by Lua, two queued blocking ones, a pthread still delivering.
    private const string Busy = """
        u:ask("ok", "ok")
        queued(1)
        local _, _, held = darksidesync.poll()
        u:produce{ threads = 2, items = 1, blocking = true }
        queued(2)
        u:produce{ threads = 1, items = 100000000, pace_us = 1000 }

        """;

    private readonly LuaProcess _lua = new(module) { Timeout = TimeSpan.FromSeconds(30) };

    [Theory]
    [InlineData("block")]
    [InlineData("sleep")]
    public async Task Stop_must_return_within_a_few_seconds_of_stop_timeout_when_cancel_never_returns(string cancel)
    {
        await _lua.AddFaultyUtilityAsync();
        _lua.UseConfig("darksidesync { stop-timeout = 1s }");

        var result = await _lua.RunAsync(FaultLua.Prelude + $$"""
            local u = assert(fu.new{ callback = answer, cancel = "{{cancel}}" })
            {{Busy}}
            local t0 = socket.gettime()
            darksidesync.stop()
            local took = socket.gettime() - t0
            print("stop returned in under 8 s", took < 8, "stopped", stopped())
            print("released", settled(u))
            u:join()
            local s = u:stats()
            print("cancels", s.cancels, "ret(NULL)", s.ret_null, "decode(NULL)", s.decode_null,
              "unregister", u:unregister(), "check", u:check())
            """);

        Assert.Equal(
            [
                "stop returned in under 8 s\ttrue\tstopped\ttrue",
                "released\ttrue",
                "cancels\t1\tret(NULL)\t1\tdecode(NULL)\t2\tunregister\tINVALID_UTILID\tcheck\tok",
            ],
            result.AssertEnded($"stop() with a cancel that does not return ({cancel})").Lines);
    }

    [Fact]
    public async Task Lua_close_must_end_the_process_when_cancel_never_returns()
    {
        await _lua.AddFaultyUtilityAsync();
        _lua.UseConfig("darksidesync { stop-timeout = 1s }");

        // No stop(): lua_close runs stop-DSS; the utility's __gc then joins its pthreads and
        // prints its check, so a producer left blocked hangs the process.
        var result = await _lua.RunAsync(FaultLua.Prelude + """
            u = assert(fu.new{ callback = answer, cancel = "block", report = true })
            """ + Busy + """
            held_forever = held
            print("closing")
            """);

        var lines = result.AssertEnded("lua_close with a cancel that does not return").Lines;
        Assert.Equal("closing", lines[0]);
        Assert.Matches(@"^closed: ok \(accepted \d+, cancels 1\)$", lines[1]);
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(15), $"took {result.Elapsed}");
    }

    [Fact]
    public async Task A_cancel_that_unregisters_must_be_called_once_and_its_unreg_must_succeed()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = answer, cancel = "unreg" })
            """ + Busy + """
            darksidesync.stop()
            print("released", settled(u))
            u:join()
            local s = u:stats()
            print("cancels", s.cancels, "cancel unreg", s.cancel_unreg, "ret(NULL)", s.ret_null, "check", u:check())
            print("late answer", select("#", held[1](1)), "strays", fu.strays())
            """);

        Assert.Equal(
            ["released\ttrue", "cancels\t1\tcancel unreg\tSUCCESS\tret(NULL)\t1\tcheck\tok", "late answer\t0\tstrays\t0"],
            result.AssertEnded("stop() with a cancel that unregisters").Lines);
    }
}
