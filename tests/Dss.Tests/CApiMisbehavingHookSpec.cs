using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.TestKit.Xunit2;
using DarkSideSync.Tests.Support;
using KeraLua;

namespace DarkSideSync.Tests;

/// <summary>
/// C hooks (written in C#, called through Cdecl function pointers) that misbehave within what
/// C allows: thousands of values, a count that lies, a non-function first, unreg, deliver and
/// darksidesync.stop() from inside decode and ret. Every delivery ends exactly once (one of:
/// decode(NULL), a final decode, ret) and no deliverer stays blocked.
/// </summary>
public sealed unsafe class CApiMisbehavingHookSpec : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(5); // below the default stop-timeout
    private const int Success = (int)DssStatus.Success;
    private const int InvalidUtilId = (int)DssStatus.InvalidUtilId;

    private readonly LuaThread _lua;
    private readonly CApi _api;
    private readonly CApiLog _log = new();
    private readonly RawThreads _threads = new();
    private readonly ConcurrentDictionary<string, int> _delivered = new(); // item name -> deliver's status

    public CApiMisbehavingHookSpec()
    {
        _lua = new LuaThread(Sys);
        _lua.Run("got = {} function on_item(...) got[#got + 1] = table.pack(...) end");
        _api = _lua.Call(h => CApi.FromRegistry(h.Lua)) ?? throw new InvalidOperationException("no DSS API 1v0 in the registry");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _lua.Dispose();
        }
        base.Dispose(disposing);
    }

    [Fact]
    public void A_decode_pushing_ten_thousand_values_after_lua_checkstack_hands_every_one_to_the_callback()
    {
        nint utilId = Register();
        var item = Item("wide", blocking: false, L =>
        {
            var l = Lua.FromIntPtr(L);
            Assert.True(l.CheckStack(10_000));
            l.GetGlobal("on_item");
            for (int i = 1; i < 10_000; i++)
            {
                l.PushInteger(i);
            }
            return 10_000;
        });
        Assert.Equal(Success, Deliver(utilId, item));
        _lua.Run("darksidesync.drain()");
        Assert.Equal(9_999, _lua.Integer("got[1].n"));
        Assert.Equal(9_999, _lua.Integer("got[1][9999]"));
        AssertEndedOnce(item);
    }

    [Fact]
    public void A_decode_claiming_more_values_than_it_pushed_hands_lua_only_what_it_pushed()
    {
        nint utilId = Register();
        var item = Item("boaster", blocking: false, L => PushOnItem(L, 7) + 100);
        Deliver(utilId, item);
        _lua.Run("n, cb, args = darksidesync.poll()");
        Assert.True(_lua.Boolean("cb == on_item"));
        Assert.Equal(1, _lua.Integer("#args"));
        Assert.Equal(7, _lua.Integer("args[1]"));
        AssertEndedOnce(item);
    }

    [Fact]
    public void A_blocking_decode_returning_a_negative_count_releases_the_deliverer_and_ret_is_never_called()
    {
        nint utilId = Register();
        var item = Item("negative", blocking: true, L => PushOnItem(L, 7) * 0 - 3);
        var producer = DeliverBlocking(utilId, item);
        Assert.Equal(1, _lua.Integer("select('#', darksidesync.poll())"));
        _threads.Join(Patience);
        Assert.Equal(Success, _delivered[item.Name]);
        Assert.Equal(["decode negative"], _log.Entries);
        Assert.Equal(0, _lua.Integer("#got"));
        AssertEndedOnce(item);
        Assert.NotNull(producer);
    }

    [Fact]
    public void A_decode_whose_first_value_is_not_a_function_neither_crashes_poll_nor_stops_the_utility()
    {
        nint utilId = Register();
        var odd = Item("odd", blocking: false, L =>
        {
            var l = Lua.FromIntPtr(L);
            l.PushInteger(42);
            l.PushString("x");
            return 2;
        });
        var fine = Item("fine", blocking: false, L => PushOnItem(L, 5));
        Deliver(utilId, odd);
        Deliver(utilId, fine);
        _lua.Run("ok, n, cb, args = pcall(darksidesync.poll)");
        Assert.True(_lua.Boolean("(ok and cb == 42) or (not ok and type(n) == 'string' and #n > 0)"), _lua.String("tostring(n)"));
        _lua.Run("darksidesync.drain()");
        Assert.Equal(5, _lua.Integer("got[1][1]"));
        AssertEndedOnce(odd, fine);
    }

    [Fact]
    public void A_decode_that_unregs_its_utility_gets_success_and_every_outstanding_delivery_ends_once()
    {
        nint utilId = Register();
        int fromDecode = 0;
        var first = Item("first", blocking: true, L =>
        {
            fromDecode = _api.Unreg(utilId);
            return PushOnItem(L, 1);
        });
        DeliverBlocking(utilId, first);
        var queued = Item("queued", blocking: true, L => PushOnItem(L, 2));
        DeliverBlocking(utilId, queued);
        var plain = Item("plain", blocking: false, L => PushOnItem(L, 3));
        Deliver(utilId, plain);

        _lua.Run("darksidesync.drain()");

        Assert.Equal(Success, fromDecode);
        _threads.Join(Patience);
        Assert.All(_delivered.Values, status => Assert.Equal(Success, status));
        Assert.Equal(["decode first", "decode(NULL) plain", "decode(NULL) queued", "ret(NULL) first"], _log.Entries.Order(StringComparer.Ordinal));
        AssertEndedOnce(first, queued, plain);
        Assert.Equal(InvalidUtilId, _api.Deliver(utilId, new CApiItem(_log, "late", [1])));
    }

    [Fact]
    public void A_ret_that_unregs_its_utility_gets_success_and_its_deliverer_is_released()
    {
        nint utilId = Register();
        int fromRet = 0;
        var item = Item("answered", blocking: true, L => PushOnItem(L, 1), (_, _) =>
        {
            fromRet = _api.Unreg(utilId);
            return 0;
        });
        DeliverBlocking(utilId, item);
        var queued = Item("queued", blocking: true, L => PushOnItem(L, 2));
        DeliverBlocking(utilId, queued);

        _lua.Run("local n, cb, args = darksidesync.poll() args[1](1)");

        Assert.Equal(Success, fromRet);
        _threads.Join(Patience);
        Assert.Equal(["decode answered", "ret answered", "decode(NULL) queued"], _log.Entries);
        AssertEndedOnce(item, queued);
    }

    [Fact]
    public void A_decode_null_that_unregs_again_gets_invalid_utilid_and_the_first_unreg_returns()
    {
        nint utilId = Register();
        var again = new ConcurrentQueue<int>();
        var items = Enumerable.Range(0, 3).Select(i => new ScriptedItem(_log, $"q{i}", blocking: false, L => 0, onCancelled: () => again.Enqueue(_api.Unreg(utilId)))).ToArray();
        foreach (var item in items)
        {
            Assert.Equal(Success, _api.DeliverRaw(utilId, CApiScriptedUtility.Decode, 0, item.PData));
        }
        var unreg = Task.Run(() => _api.Unreg(utilId));
        Assert.Equal(Success, LuaThread.Await(unreg, Patience, "unreg"));
        Assert.Equal(InvalidUtilId, _api.Unreg(utilId));
        AssertEndedOnce(items);
        Assert.Equal([InvalidUtilId, InvalidUtilId, InvalidUtilId], again);
    }

    [Fact]
    public void A_decode_that_delivers_into_an_empty_queue_makes_polls_count_one_and_the_next_poll_gets_it()
    {
        nint utilId = Register();
        int fromDecode = 0;
        var next = Item("next", blocking: false, L => PushOnItem(L, 99));
        var first = Item("first", blocking: false, L =>
        {
            fromDecode = _api.DeliverRaw(utilId, CApiScriptedUtility.Decode, 0, next.PData);
            return PushOnItem(L, 1);
        });
        Deliver(utilId, first);
        _lua.Run("n1 = darksidesync.poll() n2, cb2, args2 = darksidesync.poll()");
        Assert.Equal(Success, fromDecode);
        Assert.Equal(1, _lua.Integer("n1"));
        Assert.Equal(99, _lua.Integer("args2[1]"));
        AssertEndedOnce(first, next);
    }

    [Fact]
    public void A_ret_that_delivers_again_queues_the_item_for_the_next_poll_and_its_deliverer_is_released()
    {
        nint utilId = Register();
        int fromRet = 0;
        var next = Item("next", blocking: false, L => PushOnItem(L, 77));
        var item = Item("answered", blocking: true, L => PushOnItem(L, 1), (_, _) =>
        {
            fromRet = _api.DeliverRaw(utilId, CApiScriptedUtility.Decode, 0, next.PData);
            return 0;
        });
        DeliverBlocking(utilId, item);
        _lua.Run("local n, cb, args = darksidesync.poll() args[1](1)");
        _threads.Join(Patience);
        Assert.Equal(Success, fromRet);
        Assert.Equal(1, _lua.Integer("darksidesync.queuesize()"));
        _lua.Run("darksidesync.drain()");
        Assert.Equal(77, _lua.Integer("got[1][1]"));
        AssertEndedOnce(item, next);
    }

    [Fact]
    public void A_decode_that_runs_darksidesync_stop_has_stop_dss_complete_before_poll_returns()
    {
        nint stopper = Register();
        nint bystander = Register();
        var item = Item("stopper", blocking: false, L =>
        {
            Lua.FromIntPtr(L).DoString("darksidesync.stop()");
            return 0;
        });
        Deliver(stopper, item);
        var waiting = Item("waiting", blocking: true, L => PushOnItem(L, 1));
        DeliverBlocking(bystander, waiting);

        _lua.Run("pcall(darksidesync.poll)", Prompt);

        _threads.Join(Patience);
        Assert.Equal(["decode stopper", "decode(NULL) waiting"], _log.Entries);
        AssertEndedOnce(item, waiting);
        Assert.Equal(InvalidUtilId, _api.Unreg(stopper));
        Assert.Equal(InvalidUtilId, _api.Unreg(bystander));
        Assert.EndsWith("DSS was not started yet, or already stopped", _lua.Error("darksidesync.queuesize()"));
        Assert.Equal((int)DssStatus.NotStarted, RegAfterStop());
    }

    [Fact]
    public void A_ret_that_stops_dss_has_its_producer_released_before_the_cancel_hooks_run()
    {
        // A cancel hook that joins the utility's producers, as the samples' cleanup does: it
        // can finish only if the producer the ret answered was released first.
        var answeredProducerDone = new ManualResetEventSlim();
        nint utilId = _lua.Call(h => CApiScriptedUtility.Reg(_api, h.State, id =>
        {
            answeredProducerDone.Wait(Patience);
            _api.Unreg(id);
        }));
        var item = Item("answered", blocking: true, L => PushOnItem(L, 1), (L, _) =>
        {
            Lua.FromIntPtr(L).DoString("darksidesync.stop()");
            return 0;
        });
        var producer = DeliverBlocking(utilId, item);
        _threads.Start("join", () =>
        {
            producer.Join();
            answeredProducerDone.Set();
        });

        _lua.Run("local n, cb, args = darksidesync.poll() args[1](1)", Prompt);

        _threads.Join(Patience);
        Assert.Equal(Success, _delivered[item.Name]);
        Assert.Equal(["decode answered", "ret answered"], _log.Entries);
        AssertEndedOnce(item);
    }

    [Fact]
    public void A_finalizer_that_runs_darksidesync_stop_during_a_full_gc_inside_ret_completes_before_the_callback_returns()
    {
        nint collector = Register();
        nint bystander = Register();
        _lua.Run("doomed = setmetatable({}, { __gc = function() finalized = true pcall(darksidesync.stop) end })");
        var item = Item("collector", blocking: true, L => PushOnItem(L, 1), (L, _) =>
        {
            var l = Lua.FromIntPtr(L);
            l.PushNil();
            l.SetGlobal("doomed");
            l.GarbageCollector(LuaGC.Collect, 0);
            return 0;
        });
        DeliverBlocking(collector, item);
        var waiting = Item("waiting", blocking: true, L => PushOnItem(L, 2));
        DeliverBlocking(bystander, waiting);

        _lua.Run("local n, cb, args = darksidesync.poll() pcall(args[1], 1)", Prompt);

        Assert.True(_lua.Boolean("finalized"));
        _threads.Join(Patience);
        AssertEndedOnce(item, waiting);
        Assert.EndsWith("DSS was not started yet, or already stopped", _lua.Error("darksidesync.queuesize()"));
    }

    // ---- helpers ----

    private nint Register() => _lua.Call(h => CApiScriptedUtility.Reg(_api, h.State, id => _api.Unreg(id)));

    private ScriptedItem Item(string name, bool blocking, Func<nint, int> decode, Func<nint, bool, int>? ret = null) =>
        new(_log, name, blocking, decode, ret);

    // Lua thread (inside decode): pushes on_item and one integer.
    private static int PushOnItem(nint L, long value)
    {
        var l = Lua.FromIntPtr(L);
        l.GetGlobal("on_item");
        l.PushInteger(value);
        return 2;
    }

    private int Deliver(nint utilId, ScriptedItem item) =>
        _delivered[item.Name] = _api.DeliverRaw(utilId, CApiScriptedUtility.Decode, 0, item.PData);

    /// <summary>A raw thread makes the blocking deliver; returns once the item is queued, so items queue in call order.</summary>
    private Thread DeliverBlocking(nint utilId, ScriptedItem item)
    {
        long before = _lua.Integer("darksidesync.queuesize()");
        var thread = _threads.Start("deliver " + item.Name, () =>
            _delivered[item.Name] = _api.DeliverRaw(utilId, CApiScriptedUtility.Decode, CApiScriptedUtility.Ret, item.PData));
        var clock = Stopwatch.StartNew();
        while (_lua.Integer("darksidesync.queuesize()") == before)
        {
            _threads.ThrowIfFailed();
            Assert.True(clock.Elapsed < Patience, $"item {item.Name} was never queued");
            Thread.Sleep(1);
        }
        return thread;
    }

    private int RegAfterStop() => _lua.Call(h =>
    {
        int errcode;
        _api.RegRaw(h.State, CApiTestUtility.NewLibId(), CApiScriptedUtility.Cancel, &errcode);
        return errcode;
    });

    private static void AssertEndedOnce(params ScriptedItem[] items)
    {
        foreach (var item in items)
        {
            Assert.Empty(item.Failures);
            Assert.True(item.Endings == 1, $"{item.Name} ended {item.Endings} times");
        }
    }
}

/// <summary>A C cancel hook that never returns holds stop-DSS for at most <c>darksidesync.stop-timeout</c>.</summary>
public sealed unsafe class CApiNeverReturningCancelSpec : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly LuaThread _lua;
    private readonly CApi _api;
    private readonly CApiLog _log = new();
    private readonly ManualResetEventSlim _releaseHook = new(false);

    public CApiNeverReturningCancelSpec()
        : base("darksidesync.stop-timeout = 1s")
    {
        _lua = new LuaThread(Sys);
        _lua.Run("held = {} function on_item(answer) held[#held + 1] = answer end");
        _api = _lua.Call(h => CApi.FromRegistry(h.Lua))!;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _releaseHook.Set();
            _lua.Dispose();
            _releaseHook.Dispose();
        }
        base.Dispose(disposing);
    }

    [Fact]
    public void Stop_returns_within_a_few_seconds_and_no_raw_deliverer_stays_blocked()
    {
        nint older = _lua.Call(h => _api.Reg(h.State, CApiTestUtility.NewLibId(), _log, "older", out _));
        nint hanging = _lua.Call(h => CApiScriptedUtility.Reg(_api, h.State, _ => _releaseHook.Wait()));
        var producers = new[] { older, hanging, older, hanging }
            .Select((id, i) => CApiProducer.StartRepeating(_api, id, _log, $"p{i}"))
            .ToArray();
        _lua.Run("for i = 1, 20 do local n, cb, args = darksidesync.poll() if cb then cb(table.unpack(args)) end end");

        var clock = Stopwatch.StartNew();
        _lua.Run("darksidesync.stop()", TimeSpan.FromSeconds(6));
        clock.Stop();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(6), $"stop took {clock.Elapsed}");
        Assert.All(producers, p => Assert.True(p.Join(Patience), "a deliverer is still blocked"));
        Assert.All(producers.SelectMany(p => p.Delivered), item => Assert.Equal(1, item.Endings));
        Assert.All(producers, p => Assert.Equal(0, p.Refused!.Endings));
        Assert.Equal((int)DssStatus.InvalidUtilId, _api.Unreg(hanging));
    }
}
