using System.Diagnostics;
using Akka.TestKit.Xunit2;
using DarkSideSync.Tests.Support;
using KeraLua;

namespace DarkSideSync.Tests;

/// <summary>
/// <c>darksidesync.dispatch([max [, errorhandler]])</c> of DSS 1.1 in the KeraLua host: it takes
/// up to <c>max</c> queued deliveries (default: the queue size when called), oldest first, and
/// calls each callback directly with the decoded values under the error handler; returns
/// <c>ran, remaining</c>. C# utilities, C ABI utilities (function pointers) and real gcc-built C
/// hooks that raise. The state lives on a <see cref="LuaThread"/>, so a dispatch that never
/// returns fails the test instead of hanging the run.
/// </summary>
public sealed class DispatchSpec : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private const string NotStarted = "DSS was not started yet, or already stopped";
    private const int Success = (int)DssStatus.Success;

    private readonly LuaThread _lua;
    private readonly TestUtility _utility;
    private readonly RawThreads _threads = new();
    private readonly LuaFunction _deliverAgain; // fields, so the delegates Lua calls are never collected
    private readonly LuaFunction _unregisterC;
    private readonly LuaFunction _registerAndDeliver;
    private nint _cUtilId;
    private CApi? _api;

    public DispatchSpec()
    {
        _lua = new LuaThread(Sys);
        _utility = _lua.Call(h => TestUtility.Register(h, "dispatch"));
        _deliverAgain = DeliverAgain;
        _unregisterC = UnregisterC;
        _registerAndDeliver = RegisterAndDeliver;
        _lua.Call(h =>
        {
            h.Lua.Register("deliver_again", _deliverAgain);
            h.Lua.Register("unregister_c", _unregisterC);
            h.Lua.Register("register_and_deliver", _registerAndDeliver);
        });
        _lua.Run("seen = {} function on_item(x) seen[#seen + 1] = x end");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _lua.Dispose();
        }
        base.Dispose(disposing);
    }

    // ---- order and values ----

    [Fact]
    public void Dispatch_on_an_empty_queue_returns_zero_and_zero()
    {
        _lua.Run("results = table.pack(darksidesync.dispatch())");

        Assert.Equal(2, _lua.Integer("results.n"));
        Assert.Equal(0, _lua.Integer("results[1]"));
        Assert.Equal(0, _lua.Integer("results[2]"));
    }

    [Fact]
    public void Dispatch_calls_callbacks_oldest_first_with_the_decoded_values()
    {
        DeliverItems(1, 5);

        _lua.Run("ran, remaining = darksidesync.dispatch()");

        Assert.Equal(5, _lua.Integer("ran"));
        Assert.Equal(0, _lua.Integer("remaining"));
        Assert.Equal("1,2,3,4,5", _lua.String("table.concat(seen, ',')"));
        Assert.Equal(0, _lua.Integer("darksidesync.queuesize()"));
    }

    [Fact]
    public void Dispatch_passes_the_decoded_values_as_arguments_with_a_nil_in_the_middle()
    {
        _lua.Run("function on_values(...) got = table.pack(...) end");
        Assert.Equal(DssStatus.Success, _utility.Utility.Deliver(0, static (lua, _) =>
        {
            Lua.FromIntPtr(lua.State).GetGlobal("on_values");
            lua.PushInteger(1);
            lua.PushNil();
            lua.PushString("three");
            lua.PushBoolean(false);
            return 5;
        }));

        _lua.Run("darksidesync.dispatch()");

        Assert.Equal(4, _lua.Integer("got.n"));
        Assert.True(_lua.Boolean("got[1] == 1 and got[2] == nil and got[3] == 'three' and got[4] == false"));
    }

    [Fact]
    public void Dispatch_passes_thirty_decoded_values_to_the_callback()
    {
        _lua.Run("function on_values(...) got = table.pack(...) end");
        _utility.Utility.Deliver(30, static (lua, count) =>
        {
            Lua.FromIntPtr(lua.State).GetGlobal("on_values");
            for (int i = 1; i <= count; i++)
            {
                lua.PushInteger(i);
            }
            return count + 1;
        });

        _lua.Run("darksidesync.dispatch() sum = 0 for i = 1, got.n do sum = sum + got[i] end");

        Assert.Equal(30, _lua.Integer("got.n"));
        Assert.Equal(30, _lua.Integer("got[30]"));
        Assert.Equal(465, _lua.Integer("sum"));
    }

    [Fact]
    public void Dispatch_calls_a_c_utilitys_callbacks_oldest_first_with_its_decoded_values()
    {
        var log = new CApiLog();
        RegisterC(log);
        _lua.Run("c_seen = {} function on_c(a, b, c) c_seen[#c_seen + 1] = a .. '+' .. b .. '+' .. c end");
        for (int i = 1; i <= 3; i++)
        {
            Assert.Equal(Success, _api!.Deliver(_cUtilId, new CApiItem(log, $"c{i}", [i, 10 * i, 100 * i], callback: "on_c")));
        }

        _lua.Run("ran, remaining = darksidesync.dispatch()");

        Assert.Equal(3, _lua.Integer("ran"));
        Assert.Equal(0, _lua.Integer("remaining"));
        Assert.Equal("1+10+100,2+20+200,3+30+300", _lua.String("table.concat(c_seen, ',')"));
        Assert.Equal(["decode c1", "decode c2", "decode c3"], log.Starting("decode"));
    }

    // ---- how much it takes: max, the default, decode-zero ----

    [Fact]
    public void Dispatch_max_takes_at_most_max_deliveries_and_remaining_is_the_rest()
    {
        DeliverItems(1, 5);

        _lua.Run("ran, remaining = darksidesync.dispatch(2)");

        Assert.Equal(2, _lua.Integer("ran"));
        Assert.Equal(3, _lua.Integer("remaining"));
        Assert.Equal("1,2", _lua.String("table.concat(seen, ',')"));
        Assert.Equal(3, _lua.Integer("darksidesync.queuesize()"));
    }

    [Fact]
    public void Dispatch_with_a_max_beyond_the_queue_takes_the_whole_queue()
    {
        DeliverItems(1, 3);

        _lua.Run("ran, remaining = darksidesync.dispatch(100)");

        Assert.Equal(3, _lua.Integer("ran"));
        Assert.Equal(0, _lua.Integer("remaining"));
    }

    [Fact]
    public void Dispatch_without_max_leaves_deliveries_queued_by_its_callbacks_for_the_next_call()
    {
        _lua.Run("function on_item(x) seen[#seen + 1] = x if x < 100 then deliver_again(x + 100) end end");
        DeliverItems(1, 3);

        _lua.Run("ran, remaining = darksidesync.dispatch()");

        Assert.Equal(3, _lua.Integer("ran"));
        Assert.Equal(3, _lua.Integer("remaining"));
        Assert.Equal("1,2,3", _lua.String("table.concat(seen, ',')"));
        _lua.Run("ran, remaining = darksidesync.dispatch()");
        Assert.Equal(3, _lua.Integer("ran"));
        Assert.Equal(0, _lua.Integer("remaining"));
        Assert.Equal("1,2,3,101,102,103", _lua.String("table.concat(seen, ',')"));
    }

    [Fact]
    public void Dispatch_nil_max_with_a_handler_takes_the_whole_queue()
    {
        DeliverItems(1, 4);

        _lua.Run("ran, remaining = darksidesync.dispatch(nil, function(e) end)");

        Assert.Equal(4, _lua.Integer("ran"));
        Assert.Equal(0, _lua.Integer("remaining"));
    }

    [Fact]
    public void Decode_zero_deliveries_are_completed_without_a_call_and_not_counted_in_ran()
    {
        DeliverZero();
        _utility.Deliver(1);
        DeliverZero();
        _utility.Deliver(2);

        _lua.Run("ran, remaining = darksidesync.dispatch()");

        Assert.Equal(2, _lua.Integer("ran"));
        Assert.Equal(0, _lua.Integer("remaining"));
        Assert.Equal("1,2", _lua.String("table.concat(seen, ',')"));
    }

    [Fact]
    public void Decode_zero_deliveries_count_toward_max()
    {
        DeliverZero();
        DeliverZero();
        _utility.Deliver(1);
        _utility.Deliver(2);

        _lua.Run("ran, remaining = darksidesync.dispatch(2)");

        Assert.Equal(0, _lua.Integer("ran"));
        Assert.Equal(2, _lua.Integer("remaining"));
        Assert.Equal(0, _lua.Integer("#seen"));
    }

    // ---- errors in callbacks ----

    [Fact]
    public void A_raising_callback_counts_in_ran_goes_to_the_handler_and_dispatch_goes_on()
    {
        _lua.Run("function on_item(x) if x == 2 then error('two failed') end seen[#seen + 1] = x end");
        DeliverItems(1, 3);

        _lua.Run("errors = {} ran, remaining = darksidesync.dispatch(nil, function(e) errors[#errors + 1] = e end)");

        Assert.Equal(3, _lua.Integer("ran"));
        Assert.Equal(0, _lua.Integer("remaining"));
        Assert.Equal("1,3", _lua.String("table.concat(seen, ',')"));
        Assert.Equal(1, _lua.Integer("#errors"));
        Assert.EndsWith("two failed", _lua.String("errors[1]"));
    }

    [Fact]
    public void The_error_handler_runs_as_a_message_handler_where_the_traceback_shows_the_callbacks_frame()
    {
        // Line 2 of the chunk "callbacks" raises; a handler run after unwinding would not see that frame.
        _lua.Run("on_item = load(\"return function(x)\\n  error('boom ' .. x)\\nend\", '=callbacks')()");
        _utility.Deliver(7);

        _lua.Run("darksidesync.dispatch(nil, function(e) message, traceback = e, debug.traceback(e, 1) end)");

        Assert.Equal("callbacks:2: boom 7", _lua.String("message"));
        Assert.Contains("\n\tcallbacks:2: in ", _lua.String("traceback"), StringComparison.Ordinal);
    }

    [Fact]
    public void Without_an_error_handler_a_raising_callback_does_not_raise_and_dispatch_goes_on()
    {
        _lua.Run("function on_item(x) if x == 1 then error('one failed (expected in this test)') end seen[#seen + 1] = x end");
        DeliverItems(1, 2);

        _lua.Run("ok, ran, remaining = pcall(darksidesync.dispatch)");

        Assert.True(_lua.Boolean("ok"));
        Assert.Equal(2, _lua.Integer("ran"));
        Assert.Equal(0, _lua.Integer("remaining"));
        Assert.Equal("2", _lua.String("table.concat(seen, ',')"));
    }

    [Fact]
    public void A_callback_that_yields_across_dispatch_gets_an_error_in_the_handler_and_dispatch_goes_on()
    {
        _lua.Run("function on_item(x) seen[#seen + 1] = x if x == 1 then coroutine.yield('yielded') end end");
        DeliverItems(1, 2);

        _lua.Run("""
            errors = {}
            local co = coroutine.wrap(function()
              return 'returned', darksidesync.dispatch(nil, function(e) errors[#errors + 1] = tostring(e) end)
            end)
            outcome, ran, remaining = co()
            """);

        Assert.Equal("returned", _lua.String("outcome"));
        Assert.Equal(2, _lua.Integer("ran"));
        Assert.Equal(0, _lua.Integer("remaining"));
        Assert.Equal(1, _lua.Integer("#errors"));
        Assert.Equal("1,2", _lua.String("table.concat(seen, ',')"));
    }

    // ---- decodes that raise (a real gcc-built C hook) ----

    [Fact]
    public void A_raising_c_decode_goes_to_the_handler_and_dispatch_goes_on_with_the_next_item()
    {
        var hooks = RaisingCHooks.LoadSecondInstance();
        RegisterC(new CApiLog());
        Assert.Equal(Success, _api!.DeliverRaw(_cUtilId, hooks.RaisingDecode, 0, 1));
        Assert.Equal(Success, _api.DeliverRaw(_cUtilId, hooks.PushingDecode, 0, 2));

        _lua.Run("errors = {} ran, remaining = darksidesync.dispatch(nil, function(e) errors[#errors + 1] = e end)");

        Assert.Equal(1, _lua.Integer("#errors"));
        Assert.EndsWith("decode raised 1", _lua.String("errors[1]"));
        Assert.Equal("2", _lua.String("table.concat(seen, ',')"));
        Assert.Equal(1, _lua.Integer("ran")); // no callback was called for the raising decode
        Assert.Equal(0, _lua.Integer("remaining"));
    }

    [Fact]
    public void A_producer_blocked_on_a_raising_c_decode_is_released_with_the_hand_over_status()
    {
        var hooks = RaisingCHooks.LoadSecondInstance();
        RegisterC(new CApiLog());
        int status = 0;
        int decodesBefore = hooks.Count(RaisingCHooks.Decodes);
        int endingsBefore = hooks.Count(RaisingCHooks.NullDecodes) + hooks.Count(RaisingCHooks.NullRets) + hooks.Count(RaisingCHooks.Rets);
        _threads.Start("blocked on a raising decode", () => status = _api!.DeliverRaw(_cUtilId, hooks.RaisingDecode, hooks.QuietRet, 11));
        WaitQueued(1);

        _lua.Run("errors = {} darksidesync.dispatch(nil, function(e) errors[#errors + 1] = e end)");

        _threads.Join(Patience);
        Assert.Equal(Success, status);
        Assert.EndsWith("decode raised 11", _lua.String("errors[1]"));
        Assert.Equal(Success, _api!.Unreg(_cUtilId));
        Assert.Equal(decodesBefore + 1, hooks.Count(RaisingCHooks.Decodes));
        // No further hook call for its pData: neither ret nor a cancel (unreg above found nothing to cancel).
        Assert.Equal(endingsBefore, hooks.Count(RaisingCHooks.NullDecodes) + hooks.Count(RaisingCHooks.NullRets) + hooks.Count(RaisingCHooks.Rets));
    }

    [Fact]
    public void After_a_raising_c_decode_under_dispatch_the_utility_keeps_working()
    {
        var hooks = RaisingCHooks.LoadSecondInstance();
        RegisterC(new CApiLog());
        Assert.Equal(Success, _api!.DeliverRaw(_cUtilId, hooks.RaisingDecode, 0, 1));
        _lua.Run("darksidesync.dispatch(nil, function(e) end)");

        Assert.Equal(Success, _api.DeliverRaw(_cUtilId, hooks.PushingDecode, 0, 3));
        _lua.Run("ran, remaining = darksidesync.dispatch()");

        Assert.Equal(1, _lua.Integer("ran"));
        Assert.Equal("3", _lua.String("table.concat(seen, ',')"));
        Assert.Equal(Success, _api.Unreg(_cUtilId));
    }

    [Fact]
    public void Poll_still_raises_the_error_of_a_raising_c_decode_after_dispatch_handled_one()
    {
        var hooks = RaisingCHooks.LoadSecondInstance();
        RegisterC(new CApiLog());
        Assert.Equal(Success, _api!.DeliverRaw(_cUtilId, hooks.RaisingDecode, 0, 1));
        Assert.Equal(Success, _api.DeliverRaw(_cUtilId, hooks.RaisingDecode, 0, 2));
        _lua.Run("darksidesync.dispatch(1, function(e) end)");

        _lua.Run("ok, err = pcall(darksidesync.poll)");

        Assert.False(_lua.Boolean("ok"));
        Assert.EndsWith("decode raised 2", _lua.String("err"));
    }

    [Fact]
    public void A_raising_c_ret_reaches_the_handler_through_the_callback_and_releases_the_producer()
    {
        var hooks = RaisingCHooks.LoadSecondInstance();
        RegisterC(new CApiLog());
        _lua.Run("function on_item(reply, v) reply(v) seen[#seen + 1] = 'after reply' end");
        int status = 0;
        int retsBefore = hooks.Count(RaisingCHooks.Rets);
        int cancelsBefore = hooks.Count(RaisingCHooks.NullRets) + hooks.Count(RaisingCHooks.GarbageRets);
        _threads.Start("blocked on a raising ret", () => status = _api!.DeliverRaw(_cUtilId, hooks.PushingDecode, hooks.RaisingRet, 12));
        WaitQueued(1);

        _lua.Run("errors = {} ran, remaining = darksidesync.dispatch(nil, function(e) errors[#errors + 1] = e end) collectgarbage() collectgarbage()");

        _threads.Join(Patience);
        Assert.Equal(Success, status);
        Assert.Equal(1, _lua.Integer("#errors"));
        Assert.EndsWith("ret raised 12", _lua.String("errors[1]"));
        Assert.Equal(0, _lua.Integer("#seen")); // the error left the callback at reply(v)
        Assert.Equal(1, _lua.Integer("ran"));
        Assert.Equal(retsBefore + 1, hooks.Count(RaisingCHooks.Rets));
        Assert.Equal(cancelsBefore, hooks.Count(RaisingCHooks.NullRets) + hooks.Count(RaisingCHooks.GarbageRets)); // no further ret for its pData
    }

    // ---- blocking deliveries ----

    [Fact]
    public async Task A_blocking_deliverys_waitingthread_callback_is_the_first_argument_and_calling_it_answers_the_producer()
    {
        _lua.Run("function on_item(reply, x) kind = type(reply) reply(x + 1) end");
        var answer = _utility.Ask(20);

        _lua.Run("ran, remaining = darksidesync.dispatch()");

        Assert.Equal(21, await answer.WaitAsync(Patience));
        Assert.Equal("userdata", _lua.String("kind"));
        Assert.Equal(1, _lua.Integer("ran"));
    }

    [Fact]
    public async Task The_waitingthread_callback_under_dispatch_returns_what_ret_left_on_the_stack()
    {
        _lua.Run("function on_item(reply) results = table.pack(reply('x')) end");
        var request = _utility.Utility.DeliverAndWaitAsync(
            0,
            (lua, _) => _utility.PushCallback(lua),
            static (lua, garbage) =>
            {
                lua.PushString("thanks");
                lua.PushInteger(2);
                return "answered";
            });

        _lua.Run("darksidesync.dispatch()");

        Assert.Equal("answered", await request.WaitAsync(Patience));
        Assert.Equal(2, _lua.Integer("results.n"));
        Assert.Equal("thanks", _lua.String("results[1]"));
        Assert.Equal(2, _lua.Integer("results[2]"));
    }

    [Fact]
    public void A_c_utilitys_blocking_delivery_is_answered_through_the_first_argument()
    {
        var log = new CApiLog();
        RegisterC(log);
        _lua.Run("function on_c(reply, v) kind = type(reply) reply(v * 2, v * 3) end");
        var item = new CApiItem(log, "blocking", [7], blocking: true, callback: "on_c");
        var producer = CApiProducer.Start(_api!, _cUtilId, item);
        WaitQueued(1);

        _lua.Run("darksidesync.dispatch()");

        Assert.True(producer.Join(Patience), "the C producer was never released");
        Assert.Equal(DssStatus.Success, producer.Status);
        Assert.Equal("userdata", _lua.String("kind"));
        Assert.Equal([14L, 21L], item.Answer ?? []);
        Assert.Equal(1, item.Endings);
    }

    // ---- stop, nesting, unregister from a callback ----

    [Fact]
    public void Stop_from_a_callback_ends_dispatch_after_that_callback_with_remaining_zero()
    {
        _lua.Run("function on_item(x) seen[#seen + 1] = x if x == 2 then darksidesync.stop() end end");
        DeliverItems(1, 5);

        _lua.Run("ran, remaining = darksidesync.dispatch()", Patience);

        Assert.Equal(2, _lua.Integer("ran"));
        Assert.Equal(0, _lua.Integer("remaining"));
        Assert.Equal("1,2", _lua.String("table.concat(seen, ',')"));
    }

    [Fact]
    public void A_callback_that_stops_and_restarts_dss_ends_dispatch_before_the_new_sessions_items()
    {
        _lua.Run("""
            function on_item(x)
              seen[#seen + 1] = x
              if x == 1 then
                darksidesync.stop()
                darksidesync.start()
                register_and_deliver(2) -- a utility of the new session queues two items
              end
            end
            """);
        DeliverItems(1, 2);

        _lua.Run("ran, remaining = darksidesync.dispatch()", Patience);

        Assert.Equal(1, _lua.Integer("ran"));
        Assert.Equal("1", _lua.String("table.concat(seen, ',')"));
        Assert.Equal(2, _lua.Integer("darksidesync.queuesize()"));
    }

    [Fact]
    public void After_a_callback_stopped_dss_dispatch_and_poll_raise_not_started()
    {
        _lua.Run("function on_item(x) darksidesync.stop() end");
        DeliverItems(1, 2);
        _lua.Run("darksidesync.dispatch()", Patience);

        Assert.EndsWith(NotStarted, _lua.Error("darksidesync.dispatch()"));
        Assert.EndsWith(NotStarted, _lua.Error("darksidesync.poll()"));
    }

    [Fact]
    public void After_stop_dispatch_raises_the_same_error_as_queuesize()
    {
        _lua.Run("darksidesync.stop()");

        _lua.Run("_, dispatch_error = pcall(darksidesync.dispatch) _, queuesize_error = pcall(darksidesync.queuesize)");

        Assert.EndsWith(NotStarted, _lua.String("dispatch_error"));
        Assert.Equal(_lua.String("queuesize_error"), _lua.String("dispatch_error"));
    }

    [Fact]
    public void A_nested_dispatch_takes_the_next_items_and_the_outer_counts_only_its_own()
    {
        _lua.Run("function on_item(x) seen[#seen + 1] = x if x == 1 then inner = table.pack(darksidesync.dispatch(2)) end end");
        DeliverItems(1, 5);

        _lua.Run("ran, remaining = darksidesync.dispatch()");

        Assert.Equal("1,2,3,4,5", _lua.String("table.concat(seen, ',')"));
        Assert.Equal(2, _lua.Integer("inner[1]"));
        Assert.Equal(2, _lua.Integer("inner[2]"));
        Assert.Equal(3, _lua.Integer("ran"));
        Assert.Equal(0, _lua.Integer("remaining"));
    }

    [Fact]
    public void Unregister_from_a_callback_cancels_the_utilitys_later_items_instead_of_dispatching_them()
    {
        var log = new CApiLog();
        RegisterC(log);
        _lua.Run("function on_c(v) seen[#seen + 1] = 'c' .. v if v == 2 then unreg_status = unregister_c() end end");
        for (int i = 1; i <= 4; i++)
        {
            Assert.Equal(Success, _api!.Deliver(_cUtilId, new CApiItem(log, $"c{i}", [i], callback: "on_c")));
        }
        _utility.Deliver(5); // another utility's item behind them

        _lua.Run("ran, remaining = darksidesync.dispatch()");

        Assert.Equal("c1,c2,5", _lua.String("table.concat(seen, ',')"));
        Assert.Equal(Success, _lua.Integer("unreg_status"));
        Assert.Equal(["decode c1", "decode c2", "decode(NULL) c3", "decode(NULL) c4"], log.Starting("decode"));
        Assert.Equal(3, _lua.Integer("ran"));
        Assert.Equal(0, _lua.Integer("remaining"));
    }

    // ---- bad arguments ----

    [Theory]
    [InlineData("darksidesync.dispatch(0)", 1)]
    [InlineData("darksidesync.dispatch(-1)", 1)]
    [InlineData("darksidesync.dispatch(1.5)", 1)]
    [InlineData("darksidesync.dispatch('x')", 1)]
    [InlineData("darksidesync.dispatch({})", 1)]
    [InlineData("darksidesync.dispatch(false)", 1)]
    [InlineData("darksidesync.dispatch(nil, 5)", 2)]
    [InlineData("darksidesync.dispatch(1, 5)", 2)]
    [InlineData("darksidesync.dispatch(nil, {})", 2)]
    public void A_bad_argument_raises_a_lua_error_in_the_callers_name_and_takes_nothing(string call, int argument)
    {
        _utility.Deliver(1);

        string error = _lua.Error("local x = 1\n" + call);

        Assert.Contains($":2: bad argument #{argument} to 'dispatch'", error, StringComparison.Ordinal); // line 2: the caller's line
        Assert.Equal(1, _lua.Integer("darksidesync.queuesize()"));
        Assert.Equal(0, _lua.Integer("#seen"));
    }

    // ---- drain, built on dispatch or not, keeps its 1.0 behaviour ----

    [Fact]
    public void Drain_still_runs_until_the_queue_is_empty_and_returns_the_count()
    {
        _lua.Run("function on_item(x) seen[#seen + 1] = x if x < 100 then deliver_again(x + 100) end end");
        DeliverItems(1, 3);

        Assert.Equal(6, _lua.Integer("darksidesync.drain()"));

        Assert.Equal(0, _lua.Integer("darksidesync.queuesize()"));
        Assert.Equal("1,2,3,101,102,103", _lua.String("table.concat(seen, ',')"));
    }

    // ---- many producers ----

    [Fact]
    public void Four_threads_delivering_200k_items_are_each_dispatched_exactly_once_in_producer_order()
    {
        const int producers = 4, perProducer = 50_000, total = producers * perProducer;
        _lua.Run("""
            n, counted, disorder, last = 0, 0, 0, {}
            function on_item(item)
              local producer, seq = item // 1000000, item % 1000000
              if seq ~= (last[producer] or -1) + 1 then disorder = disorder + 1 end
              last[producer] = seq
              n = n + 1
            end
            """);

        _threads.Start(producers, "producer", p =>
        {
            for (int seq = 0; seq < perProducer; seq++)
            {
                Assert.Equal(DssStatus.Success, _utility.Deliver(p * 1_000_000L + seq));
            }
        });
        _lua.Run($$"""
            local dispatch, wait = darksidesync.dispatch, darksidesync.wait
            while n < {{total}} do
              local ran = dispatch()
              counted = counted + ran
              if ran == 0 and wait(10) == 0 then error('no delivery for 10 s after ' .. n) end
            end
            """, TimeSpan.FromSeconds(120));
        _threads.Join(Patience);

        Assert.Equal(total, _lua.Integer("n"));
        Assert.Equal(total, _lua.Integer("counted"));
        Assert.Equal(0, _lua.Integer("disorder"));
        for (int p = 0; p < producers; p++)
        {
            Assert.Equal(perProducer - 1, _lua.Integer($"last[{p}]"));
        }
        Assert.Equal(0, _lua.Integer("darksidesync.queuesize()"));
    }

    // ---- helpers ----

    private void DeliverItems(long first, long last)
    {
        for (long i = first; i <= last; i++)
        {
            Assert.Equal(DssStatus.Success, _utility.Deliver(i));
        }
    }

    private void DeliverZero() => Assert.Equal(DssStatus.Success, _utility.Utility.Deliver(0, static (_, _) => 0));

    /// <summary>Registers the C ABI utility of <see cref="CApiTestUtility"/> (the test has one).</summary>
    private void RegisterC(CApiLog log)
    {
        _api = _lua.Call(h => CApi.FromRegistry(h.Lua)) ?? throw new InvalidOperationException("The registry publishes no DSS API 1v0.");
        var api = _api;
        _cUtilId = _lua.Call(h =>
        {
            nint utilId = api.Reg(h.State, CApiTestUtility.NewLibId(), log, "c", out int code);
            Assert.Equal(Success, code);
            return utilId;
        });
    }

    // Waits until a producer thread's delivery is queued.
    private void WaitQueued(int count)
    {
        var clock = Stopwatch.StartNew();
        while (_lua.Integer("darksidesync.queuesize()") < count)
        {
            Assert.True(clock.Elapsed < Patience, $"{count} deliveries were never queued");
            Thread.Sleep(1);
        }
    }

    // Lua: deliver_again(x) queues x for on_item through the C# utility (Lua thread, non-blocking).
    private int DeliverAgain(nint state)
    {
        var lua = Lua.FromIntPtr(state);
        lua.PushInteger((long)_utility.Deliver(lua.ToInteger(1)));
        return 1;
    }

    // Lua: register_and_deliver(n) registers a new C# utility (Lua thread) and queues items 1..n for on_item.
    private int RegisterAndDeliver(nint state)
    {
        var lua = Lua.FromIntPtr(state);
        long count = lua.ToInteger(1);
        var status = DssUtility.Register(state, new object(), u => u.Unregister(), out var utility);
        for (long i = 1; status == DssStatus.Success && i <= count; i++)
        {
            status = utility!.Deliver(i, static (stack, item) =>
            {
                Lua.FromIntPtr(stack.State).GetGlobal("on_item");
                stack.PushInteger(100 + item);
                return 2;
            });
        }
        lua.PushInteger((long)status);
        return 1;
    }

    // Lua: unregister_c() unregisters the C ABI utility and returns unreg's code.
    private int UnregisterC(nint state)
    {
        Lua.FromIntPtr(state).PushInteger(_api!.Unreg(_cUtilId));
        return 1;
    }
}
