using System.Diagnostics;
using Akka.TestKit.Xunit2;
using DarkSideSync.Engine;
using DarkSideSync.LuaSide;
using DarkSideSync.NativeAbi;
using DarkSideSync.Tests.Support;

namespace DarkSideSync.Tests;

/// <summary>
/// The C ABI 1v1 through the registry's function pointers: the struct beside 1v0, deliver_ex's
/// timeouts in the three places an item can be (waiting for room: QUEUE_FULL; queued:
/// TIMED_OUT and decode(NULL) once; held by Lua: TIMED_OUT and ret(NULL) once, the later
/// callback call doing nothing) and queuesize. Producers are real OS threads.
/// </summary>
public sealed unsafe class DeliverExSpec : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly LuaHost _host;
    private readonly CApi _api;
    private readonly CApi1v1 _api11;
    private readonly CApiLog _log = new();
    private readonly nint _utilId;

    public DeliverExSpec()
    {
        _host = new LuaHost(Sys);
        _host.Run("""
            function on_item(...) end
            function on_ask(reply, v) held = reply end
            function take()
              local _, callback, args = darksidesync.poll()
              if callback then callback(table.unpack(args)) end
            end
            """);
        _api = CApi.FromRegistry(_host.Lua)!;
        _api11 = CApi1v1.FromRegistry(_host.Lua) ?? throw new InvalidOperationException("The registry publishes no DSS API 1v1.");
        _utilId = _api.Reg(_host.State, CApiTestUtility.NewLibId(), _log, "ex", out _);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _host.Dispose();
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

    private static int Await(Task<int> producer) =>
        producer.Wait(Patience) ? producer.Result : throw new TimeoutException("deliver_ex never returned");

    private CApiItem Ask(string name, long value) => new(_log, name, [value], blocking: true, callback: "on_ask");

    private void WaitUntil(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Patience, what);
            Thread.Sleep(1);
        }
    }

    // ---- the struct ----

    [Fact]
    public void The_registry_must_publish_the_1v1_struct_beside_1v0_beginning_with_the_1v0_functions()
    {
        Assert.Equal("DSS API 1v1", _api11.Version);
        Assert.Equal((nint)DssCApi.Instance1v1, _api11.Address);
        var v0 = DssCApi.Instance;
        var v1 = _api11.Struct;
        Assert.Equal((nint)v0->Reg, (nint)v1->Reg);
        Assert.Equal((nint)v0->GetUtilId, (nint)v1->GetUtilId);
        Assert.Equal((nint)v0->Deliver, (nint)v1->Deliver);
        Assert.Equal((nint)v0->Unreg, (nint)v1->Unreg);
        Assert.NotEqual(0, (nint)v1->DeliverEx);
        Assert.NotEqual(0, (nint)v1->QueueSize);
        Assert.Equal("DSS API 1v0", CApi.FromRegistry(_host.Lua)!.Version);
    }

    [Fact]
    public void Stop_must_remove_both_structs_and_keep_the_table_and_start_must_publish_both_again()
    {
        _host.Run("darksidesync.stop()");
        Assert.Null(CApi1v1.FromRegistry(_host.Lua));
        Assert.Null(CApi.FromRegistry(_host.Lua));
        Assert.Equal("table", _host.String("type(debug.getregistry()['DSS.DarkSideSync'])"));

        _host.Run("darksidesync.start()");
        Assert.NotNull(CApi1v1.FromRegistry(_host.Lua));
        Assert.NotNull(CApi.FromRegistry(_host.Lua));
    }

    [Fact]
    public void Queuesize_must_count_the_queued_deliveries_of_the_utility_state_and_refuse_a_bogus_utilid()
    {
        Assert.Equal(0, _api11.QueueSize(_utilId));
        _api11.DeliverEx(_utilId, new CApiItem(_log, "a", [1]), 0);
        _api11.DeliverEx(_utilId, new CApiItem(_log, "b", [2]), -1);

        Assert.Equal(2, Await(OnThread.Run("queuesize", () => _api11.QueueSize(_utilId))));
        Assert.Equal((int)DssStatus.InvalidUtilId, _api11.QueueSize(unchecked((nint)0xDEADBEEF)));
        _api.Unreg(_utilId);
        Assert.Equal((int)DssStatus.InvalidUtilId, _api11.QueueSize(_utilId));
    }

    // ---- deliver_ex into a bounded queue ----

    [Fact]
    public void Timeout_0_must_refuse_a_full_queue_with_QUEUE_FULL_at_once_even_with_overflow_block()
    {
        _host.Run("darksidesync.setlimit(1, 'block')");
        _api11.DeliverEx(_utilId, new CApiItem(_log, "first", [1]), 0);
        var item = new CApiItem(_log, "second", [2]);
        var clock = Stopwatch.StartNew();

        Assert.Equal((int)DssStatus.QueueFull, Await(OnThread.Run("at once", () => _api11.DeliverEx(_utilId, item, 0))));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        Assert.Equal(0, item.Endings);
    }

    [Fact]
    public void A_negative_timeout_must_wait_for_room_even_with_overflow_fail()
    {
        _host.Run("darksidesync.setlimit(1, 'fail')");
        _api11.DeliverEx(_utilId, new CApiItem(_log, "first", [1]), 0);

        var waiting = OnThread.Run("waits", () => _api11.DeliverEx(_utilId, new CApiItem(_log, "second", [2]), -1));
        WaitUntil(() => Engine.Mailbox.Bound.Waiting == 1, "the producer never waited for room");
        _host.Run("take()");

        Assert.Equal((int)DssStatus.Success, Await(waiting));
        Assert.Equal(1, _api11.QueueSize(_utilId));
    }

    [Fact]
    public void A_producer_waiting_under_overflow_fail_must_wait_on_when_setlimit_keeps_the_policy()
    {
        _host.Run("darksidesync.setlimit(1, 'fail')");
        _api11.DeliverEx(_utilId, new CApiItem(_log, "first", [1]), 0);
        var waiting = OnThread.Run("waits", () => _api11.DeliverEx(_utilId, new CApiItem(_log, "second", [2]), -1));
        WaitUntil(() => Engine.Mailbox.Bound.Waiting == 1, "the producer never waited for room");

        _host.Run("darksidesync.setlimit(1, 'fail')"); // no switch from block: nobody is refused
        Assert.Equal(1, Engine.Mailbox.Bound.Waiting);
        _host.Run("take()");

        Assert.Equal((int)DssStatus.Success, Await(waiting));
    }

    [Fact]
    public void A_timeout_that_passes_while_waiting_for_room_must_return_QUEUE_FULL_and_leave_pData_untouched()
    {
        _host.Run("darksidesync.setlimit(1)");
        _api11.DeliverEx(_utilId, new CApiItem(_log, "first", [1]), 0);
        var blocking = Ask("blocking", 2);
        var plain = new CApiItem(_log, "plain", [3]);

        Assert.Equal((int)DssStatus.QueueFull, Await(OnThread.Run("blocking", () => _api11.DeliverEx(_utilId, blocking, 150))));
        Assert.Equal((int)DssStatus.QueueFull, Await(OnThread.Run("plain", () => _api11.DeliverEx(_utilId, plain, 150))));

        Assert.Equal(0, blocking.Endings);
        Assert.Equal(0, plain.Endings);
        Assert.Equal(0, Engine.Mailbox.Bound.Waiting);
        Assert.Equal(1, _api11.QueueSize(_utilId));
    }

    // ---- deliver_ex timeouts of a blocking delivery ----

    [Fact]
    public void A_queued_item_that_times_out_must_return_TIMED_OUT_after_decode_NULL_ran_once_and_leave_the_queue()
    {
        var item = Ask("queued", 1);
        var clock = Stopwatch.StartNew();

        Assert.Equal((int)DssStatus.TimedOut, Await(OnThread.Run("times out", () => _api11.DeliverEx(_utilId, item, 150))));

        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(140), $"returned after {clock.Elapsed}");
        Assert.Equal(["decode(NULL) queued"], _log.Entries);
        Assert.Equal(1, item.Endings);
        Assert.Equal(0, _api11.QueueSize(_utilId));
        Assert.Equal(-1, _host.Integer("darksidesync.poll()")); // withdrawn: Lua never gets it
        Assert.Equal(1, item.Endings);
    }

    [Fact]
    public void An_item_Lua_holds_that_times_out_must_return_TIMED_OUT_after_ret_NULL_ran_once_and_its_later_callback_call_does_nothing()
    {
        var item = Ask("held", 7);
        var producer = OnThread.Run("held", () => _api11.DeliverEx(_utilId, item, 200));
        WaitUntil(() => _api11.QueueSize(_utilId) == 1, "never queued");
        _host.Run("take()"); // on_ask keeps the waitingthread_callback in `held`

        Assert.Equal((int)DssStatus.TimedOut, Await(producer));
        Assert.Equal(["decode held", "ret(NULL) held"], _log.Entries);

        Assert.Equal(0, _host.Integer("select('#', held(1, 2))")); // spent: no values, no ret call
        Assert.Equal(1, item.Endings);
        Assert.Null(item.Answer);
        Assert.Equal(0, Engine.Mailbox.Count);
    }

    [Fact]
    public void A_blocking_item_answered_in_time_must_return_SUCCESS_with_the_answer()
    {
        var item = Ask("answered", 7);
        var producer = OnThread.Run("answered", () => _api11.DeliverEx(_utilId, item, 5_000));
        WaitUntil(() => _api11.QueueSize(_utilId) == 1, "never queued");
        _host.Run("take() held(42)");

        Assert.Equal((int)DssStatus.Success, Await(producer));
        Assert.Equal([42L], item.Answer!);
        Assert.Equal(1, item.Endings);
    }

    [Fact]
    public void The_timeout_must_count_from_entry_across_the_wait_for_room_and_the_wait_for_the_answer()
    {
        _host.Run("darksidesync.setlimit(1)");
        _api11.DeliverEx(_utilId, new CApiItem(_log, "first", [1]), 0);
        var item = Ask("late", 2);
        var clock = Stopwatch.StartNew();
        var producer = OnThread.Run("late", () => _api11.DeliverEx(_utilId, item, 400));
        WaitUntil(() => Engine.Mailbox.Bound.Waiting == 1, "never waited for room");
        Thread.Sleep(250);
        _host.Run("take()"); // room after ~250 ms: about 150 ms are left for the answer

        Assert.Equal((int)DssStatus.TimedOut, Await(producer));
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(390), TimeSpan.FromMilliseconds(2_000));
        Assert.Equal(1, item.Endings);
        Assert.Contains("decode(NULL) late", _log.Entries);
    }

    [Fact]
    public void A_timeout_0_blocking_delivery_must_wait_for_its_answer_without_bound()
    {
        var item = Ask("patient", 3);
        var producer = OnThread.Run("patient", () => _api11.DeliverEx(_utilId, item, 0));
        WaitUntil(() => _api11.QueueSize(_utilId) == 1, "never queued");
        Thread.Sleep(300);
        Assert.False(producer.IsCompleted);
        _host.Run("take() held(9)");

        Assert.Equal((int)DssStatus.Success, Await(producer));
        Assert.Equal([9L], item.Answer!);
    }

    [Fact]
    public void Unregister_must_release_a_deliver_ex_with_SUCCESS_as_1v0_does()
    {
        var item = Ask("cancelled", 3);
        var producer = OnThread.Run("cancelled", () => _api11.DeliverEx(_utilId, item, 5_000));
        WaitUntil(() => _api11.QueueSize(_utilId) == 1, "never queued");

        _api.Unreg(_utilId);

        Assert.Equal((int)DssStatus.Success, Await(producer));
        Assert.Equal(["decode(NULL) cancelled"], _log.Starting("decode"));
        Assert.Equal(1, item.Endings);
    }

    // ---- 1v0 beside 1v1 ----

    [Fact]
    public void A_1v0_utility_must_work_unchanged_next_to_a_1v1_one()
    {
        var oldLog = new CApiLog();
        nint old = _api.Reg(_host.State, CApiTestUtility.NewLibId(), oldLog, "1v0", out _);
        _host.Run("function on_ask(reply, v) reply(v + 1) end");

        var oldItem = new CApiItem(oldLog, "old", [10], blocking: true, callback: "on_ask");
        var newItem = Ask("new", 20);
        var oldProducer = OnThread.Run("1v0", () => _api.Deliver(old, oldItem));
        var newProducer = OnThread.Run("1v1", () => _api11.DeliverEx(_utilId, newItem, 5_000));
        WaitUntil(() => Engine.Mailbox.Count == 2, "never both queued");
        _host.Run("take() take()");

        Assert.Equal((int)DssStatus.Success, Await(oldProducer));
        Assert.Equal((int)DssStatus.Success, Await(newProducer));
        Assert.Equal([11L], oldItem.Answer!);
        Assert.Equal([21L], newItem.Answer!);
    }

    [Fact]
    public void Deliver_ex_must_refuse_what_deliver_refuses()
    {
        var item = new CApiItem(_log, "x", [1]);

        Assert.Equal((int)DssStatus.InvalidUtilId, _api11.Struct->DeliverEx(0, CApiTestUtility.Decode, 0, item.PData, 100));
        Assert.Equal((int)DssStatus.NoDecodeProvided, _api11.Struct->DeliverEx(_utilId, 0, 0, item.PData, 100));
        Assert.Equal(0, item.Endings);
    }
}
