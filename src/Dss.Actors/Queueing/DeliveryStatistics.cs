using DarkSideSync.Engine;

namespace DarkSideSync.Queueing;

/// <summary>
/// What became of one Lua state's deliveries since the module was loaded for it: the
/// figures of <c>darksidesync.stats()</c> and <see cref="DssStats"/>. It outlives stop() and
/// start(); each engine of the state counts into it.
/// </summary>
/// <remarks>
/// Nothing here is written by every delivery on the producers' side: "delivered" is the
/// queues' own striped post counter (<see cref="Mailbox.Posted"/>), summed on read over the
/// engines still running plus what stopped ones had posted; completions are counted by the
/// Lua thread alone; only the rare outcomes (cancels, refusals, answers awaited) take an
/// interlocked add. A read is a moment's view: while producers run, the figures are read
/// one after another. Once they are quiet, delivered = completed + cancelled + queued +
/// waiting (+ the one delivery the Lua thread may be decoding, when read from .NET).
/// </remarks>
internal sealed class DeliveryStatistics
{
    private readonly Lock _engines = new();
    private readonly List<DssEngine> _running = []; // guarded by _engines: engines not yet fully stopped
    private long _postedByStopped;                   // guarded by _engines: the posts of the engines that stopped
    private long _completed;                         // the Lua thread only
    private long _highwater;                         // the Lua thread only
    private long _cancelled;                         // interlocked, any thread
    private long _waiting;                           // interlocked, under the owner's gate
    private readonly StripedCounter _refused = new(); // producers, any thread

    /// <summary>A new engine of the state counts from now on.</summary>
    public void Adopt(DssEngine engine)
    {
        lock (_engines)
        {
            _running.Add(engine);
        }
    }

    /// <summary>An engine stopped for good (its queue is empty, nothing is posted to it any more): keep what it posted.</summary>
    public void Retire(DssEngine engine)
    {
        lock (_engines)
        {
            if (_running.Remove(engine))
            {
                _postedByStopped += engine.Mailbox.Posted;
            }
        }
    }

    /// <summary>Deliveries accepted since the module was loaded for this state.</summary>
    public long Delivered
    {
        get
        {
            lock (_engines)
            {
                long delivered = _postedByStopped;
                foreach (var engine in _running)
                {
                    delivered += engine.Mailbox.Posted;
                }
                return delivered;
            }
        }
    }

    /// <summary>Lua thread: a delivery completed (decoded, answered, or its waitingthread_callback collected).</summary>
    public void Completed() => Volatile.Write(ref _completed, _completed + 1);

    public long CompletedCount => Volatile.Read(ref _completed);

    /// <summary>Any thread: a delivery ended without completing (unregister, stop, a timeout, a hook that raised or threw).</summary>
    public void Cancelled() => Interlocked.Increment(ref _cancelled);

    public long CancelledCount => Volatile.Read(ref _cancelled);

    /// <summary>Any thread: a delivery was refused (any refusal code); DSS never called its hooks.</summary>
    public void Refused() => _refused.Add(1);

    public long RefusedCount => _refused.Sum;

    /// <summary>Owner's gate held: a blocking delivery Lua took now waits for its answer (+1), or no longer does (-1).</summary>
    public void Waiting(int delta) => Interlocked.Add(ref _waiting, delta);

    public long WaitingCount => Volatile.Read(ref _waiting);

    /// <summary>
    /// Lua thread, each time it looks at the queue's size (poll, dispatch as it starts and
    /// ends, queuesize, wait, stats): the most queued at once. A peak that builds and drains
    /// between two looks (producers adding while a dispatch takes) is seen as the larger of the two.
    /// </summary>
    public void Observe(long queued)
    {
        if (queued > _highwater)
        {
            Volatile.Write(ref _highwater, queued);
        }
    }

    public long Highwater => Volatile.Read(ref _highwater);

    /// <summary>
    /// Any thread: the figures now. <paramref name="running"/> is the state's engine (null while
    /// stopped); <paramref name="capacity"/> and <paramref name="failWhenFull"/> the state's bound.
    /// </summary>
    public DssStats Read(DssEngine? running, int capacity, bool failWhenFull)
    {
        // Outcomes first, deliveries last: each delivery's outcome follows its acceptance, so
        // completed + cancelled + waiting <= delivered holds in every reading, also under load.
        long completed = CompletedCount, cancelled = CancelledCount, waiting = WaitingCount;
        long queued = running?.Mailbox.Count ?? 0;
        return new DssStats(
            Queued: queued,
            Highwater: Math.Max(Highwater, queued),
            Delivered: Delivered,
            Completed: completed,
            Cancelled: cancelled,
            Refused: RefusedCount,
            Waiting: waiting,
            Utilities: running?.RegisteredCount ?? 0,
            Capacity: capacity == QueueBound.Unbounded ? null : capacity,
            Overflow: failWhenFull ? QueueOverflow.Fail : QueueOverflow.Block);
    }
}
