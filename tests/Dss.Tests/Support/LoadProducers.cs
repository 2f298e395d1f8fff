using System.Collections.Concurrent;
using DarkSideSync.Utilities;

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
        return managed.Length == 0 ? null : managed[random.Next(managed.Length)];
    }

    public nint PickNative(Random random)
    {
        var native = _native;
        return native.Length == 0 ? 0 : native[random.Next(native.Length)];
    }
}

/// <summary>
/// Producer threads for the load and soak specs. Each loops until <see cref="Stop"/>, picking
/// targets at random and delivering through the C# API (<see cref="DeliveryLedger"/>) and the
/// C ABI (<see cref="CApiItem"/>s, blocking and not), and now and then unregistering one.
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
    private readonly ConcurrentQueue<(CApiItem Item, int Status)> _nativeItems = new();
    private readonly ConcurrentQueue<Task<long>> _unawaited = new();
    private volatile bool _stopping;
    private long _unregisters;

    internal LoadProducers(LoadTargets targets, CApi api, int unregisterPerMille)
    {
        _targets = targets;
        _api = api;
        UnregisterPerMille = unregisterPerMille;
    }

    public DeliveryLedger Ledger { get; } = new();

    public CApiLog Log { get; } = new();

    /// <summary>How often an operation is an unregister, per thousand.</summary>
    public int UnregisterPerMille { get; }

    public long Unregisters => Interlocked.Read(ref _unregisters);

    public int NativeCount => _nativeItems.Count;

    /// <summary>Starts <paramref name="count"/> producers; producer i draws from <c>new Random(seed + i)</c>.</summary>
    public void Start(int count, int seed)
    {
        _threads.Start(count, "producer", i =>
        {
            var random = new Random(seed + i);
            while (!_stopping)
            {
                Step(random);
            }
        });
    }

    /// <summary>Producers finish the operation they are in and end.</summary>
    public void Stop() => _stopping = true;

    /// <summary>Test thread: stops the producers and fails when one is still blocked after <paramref name="within"/>.</summary>
    public void StopAndJoin(TimeSpan within)
    {
        Stop();
        _threads.Join(within);
    }

    /// <summary>Every delivery ended exactly once, none refused was decoded, no producer waits.</summary>
    public void AssertEveryDeliveryEndedOnce(string context)
    {
        foreach (var task in _unawaited)
        {
            // Lua answers, drops or DSS cancels every one; a task still running is a producer blocked.
            Assert.True(((IAsyncResult)task).AsyncWaitHandle.WaitOne(LuaThread.Patience), $"a blocking delivery never ended {context}");
        }
        Ledger.AssertEveryDeliveryEndedOnce(context);
        var bad = _nativeItems
            .Where(n => n.Item.Endings != (((DssStatus)n.Status).IsDelivered() ? 1 : 0))
            .Select(n => $"{n.Item.Name} (deliver -> {n.Status}) ended {n.Item.Endings} times")
            .Take(10)
            .ToList();
        Assert.True(bad.Count == 0, $"C deliveries broke the rules {context}:\n  " + string.Join("\n  ", bad));
    }

    public string Summary() =>
        $"{Ledger.Summary()}; {NativeCount} C deliveries ({_nativeItems.Count(n => ((DssStatus)n.Status).IsDelivered())} accepted); {Unregisters} unregisters";

    private void Step(Random random)
    {
        int op = random.Next(1000);
        if (op < UnregisterPerMille)
        {
            Unregister(random);
            return;
        }
        switch (op % 6)
        {
            case 0 or 1:
                if (_targets.PickManaged(random) is { } told)
                {
                    Ledger.Tell(told);
                }
                break;
            case 2:
                if (_targets.PickManaged(random) is { } asked)
                {
                    var answer = Ledger.Ask(asked);
                    Assert.True(((IAsyncResult)answer).AsyncWaitHandle.WaitOne(LuaThread.Patience), "a producer waited too long for Lua's answer");
                }
                break;
            case 3:
                if (_targets.PickManaged(random) is { } later)
                {
                    // Not awaited here; some with a timeout, which races with Lua's poll.
                    TimeSpan? timeout = random.Next(3) == 0 ? TimeSpan.FromMilliseconds(random.Next(1, 20)) : null;
                    _unawaited.Enqueue(Ledger.Ask(later, timeout));
                }
                break;
            case 4:
                DeliverNative(random, blocking: false);
                break;
            default:
                DeliverNative(random, blocking: true);
                break;
        }
    }

    private void DeliverNative(Random random, bool blocking)
    {
        nint utilId = _targets.PickNative(random);
        if (utilId == 0)
        {
            return;
        }
        var item = new CApiItem(Log, $"c{_nativeItems.Count}", [random.Next(1000)], blocking, blocking ? "on_ask" : "on_tell");
        int status = _api.Deliver(utilId, item);
        _nativeItems.Enqueue((item, status));
    }

    private void Unregister(Random random)
    {
        Interlocked.Increment(ref _unregisters);
        if (random.Next(2) == 0)
        {
            _targets.PickManaged(random)?.Unregister();
        }
        else if (_targets.PickNative(random) is var utilId and not 0)
        {
            _api.Unreg(utilId);
        }
    }
}
