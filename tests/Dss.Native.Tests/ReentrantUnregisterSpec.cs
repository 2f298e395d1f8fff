using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>
/// unreg called from inside a utility's own hooks, alone and racing other threads (issue 7,
/// defect 1): a thread inside a hook never waits for another thread's unregister of that
/// utility. Of two racing unregs the first returns SUCCESS, the other INVALID_UTILID, both
/// promptly, and every outstanding delivery still ends exactly once.
/// </summary>
[Collection(NativeCollection.Name)]
public sealed class ReentrantUnregisterSpec(NativeModuleFixture module)
{
    private readonly LuaProcess _lua = new(module) { Timeout = TimeSpan.FromSeconds(20) };

    // u:race() starts a pthread that calls unreg once the "race" hook runs; the hook waits
    // until that pthread is about to call unreg, gives it 100 ms to be inside it, then calls
    // unreg itself.
    private const string RaceReport = """
        u:join()
        local s = u:stats()
        local codes = { s.worker_unreg, s.hook_unreg }
        table.sort(codes)
        print("unregs", codes[1], codes[2])
        print("queue", darksidesync.queuesize(), "check", u:check())
        """;

    [Theory]
    [InlineData("u:deliver('race'); u:deliver('ok')")]
    [InlineData("u:ask('race', 'ok'); queued(1); u:deliver('ok')")]
    public async Task An_unreg_inside_decode_racing_an_unreg_on_a_pthread_must_not_deadlock(string deliveries)
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + $$"""
            local u = assert(fu.new{ callback = answer })
            {{deliveries}}
            u:race()
            print("poll", pcall(darksidesync.poll))
            """ + RaceReport);

        var lines = result.AssertEnded("a decode's unreg waited for a pthread's unreg that waited for the decode").Lines;
        Assert.StartsWith("poll\ttrue", lines[0]);
        Assert.Equal(["unregs\tINVALID_UTILID\tSUCCESS", "queue\t0\tcheck\tok"], lines.Skip(1));
    }

    [Fact]
    public async Task An_unreg_inside_ret_racing_an_unreg_on_a_pthread_must_not_deadlock()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = answer })
            u:ask("ok", "race")
            queued(1)
            local _, _, args = darksidesync.poll()
            u:deliver("ok")
            u:race()
            print("answer", args[1](1))
            """ + RaceReport);

        Assert.Equal(
            ["answer\tanswered", "unregs\tINVALID_UTILID\tSUCCESS", "queue\t0\tcheck\tok"],
            result.AssertEnded("a ret's unreg waited for a pthread's unreg that waited for the ret").Lines);
    }

    [Fact]
    public async Task An_unreg_inside_its_own_decode_must_succeed_and_cancel_everything_outstanding()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = answer })
            u:ask("ok", "ok")
            queued(1)
            local _, _, held = darksidesync.poll()           -- one waiting on the Lua side
            u:deliver("unreg")
            u:produce{ threads = 2, items = 1, blocking = true }
            queued(3)
            u:deliver("ok")
            local n, f, args = darksidesync.poll()
            print("poll", n, f == answer, #args)
            print("released", settled(u))
            u:join()
            local s = u:stats()
            print("hook unreg", s.hook_unreg, "decode(NULL)", s.decode_null, "ret(NULL)", s.ret_null)
            print("held answer", select("#", held[1](1)), "unregister", u:unregister(), "check", u:check())
            """);

        Assert.Equal(
            [
                "poll\t0\ttrue\t1",
                "released\ttrue",
                "hook unreg\tSUCCESS\tdecode(NULL)\t3\tret(NULL)\t1",
                "held answer\t0\tunregister\tINVALID_UTILID\tcheck\tok",
            ],
            result.AssertEnded("unreg inside its own decode").Lines);
    }

    [Fact]
    public async Task An_unreg_inside_its_own_ret_must_succeed_and_cancel_everything_outstanding()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = answer })
            u:ask("ok", "unreg")
            queued(1)
            local _, _, args = darksidesync.poll()
            u:produce{ threads = 2, items = 1, blocking = true }
            queued(2)
            print("answer", args[1](1))
            print("released", settled(u))
            u:join()
            local s = u:stats()
            print("hook unreg", s.hook_unreg, "answered", s.answered, "decode(NULL)", s.decode_null)
            print("queue", darksidesync.queuesize(), "check", u:check())
            """);

        Assert.Equal(
            [
                "answer\tanswered",
                "released\ttrue",
                "hook unreg\tSUCCESS\tanswered\t1\tdecode(NULL)\t2",
                "queue\t0\tcheck\tok",
            ],
            result.AssertEnded("unreg inside its own ret").Lines);
    }

    [Fact]
    public async Task Concurrent_unregs_from_32_pthreads_must_succeed_exactly_once_and_release_every_producer()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = answer })
            u:produce{ threads = 4, items = 1, blocking = true }
            queued(4)
            local held = {}
            for i = 1, 2 do held[i] = select(3, darksidesync.poll())[1] end  -- two on the Lua side
            u:produce{ threads = 2, items = 1000000, pace_us = 1000 }         -- still delivering
            u:unregmany(32)
            print("released", settled(u))
            u:join()
            local s = u:stats()
            print("unreg", s.unreg_success, "invalid", s.unreg_invalid, "other", s.unreg_other)
            print("ret(NULL)", s.ret_null, "queue", darksidesync.queuesize(), "late answer", select("#", held[1](1)))
            print("check", u:check())
            """);

        Assert.Equal(
            [
                "released\ttrue",
                "unreg\t1\tinvalid\t31\tother\t0",
                "ret(NULL)\t2\tqueue\t0\tlate answer\t0",
                "check\tok",
            ],
            result.AssertEnded("32 concurrent unregs").Lines);
    }

    [Fact]
    public async Task Unregs_from_pthreads_and_from_hooks_at_once_must_succeed_exactly_once()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = answer })
            u:produce{ threads = 3, items = 1000000, blocking = true, mode = "unreg", retmode = "unreg" }
            u:produce{ threads = 3, items = 1000000, mode = "unreg", pace_us = 1000 }
            queued(3)
            u:unregmany(16)
            local deadline = socket.gettime() + 10
            while u:running() > 0 and socket.gettime() < deadline do
              local n, f, args = darksidesync.poll()
              if f then f(table.unpack(args)) elseif n == -1 then socket.sleep(0.001) end
            end
            print("released", settled(u))
            u:join()
            local s = u:stats()
            print("unreg", s.unreg_success, "other", s.unreg_other, "queue", darksidesync.queuesize())
            print("check", u:check())
            """);

        Assert.Equal(
            ["released\ttrue", "unreg\t1\tother\t0\tqueue\t0", "check\tok"],
            result.AssertEnded("unregs from pthreads and hooks at once").Lines);
    }
}
