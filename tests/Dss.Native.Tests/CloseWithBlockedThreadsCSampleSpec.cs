using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>
/// Stop-DSS when lua5.4 closes its state while pthreads are blocked in deliver (one item held
/// by Lua, others queued) and another keeps delivering: every thread is released, and the
/// process exits with code 0, no signal, nothing on stderr, promptly.
/// </summary>
[Collection(NativeCollection.Name)]
public sealed class CloseWithBlockedThreadsCSampleSpec(NativeModuleFixture module)
{
    /// <summary>
    /// <c>lua5.4 script unreg|ignore</c> (dss_producer's cancel mode). The poll at the end renews
    /// DSS's close watch, so at lua_close stop-DSS runs first, then the reporter's __gc (older
    /// than the watch, newer than the producer) prints what the producer saw, then the
    /// producer's own __gc.
    /// </summary>
    internal const string Script = CSampleLua.Prelude + """
        local producer = require "dss_producer"
        local mode = ...
        u = assert(producer.new{ callback = function() end, cancel = mode })
        u:start{ threads = 3, items = 1, blocking = true }
        queued(3)
        u:start{ threads = 1, items = 100000000, pace_us = 100 }  -- never stops on its own

        reporter = setmetatable({}, { __gc = function()
          local released = settled(u)
          local s = u:stats()
          print(("at close: cancel %d, unreg in cancel %s, ret(NULL) %d, decode(NULL) >= 2 %s")
            :format(s.cancel, s.cancel_unreg and producer.statusname(s.cancel_unreg) or "not called",
                    s.ret_null, tostring(s.decode_null >= 2)))
          u:join()
          s = u:stats()
          print(("threads released %s, blocking outcomes: cancelled %d, pending %d; unregister now %s")
            :format(tostring(released), s.outcomes.cancelled, s.outcomes.pending, producer.statusname(u:unregister())))
        end })

        local _, _, args = darksidesync.poll()
        held = args[1]                                           -- on the Lua side, never answered
        print(("closing: %d held by Lua, at least 2 queued %s, %d thread(s) running")
          :format(held and 1 or 0, tostring(darksidesync.queuesize() >= 2), u:running()))
        """;

    /// <summary>
    /// Well under the default stop-timeout (10 s), which is what a stop that waits for it takes;
    /// loose enough for a busy 2-core machine (the work itself is a few hundred ms).
    /// </summary>
    internal static readonly TimeSpan Prompt = TimeSpan.FromSeconds(5);

    private readonly LuaProcess _lua = new(module) { Timeout = TimeSpan.FromSeconds(20) };

    [Fact]
    public async Task Lua_close_must_release_every_blocked_pthread_and_exit_0_promptly()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(Script, "unreg");

        Assert.Equal(
            [
                "closing: 1 held by Lua, at least 2 queued true, 4 thread(s) running",
                "at close: cancel 1, unreg in cancel SUCCESS, ret(NULL) 1, decode(NULL) >= 2 true",
                "threads released true, blocking outcomes: cancelled 3, pending 0; unregister now INVALID_UTILID",
            ],
            result.AssertSucceeded().Lines);
        Assert.Equal("", result.Stderr);
        Assert.True(result.Elapsed < Prompt, $"took {result.Elapsed}");
    }

    [Fact]
    public async Task Lua_close_must_exit_0_promptly_when_the_utility_unregisters_itself_first()
    {
        await CSampleBuild.AddToAsync(_lua);

        // No poll after the producer exists: its own __gc (newer than DSS's) runs first at
        // lua_close and unregisters with three threads blocked and a fourth delivering.
        var result = await _lua.RunAsync(CSampleLua.Prelude + """
            local producer = require "dss_producer"
            u = assert(producer.new{ callback = function() end })
            u:start{ threads = 3, items = 1, blocking = true }
            queued(3)
            u:start{ threads = 1, items = 100000000, pace_us = 100 }
            print("closing with", u:running(), "threads running")
            """);

        Assert.Equal("closing with\t4\tthreads running", result.AssertSucceeded().Lines.Single());
        Assert.Equal("", result.Stderr);
        Assert.True(result.Elapsed < Prompt, $"took {result.Elapsed}");
    }
}
