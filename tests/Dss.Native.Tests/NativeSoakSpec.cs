using System.Globalization;
using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>
/// The randomized soak of the native module: three lua5.4 processes each run a seeded random
/// mix of register, non-blocking and blocking deliveries (with misbehaving decodes and rets),
/// polls, answers held or dropped for the collector, unregister (one or many threads), stop
/// and start, for DSS_SOAK_SECONDS (default 3). Every utility that ends is checked: its
/// producers were released and every accepted delivery ended exactly once; and each process
/// must exit 0 by itself. DSS_SOAK_SEED replays a run (process i uses seed + i).
/// </summary>
[Trait("Category", "Soak")]
[Collection(NativeCollection.Name)]
public sealed class NativeSoakSpec(NativeModuleFixture module)
{
    private const int Processes = 3;

    // arg: seed, seconds. Prints "soak ok <ops>" or "soak FAILED <ops>" and the problems.
    private const string Script = """
        local seed, seconds = tonumber(arg[1]), tonumber(arg[2])
        math.randomseed(seed)
        local live, held, problems, ops, started = {}, {}, {}, 0, true
        local modes = { "ok", "ok", "ok", "ok", "zero", "many", "notfunction", "overcount", "negative",
                        "undercount", "raise", "memerr", "unreg", "deliver" }
        local retmodes = { "ok", "ok", "ok", "ok", "raise", "unreg", "deliver" }
        local function pick(t) return t[math.random(#t)] end
        local function problem(text) if #problems < 20 then problems[#problems + 1] = ("op %d: %s"):format(ops, text) end end

        -- Answers most blocking deliveries, holds some for later, drops some for the collector.
        local function callback(first)
          if type(first) == "userdata" then
            local r = math.random(10)
            if r <= 7 then pcall(first, 1) elseif r <= 9 then held[#held + 1] = first end
          end
        end

        -- u was unregistered (by us, a hook, or stop-DSS): check what it saw.
        local function finish(u, why)
          if not settled(u) then problem(why .. ": producers still blocked after 10 s") end
          u:join()
          local check = u:check()
          if check ~= "ok" then problem(why .. ": " .. check) end
          u:close()
        end

        local function poll_some()
          for _ = 1, math.random(50) do
            local ok, n, f, args = pcall(darksidesync.poll)
            if ok and n == -1 then return end
            if ok and f then pcall(f, table.unpack(args)) end
          end
        end

        local deadline = socket.gettime() + seconds
        while socket.gettime() < deadline do
          ops = ops + 1
          local r = math.random(100)
          local u = #live > 0 and live[math.random(#live)] or nil
          if not started then
            darksidesync.start()
            started = true
          elseif r <= 8 then
            if #live < 4 then
              live[#live + 1] = assert(fu.new{ callback = callback, cancel = pick{ "unreg", "unreg", "ignore" } })
            end
          elseif r <= 22 then
            if u then
              u:produce{ threads = math.random(3), items = math.random(200), pace_us = math.random(0, 300), mode = pick(modes), n = 30 }
            end
          elseif r <= 32 then
            if u then
              u:produce{ threads = math.random(2), items = math.random(20), blocking = true,
                         mode = pick(modes), retmode = pick(retmodes), n = 30 }
            end
          elseif r <= 37 then
            if u then u:deliver(pick(modes), 30) end
          elseif r <= 75 then
            poll_some()
          elseif r <= 80 then
            for i = #held, 1, -1 do pcall(held[i], 1); held[i] = nil end
          elseif r <= 84 then
            collectgarbage()
          elseif r <= 92 then
            if u then
              for i, v in ipairs(live) do if v == u then table.remove(live, i) break end end
              if math.random(2) == 1 then u:unregister() else u:unregmany(math.random(8)) end
              finish(u, "after unregister")
            end
          elseif r <= 95 then
            darksidesync.stop()
            started = false
            if not stopped() then problem("DSS still running after stop()") end
            for _, v in ipairs(live) do finish(v, "after stop") end
            for _, cb in ipairs(held) do
              if select("#", cb(1)) ~= 0 then problem("a held callback answered after stop") end
            end
            live, held = {}, {}
          else
            socket.sleep(0.001)
          end
        end
        if started then darksidesync.stop() end
        for _, v in ipairs(live) do finish(v, "at the end") end
        print("soak " .. (#problems == 0 and "ok" or "FAILED") .. " " .. ops)
        for _, p in ipairs(problems) do print(p) end
        """;

    [Fact]
    public async Task A_random_mix_of_registers_deliveries_unregisters_and_stops_must_keep_every_invariant()
    {
        int seconds = int.TryParse(Environment.GetEnvironmentVariable("DSS_SOAK_SECONDS"), out int s) && s > 0 ? s : 3;
        int seed = int.TryParse(Environment.GetEnvironmentVariable("DSS_SOAK_SEED"), out int given) ? given : Random.Shared.Next(1, int.MaxValue / 2);

        var runs = Enumerable.Range(0, Processes).Select(async i =>
        {
            // Room for the finishes after the last op (each waits at most 10 s) and a slow machine.
            var lua = new LuaProcess(module) { Timeout = TimeSpan.FromSeconds(seconds * 2 + 90) };
            await lua.AddFaultyUtilityAsync();
            return await lua.RunAsync(
                FaultLua.Prelude + Script,
                (seed + i).ToString(CultureInfo.InvariantCulture),
                seconds.ToString(CultureInfo.InvariantCulture));
        });
        var results = await Task.WhenAll(runs);

        for (int i = 0; i < Processes; i++)
        {
            var result = results[i];
            string replay = $"process {i} of the soak with seed {seed + i} (DSS_SOAK_SEED={seed} replays the run)";
            Assert.False(result.TimedOut, $"deadlocked: {replay} never ended\n{result}");
            Assert.True(result.ExitCode == 0 && result.Lines.FirstOrDefault(l => l.StartsWith("soak ", StringComparison.Ordinal))?.StartsWith("soak ok", StringComparison.Ordinal) == true,
                $"{replay}:\n{result}");
        }
    }
}
