using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>
/// A utility whose cancel never calls unreg (dss_producer with <c>cancel = "ignore"</c>):
/// stop-DSS does not hang on it (the original looped forever) and unregisters it itself.
/// </summary>
[Collection(NativeCollection.Name)]
public sealed class CancelWithoutUnregisterCSampleSpec(NativeModuleFixture module)
{
    private readonly LuaProcess _lua = new(module) { Timeout = TimeSpan.FromSeconds(20) };

    [Fact]
    public async Task Stop_must_return_promptly_and_unregister_the_utility_itself()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(CSampleLua.Prelude + """
            local producer = require "dss_producer"
            local raw = producer.raw
            local u = assert(producer.new{ callback = function() end, cancel = "ignore" })
            u:start{ threads = 2, items = 5, blocking = true }
            queued(2)
            u:start{ threads = 2, items = 100000000, pace_us = 100 }
            local t0 = socket.gettime()
            darksidesync.stop()
            print("stop returned well before stop-timeout", socket.gettime() - t0 < 5)
            print("threads released", settled(u))
            u:join()
            local s = u:stats()
            print("cancel", s.cancel, "unreg in cancel", s.cancel_unreg, "pending", s.outcomes.pending)
            print("unregister", producer.statusname(u:unregister()))
            local refused = producer.statusname(raw.deliver(s.utilid))
            print("deliver refused", refused == "INVALID_UTILID" or refused == "NOT_STARTED")
            """);

        Assert.Equal(
            [
                "stop returned well before stop-timeout\ttrue",
                "threads released\ttrue",
                "cancel\t1\tunreg in cancel\tnil\tpending\t0",
                "unregister\tINVALID_UTILID",
                "deliver refused\ttrue",
            ],
            result.AssertSucceeded().Lines);
    }

    [Fact]
    public async Task Lua_close_must_unregister_the_utility_itself_and_exit_0_promptly()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(CloseWithBlockedThreadsCSampleSpec.Script, "ignore");

        Assert.Equal(
            [
                "closing: 1 held by Lua, at least 2 queued true, 4 thread(s) running",
                "at close: cancel 1, unreg in cancel not called, ret(NULL) 1, decode(NULL) >= 2 true",
                "threads released true, blocking outcomes: cancelled 3, pending 0; unregister now INVALID_UTILID",
            ],
            result.AssertSucceeded().Lines);
        Assert.Equal("", result.Stderr);
        Assert.True(result.Elapsed < CloseWithBlockedThreadsCSampleSpec.Prompt, $"took {result.Elapsed}");
    }
}
