using DarkSideSync.Queueing;

namespace DarkSideSync.Deliveries;

/// <summary>
/// Recycled nodes of one kind of non-blocking delivery, so that in steady state a delivery
/// allocates nothing on the managed heap (no garbage, no GC pauses, however fast producers go).
/// </summary>
/// <remarks>
/// Nodes flow in a circle: a producer takes one from its own thread's chain
/// (<see cref="ProducerThread.FreeNodes"/>, no atomic operation), the Lua thread hands finished
/// ones back in chains (<see cref="Mailbox"/> retires them once no snapshot of the queue can
/// reach them), and a producer whose chain ran dry takes everything handed back at once. Taking
/// the whole chain with one exchange, never a single node, is what keeps this lock-free stack
/// free of the ABA problem. A producer that finds nothing allocates: the pool grows to the
/// most deliveries ever in flight, no further.
/// </remarks>
internal sealed class DeliveryPool
{
    private static int _lastId = -1;

    private readonly int _id = Interlocked.Increment(ref _lastId);
    private Delivery? _returned; // chain (through NextFree) the Lua thread handed back; taken whole

    /// <summary>The pool of <typeparamref name="T"/> nodes.</summary>
    public static DeliveryPool Of<T>() where T : Delivery => PoolOf<T>.Instance;

    /// <summary>Producer thread: a recycled node, or null (then allocate one).</summary>
    public Delivery? TryRent(ProducerThread thread)
    {
        var chains = thread.FreeNodes;
        if (_id >= chains.Length)
        {
            Array.Resize(ref thread.FreeNodes, Math.Max(_id + 1, chains.Length * 2));
            chains = thread.FreeNodes;
        }
        var node = chains[_id] ?? Interlocked.Exchange(ref _returned, null);
        if (node is null)
        {
            return null;
        }
        chains[_id] = node.NextFree;
        node.NextFree = null;
        return node;
    }

    /// <summary>Lua thread: hands back the chain <paramref name="first"/> .. <paramref name="last"/> (linked through NextFree).</summary>
    public void Return(Delivery first, Delivery last)
    {
        var head = Volatile.Read(ref _returned);
        while (true)
        {
            last.NextFree = head;
            var seen = Interlocked.CompareExchange(ref _returned, first, head);
            if (seen == head)
            {
                return;
            }
            head = seen;
        }
    }

    private static class PoolOf<T>
    {
        public static readonly DeliveryPool Instance = new();
    }
}
