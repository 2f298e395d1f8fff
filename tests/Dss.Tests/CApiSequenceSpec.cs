using System.Collections.Concurrent;
using Akka.TestKit.Xunit2;
using DarkSideSync.Tests.Support;

namespace DarkSideSync.Tests;

/// <summary>
/// C ABI call sequences a careless or unlucky C utility makes: NULL, bogus and stale utilids,
/// double unreg, calls after stop with an API pointer kept from before, and seeded random
/// interleavings of deliver and unreg from several threads with reg, getutilid, poll, stop and
/// start on the Lua thread. Every call returns a code of the spec, at once (a refused blocking
/// deliver does not block), and every accepted delivery ends exactly once.
/// </summary>
public sealed unsafe class CApiSequenceSpec : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private const int Success = (int)DssStatus.Success;
    private const int InvalidUtilId = (int)DssStatus.InvalidUtilId;
    private const int NotStarted = (int)DssStatus.NotStarted;

    private readonly LuaThread _lua;
    private readonly CApi _api;
    private readonly CApiLog _log = new();
    private readonly RawThreads _threads = new();

    public CApiSequenceSpec()
    {
        _lua = new LuaThread(Sys);
        _lua.Run("held = {} function on_tell() end function on_ask(answer, v) if v % 3 == 0 then held[#held + 1] = answer else answer(v) end end");
        _api = _lua.Call(h => CApi.FromRegistry(h.Lua))!;
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
    public void Null_and_bogus_utilids_are_refused_by_deliver_and_unreg_at_once_from_any_thread()
    {
        // Utilids are small numbers handed out process-wide: bogus ones here stay clear of them.
        var random = new Random(Environment.TickCount);
        var bogus = new List<nint> { 0, -1, nint.MinValue, nint.MaxValue, unchecked((nint)0xDEADBEEF00), _api.Address };
        bogus.AddRange(Enumerable.Range(0, 64).Select(_ => (nint)random.NextInt64(1L << 40, long.MaxValue)));
        var item = new CApiItem(_log, "never", [1], blocking: true, callback: "on_ask");
        var results = new ConcurrentQueue<(nint, string, int)>();
        _threads.Start(4, "caller", t =>
        {
            foreach (nint utilId in bogus.Skip(t).Where((_, i) => i % 4 == 0))
            {
                results.Enqueue((utilId, "deliver", _api.DeliverRaw(utilId, CApiTestUtility.Decode, 0, item.PData)));
                results.Enqueue((utilId, "blocking deliver", _api.DeliverRaw(utilId, CApiTestUtility.Decode, CApiTestUtility.Ret, item.PData)));
                results.Enqueue((utilId, "unreg", _api.Unreg(utilId)));
            }
        });
        _threads.Join(Patience);

        Assert.All(results, r => Assert.True(r.Item3 == InvalidUtilId, $"{r.Item2}({r.Item1:x}) returned {r.Item3}"));
        Assert.Equal(bogus.Count * 3, results.Count);
        Assert.Empty(_log.Entries);
    }

    [Fact]
    public void A_stale_utilid_is_refused_by_deliver_and_a_second_unreg_and_reaches_no_hook()
    {
        nint utilId = Reg("stale");
        Assert.Equal(Success, _api.Unreg(utilId));
        Assert.Equal(InvalidUtilId, _api.Unreg(utilId));
        var item = new CApiItem(_log, "late", [1], blocking: true, callback: "on_ask");
        Assert.Equal(InvalidUtilId, DeliverOnAThread(utilId, item));
        Assert.Equal(InvalidUtilId, _api.Unreg(utilId));
        Assert.Equal(0, item.Endings);
        Assert.Equal(-1, _lua.Integer("darksidesync.poll()"));
    }

    [Fact]
    public void After_stop_a_kept_api_pointer_answers_reg_and_getutilid_with_not_started_and_refuses_deliver_and_unreg()
    {
        nint libId = CApiTestUtility.NewLibId();
        nint utilId = _lua.Call(h => _api.Reg(h.State, libId, _log, "kept", out _));
        _lua.Run("darksidesync.stop()");

        var (regCode, getCode, regNull, getNull) = _lua.Call(h =>
        {
            int reg, get;
            nint r = _api.RegRaw(h.State, CApiTestUtility.NewLibId(), CApiTestUtility.CancelAndUnreg, &reg);
            nint g = _api.GetUtilIdRaw(h.State, libId, &get);
            // NULL errcode pointers after stop: no crash, nothing returned.
            return (reg, get, r | _api.RegRaw(h.State, libId, CApiTestUtility.CancelAndUnreg, null), g | _api.GetUtilIdRaw(h.State, libId, null));
        });
        Assert.Equal(NotStarted, regCode);
        Assert.Equal(NotStarted, getCode);
        Assert.Equal(0, regNull);
        Assert.Equal(0, getNull);
        var item = new CApiItem(_log, "after stop", [1], blocking: true, callback: "on_ask");
        Assert.Contains(DeliverOnAThread(utilId, item), new[] { InvalidUtilId, NotStarted });
        Assert.Equal(InvalidUtilId, _api.Unreg(utilId));
        Assert.Equal(0, item.Endings);
    }

    [Fact]
    public void After_stop_the_registry_keeps_its_table_with_the_version_but_not_the_api_field()
    {
        _lua.Run("darksidesync.stop()");
        Assert.True(_lua.Boolean("type(debug.getregistry()['DSS.DarkSideSync']) == 'table'"));
        Assert.Equal(DssModule.Version, _lua.String("debug.getregistry()['DSS.DarkSideSync'].Version"));
        Assert.True(_lua.Boolean("debug.getregistry()['DSS.DarkSideSync']['DSS API 1v0'] == nil"));
        _lua.Run("darksidesync.start()");
        Assert.True(_lua.Boolean("type(debug.getregistry()['DSS.DarkSideSync']['DSS API 1v0']) == 'userdata'"));
    }

    [Fact]
    public void Seeded_random_interleavings_of_deliver_and_unreg_with_reg_poll_stop_and_start_keep_every_rule()
    {
        int seed = Environment.TickCount;
        string context = $"(seed {seed})";
        void Expect(bool condition, string what) => Assert.True(condition, $"{what} {context}");
        var pool = new UtilIdPool(); // current, stale and bogus utilids
        var items = new ConcurrentQueue<(CApiItem Item, int Status)>();
        var unregSuccesses = new ConcurrentDictionary<nint, int>();
        var badCodes = new ConcurrentQueue<string>();
        using var done = new CancellationTokenSource();
        pool.Add(0);
        pool.Add(unchecked((nint)0xBAD0BAD0BAD));
        pool.Add(Reg("first"));

        _threads.Start(4, "caller", t =>
        {
            var random = new Random(seed + t);
            for (int i = 0; !done.IsCancellationRequested; i++)
            {
                nint utilId = pool.Pick(random);
                if (random.Next(2000) == 0)
                {
                    int status = _api.Unreg(utilId);
                    if (status == Success)
                    {
                        unregSuccesses.AddOrUpdate(utilId, 1, (_, n) => n + 1);
                    }
                    else if (status != InvalidUtilId)
                    {
                        badCodes.Enqueue($"unreg -> {status}");
                    }
                    continue;
                }
                bool blocking = random.Next(3) == 0;
                var item = new CApiItem(_log, $"{t}.{i}", [random.Next(100)], blocking, blocking ? "on_ask" : "on_tell");
                int delivered = _api.Deliver(utilId, item);
                if (delivered is not (Success or InvalidUtilId or NotStarted or (int)DssStatus.UdpSendFailed))
                {
                    badCodes.Enqueue($"deliver -> {delivered}");
                }
                items.Enqueue((item, delivered));
            }
        });

        var lua = new Random(seed);
        var known = new List<(nint LibId, nint UtilId)>();
        bool running = true;
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(1.5);
        while (DateTime.UtcNow < until)
        {
            int op = lua.Next(100);
            _lua.Call(h =>
            {
                if (op < 15)
                {
                    nint libId = CApiTestUtility.NewLibId();
                    nint utilId = _api.Reg(h.State, libId, _log, $"u{libId}", out int code, unregOnCancel: lua.Next(2) == 0);
                    Expect(code == (running ? Success : NotStarted), $"reg -> {code} (running {running})");
                    if (utilId != 0)
                    {
                        known.Add((libId, utilId));
                        pool.Add(utilId);
                    }
                }
                else if (op < 25 && known.Count > 0)
                {
                    var (libId, utilId) = known[lua.Next(known.Count)];
                    nint again = _api.Reg(h.State, libId, _log, "again", out int code);
                    nint found = _api.GetUtilId(h.State, libId, out int getCode);
                    // Registered: ALREADY_REGISTERED and the same id; unregistered meanwhile: a new
                    // registration. getutilid then finds it, unless a caller unregistered it in between.
                    bool getutilidFine = (getCode == Success && found == (code == Success ? again : utilId)) || (getCode == (int)DssStatus.UnknownLib && found == 0);
                    Expect(!running ? code == NotStarted && getCode == NotStarted
                        : ((code == (int)DssStatus.AlreadyRegistered && again == utilId) || (code == Success && again != utilId)) && getutilidFine,
                        $"reg again -> {code}, getutilid -> {getCode} (running {running})");
                    if (code == Success)
                    {
                        known.Add((libId, again));
                        pool.Add(again);
                    }
                }
                else if (op < 30)
                {
                    _api.GetUtilId(h.State, CApiTestUtility.NewLibId(), out int code);
                    Expect(code == (running ? (int)DssStatus.UnknownLib : NotStarted), $"getutilid(unknown) -> {code}");
                }
                else if (op < 85 && running)
                {
                    h.Run("for i = 1, 50 do local n, cb, args = darksidesync.poll() if n == -1 then break elseif cb then cb(table.unpack(args)) end end");
                    if (op % 5 == 0)
                    {
                        h.Run("for _, answer in ipairs(held) do answer(0) end held = {} collectgarbage()");
                    }
                }
                else if (op < 92 && running)
                {
                    h.Run("darksidesync.stop()");
                    running = false;
                    known.Clear();
                }
                else if (!running)
                {
                    h.Run("darksidesync.start()");
                    running = true;
                }
            }, what: $"Lua thread op {op} {context}");
        }
        done.Cancel();
        _lua.Run("darksidesync.stop()"); // releases whoever still waits

        _threads.Join(Patience);
        Assert.True(badCodes.IsEmpty, $"codes outside the spec {context}: {string.Join(", ", badCodes.Take(10))}");
        var bad = items.Where(n => n.Item.Endings != (((DssStatus)n.Status).IsDelivered() ? 1 : 0)).Take(10).Select(n => $"{n.Item.Name} (deliver -> {n.Status}) ended {n.Item.Endings} times").ToList();
        Assert.True(bad.Count == 0, $"deliveries broke the rules {context}:\n  " + string.Join("\n  ", bad));
        Assert.All(unregSuccesses, u => Assert.True(u.Value == 1, $"unreg({u.Key}) succeeded {u.Value} times {context}"));
        Assert.Contains(items, n => n.Status == Success);
    }

    private nint Reg(string name) => _lua.Call(h => _api.Reg(h.State, CApiTestUtility.NewLibId(), _log, name, out _));

    // A refused blocking deliver must return at once: make it on a thread of its own, with a limit.
    private int DeliverOnAThread(nint utilId, CApiItem item)
    {
        int status = 0;
        var thread = _threads.Start("deliver " + item.Name, () => status = _api.Deliver(utilId, item));
        Assert.True(thread.Join(Patience), "a refused blocking deliver blocked");
        _threads.ThrowIfFailed();
        return status;
    }

    private sealed class UtilIdPool
    {
        private volatile nint[] _ids = [];
        private readonly Lock _gate = new();

        public void Add(nint utilId)
        {
            lock (_gate)
            {
                _ids = [.. _ids, utilId];
            }
        }

        public nint Pick(Random random)
        {
            var ids = _ids;
            return ids.Length == 0 ? 0 : random.Next(4) == 0 ? ids[random.Next(ids.Length)] : ids[^(1 + random.Next(Math.Min(3, ids.Length)))];
        }
    }
}
