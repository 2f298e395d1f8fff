using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>
/// <c>darksidesync.dispatch([max [, errorhandler]])</c> of DSS 1.1 in stock <c>lua5.4</c>, with
/// the gcc-built C utilities: dss_producer (non-blocking items from the Lua thread, blocking
/// ones from pthreads), threaded_producer (many pthreads) and faulty_utility (decodes that push
/// nothing, push many values, raise, or unregister). dispatch takes up to <c>max</c> queued
/// deliveries (default: the queue size when called), oldest first, calls each callback
/// directly with the decoded values under the error handler and returns <c>ran, remaining</c>.
/// </summary>
[Collection(NativeCollection.Name)]
public sealed class DispatchNativeSpec(NativeModuleFixture module)
{
    private const string NotStarted = "DSS was not started yet, or already stopped";

    private readonly LuaProcess _lua = new(module) { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>
    /// <see cref="CSampleLua.Prelude"/>, then dss_producer with one producer <c>u</c> whose
    /// callback is the global <c>on_item</c> (so a script defines it after this prelude) and
    /// <c>seen</c>, which the default <c>on_item</c> fills with the sequence numbers.
    /// </summary>
    private const string ProducerPrelude = CSampleLua.Prelude + """
        local producer = require "dss_producer"
        seen = {}
        function on_item(pid, seq) seen[#seen + 1] = seq end
        local u = assert(producer.new{ callback = function(...) return on_item(...) end })

        """;

    // ---- order and values ----

    [Fact]
    public async Task Dispatch_must_return_zero_and_zero_on_an_empty_queue()
    {
        var result = await _lua.RunAsync("""
            local darksidesync = require "darksidesync"
            print(select("#", darksidesync.dispatch()), darksidesync.dispatch())
            """);

        Assert.Equal("2\t0\t0", result.AssertEnded("dispatch on an empty queue").Lines.Single());
    }

    [Fact]
    public async Task Dispatch_must_call_C_callbacks_oldest_first_with_the_decoded_values()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(ProducerPrelude + """
            function on_item(pid, seq) seen[#seen + 1] = pid .. ":" .. seq end
            u:deliver(5)
            print(darksidesync.dispatch())
            print(table.concat(seen, ","))
            """);

        Assert.Equal(["5\t0", "0:1,0:2,0:3,0:4,0:5"], result.AssertEnded("dispatch of five items").Lines);
    }

    [Fact]
    public async Task Dispatch_must_pass_thirty_values_of_a_C_decode_as_arguments()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local got
            local u = assert(fu.new{ callback = function(...) got = table.pack(...) end })
            u:deliver("many", 30)
            print(darksidesync.dispatch())
            local sum = 0
            for i = 1, got.n do sum = sum + got[i] end
            print(got.n, got[1], got[30], sum)
            """);

        Assert.Equal(["1\t0", "30\t1\t30\t465"], result.AssertEnded("dispatch of thirty values").Lines);
    }

    // ---- how much it takes: max, the default, decode-zero ----

    [Fact]
    public async Task Dispatch_max_must_take_at_most_max_deliveries_and_remaining_must_be_the_rest()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(ProducerPrelude + """
            u:deliver(5)
            print(darksidesync.dispatch(2))
            print(table.concat(seen, ","), darksidesync.queuesize())
            print(darksidesync.dispatch())
            """);

        Assert.Equal(["2\t3", "1,2\t3", "3\t0"], result.AssertEnded("dispatch(2) of five items").Lines);
    }

    [Fact]
    public async Task Dispatch_without_max_must_leave_deliveries_queued_by_its_callbacks_for_the_next_call()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local seen, u = {}
            u = assert(fu.new{ callback = function(tag)
              seen[#seen + 1] = tag
              if tag <= 3 then u:deliver("ok") end
            end })
            for _ = 1, 3 do u:deliver("ok") end
            print(darksidesync.dispatch())
            print(table.concat(seen, ","))
            print(darksidesync.dispatch())
            print(table.concat(seen, ","))
            """);

        Assert.Equal(["3\t3", "1,2,3", "3\t0", "1,2,3,4,5,6"], result.AssertEnded("dispatch with callbacks that deliver").Lines);
    }

    [Fact]
    public async Task Dispatch_without_max_must_leave_deliveries_queued_by_a_decode_for_the_next_call()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local seen = {}
            local u = assert(fu.new{ callback = function(tag) seen[#seen + 1] = tag end })
            u:deliver("deliver")   -- its decode delivers item 3, then pushes as "ok"
            u:deliver("deliver")   -- item 2; its decode delivers item 4
            print(darksidesync.dispatch())
            print(table.concat(seen, ","))
            """);

        Assert.Equal(["2\t2", "1,2"], result.AssertEnded("dispatch with decodes that deliver").Lines);
    }

    [Fact]
    public async Task Dispatch_nil_max_with_a_handler_must_take_the_whole_queue()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(ProducerPrelude + """
            u:deliver(4)
            print(darksidesync.dispatch(nil, function(e) end))
            """);

        Assert.Equal("4\t0", result.AssertEnded("dispatch(nil, handler)").Lines.Single());
    }

    [Fact]
    public async Task Decode_zero_deliveries_must_count_toward_max_but_not_in_ran()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local seen = {}
            local u = assert(fu.new{ callback = function(tag) seen[#seen + 1] = tag end })
            u:deliver("zero") u:deliver("zero") u:deliver("ok") u:deliver("ok")
            print(darksidesync.dispatch(2))
            print(darksidesync.dispatch())
            print(table.concat(seen, ","))
            print(u:unregister(), u:check())
            """);

        Assert.Equal(["0\t2", "2\t0", "3,4", "SUCCESS\tok"], result.AssertEnded("dispatch of decode-zero items").Lines);
    }

    // ---- errors in callbacks ----

    [Fact]
    public async Task A_raising_callback_must_count_in_ran_go_to_the_handler_and_dispatch_must_go_on()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(ProducerPrelude + """
            function on_item(pid, seq)
              if seq == 2 then error("callback two failed", 0) end
              seen[#seen + 1] = seq
            end
            u:deliver(3)
            local errors = {}
            print(darksidesync.dispatch(nil, function(e) errors[#errors + 1] = e end))
            print(table.concat(seen, ","), #errors, errors[1])
            """);

        Assert.Equal(["3\t0", "1,3\t1\tcallback two failed"], result.AssertEnded("dispatch with a raising callback").Lines);
    }

    [Fact]
    public async Task The_error_handler_must_run_as_a_message_handler_where_the_traceback_shows_the_callbacks_frame()
    {
        await CSampleBuild.AddToAsync(_lua);

        // Line 2 of the chunk "callbacks" raises; a handler run after unwinding would not see that frame.
        var result = await _lua.RunAsync(ProducerPrelude + """
            on_item = load("return function(pid, seq)\n  error('boom ' .. seq)\nend", "=callbacks")()
            u:deliver(1)
            local message, traceback
            darksidesync.dispatch(nil, function(e) message, traceback = e, debug.traceback(e, 1) end)
            print(message)
            print(traceback:find("\n\tcallbacks:2: in ", 1, true) ~= nil)
            io.stderr:write(traceback, "\n")
            """);

        Assert.Equal(["callbacks:2: boom 1", "true"], result.AssertEnded("dispatch with a traceback handler").Lines);
    }

    [Fact]
    public async Task The_default_handler_must_write_the_error_and_a_traceback_to_stderr_and_dispatch_must_go_on()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(ProducerPrelude + """
            function on_item(pid, seq)
              if seq == 1 then error("callback-one-failed") end
              print("ran", seq)
            end
            u:deliver(2)
            print(darksidesync.dispatch())
            """);

        Assert.Equal(["ran\t2", "2\t0"], result.AssertEnded("dispatch with the default handler").Lines);
        Assert.Contains("callback-one-failed", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("stack traceback", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_callback_that_yields_across_dispatch_must_get_an_error_in_the_handler_and_dispatch_must_go_on()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(ProducerPrelude + """
            function on_item(pid, seq)
              seen[#seen + 1] = seq
              if seq == 1 then coroutine.yield("yielded from a callback") end
            end
            u:deliver(2)
            local errors = {}
            local co = coroutine.wrap(function()
              return "returned", darksidesync.dispatch(nil, function(e) errors[#errors + 1] = tostring(e) end)
            end)
            print(co())
            print(#errors, table.concat(seen, ","))
            io.stderr:write("the handler got: ", tostring(errors[1]), "\n")
            """);

        Assert.Equal(["returned\t2\t0", "1\t1,2"], result.AssertEnded("a callback yielding across dispatch").Lines);
    }

    // ---- decodes that raise ----

    [Fact]
    public async Task A_raising_C_decode_must_go_to_the_handler_and_dispatch_must_go_on_with_the_next_item()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local got, errors = {}, {}
            local u = assert(fu.new{ callback = function(tag) got[#got + 1] = tag end })
            u:deliver("raise")
            u:deliver("ok")
            print(darksidesync.dispatch(nil, function(e) errors[#errors + 1] = e end))
            print(#errors, errors[1]:find("faulty_utility: decode raised for item 1", 1, true) ~= nil, table.concat(got, ","))
            """);

        // ran is 1: the raising decode called no callback.
        Assert.Equal(["1\t0", "1\ttrue\t2"], result.AssertEnded("dispatch after a raising decode").Lines);
    }

    [Fact]
    public async Task A_producer_blocked_on_a_raising_C_decode_must_be_released_with_the_hand_over_status()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local errors = {}
            local u = assert(fu.new{ callback = answer })
            u:ask("raise", "ok")
            queued(1)
            print(darksidesync.dispatch(nil, function(e) errors[#errors + 1] = e end))
            print("handled", #errors, "released", settled(u))
            u:join()
            local s = u:stats()
            print("accepted", s.accepted, "released", s.released, "raised", s.raised)
            print("unregister", u:unregister(), "check", u:check())
            """);

        Assert.Equal(
            [
                "0\t0",
                "handled\t1\treleased\ttrue",
                "accepted\t1\treleased\t1\traised\t1",
                "unregister\tSUCCESS\tcheck\tok",
            ],
            result.AssertEnded("the producer of a delivery whose decode raised under dispatch was never released").Lines);
    }

    [Fact]
    public async Task After_a_raising_C_decode_under_dispatch_the_utility_must_keep_working()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local got = {}
            local u = assert(fu.new{ callback = function(first)
              if type(first) == "userdata" then first(1) else got[#got + 1] = first end
            end })
            u:deliver("raise")
            darksidesync.dispatch(nil, function(e) end)
            u:deliver("ok")
            print(darksidesync.dispatch())
            print(table.concat(got, ","))
            u:produce{ threads = 2, items = 1, blocking = true }
            queued(2)
            print(darksidesync.dispatch(nil, function(e) print("unexpected", e) end))
            print("released", settled(u))
            u:join()
            print(u:unregister(), u:check())
            """);

        Assert.Equal(["1\t0", "2", "2\t0", "released\ttrue", "SUCCESS\tok"], result.AssertEnded("the utility after a raising decode").Lines);
    }

    [Fact]
    public async Task A_raising_C_ret_must_reach_the_handler_through_the_callback_and_release_the_producer()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local errors = {}
            local u = assert(fu.new{ callback = answer })
            u:ask("ok", "raise")
            queued(1)
            print(darksidesync.dispatch(nil, function(e) errors[#errors + 1] = e end))
            collectgarbage()
            collectgarbage()
            print(#errors, errors[1]:find("faulty_utility: ret raised for item 1", 1, true) ~= nil)
            print("released", settled(u))
            u:join()
            local s = u:stats()
            print("accepted", s.accepted, "released", s.released, "raised", s.raised, "garbage", s.garbage)
            print("unregister", u:unregister(), "check", u:check())
            """);

        Assert.Equal(
            [
                "1\t0",
                "1\ttrue",
                "released\ttrue",
                "accepted\t1\treleased\t1\traised\t1\tgarbage\t0",
                "unregister\tSUCCESS\tcheck\tok",
            ],
            result.AssertEnded("the producer of a delivery whose ret raised under dispatch was never released").Lines);
    }

    [Fact]
    public async Task Poll_must_still_raise_the_error_of_a_raising_C_decode_to_its_caller()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = print })
            u:deliver("raise")
            u:deliver("raise")
            darksidesync.dispatch(1, function(e) end)
            print(pcall(darksidesync.poll))
            print("queue", darksidesync.queuesize())
            """);

        Assert.Equal(["false\tfaulty_utility: decode raised for item 2", "queue\t0"], result.AssertEnded("poll after dispatch").Lines);
    }

    [Fact]
    public async Task A_C_decode_raising_a_memory_error_must_end_its_delivery_and_dispatch_must_go_on()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local got, errors = {}, {}
            local u = assert(fu.new{ callback = function(tag) got[#got + 1] = tag end })
            u:deliver("memerr")
            u:deliver("ok")
            local ran, remaining = darksidesync.dispatch(nil, function(e) errors[#errors + 1] = tostring(e) end)
            print(remaining, table.concat(got, ","))
            print(u:unregister(), u:check())
            io.stderr:write("ran ", ran, ", the handler saw ", #errors, " error(s): ", tostring(errors[1]), "\n")
            """);

        Assert.Equal(["0\t2", "SUCCESS\tok"], result.AssertEnded("dispatch after a decode's memory error").Lines);
    }

    [Fact]
    public async Task A_C_decodes_memory_error_must_reach_the_error_handler_although_Lua_calls_none_for_it()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local errors = {}
            local u = assert(fu.new{ callback = function() end })
            u:deliver("memerr")
            darksidesync.dispatch(nil, function(e) errors[#errors + 1] = tostring(e) end)
            print(#errors, errors[1])
            u:unregister()
            """);

        Assert.Equal(["1\tnot enough memory"], result.AssertEnded("a memory error under dispatch").Lines);
    }

    [Fact]
    public async Task An_error_handler_that_unregisters_the_utility_of_a_raising_C_decode_must_not_hang()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local got, status, u = {}
            u = assert(fu.new{ callback = function(tag) got[#got + 1] = tag end })
            u:deliver("raise")
            u:deliver("ok")
            print(darksidesync.dispatch(nil, function(e) status = status or u:unregister() end))
            print(status, #got, "decode(NULL)", u:stats().decode_null, u:check())
            """);

        Assert.Equal(["0\t0", "SUCCESS\t0\tdecode(NULL)\t1\tok"], result.AssertEnded("unregister from the handler of a raising decode").Lines);
    }

    [Fact]
    public async Task An_error_handler_that_stops_DSS_during_a_raising_C_decode_must_end_dispatch_with_remaining_zero()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local got = {}
            local u = assert(fu.new{ callback = function(tag) got[#got + 1] = tag end })
            u:deliver("raise")
            u:deliver("ok")
            u:deliver("ok")
            print(darksidesync.dispatch(nil, function(e) if not stopped() then darksidesync.stop() end end))
            print(#got, "stopped", stopped(), "decode(NULL)", u:stats().decode_null, u:check())
            """);

        Assert.Equal(["0\t0", "0\tstopped\ttrue\tdecode(NULL)\t2\tok"], result.AssertEnded("stop from the handler of a raising decode").Lines);
    }

    [Fact]
    public async Task A_C_decode_that_stops_DSS_must_end_dispatch_with_remaining_zero()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local got = {}
            local u = assert(fu.new{ callback = function(tag) got[#got + 1] = tag end, stopper = darksidesync.stop })
            u:deliver("stop")
            u:deliver("ok")
            u:deliver("ok")
            local ran, remaining = darksidesync.dispatch()
            print(remaining, "later items run", #got > 0 and got[#got] ~= 1, "stopped", stopped())
            print("stopper ok", u:stats().stop_ok, "decode(NULL)", u:stats().decode_null, u:check())
            """);

        Assert.Equal(["0\tlater items run\tfalse\tstopped\ttrue", "stopper ok\ttrue\tdecode(NULL)\t2\tok"],
            result.AssertEnded("a decode that stops DSS under dispatch").Lines);
    }

    [Fact]
    public async Task A_C_decode_that_counts_more_values_than_it_pushed_must_have_its_count_clamped()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local got
            local u = assert(fu.new{ callback = function(...) got = table.pack(...) end })
            u:deliver("overcount")   -- pushes callback, tag; returns 5
            print(darksidesync.dispatch())
            print(got.n, got[1])
            """);

        Assert.Equal(["1\t0", "1\t1"], result.AssertEnded("dispatch of an overcounting decode").Lines);
    }

    [Fact]
    public async Task A_C_decode_that_counts_fewer_values_than_it_pushed_must_have_its_top_values_called()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local got
            local u = assert(fu.new{ callback = function(...) got = table.pack(...) end })
            u:deliver("undercount")   -- pushes "junk", callback, tag; returns 2
            print(darksidesync.dispatch())
            print(got.n, got[1])
            """);

        Assert.Equal(["1\t0", "1\t1"], result.AssertEnded("dispatch of an undercounting decode").Lines);
    }

    [Fact]
    public async Task A_C_decode_whose_first_value_is_not_a_function_must_go_to_the_handler_and_dispatch_must_go_on()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local got, errors = {}, {}
            local u = assert(fu.new{ callback = function(tag) got[#got + 1] = tag end })
            u:deliver("notfunction")
            u:deliver("ok")
            local ran, remaining = darksidesync.dispatch(nil, function(e) errors[#errors + 1] = e end)
            print(remaining, #errors, table.concat(got, ","))
            """);

        Assert.Equal("0\t1\t2", result.AssertEnded("dispatch of a decode that pushed no function").Lines.Single());
    }

    // ---- blocking deliveries ----

    [Fact]
    public async Task A_blocking_deliverys_waitingthread_callback_must_be_the_first_argument_and_return_what_ret_left()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(ProducerPrelude + """
            local results
            function on_item(reply, pid, seq)
              print(type(reply), pid, seq)
              results = table.pack(reply(7))   -- dss_producer's ret pushes the answer back
            end
            u:start{ threads = 1, items = 1, blocking = true }
            queued(1)
            print(darksidesync.dispatch())
            print(results.n, results[1])
            print("released", settled(u))
            u:join()
            local s = u:stats()
            print("ret", s.ret, "answered", s.outcomes.answered)
            """);

        Assert.Equal(["userdata\t1\t1", "1\t0", "1\t7", "released\ttrue", "ret\t1\tanswered\t1"],
            result.AssertEnded("a blocking delivery under dispatch").Lines);
    }

    [Fact]
    public async Task A_waitingthread_callback_a_dispatched_callback_drops_must_release_its_producer_through_the_collector()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(ProducerPrelude + """
            function on_item(reply, pid, seq) end   -- never answers
            u:start{ threads = 1, items = 1, blocking = true }
            queued(1)
            print(darksidesync.dispatch())
            collectgarbage()
            collectgarbage()
            print("released", settled(u))
            u:join()
            local s = u:stats()
            print("garbage", s.ret_garbage, "pending", s.outcomes.pending)
            """);

        Assert.Equal(["1\t0", "released\ttrue", "garbage\t1\tpending\t0"], result.AssertEnded("a dropped waitingthread_callback under dispatch").Lines);
    }

    [Fact]
    public async Task Blocking_round_trips_from_pthreads_must_all_be_answered_through_dispatch()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(ProducerPrelude + """
            local mismatched = 0
            function on_item(reply, pid, seq)
              local answer = pid * 1000 + seq
              if reply(answer) ~= answer then mismatched = mismatched + 1 end
            end
            u:start{ threads = 3, items = 100, blocking = true }
            local handled = 0
            while handled < 300 do
              if darksidesync.wait(5) == 0 then break end
              handled = handled + darksidesync.dispatch()
            end
            print("all threads ended", settled(u))
            u:join()
            local s = u:stats()
            print("handled", handled, "mismatched", mismatched, "answered", s.outcomes.answered,
              "pending", s.outcomes.pending, "fifo violations", s.fifo_violations)
            """);

        Assert.Equal(
            ["all threads ended\ttrue", "handled\t300\tmismatched\t0\tanswered\t300\tpending\t0\tfifo violations\t0"],
            result.AssertEnded("blocking round trips through dispatch").Lines);
    }

    // ---- stop, nesting, unregister from a callback ----

    [Fact]
    public async Task Stop_from_a_callback_must_end_dispatch_after_that_callback_with_remaining_zero()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(ProducerPrelude + """
            function on_item(pid, seq)
              seen[#seen + 1] = seq
              if seq == 2 then darksidesync.stop() end
            end
            u:deliver(5)
            print(darksidesync.dispatch())
            print(table.concat(seen, ","), "decode(NULL)", u:stats().decode_null)
            """);

        Assert.Equal(["2\t0", "1,2\tdecode(NULL)\t3"], result.AssertEnded("stop from a callback under dispatch").Lines);
    }

    [Fact]
    public async Task A_callback_that_stops_and_restarts_DSS_must_end_dispatch_before_the_new_sessions_items()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local seen, v = {}
            local u = assert(fu.new{ callback = function(tag)
              seen[#seen + 1] = "u" .. tag
              if tag == 1 then
                darksidesync.stop()
                darksidesync.start()
                v = assert(fu.new{ callback = function(t) seen[#seen + 1] = "v" .. t end })
                v:deliver("ok")
                v:deliver("ok")
              end
            end })
            u:deliver("ok")
            u:deliver("ok")
            local ran, remaining = darksidesync.dispatch()
            print(ran, table.concat(seen, ","), "queued", darksidesync.queuesize())
            io.stderr:write("remaining after stop() and start(): ", remaining, "\n")
            """);

        Assert.Equal("1\tu1\tqueued\t2", result.AssertEnded("stop and start from a callback under dispatch").Lines.Single());
    }

    [Fact]
    public async Task After_a_callback_stopped_DSS_dispatch_and_poll_must_raise_not_started()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(ProducerPrelude + """
            function on_item() darksidesync.stop() end
            u:deliver(2)
            darksidesync.dispatch()
            local ok, err = pcall(darksidesync.dispatch)
            print("dispatch", ok, err)
            ok, err = pcall(darksidesync.poll)
            print("poll", ok, err)
            """);

        var lines = result.AssertEnded("dispatch and poll after stop").Lines;
        Assert.StartsWith("dispatch\tfalse\t", lines[0]);
        Assert.EndsWith(NotStarted, lines[0]);
        Assert.StartsWith("poll\tfalse\t", lines[1]);
        Assert.EndsWith(NotStarted, lines[1]);
    }

    [Fact]
    public async Task After_stop_dispatch_must_raise_the_same_error_as_queuesize()
    {
        var result = await _lua.RunAsync("""
            local darksidesync = require "darksidesync"
            darksidesync.stop()
            local _, dispatch_error = pcall(darksidesync.dispatch)
            local _, queuesize_error = pcall(darksidesync.queuesize)
            print(dispatch_error == queuesize_error, dispatch_error)
            """);

        Assert.Equal($"true\t{NotStarted}", result.AssertEnded("dispatch after stop").Lines.Single());
    }

    [Fact]
    public async Task A_nested_dispatch_must_take_the_next_items_and_the_outer_must_count_only_its_own()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(ProducerPrelude + """
            local inner
            function on_item(pid, seq)
              seen[#seen + 1] = seq
              if seq == 1 then inner = table.pack(darksidesync.dispatch(2)) end
            end
            u:deliver(5)
            print("outer", darksidesync.dispatch())
            print("inner", inner[1], inner[2])
            print("order", table.concat(seen, ","))
            """);

        Assert.Equal(["outer\t3\t0", "inner\t2\t2", "order\t1,2,3,4,5"], result.AssertEnded("a nested dispatch").Lines);
    }

    [Fact]
    public async Task Unregister_from_a_callback_must_cancel_the_utilitys_later_items_instead_of_dispatching_them()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local seen, status, u = {}
            u = assert(fu.new{ callback = function(tag)
              seen[#seen + 1] = "u" .. tag
              if tag == 2 then status = u:unregister() end
            end })
            local v = assert(fu.new{ callback = function(tag) seen[#seen + 1] = "v" .. tag end })
            for _ = 1, 4 do u:deliver("ok") end
            v:deliver("ok")
            print(darksidesync.dispatch())
            print(table.concat(seen, ","), status)
            print("decode(NULL)", u:stats().decode_null, u:check(), v:unregister(), v:check())
            """);

        Assert.Equal(["3\t0", "u1,u2,v1\tSUCCESS", "decode(NULL)\t2\tok\tSUCCESS\tok"],
            result.AssertEnded("unregister from a callback under dispatch").Lines);
    }

    // ---- bad arguments ----

    [Theory]
    [InlineData("0", 1)]
    [InlineData("-1", 1)]
    [InlineData("1.5", 1)]
    [InlineData("'x'", 1)]
    [InlineData("{}", 1)]
    [InlineData("false", 1)]
    [InlineData("nil, 5", 2)]
    [InlineData("1, 5", 2)]
    [InlineData("nil, {}", 2)]
    public async Task A_bad_argument_must_raise_a_Lua_error_and_take_nothing(string arguments, int argument)
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(ProducerPrelude + $$"""
            u:deliver(1)
            local ok, err = pcall(function() return darksidesync.dispatch({{arguments}}) end)
            print(ok)
            print(err)
            print("queued", darksidesync.queuesize(), "ran", #seen)
            """);

        var lines = result.AssertEnded($"dispatch({arguments})").Lines;
        Assert.Equal("false", lines[0]);
        Assert.Contains($"bad argument #{argument} to 'dispatch'", lines[1], StringComparison.Ordinal);
        Assert.Equal("queued\t1\tran\t0", lines[2]);
    }

    // ---- drain and the dss helper keep their 1.0 behaviour ----

    [Fact]
    public async Task Drain_must_still_run_until_the_queue_is_empty_and_return_the_count()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u
            u = assert(fu.new{ callback = function(tag) if tag <= 3 then u:deliver("ok") end end })
            for _ = 1, 3 do u:deliver("ok") end
            print(darksidesync.drain(), darksidesync.queuesize())
            """);

        Assert.Equal("6\t0", result.AssertEnded("drain with callbacks that deliver").Lines.Single());
    }

    [Fact]
    public async Task The_dss_handler_must_still_drain_everything_on_one_coalesced_wakeup()
    {
        await _lua.AddFaultyUtilityAsync();
        _lua.UseConfig("darksidesync.notification = coalesced");

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local dss = require "dss"
            local skt = assert(dss.getsocket())
            local handler = dss.gethandler()
            local ran, u = 0
            u = assert(fu.new{ callback = function(tag)
              ran = ran + 1
              if tag <= 3 then u:deliver("ok") end
            end })
            for _ = 1, 3 do u:deliver("ok") end
            print("readable", #socket.select({ skt }, nil, 5))
            print("handled", handler(skt), "ran", ran, "left", darksidesync.queuesize())
            """);

        Assert.Equal(["readable\t1", "handled\t6\tran\t6\tleft\t0"], result.AssertEnded("the dss handler on a wake-up").Lines);
    }

    // ---- many producers ----

    [Fact]
    public async Task Four_pthreads_delivering_200k_items_must_each_be_dispatched_exactly_once_in_producer_order()
    {
        await _lua.AddThreadedProducerAsync();
        _lua.Timeout = TimeSpan.FromSeconds(120);

        var result = await _lua.RunAsync("""
            local darksidesync = require "darksidesync"
            local producer = require "threaded_producer"
            local THREADS, ITEMS = 4, 50000
            local total = THREADS * ITEMS
            local last, n, counted, out_of_order = {}, 0, 0, 0
            for t = 1, THREADS do last[t] = 0 end
            local run = producer.start(THREADS, ITEMS, function(t, i)
              if i ~= last[t] + 1 then out_of_order = out_of_order + 1 end
              last[t] = i
              n = n + 1
            end)
            local dispatch, wait = darksidesync.dispatch, darksidesync.wait
            while n < total do
              local ran = dispatch()
              counted = counted + ran
              if ran == 0 and wait(10) == 0 then break end -- nothing for 10 s: items are lost
            end
            print("received", n, "counted", counted, "out of order", out_of_order, "refused", run:join(),
              "left", darksidesync.queuesize(), "last", table.concat(last, ","))
            """);

        Assert.Equal(
            "received\t200000\tcounted\t200000\tout of order\t0\trefused\t0\tleft\t0\tlast\t50000,50000,50000,50000",
            result.AssertEnded("a dispatch loop over 4 pthreads").Lines.Single());
    }
}
