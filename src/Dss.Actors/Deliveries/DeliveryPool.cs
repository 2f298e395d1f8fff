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
    private const int TakeAtMost = 256; // nodes a producer takes from the returned chain at once

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
        ref var chain = ref chains[_id].Head;
        var node = chain ?? TakeSome();
        if (node is null)
        {
            return null;
        }
        chain = node.NextFree;
        node.NextFree = null;
        return node;
    }

    // Takes the whole returned chain (one exchange: no ABA) and keeps at most TakeAtMost nodes
    // for this thread: the rest goes back if the chain is still empty (one compare-and-swap,
    // the usual case), else stays with this thread. So one producer seldom hoards what the
    // others would then have to allocate, and no step walks more than TakeAtMost nodes.
    private Delivery? TakeSome()
    {
        var first = Interlocked.Exchange(ref _returned, null);
        if (first is null)
        {
            return null;
        }
        var last = first;
        for (int kept = 1; kept < TakeAtMost && last.NextFree is not null; kept++)
        {
            last = last.NextFree;
        }
        if (last.NextFree is { } rest && Interlocked.CompareExchange(ref _returned, rest, null) is null)
        {
            last.NextFree = null;
        }
        return first;
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
