using System.Collections.Concurrent;
using DarkSideSync.Engine.Deliveries;

namespace DarkSideSync.LuaSide;

/// <summary>
/// The queue of one Lua state: many producer threads post, only the Lua thread takes.
/// </summary>
/// <remarks>
/// A <see cref="ConcurrentQueue{T}"/> rather than a Channel: a channel's writer takes a lock on
/// every write, and the post path is the hottest path of DSS. Items that were cancelled while
/// queued stay in the queue until the Lua thread skips them; <see cref="Count"/> does not count them.
/// </remarks>
internal sealed class Mailbox
{
    private readonly ConcurrentQueue<Delivery> _items = new();
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
    private int _count;           // items still in state Queued: posted, not yet claimed or withdrawn
    private int _luaThreadAsleep; // 1 while the Lua thread blocks in WaitForWork

    public int Count => Volatile.Read(ref _count);

    /// <summary>Any thread. Returns the queue size after the post, for the UDP payload.</summary>
    public int Post(Delivery delivery)
    {
        _items.Enqueue(delivery);
        int size = Interlocked.Increment(ref _count);
        // The increment is a full fence: either this read sees the sleeper, or the sleeper's
        // re-check of _count after it announced itself sees this item.
        if (Volatile.Read(ref _luaThreadAsleep) != 0)
        {
            _wake.Set();
        }
        return size;
    }

    /// <summary>Lua thread only: the oldest item, left in the queue until <see cref="RemoveOldest"/>.</summary>
    public bool TryPeekOldest(out Delivery delivery) => _items.TryPeek(out delivery!);

    /// <summary>Lua thread only: removes the item <see cref="TryPeekOldest"/> returned.</summary>
    public void RemoveOldest() => _items.TryDequeue(out _);

    /// <summary>A queued item left state Queued (claimed by the Lua thread, or cancelled). Returns the new count.</summary>
    public int Withdrawn() => Interlocked.Decrement(ref _count);

    /// <summary>Any thread: the items in FIFO order at one moment (for the stop-utility sequence).</summary>
    public Delivery[] Snapshot() => _items.ToArray();

    /// <summary>Lua thread only: sleeps until an item is queued or the timeout passes. Returns the queue size.</summary>
    public int WaitForWork(TimeSpan timeout)
    {
        if (Count > 0)
        {
            return Count;
        }
        _wake.Reset();
        Interlocked.Exchange(ref _luaThreadAsleep, 1);
        try
        {
            if (Count == 0)
            {
                _wake.Wait(timeout);
            }
        }
        finally
        {
            Volatile.Write(ref _luaThreadAsleep, 0);
        }
        return Count;
    }
}
