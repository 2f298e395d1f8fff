using Debug = System.Diagnostics.Debug;
using DarkSideSync.Deliveries;

namespace DarkSideSync.Queueing;

/// <summary>How long a producer may wait for room in a bounded queue (an unbounded queue never makes it wait).</summary>
internal enum RoomWait
{
    /// <summary>Never: a full queue refuses at once with QUEUE_FULL (C# <c>Deliver</c>, <c>deliver_ex</c> with timeout 0).</summary>
    Never,
    /// <summary>As the state's overflow policy says: <c>block</c> waits without bound, <c>fail</c> refuses (1v0's <c>deliver</c>).</summary>
    ByPolicy,
    /// <summary>Waits, whatever the policy; the caller bounds the wait itself (<c>deliver_ex</c>, the async C# API).</summary>
    Always,
    /// <summary>Not limited by the bound at all: the engine's own deliveries, which let Lua finish what it started.</summary>
    Bypass,
}

/// <summary>
/// The bound of one Lua state's queue: its capacity, its overflow policy and the producers
/// waiting for room, in arrival order. Every field is guarded by the bound itself (a lock);
/// producers take it only while the queue is bounded, never on the unbounded path.
/// </summary>
/// <remarks>
/// Room is made without the lock (the Lua thread claims, cancellers withdraw): the count a
/// producer reads under the lock is at least the true one, so a bound is never overrun.
/// A waiter is admitted by whoever makes room (or raises the capacity): it posts the waiter's
/// item itself, under the lock, so the queue order is the waiters' order (FIFO, no barging:
/// a producer that finds waiters ahead of it waits behind them even when there is room).
/// The lock is held only for list operations and posts, never while waiting for a thread, so
/// taking it from inside a hook keeps the no-deadlock rule of <see cref="Engine.HookGate"/>.
/// </remarks>
internal sealed class QueueBound
{
    public const int Unbounded = 0;

    private readonly Lock _lock = new();
    private readonly LinkedList<RoomWaiter> _waiters = new(); // arrival order
    private int _capacity;          // Unbounded, or the most items queued at once
    private bool _failWhenFull;     // overflow "fail"
    private int _waiterCount;       // _waiters.Count, readable without the lock

    public QueueBound(int capacity, bool failWhenFull)
    {
        _capacity = capacity;
        _failWhenFull = failWhenFull;
    }

    public int Capacity => Volatile.Read(ref _capacity);

    public bool FailWhenFull => Volatile.Read(ref _failWhenFull);

    /// <summary>Producers waiting for room now.</summary>
    public int Waiting => Volatile.Read(ref _waiterCount);

    /// <summary>
    /// Any thread, bounded queue: posts <paramref name="delivery"/> if there is room and nobody
    /// waits ahead of it; otherwise refuses it or enqueues a waiter (<paramref name="waiter"/>,
    /// status <see cref="DssStatus.Success"/>) that completes once it is admitted or refused.
    /// </summary>
    /// <param name="blocksThread">The caller would block its thread: refused with WOULD_DEADLOCK when that is the Lua thread.</param>
    public DssStatus TryPost(Mailbox mailbox, Delivery delivery, RoomWait wait, bool blocksThread, out RoomWaiter? waiter)
    {
        waiter = null;
        lock (_lock)
        {
            if (_capacity == Unbounded || (_waiterCount == 0 && mailbox.Count < _capacity))
            {
                mailbox.Post(delivery);
                return DssStatus.Success;
            }
            if (wait == RoomWait.Never || (wait == RoomWait.ByPolicy && _failWhenFull))
            {
                return DssStatus.QueueFull;
            }
            // Checked under the lock: stop-DSS and unregister change the phase first and then
            // refuse the waiters under this lock, so no waiter is enqueued after they looked.
            if (!delivery.Owner.Engine.IsRunning)
            {
                return DssStatus.NotStarted;
            }
            if (!delivery.Owner.IsRegistered)
            {
                return DssStatus.InvalidUtilId;
            }
            if (blocksThread && delivery.Owner.Engine.MustNotWait)
            {
                return DssStatus.WouldDeadlock;
            }
            waiter = new RoomWaiter(delivery);
            waiter.Node = _waiters.AddLast(waiter);
            Interlocked.Increment(ref _waiterCount); // a full fence before the count is read again
            AdmitLocked(mailbox); // room may have been made since the count was read
            return DssStatus.Success;
        }
    }

    /// <summary>
    /// Any thread, after room was made (a claim, a withdrawal): admits waiters while there is room.
    /// The caller made room before calling: the fence pairs with the waiter's increment in
    /// <see cref="TryPost"/>, so either this sees the waiter or the waiter sees the room.
    /// </summary>
    public void RoomMade(Mailbox mailbox)
    {
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _waiterCount) == 0)
        {
            return;
        }
        lock (_lock)
        {
            AdmitLocked(mailbox);
        }
    }

    /// <summary>
    /// Lua thread (setlimit): a new capacity (<see cref="Unbounded"/> admits every waiter) and
    /// policy (switching from block to fail refuses every waiter with QUEUE_FULL; a waiter
    /// that came with a timeout of its own while the policy was fail waits on when only the
    /// capacity changes). Lowering drops nothing.
    /// </summary>
    public void Set(Mailbox mailbox, int capacity, bool failWhenFull)
    {
        lock (_lock)
        {
            bool switchedToFail = failWhenFull && !_failWhenFull;
            Volatile.Write(ref _capacity, capacity);
            Volatile.Write(ref _failWhenFull, failWhenFull);
            if (switchedToFail)
            {
                RefuseLocked(static _ => true, DssStatus.QueueFull);
            }
            AdmitLocked(mailbox);
        }
    }

    /// <summary>Any thread: refuses the waiters that <paramref name="match"/> selects (unregister: INVALID_UTILID; stop-DSS: NOT_STARTED).</summary>
    public void Refuse(Func<Delivery, bool> match, DssStatus status)
    {
        // Always under the lock (rare: unregister, stop): the phase changed before this call,
        // and a producer checks it under this lock before it enqueues itself.
        lock (_lock)
        {
            RefuseLocked(match, status);
        }
    }

    /// <summary>
    /// The waiter's producer gives up (timeout, token): true when it was still waiting (it is
    /// removed: its item was never queued); false when it was admitted or refused meanwhile
    /// (its <see cref="RoomWaiter.Task"/> then holds the outcome).
    /// </summary>
    public bool GiveUp(RoomWaiter waiter)
    {
        lock (_lock)
        {
            if (waiter.Node is not { } node)
            {
                return false;
            }
            _waiters.Remove(node);
            waiter.Node = null;
            Interlocked.Decrement(ref _waiterCount);
            return true;
        }
    }

    private void AdmitLocked(Mailbox mailbox)
    {
        Debug.Assert(_lock.IsHeldByCurrentThread);
        while (_waiters.First is { } first && (_capacity == Unbounded || mailbox.Count < _capacity))
        {
            var waiter = Remove(first);
            var owner = waiter.Delivery.Owner;
            // As in TryPost: an unregister or a stop that began refuses its waiters next.
            var status = !owner.Engine.IsRunning ? DssStatus.NotStarted
                : !owner.IsRegistered ? DssStatus.InvalidUtilId
                : DssStatus.Success;
            if (status == DssStatus.Success)
            {
                mailbox.Post(waiter.Delivery);
            }
            waiter.Complete(status);
        }
    }

    private void RefuseLocked(Func<Delivery, bool> match, DssStatus status)
    {
        var node = _waiters.First;
        while (node is not null)
        {
            var next = node.Next;
            if (match(node.Value.Delivery))
            {
                Remove(node).Complete(status);
            }
            node = next;
        }
    }

    private RoomWaiter Remove(LinkedListNode<RoomWaiter> node)
    {
        _waiters.Remove(node);
        node.Value.Node = null;
        Interlocked.Decrement(ref _waiterCount);
        return node.Value;
    }
}

/// <summary>A producer waiting for room in a bounded queue; its task ends with the outcome (SUCCESS: queued).</summary>
internal sealed class RoomWaiter(Delivery delivery)
{
    // Continuations run on the thread pool: never on the Lua thread that admits, under the bound's lock.
    private readonly TaskCompletionSource<DssStatus> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Delivery Delivery { get; } = delivery;

    /// <summary>Its place among the waiters; null once it left them. Guarded by the bound's lock.</summary>
    public LinkedListNode<RoomWaiter>? Node { get; set; }

    public Task<DssStatus> Task => _outcome.Task;

    public void Complete(DssStatus status) => _outcome.TrySetResult(status);
}
