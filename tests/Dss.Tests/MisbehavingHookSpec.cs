using Akka.Event;
using Akka.TestKit.Xunit2;
using DarkSideSync.Tests.Support;
using KeraLua;

namespace DarkSideSync.Tests;

/// <summary>
/// .NET hooks that misbehave: pushing thousands of values, lying about their count, pushing a
/// non-function first, throwing, and re-entering DSS (unregister, deliver, darksidesync.stop())
/// from inside decode, return and dropped. Each delivery still ends exactly once and nothing
/// hangs: the state lives on a <see cref="LuaThread"/>, so a stuck Lua thread fails the test.
/// </summary>
public sealed class MisbehavingHookSpec : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    // Well below the default stop-timeout (10 s): a stop that waited for it is not prompt.
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(5);
    private const string NotStarted = "DSS was not started yet, or already stopped";

    private readonly LuaThread _lua;

    public MisbehavingHookSpec()
    {
        _lua = new LuaThread(Sys);
        _lua.Run("""
            got = {}
            function on_item(...) got[#got + 1] = table.pack(...) end
            function on_ask(answer, x) answer(x) end
            """);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _lua.Dispose();
        }
        base.Dispose(disposing);
    }

    // ---- what decode pushes and claims ----

    [Fact]
    public void A_decode_pushing_ten_thousand_values_hands_every_one_to_the_callback()
    {
        var utility = Register("wide");
        Assert.Equal(DssStatus.Success, utility.Utility.Deliver(10_000, static (lua, count) =>
        {
            Lua.FromIntPtr(lua.State).GetGlobal("on_item");
            for (int i = 1; i < count; i++)
            {
                lua.PushInteger(i);
            }
            return count;
        }));
        _lua.Run("darksidesync.drain()");
        Assert.Equal(9_999, _lua.Integer("got[1].n"));
        Assert.Equal(9_999, _lua.Integer("got[1][9999]"));
    }

    [Fact]
    public async Task A_blocking_decode_pushing_ten_thousand_values_puts_the_waitingthread_callback_first()
    {
        var utility = Register("wide-blocking");
        var answer = utility.Utility.DeliverAndWaitAsync(10_000, static (lua, count) =>
        {
            Lua.FromIntPtr(lua.State).GetGlobal("on_item");
            for (int i = 1; i < count; i++)
            {
                lua.PushInteger(i);
            }
            return count;
        }, static (lua, _) => lua.ToInteger(1) ?? -1);
        _lua.Run("local n, cb, args = darksidesync.poll() width = #args last = args[#args] args[1](args[2] + 41)");
        Assert.Equal(10_000, _lua.Integer("width"));
        Assert.Equal(9_999, _lua.Integer("last"));
        Assert.Equal(42, await answer.WaitAsync(Patience));
    }

    [Fact]
    public void A_decode_claiming_more_values_than_it_pushed_hands_lua_only_what_it_pushed()
    {
        var utility = Register("boaster");
        utility.Utility.Deliver(0, static (lua, _) =>
        {
            Lua.FromIntPtr(lua.State).GetGlobal("on_item");
            lua.PushInteger(7);
            return 50;
        });
        _lua.Run("n, cb, args = darksidesync.poll()");
        Assert.True(_lua.Boolean("cb == on_item"));
        Assert.Equal(1, _lua.Integer("#args"));
        Assert.Equal(7, _lua.Integer("args[1]"));
        Assert.Equal(0, _lua.Integer("n"));
    }

    [Fact]
    public async Task A_decode_returning_a_negative_count_gives_lua_nothing_and_completes_a_blocking_delivery()
    {
        var utility = Register("negative");
        int answers = 0;
        var request = utility.Utility.DeliverAndWaitAsync(0, static (lua, _) =>
        {
            Lua.FromIntPtr(lua.State).GetGlobal("on_item");
            lua.PushInteger(7);
            return -5;
        }, (_, _) => Interlocked.Increment(ref answers));
        Assert.Equal(1, _lua.Integer("select('#', darksidesync.poll())"));
        Assert.Equal(0, await request.WaitAsync(Patience)); // completed without an answer: default
        Assert.Equal(0, answers);
        Assert.Equal(0, _lua.Integer("#got"));
    }

    [Fact]
    public void A_decode_whose_first_value_is_not_a_function_neither_crashes_poll_nor_stops_the_utility()
    {
        var utility = Register("not-a-function");
        int decodes = 0;
        utility.Utility.Deliver(0, (lua, _) =>
        {
            Interlocked.Increment(ref decodes);
            lua.PushInteger(42);
            lua.PushString("x");
            return 2;
        });
        Assert.Equal(DssStatus.Success, utility.Deliver(5));
        // Either poll hands the value through as the "callback", or it raises a Lua error with a message.
        _lua.Run("ok, n, cb, args = pcall(darksidesync.poll)");
        Assert.True(_lua.Boolean("(ok and cb == 42) or (not ok and type(n) == 'string' and #n > 0)"), _lua.String("tostring(n)"));
        Assert.Equal(1, decodes);
        _lua.Run("darksidesync.drain()");
        Assert.Equal(5, _lua.Integer("got[1][1]"));
    }

    // ---- hooks that throw ----

    [Fact]
    public async Task A_dropped_hook_that_throws_is_logged_and_the_other_deliveries_are_still_dropped_once_each()
    {
        var utility = Register("dropping");
        var dropped = new List<int>();
        for (int i = 1; i <= 3; i++)
        {
            utility.Utility.Deliver(i, static (_, _) => 0, (item, _) =>
            {
                lock (dropped)
                {
                    dropped.Add(item);
                }
                if (item == 2)
                {
                    throw new InvalidOperationException("dropped broke");
                }
            });
        }

        await EventFilter.Exception<InvalidOperationException>(contains: "dropped broke").ExpectOneAsync(() =>
        {
            Assert.Equal(DssStatus.Success, utility.Utility.Unregister());
            return Task.CompletedTask;
        });

        Assert.Equal([1, 2, 3], dropped);
        Assert.Equal(-1, _lua.Integer("darksidesync.poll()"));
    }

    [Fact]
    public async Task A_cancel_hook_that_throws_is_logged_and_dss_unregisters_the_utility_and_releases_its_producers()
    {
        var utility = _lua.Call(h => TestUtility.Register(h, "bad-cancel", unregisterOnCancel: false, onCancel: () => throw new InvalidOperationException("cancel broke")));
        var blocked = utility.Ask(1);
        await EventFilter.Exception<InvalidOperationException>(contains: "cancel broke").ExpectOneAsync(() =>
        {
            _lua.Run("darksidesync.stop()", Prompt);
            return Task.CompletedTask;
        });
        Assert.False(utility.Utility.IsRegistered);
        var cancelled = await Assert.ThrowsAsync<DssDeliveryCanceledException>(() => blocked.WaitAsync(Patience));
        Assert.Equal(CancelReason.DssStopped, cancelled.Reason);
    }

    // ---- hooks that unregister their own utility ----

    [Fact]
    public async Task A_decode_that_unregisters_its_utility_gets_success_and_every_outstanding_delivery_ends_once()
    {
        var utility = Register("self-unregistering");
        var ledger = new DeliveryLedger();
        DssStatus? fromDecode = null;
        var request = utility.Utility.DeliverAndWaitAsync(0, (lua, _) =>
        {
            fromDecode = utility.Utility.Unregister();
            Lua.FromIntPtr(lua.State).GetGlobal("on_ask");
            lua.PushInteger(1);
            return 2;
        }, static (_, _) => 0L);
        var behind = new[] { ledger.Ask(utility.Utility), ledger.Ask(utility.Utility) };
        ledger.Tell(utility.Utility);

        _lua.Run("darksidesync.drain()");

        Assert.Equal(DssStatus.Success, fromDecode);
        var cancelled = await Assert.ThrowsAsync<DssDeliveryCanceledException>(() => request.WaitAsync(Patience));
        Assert.Equal(CancelReason.UtilityUnregistered, cancelled.Reason);
        await Task.WhenAll(behind.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default))).WaitAsync(Patience);
        ledger.AssertEveryDeliveryEndedOnce();
        Assert.Equal(-1, _lua.Integer("darksidesync.poll()"));
    }

    [Fact]
    public async Task A_return_hook_that_unregisters_its_utility_still_hands_its_answer_to_the_producer()
    {
        var utility = Register("unregistering-return");
        DssStatus? fromReturn = null;
        var request = utility.Utility.DeliverAndWaitAsync(0, (lua, _) => utility.PushCallback(lua), (lua, _) =>
        {
            fromReturn = utility.Utility.Unregister();
            return lua.ToInteger(1) ?? -1;
        });
        var queued = utility.Ask(2);
        _lua.Run("function on_item(answer) answer(41) end local n, cb, args = darksidesync.poll() cb(table.unpack(args))");

        Assert.Equal(DssStatus.Success, fromReturn);
        Assert.Equal(41, await request.WaitAsync(Patience));
        var cancelled = await Assert.ThrowsAsync<DssDeliveryCanceledException>(() => queued.WaitAsync(Patience));
        Assert.False(cancelled.ReachedLua);
    }

    [Fact]
    public void A_dropped_hook_that_unregisters_again_gets_invalid_utilid_without_waiting_for_itself()
    {
        var utility = Register("dropping-twice");
        var fromDropped = new List<DssStatus>();
        for (int i = 0; i < 2; i++)
        {
            utility.Utility.Deliver(i, static (_, _) => 0, (_, _) => fromDropped.Add(utility.Utility.Unregister()));
        }
        var unregister = Task.Run(utility.Utility.Unregister);
        Assert.Equal(DssStatus.Success, LuaThread.Await(unregister, Patience, "Unregister"));
        Assert.Equal([DssStatus.InvalidUtilId, DssStatus.InvalidUtilId], fromDropped);
    }

    // ---- hooks that deliver again ----

    [Fact]
    public void A_decode_that_delivers_into_an_empty_queue_makes_polls_count_one_and_the_next_poll_gets_it()
    {
        var utility = Register("re-delivering");
        utility.Utility.Deliver(0, (lua, _) =>
        {
            Assert.Equal(DssStatus.Success, utility.Deliver(99));
            utility.PushCallback(lua);
            lua.PushInteger(1);
            return 2;
        });
        _lua.Run("n1 = darksidesync.poll() n2, cb2, args2 = darksidesync.poll()");
        Assert.Equal(1, _lua.Integer("n1"));
        Assert.Equal(0, _lua.Integer("n2"));
        Assert.Equal(99, _lua.Integer("args2[1]"));
    }

    [Fact]
    public async Task A_return_hook_that_delivers_again_queues_the_item_for_the_next_poll()
    {
        var utility = Register("answering-and-delivering");
        DssStatus? fromReturn = null;
        var request = utility.Utility.DeliverAndWaitAsync(0, (lua, _) => utility.PushCallback(lua), (lua, _) =>
        {
            fromReturn = utility.Deliver(77);
            return lua.ToInteger(1) ?? -1;
        });
        _lua.Run("function on_item(answer) if type(answer) == 'number' then got_back = answer else answer(5) end end darksidesync.drain()");
        Assert.Equal(DssStatus.Success, fromReturn);
        Assert.Equal(5, await request.WaitAsync(Patience));
        Assert.Equal(77, _lua.Integer("got_back"));
    }

    [Fact]
    public void A_dropped_hook_that_delivers_to_its_unregistering_utility_is_refused_and_nothing_is_decoded()
    {
        var utility = Register("dropping-and-delivering");
        var fromDropped = DssStatus.Success;
        int decodes = 0;
        utility.Utility.Deliver(0, static (_, _) => 0, (_, _) =>
            fromDropped = utility.Utility.Deliver(1, (_, _) => Interlocked.Increment(ref decodes) * 0));
        Assert.Equal(DssStatus.Success, utility.Utility.Unregister());
        Assert.Equal(DssStatus.InvalidUtilId, fromDropped);
        _lua.Run("darksidesync.drain()");
        Assert.Equal(0, decodes);
    }

    // ---- hooks that run darksidesync.stop() (contract: issue 7, item 2) ----

    [Fact]
    public async Task A_decode_that_runs_darksidesync_stop_has_stop_dss_complete_before_poll_returns()
    {
        var stopper = Register("stopper");
        var bystander = Register("bystander");
        stopper.Utility.Deliver(0, static (lua, _) =>
        {
            Lua.FromIntPtr(lua.State).DoString("stop_raised = darksidesync.stop() == nil");
            return 0;
        });
        var waiting = bystander.Ask(1);

        _lua.Run("pcall(darksidesync.poll)", Prompt);

        AssertStopDssIsOver(stopper, bystander);
        var cancelled = await Assert.ThrowsAsync<DssDeliveryCanceledException>(() => waiting.WaitAsync(Patience));
        Assert.Equal(CancelReason.DssStopped, cancelled.Reason);
    }

    [Fact]
    public async Task A_return_hook_that_runs_darksidesync_stop_has_stop_dss_complete_before_the_callback_returns()
    {
        var stopper = Register("stopper");
        var bystander = Register("bystander");
        var request = stopper.Utility.DeliverAndWaitAsync(0, (lua, _) => stopper.PushCallback(lua), static (lua, _) =>
        {
            Lua.FromIntPtr(lua.State).DoString("darksidesync.stop()");
            return 3L;
        });
        var waiting = bystander.Ask(1);

        _lua.Run("function on_item(answer) answer(1) end local n, cb, args = darksidesync.poll() pcall(cb, table.unpack(args))", Prompt);

        AssertStopDssIsOver(stopper, bystander);
        Assert.Equal(3, await request.WaitAsync(Patience));
        await Assert.ThrowsAsync<DssDeliveryCanceledException>(() => waiting.WaitAsync(Patience));
    }

    [Fact]
    public async Task A_finalizer_that_runs_darksidesync_stop_during_a_full_gc_inside_decode_completes_before_poll_returns()
    {
        var collector = Register("collector");
        var bystander = Register("bystander");
        _lua.Run("doomed = setmetatable({}, { __gc = function() finalized = true stop_ok = pcall(darksidesync.stop) end })");
        collector.Utility.Deliver(0, static (lua, _) =>
        {
            var l = Lua.FromIntPtr(lua.State);
            l.PushNil();
            l.SetGlobal("doomed");
            l.GarbageCollector(LuaGC.Collect, 0); // runs the finalizer now, inside decode
            return 0;
        });
        var waiting = bystander.Ask(1);

        _lua.Run("pcall(darksidesync.poll)", Prompt);

        Assert.True(_lua.Boolean("finalized"));
        AssertStopDssIsOver(collector, bystander);
        await Assert.ThrowsAsync<DssDeliveryCanceledException>(() => waiting.WaitAsync(Patience));
    }

    [Fact]
    public async Task A_finalizer_that_runs_darksidesync_stop_during_a_full_gc_inside_return_completes_before_the_callback_returns()
    {
        var collector = Register("collector");
        var bystander = Register("bystander");
        _lua.Run("doomed = setmetatable({}, { __gc = function() finalized = true pcall(darksidesync.stop) end })");
        var request = collector.Utility.DeliverAndWaitAsync(0, (lua, _) => collector.PushCallback(lua), static (lua, _) =>
        {
            var l = Lua.FromIntPtr(lua.State);
            l.PushNil();
            l.SetGlobal("doomed");
            l.GarbageCollector(LuaGC.Collect, 0);
            return 8L;
        });
        var waiting = bystander.Ask(1);

        _lua.Run("function on_item(answer) answer(1) end local n, cb, args = darksidesync.poll() pcall(cb, table.unpack(args))", Prompt);

        Assert.True(_lua.Boolean("finalized"));
        AssertStopDssIsOver(collector, bystander);
        Assert.Equal(8, await request.WaitAsync(Patience));
        await Assert.ThrowsAsync<DssDeliveryCanceledException>(() => waiting.WaitAsync(Patience));
    }

    [Fact]
    public async Task A_dropped_hook_on_the_lua_thread_that_runs_darksidesync_stop_completes_without_waiting_for_stop_timeout()
    {
        var dropper = Register("dropper");
        var bystander = Register("bystander");
        var waiting = bystander.Ask(1);
        bool? stopRaised = null;
        var clock = System.Diagnostics.Stopwatch.StartNew();

        // Unregister on the Lua thread, so the dropped hook runs there and may run Lua.
        _lua.Call(h =>
        {
            dropper.Utility.Deliver(0, static (_, _) => 0, (_, _) => stopRaised = Lua.FromIntPtr(h.State).DoString("darksidesync.stop()"));
            dropper.Utility.Unregister();
        }, Prompt, "Unregister whose dropped hook runs darksidesync.stop()");

        Assert.True(clock.Elapsed < Prompt, $"took {clock.Elapsed}");
        Assert.False(stopRaised);
        AssertStopDssIsOver(bystander);
        await Assert.ThrowsAsync<DssDeliveryCanceledException>(() => waiting.WaitAsync(Patience));
    }

    // ---- helpers ----

    private TestUtility Register(string name) => _lua.Call(h => TestUtility.Register(h, name));

    private void AssertStopDssIsOver(params TestUtility[] utilities)
    {
        Assert.All(utilities, u => Assert.Equal(1, u.Cancels));
        Assert.All(utilities, u => Assert.False(u.Utility.IsRegistered));
        foreach (var call in new[] { "poll()", "queuesize()", "getport()", "wait(0)" })
        {
            Assert.EndsWith(NotStarted, _lua.Error("darksidesync." + call));
        }
    }
}
