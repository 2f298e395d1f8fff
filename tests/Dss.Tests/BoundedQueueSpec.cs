using System.Diagnostics;
using Akka.TestKit.Xunit2;
using DarkSideSync.Engine;
using DarkSideSync.LuaSide;
using DarkSideSync.Tests.Support;

namespace DarkSideSync.Tests;

/// <summary>
/// setlimit(capacity [, overflow]) bounds a state's queue (DSS 1v1): overflow "fail" refuses a
/// delivery that finds it full with QUEUE_FULL; "block" has producers wait for room, admitted in
/// arrival order as Lua takes items or the limit is raised; a waiting producer is released by
/// unregister (INVALID_UTILID) and stop (NOT_STARTED) with its item never queued.
/// Producers are real OS threads calling the C ABI, and .NET deliveries.
/// </summary>
public sealed class BoundedQueueSpec : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly LuaHost _host;
    private readonly CApi _api;
    private readonly CApiLog _log = new();
    private readonly nint _utilId;

    public BoundedQueueSpec()
    {
        _host = new LuaHost(Sys);
        _host.Run("""
            order = {}
            function on_item(v) order[#order + 1] = v end
            function take(n)
              for _ = 1, n do
                local _, callback, args = darksidesync.poll()
                if callback then callback(table.unpack(args)) end
              end
            end
            """);
        _api = CApi.FromRegistry(_host.Lua)!;
        _utilId = _api.Reg(_host.State, CApiTestUtility.NewLibId(), _log, "bounded", out _);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _host.Dispose(); // releases whatever a failed test left waiting
        }
        base.Dispose(disposing);
    }

    private DssEngine Engine
    {
        get
        {
            LuaBinding.Find(_host.State, out var binding);
            return binding!.Engine!;
        }
    }

    private CApiItem Item(long value) => new(_log, $"item {value}", [value]);

    // A C producer thread whose 1v0 deliver (non-blocking) may have to wait for room.
    private Task<int> Produce(long value)
    {
        var item = Item(value);
        return OnThread.Run($"producer {value}", () => _api.Deliver(_utilId, item));
    }

    private void WaitUntilWaiting(int producers)
    {
        var clock = Stopwatch.StartNew();
        while (Engine.Mailbox.Bound.Waiting != producers)
        {
            Assert.True(clock.Elapsed < Patience, $"never {producers} producers waiting for room (now {Engine.Mailbox.Bound.Waiting})");
            Thread.Sleep(1);
        }
    }

    private string Order => _host.String("table.concat(order, ',')")!;

    private static int Await(Task<int> producer) =>
        producer.Wait(Patience) ? producer.Result : throw new TimeoutException("the producer never returned");

    [Fact]
    public void Overflow_fail_must_refuse_a_delivery_to_a_full_queue_with_QUEUE_FULL_at_once()
    {
        _host.Run("darksidesync.setlimit(2, 'fail')");
        Assert.Equal((int)DssStatus.Success, Await(Produce(1)));
        Assert.Equal((int)DssStatus.Success, Await(Produce(2)));

        var refused = Item(3);
        Assert.Equal((int)DssStatus.QueueFull, Await(OnThread.Run("third", () => _api.Deliver(_utilId, refused))));

        Assert.Equal(2, _host.Integer("darksidesync.queuesize()"));
        Assert.Equal(0, refused.Endings); // never queued: its pData stays the caller's
        Assert.DoesNotContain("decode(NULL) item 3", _log.Entries);
    }

    [Fact]
    public void A_dotnet_Deliver_must_fail_fast_with_QUEUE_FULL_even_with_overflow_block()
    {
        var utility = TestUtility.Register(_host, "fail fast");
        _host.Run("darksidesync.setlimit(1, 'block')");

        Assert.Equal(DssStatus.Success, utility.Deliver(1));
        Assert.Equal(DssStatus.QueueFull, utility.Deliver(2));
        Assert.Equal(1, _host.Integer("darksidesync.queuesize()"));
    }

    [Fact]
    public void Producers_waiting_for_room_must_be_admitted_in_arrival_order_as_Lua_takes_items()
    {
        _host.Run("darksidesync.setlimit(1)");
        Assert.Equal((int)DssStatus.Success, Await(Produce(1)));
        var waiting = new List<Task<int>>();
        for (int i = 2; i <= 4; i++)
        {
            waiting.Add(Produce(i));
            WaitUntilWaiting(i - 1); // one at a time: the arrival order is known
        }

        Assert.Equal(1, _host.Integer("darksidesync.queuesize()")); // the bound holds
        _host.Run("take(1)");
        Assert.Equal((int)DssStatus.Success, Await(waiting[0])); // admitted by the take, not the others
        Assert.Equal(2, Engine.Mailbox.Bound.Waiting);
        _host.Run("take(3)");

        Assert.All(waiting, p => Assert.Equal((int)DssStatus.Success, Await(p)));
        Assert.Equal("1,2,3,4", Order);
    }

    [Fact]
    public void A_new_producer_must_not_barge_past_waiting_ones_when_room_is_made()
    {
        _host.Run("darksidesync.setlimit(1)");
        Assert.Equal((int)DssStatus.Success, Await(Produce(1)));
        var second = Produce(2);
        WaitUntilWaiting(1);
        var third = Produce(3);
        WaitUntilWaiting(2);

        _host.Run("take(3)");

        Assert.Equal((int)DssStatus.Success, Await(second));
        Assert.Equal((int)DssStatus.Success, Await(third));
        Assert.Equal("1,2,3", Order);
    }

    [Fact]
    public void Raising_the_capacity_must_admit_the_waiting_producers_in_order_at_once()
    {
        _host.Run("darksidesync.setlimit(1)");
        Await(Produce(1));
        var waiting = new[] { Produce(2), null!, null! };
        WaitUntilWaiting(1);
        waiting[1] = Produce(3);
        WaitUntilWaiting(2);
        waiting[2] = Produce(4);
        WaitUntilWaiting(3);

        _host.Run("darksidesync.setlimit(3)");

        Assert.Equal(3, _host.Integer("darksidesync.queuesize()")); // two admitted, one waits on
        Assert.Equal(1, Engine.Mailbox.Bound.Waiting);
        Assert.Equal((int)DssStatus.Success, Await(waiting[0]));
        Assert.Equal((int)DssStatus.Success, Await(waiting[1]));
        _host.Run("take(4)");
        Assert.Equal((int)DssStatus.Success, Await(waiting[2]));
        Assert.Equal("1,2,3,4", Order);
    }

    [Fact]
    public void Setlimit_nil_must_admit_every_waiting_producer()
    {
        _host.Run("darksidesync.setlimit(1)");
        Await(Produce(1));
        var second = Produce(2);
        WaitUntilWaiting(1);
        var third = Produce(3);
        WaitUntilWaiting(2);

        _host.Run("darksidesync.setlimit(nil)");

        Assert.Equal((int)DssStatus.Success, Await(second));
        Assert.Equal((int)DssStatus.Success, Await(third));
        Assert.Equal(3, _host.Integer("darksidesync.queuesize()"));
        Assert.Null(Engine.Mailbox.Limit);
        _host.Run("take(3)");
        Assert.Equal("1,2,3", Order);
    }

    [Fact]
    public void Switching_to_fail_must_refuse_the_waiting_producers_with_QUEUE_FULL_and_leave_their_pData_untouched()
    {
        _host.Run("darksidesync.setlimit(1)");
        Await(Produce(1));
        var waitingItem = Item(2);
        var waiting = OnThread.Run("waiting", () => _api.Deliver(_utilId, waitingItem));
        WaitUntilWaiting(1);

        _host.Run("darksidesync.setlimit(1, 'fail')");

        Assert.Equal((int)DssStatus.QueueFull, Await(waiting));
        Assert.Equal(0, waitingItem.Endings);
        Assert.Equal(1, _host.Integer("darksidesync.queuesize()"));
    }

    [Fact]
    public void Lowering_the_capacity_below_the_queue_size_must_drop_nothing()
    {
        _host.Run("darksidesync.setlimit(10, 'fail')");
        for (int i = 1; i <= 5; i++)
        {
            Assert.Equal((int)DssStatus.Success, Await(Produce(i)));
        }

        _host.Run("darksidesync.setlimit(2)");

        Assert.Equal(5, _host.Integer("darksidesync.queuesize()"));
        Assert.Equal((int)DssStatus.QueueFull, Await(Produce(6)));
        _host.Run("take(4)"); // one left: below the new capacity
        Assert.Equal((int)DssStatus.Success, Await(Produce(7)));
        _host.Run("take(2)");
        Assert.Equal("1,2,3,4,5,7", Order);
    }

    [Fact]
    public void Unregister_must_release_a_producer_waiting_for_room_with_INVALID_UTILID_and_never_queue_its_item()
    {
        _host.Run("darksidesync.setlimit(1)");
        Await(Produce(1));
        var waitingItem = Item(2);
        var waiting = OnThread.Run("waiting", () => _api.Deliver(_utilId, waitingItem));
        WaitUntilWaiting(1);

        Assert.Equal((int)DssStatus.Success, _api.Unreg(_utilId));

        Assert.Equal((int)DssStatus.InvalidUtilId, Await(waiting));
        Assert.Equal(0, waitingItem.Endings);
        Assert.Equal(["decode(NULL) item 1"], _log.Starting("decode"));
    }

    [Fact]
    public void Unregister_must_release_only_its_own_waiting_producers()
    {
        var other = _api.Reg(_host.State, CApiTestUtility.NewLibId(), _log, "other", out _);
        _host.Run("darksidesync.setlimit(1)");
        Await(Produce(1));
        var mine = Produce(2);
        WaitUntilWaiting(1);
        var othersItem = new CApiItem(_log, "other 3", [3]);
        var theirs = OnThread.Run("other producer", () => _api.Deliver(other, othersItem));
        WaitUntilWaiting(2);

        _api.Unreg(_utilId);

        Assert.Equal((int)DssStatus.InvalidUtilId, Await(mine));
        Assert.Equal((int)DssStatus.Success, Await(theirs)); // admitted: the unregister withdrew item 1
        _host.Run("take(1)");
        Assert.Equal("3", Order);
    }

    [Fact]
    public void Stop_must_release_every_producer_waiting_for_room_with_NOT_STARTED_and_never_queue_their_items()
    {
        _host.Run("darksidesync.setlimit(1)");
        Await(Produce(1));
        var items = new[] { Item(2), Item(3) };
        var first = OnThread.Run("first", () => _api.Deliver(_utilId, items[0]));
        WaitUntilWaiting(1);
        var second = OnThread.Run("second", () => _api.Deliver(_utilId, items[1]));
        WaitUntilWaiting(2);

        _host.Run("darksidesync.stop()");

        Assert.Equal((int)DssStatus.NotStarted, Await(first));
        Assert.Equal((int)DssStatus.NotStarted, Await(second));
        Assert.All(items, item => Assert.Equal(0, item.Endings));
    }

    [Fact]
    public async Task DeliverAsync_must_wait_for_room_and_complete_once_Lua_takes_an_item()
    {
        var utility = TestUtility.Register(_host, "async");
        _host.Run("darksidesync.setlimit(1, 'fail')"); // the policy is for C's deliver; DeliverAsync waits
        _host.Run("function on_item(v) order[#order + 1] = v end");
        Assert.Equal(DssStatus.Success, utility.Deliver(1));

        var delivering = utility.Utility.DeliverAsync(2L, static (lua, v) => { KeraLua.Lua.FromIntPtr(lua.State).GetGlobal("on_item"); lua.PushInteger(v); return 2; });
        Assert.False(delivering.IsCompleted);
        _host.Run("take(1)");

        Assert.Equal(DssStatus.Success, await delivering.AsTask().WaitAsync(Patience));
        _host.Run("take(1)");
        Assert.Equal("1,2", Order);
    }

    [Fact]
    public async Task DeliverAsync_must_give_up_with_QUEUE_FULL_when_its_timeout_passes_and_never_queue_the_item()
    {
        var utility = TestUtility.Register(_host, "async timeout");
        _host.Run("darksidesync.setlimit(1)");
        Assert.Equal(DssStatus.Success, utility.Deliver(1));
        int dropped = 0;

        var status = await utility.Utility.DeliverAsync(2L, static (_, _) => 0, (_, _) => dropped++, TimeSpan.FromMilliseconds(100)).AsTask().WaitAsync(Patience);

        Assert.Equal(DssStatus.QueueFull, status);
        Assert.Equal(0, Engine.Mailbox.Bound.Waiting);
        Assert.Equal(0, dropped);
        Assert.Equal(1, _host.Integer("darksidesync.queuesize()"));
    }

    [Fact]
    public async Task DeliverAsync_must_be_cancelled_by_its_token_while_it_waits_for_room()
    {
        var utility = TestUtility.Register(_host, "async token");
        _host.Run("darksidesync.setlimit(1)");
        utility.Deliver(1);
        using var cancel = new CancellationTokenSource();

        var delivering = utility.Utility.DeliverAsync(2L, static (_, _) => 0, cancellationToken: cancel.Token).AsTask();
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => delivering.WaitAsync(Patience));
        Assert.Equal(0, Engine.Mailbox.Bound.Waiting);
        Assert.Equal(1, _host.Integer("darksidesync.queuesize()"));
    }

    [Fact]
    public async Task DeliverAndWaitAsync_must_wait_for_room_then_for_the_answer()
    {
        var utility = TestUtility.Register(_host, "ask", callback: "on_ask");
        _host.Run("function on_ask(reply, v) if type(reply) == 'userdata' then reply(v * 10) end end darksidesync.setlimit(1)");
        Assert.Equal(DssStatus.Success, utility.Deliver(1));

        var asking = utility.Ask(4);
        Assert.Equal(1, _host.Integer("darksidesync.queuesize()"));
        _host.Run("take(1)"); // the non-blocking item (to on_ask: no reply); the request is admitted
        _host.Run("take(1)");

        Assert.Equal(40, await asking.WaitAsync(Patience));
    }

    [Fact]
    public async Task DeliverAndWaitAsync_must_be_refused_with_QUEUE_FULL_when_its_timeout_passes_while_it_waits_for_room()
    {
        var utility = TestUtility.Register(_host, "ask timeout", callback: "on_ask");
        _host.Run("darksidesync.setlimit(1)");
        utility.Deliver(1);

        var refused = await Assert.ThrowsAsync<DssDeliveryRefusedException>(() => utility.Ask(5, TimeSpan.FromMilliseconds(100)).WaitAsync(Patience));

        Assert.Equal(DssStatus.QueueFull, refused.Status);
        Assert.Equal(1, _host.Integer("darksidesync.queuesize()"));
    }

    [Fact]
    public void The_engine_own_deliveries_must_pass_a_full_queue()
    {
        var utility = TestUtility.Register(_host, "engine own");
        _host.Run("darksidesync.setlimit(1, 'fail')");
        Assert.Equal(DssStatus.Success, utility.Deliver(1));

        Assert.Equal(DssStatus.Success, utility.Utility.DeliverPastTheBound(2L, static (lua, v) => { lua.PushInteger(v); return 0; }));

        Assert.Equal(2, _host.Integer("darksidesync.queuesize()"));
    }

    [Fact]
    public void A_bounded_queue_must_never_hold_more_than_its_capacity_while_4_producers_flood_it()
    {
        const int Capacity = 50, PerProducer = 2_000;
        _host.Run($"darksidesync.setlimit({Capacity})");
        var threads = new RawThreads();
        threads.Start(4, "flood", p =>
        {
            for (int i = 0; i < PerProducer; i++)
            {
                Assert.Equal((int)DssStatus.Success, _api.Deliver(_utilId, new CApiItem(_log, $"{p}.{i}", [(p * 1_000_000L) + i])));
            }
        });
        _host.Run("""
            per, most, bad = {}, 0, 0
            function on_item(v)
              local p, i = v // 1000000, v % 1000000
              if (per[p] or -1) + 1 ~= i then bad = bad + 1 end
              per[p] = i
            end
            """);
        var clock = Stopwatch.StartNew();
        long taken = 0;
        while (taken < 4 * PerProducer)
        {
            Assert.True(clock.Elapsed < Patience * 3, $"only {taken} items arrived");
            long size = _host.Integer("darksidesync.queuesize()");
            Assert.InRange(size, 0, Capacity);
            taken += _host.Integer("""
                (function()
                  local n = 0
                  while true do
                    local c, callback, args = darksidesync.poll()
                    if c == -1 then return n end
                    callback(table.unpack(args)) n = n + 1
                  end
                end)()
                """);
        }
        threads.Join(Patience);

        Assert.Equal(0, _host.Integer("bad")); // each producer's items in its order
    }

    // ---- the Lua function ----

    [Fact]
    public void Setlimit_must_return_the_previous_capacity_and_overflow()
    {
        Assert.Equal("nil block", _host.String("(function() local c, o = darksidesync.setlimit(5, 'fail') return tostring(c) .. ' ' .. o end)()"));
        Assert.Equal("5 fail", _host.String("(function() local c, o = darksidesync.setlimit(7) return tostring(c) .. ' ' .. o end)()"));
        Assert.Equal("7 fail", _host.String("(function() local c, o = darksidesync.setlimit() return tostring(c) .. ' ' .. o end)()"));
        Assert.Equal("nil fail", _host.String("(function() local c, o = darksidesync.setlimit(nil, 'block') return tostring(c) .. ' ' .. o end)()"));
    }

    [Fact]
    public void Setlimit_must_accept_integers_as_luaL_checkinteger_does()
    {
        _host.Run("darksidesync.setlimit(3.0) darksidesync.setlimit('4')");
        Assert.Equal(4, _host.Integer("(darksidesync.setlimit())"));
    }

    [Theory]
    [InlineData("darksidesync.setlimit(0)", "bad argument #1 to 'setlimit' (capacity must be nil or from 1 to 2147483647, got 0)")]
    [InlineData("darksidesync.setlimit(-3)", "bad argument #1 to 'setlimit' (capacity must be nil or from 1 to 2147483647, got -3)")]
    [InlineData("darksidesync.setlimit(2.5)", "bad argument #1 to 'setlimit' (number has no integer representation)")]
    [InlineData("darksidesync.setlimit('many')", "bad argument #1 to 'setlimit' (number expected, got string)")]
    [InlineData("darksidesync.setlimit({})", "bad argument #1 to 'setlimit' (number expected, got table)")]
    [InlineData("darksidesync.setlimit(2^40)", "bad argument #1 to 'setlimit' (capacity must be nil or from 1 to 2147483647, got 1099511627776)")]
    [InlineData("darksidesync.setlimit(5, 'drop')", "bad argument #2 to 'setlimit' (invalid option 'drop')")]
    [InlineData("darksidesync.setlimit(5, true)", "bad argument #2 to 'setlimit' (string expected, got boolean)")]
    public void Setlimit_must_raise_a_clear_error_on_a_bad_argument_and_change_nothing(string call, string message)
    {
        string error = _host.Error(call);

        Assert.EndsWith(message, error);
        Assert.StartsWith("[string", error); // raised at the caller's line, as Lua's own errors
        Assert.Null(Engine.Mailbox.Limit);
        Assert.Equal("nil block", _host.String("(function() local c, o = darksidesync.setlimit() return tostring(c) .. ' ' .. o end)()"));
    }

    [Fact]
    public void The_limit_must_survive_stop_and_start()
    {
        _host.Run("darksidesync.setlimit(3, 'fail') darksidesync.stop() darksidesync.start()");

        Assert.Equal(3, Engine.Mailbox.Limit!.Capacity);
        Assert.True(Engine.Mailbox.Limit.FailWhenFull);
        Assert.Equal("3 fail", _host.String("(function() local c, o = darksidesync.setlimit() return tostring(c) .. ' ' .. o end)()"));
    }

    [Fact]
    public void Setlimit_after_stop_must_raise_the_not_started_error()
    {
        _host.Run("darksidesync.stop()");

        Assert.EndsWith("DSS was not started yet, or already stopped", _host.Error("darksidesync.setlimit(3)"));
    }
}
