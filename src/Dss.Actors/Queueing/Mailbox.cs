using DarkSideSync.Deliveries;
using Debug = System.Diagnostics.Debug;

namespace DarkSideSync.Queueing;

/// <summary>
/// The queue of one Lua state: many producer threads post, only the Lua thread takes.
/// </summary>
/// <remarks>
/// A <see cref="DeliveryQueue"/> rather than a Channel: a channel's writer takes a lock on
/// every write, and the post path is the hottest path of DSS. Items that were cancelled while
/// queued stay in the queue until the Lua thread skips them; <see cref="Count"/> does not count them.
/// A bound (<see cref="SetLimit"/>) adds one read of <see cref="Limit"/> to the producers' path
/// and to the Lua thread's claim; only a bounded queue takes the bound's lock.
/// </remarks>
internal sealed class Mailbox
{
    // Finished nodes retired in one go: a fence and a look at _snapshots per batch, not per item.
    private const int RetireBatch = 64;

    private readonly DeliveryQueue _items = new();
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
    // Count = posted - claimed - withdrawn. Each written by one side only, so producers and
    // the Lua thread never fight over one cache line; producers each write a stripe of their own.
    private readonly StripedCounter _posted = new(); // producers
    private PaddedCounter _claimed;   // the Lua thread only
    private PaddedCounter _withdrawn; // cancellers (Interlocked): unregister, stop-DSS, timeouts
    private int _luaThreadAsleep;     // 1 while the Lua thread blocks in WaitForWork
    private int _interrupted;         // 1 after Interrupt, until a WaitForWork returns because of it
    private int _snapshots;           // Snapshot walks in progress; retired nodes are not recycled meanwhile
    private Delivery? _retiredFirst, _retiredLast; // Lua thread only: finished recyclable nodes, chained through NextFree
    private int _retiredCount;
    private readonly QueueBound _bound; // the capacity, the policy and the producers waiting for room
    private QueueBound? _limit;         // _bound while the queue is bounded, null while it is not

    public Mailbox(int capacity = QueueBound.Unbounded, bool failWhenFull = false)
    {
        _bound = new QueueBound(capacity, failWhenFull);
        _limit = capacity == QueueBound.Unbounded ? null : _bound;
    }

    /// <summary>The bound while the queue is bounded, null while it is not (a moment's view: producers that read it just before a change go either way).</summary>
    public QueueBound? Limit => Volatile.Read(ref _limit);

    /// <summary>The bound's state and its waiters, bounded or not (unregister and stop refuse the waiters through it).</summary>
    public QueueBound Bound => _bound;

    /// <summary>Lua thread (setlimit, start): applies a capacity (<see cref="QueueBound.Unbounded"/>: none) and an overflow policy at once.</summary>
    public void SetLimit(int capacity, bool failWhenFull)
    {
        if (capacity != QueueBound.Unbounded)
        {
            Volatile.Write(ref _limit, _bound);
        }
        _bound.Set(this, capacity, failWhenFull);
        if (capacity == QueueBound.Unbounded)
        {
            Volatile.Write(ref _limit, null); // after every waiter was admitted
        }
    }

    /// <summary>The queue itself, for tests that stand in for a descheduled producer.</summary>
    internal DeliveryQueue Items => _items;

    /// <summary>Items still queued (posted, neither claimed by the Lua thread nor withdrawn). A moment's view.</summary>
    public int Count =>
        (int)Math.Max(0, _posted.Sum - Volatile.Read(ref _claimed.Value) - Volatile.Read(ref _withdrawn.Value));

    /// <summary>Deliveries accepted into this queue since it was created (a moment's view).</summary>
    public long Posted => _posted.Sum;

    /// <summary>Any thread: queues the item, bound or not (the bound's own posts, and the unbounded path).</summary>
    public void Post(Delivery delivery)
    {
        _items.Enqueue(delivery);
        _posted.Add(delivery.Stripe, 1);
        // The add is a full fence: either this read sees the sleeper, or the sleeper's
        // re-check of Count after it announced itself sees this item.
        if (Volatile.Read(ref _luaThreadAsleep) != 0)
        {
            _wake.Set();
        }
    }

    /// <summary>Lua thread only: the oldest item, left in the queue until <see cref="RemoveOldest"/>.</summary>
    public bool TryPeekOldest(out Delivery delivery) => _items.TryPeek(out delivery!);

    /// <summary>
    /// Lua thread only: removes the item <see cref="TryPeekOldest"/> returned. The item removed
    /// before it is finished now (the Lua thread is done with an item before it takes the
    /// next), so a recyclable one is retired, to go back to its pool.
    /// </summary>
    public void RemoveOldest()
    {
        if (_items.RemoveOldest() is Delivery { Pool: not null } finished)
        {
            Retire(finished);
        }
    }

    private void Retire(Delivery finished)
    {
        Debug.Assert(finished.State is DeliveryState.Completed or DeliveryState.Cancelled, "only a finished delivery is recycled");
        finished.Clear();
        if (_retiredLast is null)
        {
            _retiredFirst = finished;
        }
        else
        {
            _retiredLast.NextFree = finished;
        }
        _retiredLast = finished;
        if (++_retiredCount >= RetireBatch)
        {
            Recycle();
        }
    }

    // A snapshot that began before the nodes were removed may be walking them: hand them back
    // only when none is in progress. The fence pairs with Snapshot's increment: a snapshot that
    // the read below misses began after the removals, so it starts past the retired nodes.
    private void Recycle()
    {
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _snapshots) != 0)
        {
            return; // try again after the next batch
        }
        var node = _retiredFirst;
        while (node is not null)
        {
            var pool = node.Pool!;
            var first = node;
            var last = node;
            while (last.NextFree is { } next && next.Pool == pool)
            {
                last = next;
            }
            node = last.NextFree;
            pool.Return(first, last);
        }
        _retiredFirst = _retiredLast = null;
        _retiredCount = 0;
    }

    /// <summary>
    /// Lua thread only: it claimed a queued item (in a bounded queue, the producers this claim
    /// made room for are admitted here).
    /// </summary>
    public void Claimed()
    {
        Volatile.Write(ref _claimed.Value, _claimed.Value + 1);
        if (Volatile.Read(ref _limit) is { } limit)
        {
            limit.RoomMade(this);
        }
    }

    /// <summary>Any thread: a queued item was cancelled, so it no longer counts (and makes room in a bounded queue).</summary>
    public void Withdrawn()
    {
        Interlocked.Increment(ref _withdrawn.Value);
        if (Volatile.Read(ref _limit) is { } limit)
        {
            limit.RoomMade(this);
        }
    }

    /// <summary>Any thread: the items in FIFO order at one moment (for the stop-utility sequence).</summary>
    public List<Delivery> Snapshot()
    {
        Interlocked.Increment(ref _snapshots); // before the walk reads the queue's ends (see Recycle)
        try
        {
            return _items.Snapshot();
        }
        finally
        {
            Interlocked.Decrement(ref _snapshots);
        }
    }

    /// <summary>
    /// Any thread: ends the Lua thread's current <see cref="WaitForWork"/> at once, or the next
    /// one if it is not waiting (a host's own wake-up: stop, new work of its own).
    /// </summary>
    public void Interrupt()
    {
        Interlocked.Exchange(ref _interrupted, 1); // before the look: WaitForWork announces itself, then reads this
        if (Volatile.Read(ref _luaThreadAsleep) != 0)
        {
            _wake.Set();
        }
    }

    /// <summary>
    /// Lua thread only: sleeps until an item is queued, <see cref="Interrupt"/> is called, or
    /// the timeout passes. Returns the queue size.
    /// </summary>
    public int WaitForWork(TimeSpan timeout)
    {
        if (Count > 0 || Interlocked.Exchange(ref _interrupted, 0) != 0)
        {
            return Count;
        }
        _wake.Reset();
        Interlocked.Exchange(ref _luaThreadAsleep, 1);
        try
        {
            if (Count == 0 && Volatile.Read(ref _interrupted) == 0)
            {
                _wake.Wait(timeout);
            }
        }
        finally
        {
            Volatile.Write(ref _luaThreadAsleep, 0);
            Interlocked.Exchange(ref _interrupted, 0);
        }
        return Count;
    }
}
