using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>
/// Seeded random sequences of C ABI calls from several pthreads (u:fuzz of faulty_utility):
/// deliver and unreg with NULL, stale and bogus utilids, deliver without decode, rare unregs
/// of the valid utilid, blocking and non-blocking deliveries, while Lua polls — and, in the
/// second spec, a stop() in the middle. Every call returns a documented code, no utilid is
/// accepted again once refused, and every accepted delivery ends exactly once. The seed is
/// DSS_FUZZ_SEED when set, random otherwise, and part of every failure message.
/// </summary>
[Collection(NativeCollection.Name)]
public sealed class CAbiSequenceFuzzSpec(NativeModuleFixture module)
{
    private readonly LuaProcess _lua = new(module) { Timeout = TimeSpan.FromSeconds(60) };

    private static int Seed() =>
        int.TryParse(Environment.GetEnvironmentVariable("DSS_FUZZ_SEED"), out int seed) ? seed : Random.Shared.Next(1, int.MaxValue);

    // Lua answers blocking deliveries (or drops their callback, for the collector to answer)
    // until the fuzzing pthreads are done.
    private const string Serve = """
        local function serve(u, until_time)
          local deadline = socket.gettime() + 30
          local i = 0
          while u:running() > 0 and socket.gettime() < (until_time or deadline) do
            assert(socket.gettime() < deadline, "the fuzzing pthreads never finished")
            local ok, n, f, args = pcall(darksidesync.poll)
            if not ok then break end
            if n == -1 then
              collectgarbage()                     -- answers the dropped callbacks
              darksidesync.wait(0.005)
            elseif args and type(args[1]) == "userdata" then
              i = i + 1
              if i % 7 ~= 0 then args[1](1) end
            end
          end
        end

        """;

    [Fact]
    public async Task Random_C_ABI_calls_from_several_pthreads_must_return_the_documented_codes()
    {
        await _lua.AddFaultyUtilityAsync();
        int seed = Seed();

        var result = await _lua.RunAsync(FaultLua.Prelude + Serve + """
            local seed = tonumber(arg[1])
            local old = assert(fu.new{ callback = answer })
            local stale = old:utilid()
            print("stale unregister", old:unregister())
            local u = assert(fu.new{ callback = answer })
            u:fuzz(seed, 4, 3000, stale)
            serve(u)
            u:join()
            collectgarbage()
            local last = u:unregister()
            local s = u:stats()
            local successes = s.unreg_success + (last == "SUCCESS" and 1 or 0)
            print("one unreg succeeded", successes == 1, "double unreg", u:unregister(), "other", s.unreg_other)
            print("calls", s.fuzz_calls, "check", u:check())
            """, seed.ToString(System.Globalization.CultureInfo.InvariantCulture));

        var lines = result.AssertEnded($"fuzzing with seed {seed}").Lines;
        Assert.True(
            lines.SequenceEqual(
            [
                "stale unregister\tSUCCESS",
                "one unreg succeeded\ttrue\tdouble unreg\tINVALID_UTILID\tother\t0",
                "calls\t12000\tcheck\tok",
            ]),
            $"seed {seed} (set DSS_FUZZ_SEED={seed} to replay):\n{result}");
    }

    [Fact]
    public async Task Random_C_ABI_calls_racing_a_stop_must_be_refused_after_it()
    {
        await _lua.AddFaultyUtilityAsync();
        int seed = Seed();

        var result = await _lua.RunAsync(FaultLua.Prelude + Serve + """
            local seed = tonumber(arg[1])
            local old = assert(fu.new{ callback = answer })
            local stale = old:utilid()
            old:unregister()
            local u = assert(fu.new{ callback = answer })
            u:fuzz(seed, 4, 20000, stale, 200, false)  -- ~4 s of calls; only stop unregisters
            serve(u, socket.gettime() + 0.3)
            darksidesync.stop()                      -- the pthreads go on calling
            print("stopped", stopped(), "released", settled(u))
            u:join()
            print("after stop", fu.apireg())
            darksidesync.start()
            print("old utilid", select(2, u:deliver("ok")), u:unregister())
            local s = u:stats()
            print("cancels", s.cancels, "other", s.unreg_other, "check", u:check())
            """, seed.ToString(System.Globalization.CultureInfo.InvariantCulture));

        var lines = result.AssertEnded($"fuzzing with seed {seed} across a stop").Lines;
        Assert.True(
            lines.SequenceEqual(
            [
                "stopped\ttrue\treleased\ttrue",
                "after stop\tNOT_STARTED\tfalse",
                "old utilid\tINVALID_UTILID\tINVALID_UTILID",
                "cancels\t1\tother\t0\tcheck\tok",
            ]),
            $"seed {seed} (set DSS_FUZZ_SEED={seed} to replay):\n{result}");
    }
}
