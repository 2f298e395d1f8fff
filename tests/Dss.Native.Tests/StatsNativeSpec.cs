using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>
/// <c>darksidesync.stats()</c> (DSS 1.1) in stock <c>lua5.4</c>, checked against what a run of
/// gcc-built C producers did: pthreads delivering non-blocking and blocking items, a bounded
/// queue refusing, a stop cancelling, and deliveries refused after the stop.
/// </summary>
[Collection(NativeCollection.Name)]
public sealed class StatsNativeSpec(NativeModuleFixture module)
{
    private readonly LuaProcess _lua = new(module) { Timeout = TimeSpan.FromSeconds(60) };

    private const string Prelude = CSampleLua.Prelude + """
        local producer = require "dss_producer"
        local function check(s, what)
          local outcomes = s.completed + s.cancelled + s.queued + s.waiting
          assert(outcomes == s.delivered, ("%s: delivered %d, but completed %d + cancelled %d + queued %d + waiting %d = %d")
            :format(what, s.delivered, s.completed, s.cancelled, s.queued, s.waiting, outcomes))
          return s
        end

        """;

    [Fact]
    public async Task A_million_items_from_four_pthreads_are_delivered_and_completed_once_each()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(Prelude + """
            local n = 0
            local u = assert(producer.new{ callback = function() n = n + 1 end })
            u:start{ threads = 4, items = 250000 }
            local low = 0
            while n < 1000000 do
              darksidesync.dispatch()
              local s = darksidesync.stats()
              assert(s.completed + s.cancelled + s.queued + s.waiting <= s.delivered, "outcomes ahead of deliveries")
              assert(s.completed >= low, "completed went down")
              low = s.completed
            end
            assert(settled(u))
            local s = check(darksidesync.stats(), "end")
            print(s.delivered, s.completed, s.cancelled, s.refused, s.queued, s.utilities, s.highwater >= 1)
            """);

        Assert.Equal("1000000\t1000000\t0\t0\t0\t1\ttrue", result.AssertEnded("a million items").Lines.Single());
    }

    [Fact]
    public async Task Blocking_items_Lua_holds_are_waiting_and_a_stop_cancels_them_and_the_queued_ones()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(Prelude + """
            local held = {}
            local u = assert(producer.new{ callback = function(wtc) held[#held + 1] = wtc end })
            u:start{ threads = 3, items = 1, blocking = true }
            queued(3)
            darksidesync.dispatch(2)           -- two taken and held, one left queued
            local s = check(darksidesync.stats(), "held")
            print(s.delivered, s.waiting, s.queued, s.highwater)
            held[1]()                          -- answers one
            s = check(darksidesync.stats(), "answered")
            print(s.completed, s.waiting)
            darksidesync.stop()                -- cancels the one held and the one queued
            print(u:deliver(1))                -- refused: the utility is gone
            darksidesync.start()
            s = darksidesync.stats()
            print(s.delivered, s.completed, s.cancelled, s.refused, s.waiting, s.queued, s.utilities)
            assert(settled(u))
            """);

        Assert.Equal(["3\t2\t1\t3", "1\t1", "0\t-101", "3\t1\t2\t1\t0\t0\t0"], result.AssertEnded("held, answered, stopped").Lines);
    }

    [Fact]
    public async Task A_full_bounded_queue_counts_its_refusals_and_reports_its_bound()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(Prelude + """
            local u = assert(producer.new{ callback = function() end })
            darksidesync.setlimit(10, "fail")
            u:start{ threads = 2, items = 1000, stop_on_error = false }
            assert(settled(u))
            local s = check(darksidesync.stats(), "full")
            print(s.capacity, s.overflow, s.queued, s.highwater, s.delivered + s.refused)
            """);

        Assert.Equal("10\tfail\t10\t10\t2000", result.AssertEnded("bounded").Lines.Single());
    }
}
