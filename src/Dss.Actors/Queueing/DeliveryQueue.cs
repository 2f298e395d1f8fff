using System.Runtime.InteropServices;
using DarkSideSync.Deliveries;

namespace DarkSideSync.Queueing;

/// <summary>
/// A FIFO of deliveries with many producers and one consumer (the Lua thread), linked through
/// the deliveries themselves (Vyukov's intrusive MPSC queue): a post is one exchange and one
/// store, with no allocation; a peek is one read.
/// </summary>
/// <remarks>
/// Why not <see cref="System.Collections.Concurrent.ConcurrentQueue{T}"/>: poll must peek before
/// it takes (see <see cref="LuaSide.Poller"/>), and ConcurrentQueue's peek pins its segments so their
/// slots are never reused; measured, that tripled the cost per item and the garbage.
/// A producer descheduled between its exchange and its link hides the items posted after it
/// until it runs again: the Lua thread sees the queue as empty for that moment, and
/// <see cref="Snapshot"/> waits for the link.
/// </remarks>
// Explicit layout: the producers' end and the consumer's end on different cache lines.
[StructLayout(LayoutKind.Explicit)]
internal sealed class DeliveryQueue
{
    [FieldOffset(0)]
    private QueueLink _newest;  // producers' end: exchanged by every post

    [FieldOffset(128)]
    private QueueLink _taken;   // consumer's end: the last link taken; its Next is the oldest queued delivery

    public DeliveryQueue()
    {
        var stub = new QueueLink();
        _newest = stub;
        _taken = stub;
    }

    /// <summary>Any thread.</summary>
    public void Enqueue(Delivery delivery) => Link(Claim(delivery), delivery);

    // Enqueue's two steps, apart so a test can stand in for a producer descheduled between them.
    internal QueueLink Claim(Delivery delivery) => Interlocked.Exchange(ref _newest, delivery);

    internal static void Link(QueueLink previous, Delivery delivery) => Volatile.Write(ref previous.Next, delivery);

    /// <summary>Lua thread only: the oldest delivery, left in the queue.</summary>
    public bool TryPeek(out Delivery delivery)
    {
        delivery = (Delivery)Volatile.Read(ref _taken.Next)!;
        return delivery is not null;
    }

    /// <summary>
    /// Lua thread only: removes the delivery <see cref="TryPeek"/> returned. That delivery stays
    /// the consumer's end (its Next is where the next post links); the link it replaces is
    /// returned: no longer reachable from the queue, except by a <see cref="Snapshot"/> walking it now.
    /// </summary>
    public QueueLink RemoveOldest()
    {
        var previous = _taken;
        Volatile.Write(ref _taken, previous.Next!);
        return previous;
    }

    /// <summary>
    /// Any thread: every delivery posted before this call and not yet taken, oldest first
    /// (some may be taken meanwhile). A producer descheduled between its exchange and its link
    /// is waited for, so an item queued behind it is never missed.
    /// </summary>
    public List<Delivery> Snapshot()
    {
        var items = new List<Delivery>();
        var link = Volatile.Read(ref _taken);
        // Read after _taken: every link posted before this one is reachable from _taken.
        var last = Volatile.Read(ref _newest);
        var spin = new SpinWait();
        while (link != last)
        {
            var next = Volatile.Read(ref link.Next);
            if (next is null)
            {
                spin.SpinOnce(); // a producer is between its exchange and its link
                continue;
            }
            items.Add((Delivery)next);
            link = next;
        }
        return items;
    }
}

/// <summary>The link a <see cref="DeliveryQueue"/> threads through its items.</summary>
internal class QueueLink
{
    public QueueLink? Next; // set once, by the producer that posts the next item
}
