using System.Collections.Concurrent;

namespace DarkSideSync.Tests.Support;

/// <summary>
/// The utilities producers may deliver to: the current registrations of every state and, on
/// purpose, some stale ones (unregistered, stopped, of a closed state), which DSS must refuse.
/// Lua threads add; producers pick. Copy-on-write arrays, so a pick takes no lock.
/// </summary>
internal sealed class LoadTargets
{
    private const int Kept = 24; // the newest registrations kept, current or stale
    private readonly Lock _gate = new();
    private volatile DssUtility[] _managed = [];
    private volatile nint[] _native = [];

    public void Add(DssUtility utility)
    {
        lock (_gate)
        {
            _managed = [.. _managed.TakeLast(Kept - 1), utility];
        }
    }

    public void Add(nint utilId)
    {
        lock (_gate)
        {
            _native = [.. _native.TakeLast(Kept - 1), utilId];
        }
    }

    public DssUtility? PickManaged(Random random)
    {
        var managed = _managed;
        return managed.Length == 0 ? null : managed[Pick(random, managed.Length)];
    }

    public nint PickNative(Random random)
    {
        var native = _native;
        return native.Length == 0 ? 0 : native[Pick(random, native.Length)];
    }

    // Mostly one of the newest few (likely current), sometimes any (likely stale).
    private static int Pick(Random random, int length) =>
        random.Next(10) == 0 ? random.Next(length) : length - 1 - random.Next(Math.Min(length, 6));
}

/// <summary>
/// Producer threads for the load and soak specs. Each loops until <see cref="Stop"/>, picking
/// targets at random and delivering through the C# API (a <see cref="DeliveryLedger"/> of its
/// own) and the C ABI (<see cref="ScriptedItem"/>s, blocking and not), and now and then
/// unregistering one. Every 4096 operations a producer checks and forgets what has ended, so
/// a long run keeps its memory flat.
/// </summary>
/// <remarks>
/// Decode pushes <c>on_tell(id)</c> for a non-blocking delivery and <c>on_ask(answer, id)</c> for a
/// blocking one, in both APIs. A producer that waits for an answer longer than
/// <see cref="LuaThread.Patience"/> fails (the failure reaches the test thread through <see cref="RawThreads"/>).
/// </remarks>
internal sealed class LoadProducers
{
    private readonly LoadTargets _targets;
    private readonly CApi _api;
    private readonly RawThreads _threads = new();
    private readonly List<Producer> _producers = [];
    private volatile bool _stopping;

    internal LoadProducers(LoadTargets targets, CApi api, int unregisterPerMille)
    {
        _targets = targets;
        _api = api;
        UnregisterPerMille = unregisterPerMille;
    }

    /// <summary>Where the cancel hooks of C utilities registered for the load record.</summary>
    public CApiLog Log { get; } = new();

    /// <summary>How often an operation is an unregister, per thousand.</summary>
    public int UnregisterPerMille { get; }

    public long Deliveries => _producers.Sum(p => p.Ledger.Count + p.NativeCount);

    public long NativeCount => _producers.Sum(p => p.NativeCount);

    public long ManagedCount => _producers.Sum(p => p.Ledger.Count);

    /// <summary>Starts <paramref name="count"/> producers; producer i draws from <c>new Random(seed + i)</c>.</summary>
    public void Start(int count, int seed)
    {
        for (int i = 0; i < count; i++)
        {
            var producer = new Producer(this, new Random(seed + i));
            _producers.Add(producer);
            _threads.Start($"producer-{i}", producer.Run);
        }
    }

    /// <summary>Producers finish the operation they are in and end.</summary>
    public void Stop() => _stopping = true;

    /// <summary>Test thread: stops the producers and fails when one is still blocked after <paramref name="within"/>.</summary>
    public void StopAndJoin(TimeSpan within)
    {
        Stop();
        _threads.Join(within);
    }

    /// <summary>After <see cref="StopAndJoin"/>: every delivery ended exactly once, none refused was decoded, no producer waits.</summary>
    public void AssertEveryDeliveryEndedOnce(string context)
    {
        foreach (var producer in _producers)
        {
            producer.AssertEveryDeliveryEndedOnce(context);
        }
    }

    public string Summary() =>
        $"{_producers.Count} producers: {ManagedCount} C# deliveries, {NativeCount} C deliveries ({_producers.Sum(p => p.NativeAccepted)} accepted), {_producers.Sum(p => p.Unregisters)} unregisters";

    /// <summary>Per producer: what its deliveries became.</summary>
    public string Details() =>
        string.Join("; ", _producers.Select((p, i) => $"producer {i}: {p.Ledger.Summary()}, {p.NativeCount} C ({p.NativeAccepted} accepted)"));

    private sealed class Producer(LoadProducers load, Random random)
    {
        private readonly List<Task<long>> _unawaited = [];
        private List<(ScriptedItem Item, int Status)> _native = [];
        private List<(ScriptedItem Item, int Status)> _settling = [];
        private readonly List<string> _violations = [];
        private long _nativeCount, _nativeAccepted;

        public DeliveryLedger Ledger { get; } = new();

        public long NativeCount => _nativeCount;

        public long NativeAccepted => _nativeAccepted;

        public long Unregisters { get; private set; }

        public void Run()
        {
            for (long op = 1; !load._stopping; op++)
            {
                Step();
                if (op % 4096 == 0)
                {
                    Compact();
                }
            }
        }

        private void Step()
        {
            int op = random.Next(1000);
            if (op < load.UnregisterPerMille)
            {
                Unregister();
                return;
            }
            switch (op % 6)
            {
                case 0 or 1:
                    if (load._targets.PickManaged(random) is { } told)
                    {
                        Ledger.Tell(told);
                    }
                    break;
                case 2:
                    if (load._targets.PickManaged(random) is { } asked)
                    {
                        var answer = Ledger.Ask(asked);
                        Assert.True(((IAsyncResult)answer).AsyncWaitHandle.WaitOne(LuaThread.Patience), "a producer waited too long for Lua's answer");
                    }
                    break;
                case 3:
                    if (load._targets.PickManaged(random) is { } later)
                    {
                        // Not awaited here; some with a timeout, which races with Lua's poll.
                        TimeSpan? timeout = random.Next(3) == 0 ? TimeSpan.FromMilliseconds(random.Next(1, 20)) : null;
                        _unawaited.Add(Ledger.Ask(later, timeout));
                    }
                    break;
                case 4:
                    DeliverNative(blocking: false);
                    break;
                default:
                    DeliverNative(blocking: true);
                    break;
            }
        }

        private void DeliverNative(bool blocking)
        {
            nint utilId = load._targets.PickNative(random);
            if (utilId == 0)
            {
                return;
            }
            long value = random.Next(1000);
            var item = new ScriptedItem(null, $"c{_nativeCount}", blocking, L =>
            {
                var lua = KeraLua.Lua.FromIntPtr(L);
                lua.GetGlobal(blocking ? "on_ask" : "on_tell");
                lua.PushInteger(value);
                return 2;
            });
            int status = load._api.DeliverRaw(utilId, CApiScriptedUtility.Decode, blocking ? CApiScriptedUtility.Ret : 0, item.PData);
            _nativeCount++;
            if (((DssStatus)status).IsDelivered())
            {
                _nativeAccepted++;
            }
            _native.Add((item, status));
        }

        private void Unregister()
        {
            Unregisters++;
            if (random.Next(2) == 0)
            {
                load._targets.PickManaged(random)?.Unregister();
            }
            else if (load._targets.PickNative(random) is var utilId and not 0)
            {
                load._api.Unreg(utilId);
            }
        }

        // Checks and forgets what had ended at the previous compaction (see DeliveryLedger.Compact).
        private void Compact()
        {
            Ledger.Compact();
            _unawaited.RemoveAll(t => t.IsCompleted);
            foreach (var settled in _settling)
            {
                if (Check(settled) is { } problem)
                {
                    _violations.Add(problem);
                }
                CApiScriptedUtility.Forget(settled.Item);
            }
            _settling = [];
            var native = _native;
            _native = [];
            foreach (var n in native)
            {
                (((DssStatus)n.Status).IsDelivered() && n.Item.Endings == 0 ? _native : _settling).Add(n);
            }
        }

        private static string? Check((ScriptedItem Item, int Status) n)
        {
            int expected = ((DssStatus)n.Status).IsDelivered() ? 1 : 0;
            return n.Item.Endings == expected && n.Item.Failures.Length == 0
                ? null
                : $"{n.Item.Name} (deliver -> {n.Status}) ended {n.Item.Endings} times";
        }

        public void AssertEveryDeliveryEndedOnce(string context)
        {
            foreach (var task in _unawaited)
            {
                // Lua answers, drops or DSS cancels every one; a task still running is a producer blocked.
                Assert.True(((IAsyncResult)task).AsyncWaitHandle.WaitOne(LuaThread.Patience), $"a blocking delivery never ended {context}");
            }
            Ledger.AssertEveryDeliveryEndedOnce(context);
            var bad = _violations.Concat(_settling.Concat(_native).Select(Check).OfType<string>()).Take(10).ToList();
            Assert.True(bad.Count == 0, $"C deliveries broke the rules {context}:\n  " + string.Join("\n  ", bad));
        }
    }
}
