using System.Diagnostics;
using Akka.TestKit.Xunit2;
using DarkSideSync.NativeAbi;
using DarkSideSync.Tests.Support;
using KeraLua;

namespace DarkSideSync.Tests;

/// <summary>
/// The C ABI 1v0, called for real: the struct is read from the registry and every entry point
/// and hook goes through Cdecl function pointers, as a C utility would use them.
/// </summary>
public sealed unsafe class CApiSpec : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    // Releasing takes a few ms; a second is 10x room on a noisy 2-core machine and still far
    // below any timeout DSS could have waited for (ask-timeout, stop-timeout).
    private static readonly TimeSpan ReleaseLimit = TimeSpan.FromSeconds(1);
    private const int Success = (int)DssStatus.Success;

    private readonly LuaHost _host;
    private readonly CApi _api;
    private readonly CApiLog _log = new();

    public CApiSpec()
    {
        _host = new LuaHost(Sys);
        _host.Run("function on_item(...) received = { ... } end kept = {}");
        _api = CApi.FromRegistry(_host.Lua) ?? throw new InvalidOperationException("The registry publishes no DSS API 1v0.");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _host.Dispose(); // releases whatever a failed test left blocked
        }
        base.Dispose(disposing);
    }

    // ---- the struct in the registry ----

    [Fact]
    public void The_registry_publishes_the_api_struct_with_version_dss_api_1v0()
    {
        Assert.Equal("DSS API 1v0", _api.Version);
        Assert.Equal((nint)DssCApi.Instance, _api.Address);
    }

    [Fact]
    public void The_registry_table_has_a_version_string()
    {
        Assert.Equal("string", _host.String("type(debug.getregistry()['DSS.DarkSideSync'].Version)"));
        Assert.Equal(DssModule.Version, _host.String("debug.getregistry()['DSS.DarkSideSync'].Version"));
    }

    // ---- reg and getutilid ----

    [Fact]
    public void Reg_without_cancel_returns_null_and_no_cancel_provided()
    {
        int errcode;
        nint utilId = _api.RegRaw(_host.State, CApiTestUtility.NewLibId(), 0, &errcode);
        Assert.Equal(0, utilId);
        Assert.Equal((int)DssStatus.NoCancelProvided, errcode);
    }

    [Fact]
    public void Reg_twice_for_the_same_libid_returns_already_registered_and_the_same_utilid()
    {
        nint libId = CApiTestUtility.NewLibId();
        nint first = _api.Reg(_host.State, libId, _log, "a", out int firstCode);
        nint second = _api.Reg(_host.State, libId, _log, "a", out int secondCode);
        Assert.Equal(Success, firstCode);
        Assert.Equal((int)DssStatus.AlreadyRegistered, secondCode);
        Assert.NotEqual(0, first);
        Assert.Equal(first, second);
    }

    [Fact]
    public void Getutilid_of_an_unknown_libid_returns_null_and_unknown_lib()
    {
        nint utilId = _api.GetUtilId(_host.State, CApiTestUtility.NewLibId(), out int errcode);
        Assert.Equal(0, utilId);
        Assert.Equal((int)DssStatus.UnknownLib, errcode);
    }

    [Fact]
    public void Getutilid_of_a_registered_libid_returns_its_utilid_and_success()
    {
        nint libId = CApiTestUtility.NewLibId();
        nint registered = _api.Reg(_host.State, libId, _log, "a", out _);
        nint found = _api.GetUtilId(_host.State, libId, out int errcode);
        Assert.Equal(Success, errcode);
        Assert.Equal(registered, found);
    }

    [Fact]
    public void Reg_and_getutilid_accept_null_errcode_pointers()
    {
        nint libId = CApiTestUtility.NewLibId();
        nint registered = _api.RegRaw(_host.State, libId, CApiTestUtility.CancelAndUnreg, null);
        Assert.NotEqual(0, registered);
        Assert.Equal(registered, _api.GetUtilIdRaw(_host.State, libId, null));
        Assert.Equal(0, _api.GetUtilIdRaw(_host.State, CApiTestUtility.NewLibId(), null));
        Assert.Equal(0, _api.RegRaw(_host.State, CApiTestUtility.NewLibId(), 0, null));
        Assert.Equal(Success, _api.Unreg(registered));
    }

    [Fact]
    public void Reg_in_a_state_where_darksidesync_was_never_loaded_returns_no_globals()
    {
        using var raw = new Lua();
        nint utilId = _api.Reg(raw.Handle, CApiTestUtility.NewLibId(), _log, "a", out int errcode);
        Assert.Equal(0, utilId);
        Assert.Equal((int)DssStatus.NoGlobals, errcode);
        _api.GetUtilId(raw.Handle, CApiTestUtility.NewLibId(), out errcode);
        Assert.Equal((int)DssStatus.NoGlobals, errcode);
    }

    // ---- deliver ----

    [Fact]
    public void Deliver_with_a_null_utilid_returns_invalid_utilid()
    {
        var item = new CApiItem(_log, "x", [1]);
        Assert.Equal((int)DssStatus.InvalidUtilId, _api.DeliverRaw(0, CApiTestUtility.Decode, 0, item.PData));
        Assert.Empty(_log.Entries);
    }

    [Fact]
    public void Deliver_with_a_bogus_utilid_returns_invalid_utilid()
    {
        var item = new CApiItem(_log, "x", [1]);
        Assert.Equal((int)DssStatus.InvalidUtilId, _api.DeliverRaw(unchecked((nint)0xDEADBEEF), CApiTestUtility.Decode, 0, item.PData));
        Assert.Equal((int)DssStatus.InvalidUtilId, _api.DeliverRaw(unchecked((nint)0xDEADBEEF), CApiTestUtility.Decode, CApiTestUtility.Ret, item.PData));
        Assert.Empty(_log.Entries);
    }

    [Fact]
    public void Deliver_without_decode_returns_no_decode_provided()
    {
        nint utilId = Register("a");
        var item = new CApiItem(_log, "x", [1]);
        Assert.Equal((int)DssStatus.NoDecodeProvided, _api.DeliverRaw(utilId, 0, 0, item.PData));
        Assert.Equal(0, QueueSize());
    }

    [Fact]
    public void Deliver_after_unreg_returns_invalid_utilid()
    {
        nint utilId = Register("a");
        Assert.Equal(Success, _api.Unreg(utilId));
        Assert.Equal((int)DssStatus.InvalidUtilId, _api.Deliver(utilId, new CApiItem(_log, "x", [1])));
        Assert.Equal(0, QueueSize());
    }

    [Fact]
    public void Non_blocking_deliver_returns_success_and_poll_gets_what_decode_pushed()
    {
        nint utilId = Register("a");
        var item = new CApiItem(_log, "x", [7, 8]);
        Assert.Equal(Success, _api.Deliver(utilId, item));
        _host.Run("n, cb, args = darksidesync.poll()");
        Assert.Equal(0, _host.Integer("n"));
        Assert.True(_host.Boolean("cb == on_item"));
        Assert.Equal(2, _host.Integer("#args"));
        Assert.Equal(7, _host.Integer("args[1]"));
        Assert.Equal(8, _host.Integer("args[2]"));
        Assert.Equal([utilId], item.UtilIdsSeen);
    }

    [Fact]
    public void Blocking_deliver_blocks_until_lua_calls_args1_and_ret_sees_the_values()
    {
        nint utilId = Register("a");
        var item = new CApiItem(_log, "x", [20], blocking: true);
        var producer = DeliverBlocking(utilId, item);
        _host.Run("local n, cb, args = darksidesync.poll() answer, value = args[1], args[2]");
        Assert.False(producer.Join(TimeSpan.FromMilliseconds(200)), "deliver returned before Lua answered");
        _host.Run("answer(value + 1, 5)");
        Assert.True(producer.Join(Patience));
        Assert.Equal(DssStatus.Success, producer.Status);
        Assert.Equal([21, 5], item.Answer ?? []);
        Assert.Equal([utilId, utilId], item.UtilIdsSeen); // decode, then ret
    }

    [Fact]
    public void Calling_args1_again_is_a_no_op_that_returns_nothing()
    {
        nint utilId = Register("a");
        var producer = DeliverBlocking(utilId, new CApiItem(_log, "x", [1], blocking: true));
        _host.Run("local n, cb, args = darksidesync.poll() answer = args[1] answer(1)");
        Assert.True(producer.Join(Patience));
        Assert.Equal(0, _host.Integer("select('#', answer(2))"));
        Assert.Equal(["decode x", "ret x [1]"], _log.Entries);
    }

    [Fact]
    public void Dropping_args1_uncalled_calls_ret_with_garbage_and_releases_the_deliverer()
    {
        nint utilId = Register("a");
        var producer = DeliverBlocking(utilId, new CApiItem(_log, "x", [1], blocking: true));
        _host.Run("(function() local n, cb, args = darksidesync.poll() end)() collectgarbage() collectgarbage()");
        Assert.True(producer.Join(Patience), "the deliverer is still blocked after args[1] was collected");
        Assert.Equal(DssStatus.Success, producer.Status);
        Assert.Equal(["decode x", "ret garbage x"], _log.Entries);
    }

    [Fact]
    public void Decode_pushing_nothing_completes_a_blocking_delivery_without_ret()
    {
        nint utilId = Register("a");
        var producer = DeliverBlocking(utilId, new CApiItem(_log, "x", values: null, blocking: true));
        Assert.Equal(0, _host.Integer("select('#', darksidesync.poll()) == 1 and darksidesync.queuesize() or -1"));
        Assert.True(producer.Join(Patience));
        Assert.Equal(DssStatus.Success, producer.Status);
        Assert.Equal(["decode x"], _log.Entries);
    }

    // ---- unreg ----

    [Fact]
    public void Unreg_cancels_queued_items_with_decode_null_once_each_in_fifo_order()
    {
        nint utilId = Register("a");
        var producers = Enumerable.Range(1, 3).Select(i => DeliverBlocking(utilId, new CApiItem(_log, $"q{i}", [i], blocking: true))).ToList();
        Assert.Equal(Success, _api.Deliver(utilId, new CApiItem(_log, "q4", [4])));
        Assert.Equal(Success, _api.Unreg(utilId));
        Assert.All(producers, p => Assert.True(p.Join(Patience)));
        Assert.Equal(["decode(NULL) q1", "decode(NULL) q2", "decode(NULL) q3", "decode(NULL) q4"], _log.Entries);
        Assert.Equal(-1, _host.Integer("darksidesync.poll()"));
    }

    [Fact]
    public void Unreg_cancels_items_awaiting_lua_with_ret_null_once_each_in_fifo_order()
    {
        nint utilId = Register("a");
        var producers = Enumerable.Range(1, 3).Select(i => DeliverBlocking(utilId, new CApiItem(_log, $"w{i}", [i], blocking: true))).ToList();
        PollAndKeepArgs1(3);
        Assert.Equal(Success, _api.Unreg(utilId));
        Assert.All(producers, p => Assert.True(p.Join(Patience)));
        Assert.Equal(["ret(NULL) w1", "ret(NULL) w2", "ret(NULL) w3"], _log.Starting("ret"));
        _host.Run("for _, answer in ipairs(kept) do answer(0) end");
        Assert.Equal(3, _log.Starting("ret").Length); // the callbacks are spent
    }

    [Fact]
    public void Unreg_cancels_every_outstanding_item_in_delivery_order()
    {
        nint utilId = Register("a");
        var producers = new List<CApiProducer>
        {
            DeliverBlocking(utilId, new CApiItem(_log, "1", [1], blocking: true)),
            DeliverBlocking(utilId, new CApiItem(_log, "2", [2], blocking: true)),
        };
        PollAndKeepArgs1(2);
        producers.Add(DeliverBlocking(utilId, new CApiItem(_log, "3", [3], blocking: true)));
        producers.Add(DeliverBlocking(utilId, new CApiItem(_log, "4", [4], blocking: true)));
        Assert.Equal(Success, _api.Unreg(utilId));
        Assert.All(producers, p => Assert.True(p.Join(Patience)));
        Assert.Equal(["ret(NULL) 1", "ret(NULL) 2", "decode(NULL) 3", "decode(NULL) 4"], _log.Entries.Where(e => e.Contains("(NULL)", StringComparison.Ordinal)));
    }

    [Fact]
    public void Unreg_returns_success_and_releases_every_blocked_deliverer_within_a_second()
    {
        nint utilId = Register("a");
        var producers = new List<CApiProducer>
        {
            DeliverBlocking(utilId, new CApiItem(_log, "1", [1], blocking: true)),
            DeliverBlocking(utilId, new CApiItem(_log, "2", [2], blocking: true)),
        };
        PollAndKeepArgs1(1);
        var clock = Stopwatch.StartNew();
        Assert.Equal(Success, _api.Unreg(utilId));
        Assert.All(producers, p => Assert.True(p.Join(Patience)));
        clock.Stop();
        Assert.All(producers, p => Assert.Equal(DssStatus.Success, p.Status));
        Assert.True(clock.Elapsed < ReleaseLimit, $"released after {clock.Elapsed.TotalMilliseconds} ms");
    }

    [Fact]
    public void Unreg_racing_with_blocking_deliverers_ends_every_delivery_once_and_leaves_none_blocked()
    {
        nint utilId = Register("a");
        _host.Run("function on_item(answer, v) answer(v) end");
        var producers = Enumerable.Range(1, 4).Select(p => CApiProducer.StartRepeating(_api, utilId, _log, $"p{p}")).ToList();
        int unregStatus = 0;
        var threads = new RawThreads();
        var unreg = threads.Start("unreg", () => { Thread.Sleep(300); unregStatus = _api.Unreg(utilId); });
        var clock = Stopwatch.StartNew();
        while (unreg.IsAlive && clock.Elapsed < Patience)
        {
            _host.Run("local n, cb, args = darksidesync.poll() if cb then cb(table.unpack(args)) elseif n == -1 then darksidesync.wait(0.01) end");
        }
        threads.Join(Patience);

        Assert.Equal(Success, unregStatus);
        Assert.All(producers, p => Assert.True(p.Join(Patience), "a deliverer is still blocked"));
        Assert.All(producers, p => Assert.Equal(DssStatus.InvalidUtilId, p.Status));
        Assert.All(producers.SelectMany(p => p.Delivered), item => Assert.Equal(1, item.Endings));
        Assert.All(producers, p => Assert.Equal(0, p.Refused!.Endings));
    }

    [Fact]
    public void A_second_unreg_returns_invalid_utilid()
    {
        nint utilId = Register("a");
        Assert.Equal(Success, _api.Unreg(utilId));
        Assert.Equal((int)DssStatus.InvalidUtilId, _api.Unreg(utilId));
    }

    [Fact]
    public void Unreg_of_null_returns_invalid_utilid() =>
        Assert.Equal((int)DssStatus.InvalidUtilId, _api.Unreg(0));

    // ---- stop-DSS ----

    [Fact]
    public void Lua_stop_cancels_the_utilities_newest_first()
    {
        Register("a");
        Register("b");
        Register("c");
        _host.Run("darksidesync.stop()");
        Assert.Equal(["cancel c", "cancel b", "cancel a"], _log.Starting("cancel"));
    }

    [Fact]
    public void Closing_the_state_cancels_the_utilities_newest_first()
    {
        Register("a");
        Register("b");
        Register("c");
        _host.Close();
        Assert.Equal(["cancel c", "cancel b", "cancel a"], _log.Starting("cancel"));
    }

    [Fact]
    public void Unreg_called_from_cancel_during_stop_returns_success()
    {
        Register("a");
        _host.Run("darksidesync.stop()");
        Assert.Equal(["cancel a", $"unreg from cancel a -> {Success}"], _log.Entries);
    }

    [Fact]
    public void Lua_stop_cancels_items_awaiting_lua_with_ret_null()
    {
        nint utilId = Register("a");
        var producer = DeliverBlocking(utilId, new CApiItem(_log, "x", [1], blocking: true));
        PollAndKeepArgs1(1);
        _host.Run("darksidesync.stop()");
        Assert.True(producer.Join(Patience));
        Assert.Equal(["decode x", "cancel a", "ret(NULL) x", $"unreg from cancel a -> {Success}"], _log.Entries);
    }

    [Fact]
    public void Closing_the_state_cancels_items_awaiting_lua_with_ret_null()
    {
        nint utilId = Register("a");
        var producer = DeliverBlocking(utilId, new CApiItem(_log, "x", [1], blocking: true));
        PollAndKeepArgs1(1);
        _host.Close();
        Assert.True(producer.Join(Patience));
        Assert.Equal(["decode x", "cancel a", "ret(NULL) x", $"unreg from cancel a -> {Success}"], _log.Entries);
    }

    [Fact]
    public void A_utility_whose_cancel_does_not_unreg_is_unregistered_by_dss()
    {
        nint utilId = Register("a", unregOnCancel: false);
        var producer = DeliverBlocking(utilId, new CApiItem(_log, "x", [1], blocking: true));
        var clock = Stopwatch.StartNew();
        _host.Run("darksidesync.stop()");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"stop took {clock.Elapsed}");
        Assert.True(producer.Join(Patience));
        Assert.Equal(["cancel a", "decode(NULL) x"], _log.Entries);
        Assert.Equal((int)DssStatus.InvalidUtilId, _api.Unreg(utilId));
    }

    [Fact]
    public void Closing_the_state_with_items_queued_cancels_them_with_decode_null()
    {
        nint utilId = Register("a", unregOnCancel: false);
        Assert.Equal(Success, _api.Deliver(utilId, new CApiItem(_log, "x", [1])));
        Assert.Equal(Success, _api.Deliver(utilId, new CApiItem(_log, "y", [2])));
        _host.Close();
        Assert.Equal(["cancel a", "decode(NULL) x", "decode(NULL) y"], _log.Entries);
    }

    [Fact]
    public void Closing_the_state_releases_every_blocked_deliverer_within_a_second()
    {
        nint waiting = Register("a");
        nint queued = Register("b", unregOnCancel: false);
        var producers = new List<CApiProducer>
        {
            DeliverBlocking(waiting, new CApiItem(_log, "1", [1], blocking: true)),
            DeliverBlocking(queued, new CApiItem(_log, "2", [2], blocking: true)),
            DeliverBlocking(waiting, new CApiItem(_log, "3", [3], blocking: true)),
        };
        PollAndKeepArgs1(1);
        var clock = Stopwatch.StartNew();
        _host.Close();
        Assert.All(producers, p => Assert.True(p.Join(Patience)));
        clock.Stop();
        Assert.True(clock.Elapsed < ReleaseLimit, $"released after {clock.Elapsed.TotalMilliseconds} ms");
    }

    [Fact]
    public void Reg_and_getutilid_after_stop_return_not_started()
    {
        nint libId = CApiTestUtility.NewLibId();
        _api.Reg(_host.State, libId, _log, "a", out _);
        _host.Run("darksidesync.stop()");
        Assert.Equal(0, _api.Reg(_host.State, CApiTestUtility.NewLibId(), _log, "b", out int regCode));
        Assert.Equal((int)DssStatus.NotStarted, regCode);
        Assert.Equal(0, _api.GetUtilId(_host.State, libId, out int getCode));
        Assert.Equal((int)DssStatus.NotStarted, getCode);
    }

    [Fact]
    public void Deliver_with_a_utilid_from_before_stop_is_refused()
    {
        nint utilId = Register("a");
        _host.Run("darksidesync.stop()");
        Assert.Contains(_api.Deliver(utilId, new CApiItem(_log, "x", [1])), new[] { (int)DssStatus.InvalidUtilId, (int)DssStatus.NotStarted });
        Assert.DoesNotContain("decode x", _log.Entries);
    }

    [Fact]
    public void After_a_restart_old_utilids_stay_invalid_and_a_new_reg_works()
    {
        nint libId = CApiTestUtility.NewLibId();
        nint old = _api.Reg(_host.State, libId, _log, "old", out _);
        _host.Run("darksidesync.stop() darksidesync.start()");
        Assert.Contains(_api.Deliver(old, new CApiItem(_log, "x", [1])), new[] { (int)DssStatus.InvalidUtilId, (int)DssStatus.NotStarted });
        Assert.Equal((int)DssStatus.InvalidUtilId, _api.Unreg(old));

        var api = CApi.FromRegistry(_host.Lua);
        Assert.NotNull(api);
        nint renewed = api.Reg(_host.State, libId, _log, "new", out int errcode);
        Assert.Equal(Success, errcode);
        Assert.NotEqual(old, renewed);
        Assert.Equal(Success, api.Deliver(renewed, new CApiItem(_log, "y", [2])));
        Assert.Equal(2, _host.Integer("select(3, darksidesync.poll())[1]"));
    }

    [Fact]
    public void Closing_one_state_does_not_cancel_the_utilities_of_another()
    {
        using var other = new LuaHost(Sys);
        other.Run("function on_item(x) end");
        Register("here");
        nint there = _api.Reg(other.State, CApiTestUtility.NewLibId(), _log, "there", out _);
        _host.Close();
        Assert.Equal(["cancel here"], _log.Starting("cancel"));
        Assert.Equal(Success, _api.Deliver(there, new CApiItem(_log, "x", [1])));
        Assert.Equal(1, other.Integer("select(3, darksidesync.poll())[1]"));
    }

    // ---- helpers (Lua thread) ----

    private nint Register(string name, bool unregOnCancel = true)
    {
        nint utilId = _api.Reg(_host.State, CApiTestUtility.NewLibId(), _log, name, out int errcode, unregOnCancel);
        Assert.Equal(Success, errcode);
        return utilId;
    }

    private long QueueSize() => _host.Integer("darksidesync.queuesize()");

    /// <summary>Starts a producer thread and returns once its item is queued, so items queue in call order.</summary>
    private CApiProducer DeliverBlocking(nint utilId, CApiItem item)
    {
        long before = QueueSize();
        var producer = CApiProducer.Start(_api, utilId, item);
        var deadline = Stopwatch.StartNew();
        while (QueueSize() == before)
        {
            Assert.True(deadline.Elapsed < Patience, $"item {item.Name} was never queued");
            Thread.Sleep(1);
        }
        return producer;
    }

    /// <summary>Polls <paramref name="count"/> items and keeps their args[1] in the global <c>kept</c>, so none is collected.</summary>
    private void PollAndKeepArgs1(int count) =>
        _host.Run($"for i = 1, {count} do local n, cb, args = darksidesync.poll() kept[#kept + 1] = args[1] end");
}
