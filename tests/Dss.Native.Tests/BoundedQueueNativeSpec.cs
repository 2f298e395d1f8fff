using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>
/// DSS 1v1 in stock lua5.4: setlimit bounds the queue that pthreads of a C utility flood
/// (through the header's 1v1 helper), in both overflow policies; deliver_ex times out in all
/// three places an item can be; waiting producers are released by unregister and stop; HOCON
/// sets the defaults; a 1v0 utility works beside.
/// </summary>
[Collection(NativeCollection.Name)]
public sealed class BoundedQueueNativeSpec(NativeModuleFixture module)
{
    private readonly LuaProcess _lua = new(module) { Timeout = TimeSpan.FromSeconds(60) };

    private async Task<IReadOnlyList<string>> Run(string script, string what)
    {
        await _lua.AddBoundedProducerAsync();
        return (await _lua.RunAsync(BoundedProducerLua.Prelude + script)).AssertEnded(what).Lines;
    }

    [Fact]
    public async Task The_helper_must_find_the_1v1_api()
    {
        var lines = await Run("print(bp.has1v1(), bp.queuesize())", "has1v1");

        Assert.Equal(["true\t0"], lines);
    }

    [Fact]
    public async Task Overflow_fail_must_refuse_with_QUEUE_FULL_and_never_hold_more_than_the_capacity()
    {
        var lines = await Run("""
            darksidesync.setlimit(100, "fail")
            bp.flood(4, 5000, -1, "1v0")
            local most = 0
            while bp.running() > 0 or darksidesync.queuesize() > 0 do
              most = math.max(most, darksidesync.queuesize(), bp.queuesize())
              take(50)
            end
            local s, statuses = bp.stats(), bp.join()
            print("most", most <= 100)
            print("sum", (statuses.SUCCESS or 0) + (statuses.QUEUE_FULL or 0))
            print("refused some", (statuses.QUEUE_FULL or 0) > 0)
            print("decoded all accepted", s.decoded == statuses.SUCCESS)
            print("untouched", s.refused_touched) -- refused items leave gaps: no order check here
            """, "fail policy flood");

        Assert.Equal(["most\ttrue", "sum\t20000", "refused some\ttrue", "decoded all accepted\ttrue", "untouched\t0"], lines);
    }

    [Fact]
    public async Task Overflow_block_must_deliver_everything_in_each_producers_order_within_the_capacity()
    {
        var lines = await Run("""
            darksidesync.setlimit(100)
            bp.flood(4, 5000, -1)
            local most = 0
            while bp.running() > 0 or darksidesync.queuesize() > 0 do
              most = math.max(most, darksidesync.queuesize())
              take(25)
            end
            print("most", most <= 100)
            print(show(bp.join()), "order", order_errors, "decoded", bp.stats().decoded)
            """, "block policy flood");

        Assert.Equal(["most\ttrue", "SUCCESS=20000\torder\t0\tdecoded\t20000"], lines);
    }

    [Fact]
    public async Task Deliver_ex_must_return_QUEUE_FULL_when_its_time_runs_out_waiting_for_room()
    {
        var lines = await Run("""
            darksidesync.setlimit(1)
            print(bp.here(false, 0))
            bp.ask(1, 200)
            bp.flood(1, 1, 200)
            print(show(bp.join()))
            local s = bp.stats()
            print("decode_null", s.decode_null, "untouched", s.refused_touched, "queued", darksidesync.queuesize())
            """, "deliver_ex waiting for room");

        Assert.Equal(["SUCCESS", "QUEUE_FULL=2 SUCCESS=1", "decode_null\t0\tuntouched\t0\tqueued\t1"], lines);
    }

    [Fact]
    public async Task Deliver_ex_must_return_TIMED_OUT_for_a_queued_item_after_decode_NULL_ran_once()
    {
        var lines = await Run("""
            bp.ask(1, 200)
            print(show(bp.join()))
            local s = bp.stats()
            print("decode_null", s.decode_null, "decoded", s.decoded, "bad", s.bad_endings)
            print("queued", darksidesync.queuesize(), darksidesync.poll())
            """, "deliver_ex of a queued item");

        Assert.Equal(["TIMED_OUT=1", "decode_null\t1\tdecoded\t0\tbad\t0", "queued\t0\t-1"], lines);
    }

    [Fact]
    public async Task Deliver_ex_must_return_TIMED_OUT_for_an_item_Lua_holds_after_ret_NULL_ran_once()
    {
        var lines = await Run("""
            bp.ask(1, 300)
            until_(function() return darksidesync.queuesize() == 1 end, "the ask")
            take(1)
            until_(function() return bp.running() == 0 end, "the timeout")
            print(show(bp.join()))
            print("later call", select("#", held(5)))
            local s = bp.stats()
            print("ret_null", s.ret_null, "answered", s.answered, "garbage", s.garbage, "bad", s.bad_endings)
            held = nil
            collectgarbage() collectgarbage()
            print("after gc", bp.stats().garbage, bp.stats().bad_endings)
            """, "deliver_ex of an item Lua holds");

        Assert.Equal(["TIMED_OUT=1", "later call\t0", "ret_null\t1\tanswered\t0\tgarbage\t0\tbad\t0", "after gc\t0\t0"], lines);
    }

    [Fact]
    public async Task A_delivery_that_would_wait_on_the_Lua_thread_must_be_refused_with_WOULD_DEADLOCK()
    {
        var lines = await Run("""
            print("blocking", bp.here(true, 100), bp.here(true, 0), bp.here(true, -1), bp.here(true))
            darksidesync.setlimit(1)
            print("full", bp.here(false, 0), bp.here(false, 0), bp.here(false, -1), bp.here(false))
            darksidesync.setlimit(1, "fail")
            print("fail", bp.here(false))
            print("queued", darksidesync.queuesize(), "untouched", bp.stats().refused_touched)
            """, "deliveries on the Lua thread");

        Assert.Equal([
            "blocking\tWOULD_DEADLOCK\tWOULD_DEADLOCK\tWOULD_DEADLOCK\tWOULD_DEADLOCK",
            "full\tSUCCESS\tQUEUE_FULL\tWOULD_DEADLOCK\tWOULD_DEADLOCK",
            "fail\tQUEUE_FULL",
            "queued\t1\tuntouched\t0",
        ], lines);
    }

    [Fact]
    public async Task A_blocking_delivery_from_a_decode_a_ret_or_a_callback_must_be_refused_with_WOULD_DEADLOCK()
    {
        var lines = await Run("""
            bp.inner("decode")
            until_(function() return darksidesync.queuesize() == 1 end, "the decode item")
            take(1)
            print("decode", bp.inner_status())
            bp.join()

            bp.inner("ret")
            until_(function() return darksidesync.queuesize() == 1 end, "the ret item")
            take(1)
            held(1)
            print("ret", bp.inner_status())
            print(show(bp.join()))

            bp.flood(1, 1, -1)
            bp.callback(function() print("callback", bp.here(true, 1000)) end)
            until_(function() return darksidesync.queuesize() == 1 end, "the callback item")
            take(1)
            bp.join()
            print("queued", darksidesync.queuesize(), "bad", bp.stats().bad_endings)
            """, "blocking deliveries from hooks and callbacks");

        Assert.Equal(["decode\tWOULD_DEADLOCK", "ret\tWOULD_DEADLOCK", "SUCCESS=1", "callback\tWOULD_DEADLOCK", "queued\t0\tbad\t0"], lines);
    }

    [Theory]
    [InlineData("bp.unregister()", "INVALID_UTILID=3 SUCCESS=1")]
    [InlineData("darksidesync.stop()", "NOT_STARTED=3 SUCCESS=1")]
    public async Task Producers_waiting_for_room_must_be_released_with_their_items_never_queued(string release, string statuses)
    {
        var lines = await Run($$"""
            darksidesync.setlimit(1)
            print(bp.here(false, 0))
            bp.flood(2, 1, -1)
            bp.ask(1, -1)
            socket.sleep(0.3) -- all three wait for room
            print(bp.running())
            {{release}}
            print(show(bp.join()))
            local s = bp.stats()
            print("untouched", s.refused_touched, "decode_null", s.decode_null, "decoded", s.decoded)
            """, "releasing producers waiting for room");

        Assert.Equal(["SUCCESS", "3", statuses, "untouched\t0\tdecode_null\t1\tdecoded\t0"], lines);
    }

    [Fact]
    public async Task The_HOCON_queue_settings_must_be_the_defaults_of_a_new_state()
    {
        _lua.UseConfig("darksidesync.queue { capacity = 2, overflow = fail }");

        var lines = await Run("""
            print(bp.here(false), bp.here(false), bp.here(false)) -- 1v0's deliver: the policy decides
            print(darksidesync.setlimit(nil))
            """, "HOCON queue defaults");

        Assert.Equal(["SUCCESS\tSUCCESS\tQUEUE_FULL", "2\tfail"], lines);
    }

    [Fact]
    public async Task A_1v0_utility_must_work_unchanged_beside_a_1v1_one_on_a_bounded_queue()
    {
        await _lua.AddThreadedProducerAsync();
        var lines = await Run("""
            local producer = require "threaded_producer"
            darksidesync.setlimit(50)
            local old = 0
            local run = producer.start(2, 1000, function() old = old + 1 end)
            bp.flood(2, 1000, -1)
            local deadline = socket.gettime() + 30
            while (old < 2000 or bp.running() > 0 or darksidesync.queuesize() > 0) and socket.gettime() < deadline do
              assert(darksidesync.queuesize() <= 50)
              take(10)
            end
            print("1v0", old, "refused", run:join())
            print("1v1", show(bp.join()), "order", order_errors)
            """, "1v0 beside 1v1");

        Assert.Equal(["1v0\t2000\trefused\t0", "1v1\tSUCCESS=2000\torder\t0"], lines);
    }

    [Fact]
    public async Task Memory_must_stay_bounded_while_4_producers_flood_a_bounded_queue_of_10000()
    {
        var lines = await Run("""
            local function rss()
              local f = io.open("/proc/self/statm") local text = f:read("a") f:close()
              return tonumber(text:match("^%d+%s+(%d+)")) * 4096 / 1048576
            end
            darksidesync.setlimit(10000)
            bp.flood(4, -1, -1)
            local start, baseline, most, items = socket.gettime(), nil, 0, 0
            while socket.gettime() - start < 2.5 do
              items = items + take(1000)
              local now = socket.gettime() - start
              if baseline == nil and now >= 0.5 then baseline = rss() end
              if baseline then most = math.max(most, rss()) end
              assert(darksidesync.queuesize() <= 10000)
            end
            bp.halt()
            while bp.running() > 0 or darksidesync.queuesize() > 0 do items = items + take(1000) end
            bp.join()
            io.stderr:write(string.format("bounded flood: %d items, RSS %.1f MB at 0.5 s, at most %.1f MB\n", items, baseline, most))
            print("under 160 MB", most < 160, "items", items > 10000)
            """, "a 2.5 s flood of a bounded queue");

        // The queue holds at most 10,000 items (a few MB); what moves is the GC's young
        // generation, which peaks near 90 MB early and settles near 42 MB (10 s runs of
        // benchmarks/native/bounded_memory.sh). An unbounded queue outrun by 4 producers
        // grows by hundreds of MB in the same time.
        Assert.Equal(["under 160 MB\ttrue\titems\ttrue"], lines);
    }
}
